#!/usr/bin/env python3
"""Sends hostile DHCPv4 traffic on an interface (run it inside a lab namespace): garbage,
truncated messages, and well-formed OFFERs/ACKs/NAKs that a careful client must drop because
the xid, the chaddr or the server is wrong. Frames are broadcast, so every client on the bridge
sees them.

usage: dhcp_spoof.py IFACE TARGET_MAC COUNT   (prints what it sent)
"""
import os
import random
import socket
import struct
import sys


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(src_mac: bytes, src_ip: bytes, payload: bytes) -> bytes:
    udp = struct.pack("!HHHH", 67, 68, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), random.randrange(65536), 0, 64, 17, 0,
                     src_ip, b"\xff\xff\xff\xff")
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return b"\xff" * 6 + src_mac + b"\x08\x00" + ip + udp


def dhcp(msg_type: int, xid: int, chaddr: bytes, server: bytes, yiaddr: bytes) -> bytes:
    fixed = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 2, 1, 6, 0, xid, 0, 0x8000, b"\0" * 4, yiaddr,
                        server, b"\0" * 4, chaddr.ljust(16, b"\0"), b"", b"")
    options = bytes([53, 1, msg_type, 54, 4]) + server + bytes([51, 4, 0, 0, 0x0E, 0x10, 1, 4, 255, 255, 255, 0,
                                                                 3, 4]) + server + b"\xff"
    return fixed + b"\x63\x82\x53\x63" + options


def main() -> int:
    iface, target, count = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), int(sys.argv[3])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    rogue_mac = bytes.fromhex("020000bad001")
    rogue_ip = bytes([198, 18, 0, 66])
    kinds = {"garbage": 0, "truncated": 0, "wrong-xid": 0, "wrong-chaddr": 0, "nak-wrong-xid": 0, "bad-options": 0}
    for i in range(count):
        kind = list(kinds)[i % len(kinds)]
        yiaddr = bytes([198, 18, 0, random.randrange(2, 250)])
        if kind == "garbage":
            payload = os.urandom(random.randrange(1, 600))
        elif kind == "truncated":
            payload = dhcp(5, random.getrandbits(32), target, rogue_ip, yiaddr)[: random.randrange(1, 240)]
        elif kind == "wrong-xid":
            payload = dhcp(random.choice([2, 5]), random.getrandbits(32), target, rogue_ip, yiaddr)
        elif kind == "wrong-chaddr":
            payload = dhcp(random.choice([2, 5, 6]), random.getrandbits(32), os.urandom(6), rogue_ip, yiaddr)
        elif kind == "nak-wrong-xid":
            payload = dhcp(6, random.getrandbits(32), target, rogue_ip, b"\0" * 4)
        else:  # options that overrun, loop or lie about their lengths
            payload = dhcp(5, random.getrandbits(32), target, rogue_ip, yiaddr)[:240] + bytes(
                [53, 200, 5, 52, 1, 3, 54, 4]) + os.urandom(random.randrange(0, 40))
        s.send(frame(rogue_mac, rogue_ip, payload))
        kinds[kind] += 1
    print(" ".join("%s=%d" % kv for kv in kinds.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
