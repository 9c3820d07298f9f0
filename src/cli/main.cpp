// net-dhcp: a Docker network driver whose containers get their addresses from the LAN's DHCP
// server. This file only dispatches subcommands.
#include <cstring>
#include <iostream>
#include <string_view>

#include "src/cli/lease_command.hpp"
#include "src/cli/serve_command.hpp"
#include "src/cli/status_command.hpp"
#include "src/support/version.hpp"

namespace {
constexpr const char* kUsage =
    "usage: net-dhcp COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  serve      run the Docker network driver (net-dhcp serve --help)\n"
    "  lease      acquire one DHCP lease on an interface and print it (net-dhcp lease --help)\n"
    "  status     what the running daemon manages: networks, endpoints, leases (net-dhcp status --help)\n"
    "  --version  print the version\n"
    "  --help     this text\n";
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  std::string_view command = argv[1];
  if (command == "--version" || command == "version") {
    std::cout << "net-dhcp " << NETDHCP_VERSION_STRING << "\n";
    return 0;
  }
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "lease") return netdhcp::lease_command(argc - 2, argv + 2);
  if (command == "serve") return netdhcp::serve_command(argc - 2, argv + 2);
  if (command == "status") return netdhcp::status_command(argc - 2, argv + 2);
  std::cerr << "net-dhcp: unknown command \"" << command << "\"\n\n" << kUsage;
  return 2;
}
