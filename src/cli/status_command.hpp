// `net-dhcp status`: asks the running daemon (over its socket) for every network and endpoint
// and prints a table, or the daemon's JSON with --json.
#pragma once

namespace netdhcp {

int status_command(int argc, char** argv);

}  // namespace netdhcp
