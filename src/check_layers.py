#!/usr/bin/env python3
"""Fails the build when a file includes a header of a layer it may not depend on.

The layers of net-dhcp, lowest first; each may use only the ones listed for it (and itself):

  include/netdhcp  small value types (addresses, Result, UniqueFd)      nothing
  dhcp/            DHCPv4/DHCPv6 codecs and sans-I/O clients             include
  netlink/         rtnetlink: links, addresses, routes, namespaces       include
  src/support      Asio, logging, spawn(), the helper thread, host paths  include dhcp
  src/transport    packet/UDP/ICMPv6 sockets, the session coroutine,     support dhcp netlink
                   netlink events
  src/state        network options and the on-disk records               support dhcp
  src/endpoint     one container's attachment, leases kept in the kernel transport state ...
  src/plugin       Docker's HTTP API, the driver                         endpoint ...
  src/cli          serve, lease, status, main                            everything

Usage: check_layers.py STAMP_FILE SOURCE_ROOT. Writes STAMP_FILE when every include is allowed.
"""
import pathlib
import re
import sys

ALLOWED = {
    "include": set(),
    "dhcp": {"include"},
    "netlink": {"include"},
    "src/support": {"include", "dhcp"},
    "src/transport": {"include", "dhcp", "netlink", "src/support"},
    "src/state": {"include", "dhcp", "src/support"},
    "src/endpoint": {"include", "dhcp", "netlink", "src/support", "src/transport", "src/state"},
    "src/plugin": {"include", "dhcp", "netlink", "src/support", "src/transport", "src/state", "src/endpoint"},
    "src/cli": {"include", "dhcp", "netlink", "src/support", "src/transport", "src/state", "src/endpoint",
                "src/plugin"},
}
# Asio belongs to src/: the cores below it are sans-I/O.
ASIO_FREE = {"include", "dhcp", "netlink"}

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.MULTILINE)


def layer_of_file(relative: str):
    for layer in sorted(ALLOWED, key=len, reverse=True):
        if relative.startswith(layer + "/"):
            return layer
    return None


def layer_of_include(header: str):
    if header.startswith("netdhcp/"):
        return "include"
    for layer in sorted(ALLOWED, key=len, reverse=True):
        if layer != "include" and header.startswith(layer + "/"):
            return layer
    return None


def main() -> int:
    stamp, root = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    problems = []
    for path in sorted(root.glob("**/*.[ch]pp")):
        relative = path.relative_to(root).as_posix()
        layer = layer_of_file(relative)
        if layer is None:
            continue
        for header in INCLUDE.findall(path.read_text()):
            target = layer_of_include(header)
            if target is not None and target != layer and target not in ALLOWED[layer]:
                problems.append(f"{relative}: includes {header}, but {layer} may not depend on {target} "
                                f"(allowed: {', '.join(sorted(ALLOWED[layer])) or 'nothing'}; see src/check_layers.py)")
            if layer in ASIO_FREE and header.startswith("boost/asio"):
                problems.append(f"{relative}: includes {header}, but {layer} is sans-I/O (no Asio below src/)")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    stamp.write_text("layers ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
