// `net-dhcp serve`: the Docker network driver daemon.
#pragma once

namespace netdhcp {
int serve_command(int argc, char** argv);
}
