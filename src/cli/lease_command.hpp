// `net-dhcp lease`: one DHCP lease on one interface in the current network namespace, without
// configuring the interface. For trying a LAN's server, for the interop tests and benchmarks.
#pragma once

namespace netdhcp {
int lease_command(int argc, char** argv);
}
