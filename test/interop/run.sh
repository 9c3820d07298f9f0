#!/usr/bin/env bash
# Interop tests: `net-dhcp lease` against real dnsmasq and Kea (v4 and v6) on a lab bridge.
# Needs root. Prints one TAP-style line per check and "interop: N passed, M failed" at the end;
# exits non-zero if anything failed. Usage: test/interop/run.sh [path/to/net-dhcp]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(realpath "${1:-$top/build/src/net-dhcp}")
. "$top/test/interop/lab.sh"
. "$top/test/lib/checks.sh"

N=0
new_client() {  # a fresh client namespace with a unique MAC; sets ns
  N=$((N + 1))
  lab_client "c$(printf '%02d' $N)" "02:00:00:00:01:$(printf '%02x' $N)"
  ns=$LAB_NS
}
mac_of() { echo "02:00:00:00:01:$(printf '%02x' $N)"; }
lease() { local ns=$1; shift; ip netns exec "$ns" "$BIN" lease --interface lan0 "$@"; }

lab_up
OUT=$LAB_DIR/out
mkdir -p "$OUT"

echo "# dnsmasq $(dnsmasq --version | head -1 | awk '{print $3}')"
lab_dnsmasq --dhcp-range=198.18.0.100,198.18.0.199,255.255.255.0,2m --no-ping \
  --dhcp-option=121,198.18.5.0/24,198.18.0.1,0.0.0.0/0,198.18.0.1 --dhcp-option=119,lab.test,example.test \
  --dhcp-range=fd00:18::100,fd00:18::1ff,64,2m --dhcp-option=option6:dns-server,[fd00:18::1] \
  --dhcp-rapid-commit --dhcp-host=02:00:00:00:02:01,198.18.0.60 --enable-ra
LEASES=$LAB_DIR/dnsmasq/leases

new_client
lease "$ns" --json --hostname web-1 > "$OUT/d1" 2> "$OUT/d1.err"
check "dnsmasq v4: lease obtained" json_true "$OUT/d1" "o['address'].startswith('198.18.0.') and o['address'].endswith('/24')"
addr=$(json_field "$OUT/d1" 1 "o['address'].split('/')[0]")
check "dnsmasq v4: gateway from option 121's default route" json_true "$OUT/d1" "o['gateway'] == '198.18.0.1'"
check "dnsmasq v4: classless route and compressed search list" json_true "$OUT/d1" \
  "o['classless_routes'][0] == {'destination': '198.18.5.0', 'prefix_length': 24, 'router': '198.18.0.1'} and o['search_domains'] == ['lab.test', 'example.test']"
check "dnsmasq v4: lease time, T1, T2" json_true "$OUT/d1" "(o['lease_seconds'], o['renew_seconds'], o['rebind_seconds']) == (120, 60, 105)"
check "dnsmasq v4: the first REQUEST, framed to dnsmasq's MAC alone, is answered (1 REQUEST sent)" \
  json_true "$OUT/d1" "o['requests_sent'] == 1 and o['discovers_sent'] == 1"
check "dnsmasq v4: lease database has address, MAC and hostname" grep -q "$(mac_of) $addr web-1" "$LEASES"

lease "$ns" --json --release > "$OUT/d2" 2>&1
check "dnsmasq v4: same client gets the same address again" json_true "$OUT/d2" "o['address'].split('/')[0] == '$addr'"
check "dnsmasq v4: release removes the lease from the database" lab_wait 5 bash -c "! grep -q ' $addr ' '$LEASES'"

new_client
lease "$ns" --json --rapid-commit > "$OUT/d3" 2>&1
check "dnsmasq v4: rapid commit binds with no DHCPREQUEST" json_true "$OUT/d3" "o['requests_sent'] == 0 and o['discovers_sent'] == 1"

new_client
lease "$ns" --request 198.18.9.9 > "$OUT/d4" 2>&1
check "dnsmasq v4: INIT-REBOOT for a foreign address is NAKed, then a new lease" \
  bash -c "grep -q '^nak: DHCPNAK for 198.18.9.9/24: \"wrong network\"' '$OUT/d4' && grep -q '^198.18.0.1[0-9][0-9]/24 from 198.18.0.1' '$OUT/d4'"

lab_client r01 02:00:00:00:02:01; ns=$LAB_NS
lease "$ns" --json > "$OUT/d5" 2>&1
check "dnsmasq v4: host reservation by MAC" json_true "$OUT/d5" "o['address'] == '198.18.0.60/24'"

# RFC 5227: another host already uses the reserved address -> DECLINE, no lease.
lab_client x01 02:00:00:00:02:99; ns_conflict=$LAB_NS
ip -n "$ns_conflict" addr add 198.18.0.60/24 dev lan0
lease "$ns" --json --arp-probe --timeout 6 > "$OUT/d6" 2> "$OUT/d6.err"
status=$?
check "dnsmasq v4: ARP probe finds the conflict and declines" \
  bash -c "[ $status -eq 1 ] && grep -q '\"event\":\"declined\"' '$OUT/d6' && grep -q '02:00:00:00:02:99' '$OUT/d6'"
check "dnsmasq v4: dnsmasq saw the DHCPDECLINE" grep -q "DHCPDECLINE.*198.18.0.60" "$LAB_DIR/dnsmasq/log"
ip -n "$ns_conflict" addr del 198.18.0.60/24 dev lan0
new_client
lease "$ns" --json --arp-probe > "$OUT/d7" 2>&1
check "dnsmasq v4: ARP probe without conflict binds after the RFC 5227 wait" json_true "$OUT/d7" "o['elapsed_ms'] > 3000"

new_client
lease "$ns" --ipv6 --json --hostname web-6 > "$OUT/d8" 2> "$OUT/d8.err"
check "dnsmasq v6: lease obtained" json_true "$OUT/d8" "o['address'].startswith('fd00:18::') and o['dns_servers'] == ['fd00:18::1']"
addr6=$(json_field "$OUT/d8" 1 "o['address'].split('/')[0]")
check "dnsmasq v6: lease database has the address" grep -q " $addr6 " "$LEASES"
lease "$ns" --ipv6 --json --release > "$OUT/d9" 2>&1
check "dnsmasq v6: same DUID/IAID gets the same address" json_true "$OUT/d9" "o['address'].split('/')[0] == '$addr6'"
check "dnsmasq v6: release removes it from the database" lab_wait 5 bash -c "! grep -q ' $addr6 ' '$LEASES'"

# A client whose kernel sends no Router Solicitation (accept_ra=0 before its link is up, like
# the daemon's container end in the host namespace): net-dhcp sends one before its SOLICIT, so
# that dnsmasq has the client's MAC and does not sleep 100 ms for it (get_client_mac()).
quiet_ns="nd-quiet-$LAB_ID"
ip netns add "$quiet_ns" && LAB_CLIENT_NS+=("$quiet_ns")
ip link add "ndv${LAB_ID}q" type veth peer name lan0 netns "$quiet_ns"
ip link set "ndv${LAB_ID}q" master "$LAB_BRIDGE" up
ip netns exec "$quiet_ns" sysctl -qw net.ipv6.conf.lan0.accept_ra=0 net.ipv6.conf.lan0.accept_dad=0
ip -n "$quiet_ns" link set lan0 address 02:00:00:00:01:fe up
lease "$quiet_ns" --ipv6 --json > "$OUT/d10" 2>&1
check "dnsmasq v6: a Router Solicitation with our MAC before the SOLICIT" \
  python3 -c 'import sys
log = open(sys.argv[1]).read()
rs = log.find("RTR-SOLICIT(lan0) 02:00:00:00:01:fe")
solicit = log.find("DHCPSOLICIT(lan0) 00:03:00:01:02:00:00:00:01:fe")
sys.exit(0 if 0 <= rs < solicit else 1)' "$LAB_DIR/dnsmasq/log"
check "dnsmasq v6: that client gets its lease" json_true "$OUT/d10" "o['address'].startswith('fd00:18::')"

lab_stop "$LAB_DNSMASQ_PID"
new_client
lease "$ns" --timeout 2 > "$OUT/n1" 2>&1
status=$?
check "no server, v4: exits 1 and says what was sent" \
  bash -c "[ $status -eq 1 ] && grep -Eq 'no DHCPOFFER on lan0 after 2 s \([2-9] DHCPDISCOVERs sent' '$OUT/n1'"
lease "$ns" --ipv6 --timeout 2 > "$OUT/n2" 2>&1
status=$?
check "no server, v6: exits 1 and says what was sent" \
  bash -c "[ $status -eq 1 ] && grep -Eq 'no DHCPv6 ADVERTISE on lan0 after 2 s \([1-9] SOLICITs sent to ff02::1:2' '$OUT/n2'"

echo "# kea $(kea-dhcp4 -v)"
lab_kea4 4 1 2 "198.18.0.100 - 198.18.0.199" \
  ', "reservations": [ { "hw-address": "02:00:00:00:02:02", "ip-address": "198.18.0.61" } ]'
KEA4=$LAB_DIR/kea4/leases.csv
# A bystander on the bridge counts the client's DHCP broadcasts reaching it (its INPUT chain):
# the DISCOVER does; the first REQUEST, framed to the MAC the OFFER came from, reaches Kea's port
# alone (with 1000 containers on a bridge, a broadcast costs ~2.5 ms of the host's CPU).
lab_client b01 02:00:00:00:03:01; bystander=$LAB_NS
new_client
ip netns exec "$bystander" iptables -w -A INPUT -p udp --dport 67 -m mac --mac-source "$(mac_of)"
heard_from_client() { ip netns exec "$bystander" iptables -w -nvxL INPUT | awk '/udp dpt:67/ {print $1}'; }
lease "$ns" --json --hostname kea-1 --hold 5 --release > "$OUT/k1" 2> "$OUT/k1.err"
addr=$(json_field "$OUT/k1" 1 "o['address'].split('/')[0]")
heard=$(heard_from_client)
check "kea v4: the first REQUEST goes to Kea's MAC alone and is answered (1 REQUEST, 1 DISCOVER sent; of the client's packets to port 67 a bystander on the bridge heard ${heard:-none}, 1 being the DISCOVER)" \
  json_true "$OUT/k1" "o['requests_sent'] == 1 and o['discovers_sent'] == 1 and '${heard}' == '1'"
check "kea v4: lease obtained with Kea's short lease" json_true "$OUT/k1" "o['lease_seconds'] == 4 and o['gateway'] == '198.18.0.1'"
check "kea v4: renewed at T1 by unicast, at least 3 times in 5 s" \
  json_true "$OUT/k1" "sum(1 for r in rows if r.get('event') == 'renewed' and r['from'] == 'renewing') >= 3"
check "kea v4: hostname in the lease database" grep -q "^$addr,$(mac_of),.*,kea-1," "$KEA4"
check "kea v4: renewals extend the lease in the database" \
  bash -c "[ \$(grep -c '^$addr,$(mac_of),.*,4,' '$KEA4') -ge 4 ]"
check "kea v4: release recorded (valid lifetime 0)" lab_wait 5 grep -q "^$addr,$(mac_of),[^,]*,0," "$KEA4"

# A bound client whose address is configured renews by frames to the server's MAC (no ARP
# broadcast from its kernel), and holds port 68 on the address meanwhile: its kernel answers
# none of the server's unicast ACKs with ICMP port unreachable (Udp NoPorts stays 0).
udp_noports() { ip netns exec "$1" awk '/^Udp:/ && ++n == 2 {print $3}' /proc/net/snmp; }
lab_client r02 02:00:00:00:02:02; ns=$LAB_NS; reserved_ns=$ns
ip -n "$ns" addr add 198.18.0.61/24 dev lan0
# (counted from the lease on: the OFFER and ACK to the address configured beforehand, before
# the client had it, do meet a closed port)
lease "$ns" --json --hold 2.5 > "$OUT/k2" 2>&1 &
holder=$!
lab_wait 5 grep -q '"address"' "$OUT/k2"
noports0=$(udp_noports "$ns")
wait "$holder"
noports1=$(udp_noports "$ns")
check "kea v4: renewals by frames to the server's MAC learnt from its replies (unicast_path frame)" \
  json_true "$OUT/k2" "sum(1 for r in rows if r.get('event') == 'renewed' and r['from'] == 'renewing' and r['unicast_path'] == 'frame') >= 2"
check "kea v4: port 68 held on the leased address: no ICMP port unreachable for the ACKs (Udp NoPorts $noports0 -> $noports1)" \
  test "$noports1" -eq "$noports0"

# Unicast to the server dropped: RENEWING fails, REBINDING (broadcast) succeeds.
if lab_block_unicast_to_server; then
  new_client
  lease "$ns" --json --hold 5 > "$OUT/k3" 2>&1
  check "kea v4: renewal unanswered, rebinding by broadcast keeps the lease" \
    json_true "$OUT/k3" "any(r.get('event') == 'renewed' and r['from'] == 'rebinding' for r in rows) and not any(r.get('event') == 'expired' for r in rows)"
  # The frame to the server's MAC unanswered (its MAC may have changed): the retransmissions go
  # through the kernel's UDP stack, which resolves the MAC by ARP.
  lease "$reserved_ns" --json --hold 5 > "$OUT/k3b" 2>&1
  check "kea v4: an unanswered frame is retransmitted through the kernel's UDP stack (unicast_path udp)" \
    json_true "$OUT/k3b" "any(r.get('event') == 'renewed' and r['from'] == 'rebinding' and r['unicast_path'] == 'udp' for r in rows)"
  lab_unblock_unicast_to_server
else
  echo "ok - kea v4: rebinding # SKIP bridged frames do not pass iptables (br_netfilter off)"
fi

# The server disappears: renewing, rebinding, expiry; the address must be dropped.
new_client
lease "$ns" --json --hold 7 > "$OUT/k4" 2>&1 &
holder=$!
lab_wait 5 grep -q '"address"' "$OUT/k4"
lab_stop "$LAB_KEA4_PID"
wait "$holder"
check "kea v4: server gone, the lease expires and is reported" \
  json_true "$OUT/k4" "any(r.get('event') == 'expired' and r['from'] == 'rebinding' for r in rows)"

# The server loses its lease database and gives our address to another client: our renewal
# is NAKed (the address is in use), and the client binds to a new address.
new_client
first=$ns
lab_kea4 30 4 6
lease "$first" --json --hold 9 > "$OUT/k5" 2>&1 &
holder=$!
lab_wait 5 grep -q '"address"' "$OUT/k5"
lost=$(json_field "$OUT/k5" 1 "o['address']")
lab_stop "$LAB_KEA4_PID"
rm -f "$KEA4"
lab_kea4 30 4 6
new_client
lease "$ns" --json > "$OUT/k5b" 2>&1
wait "$holder"
check "kea v4: the forgotten address went to another client" json_true "$OUT/k5b" "o['address'] == '$lost'"
check "kea v4: renewal NAKed by the server that forgot us, then a new address" \
  json_true "$OUT/k5" "[r.get('event') for r in rows if r.get('event') in ('nak', 'bound')][:2] == ['nak', 'bound'] and any(r.get('event') == 'bound' and r['address'] != '$lost' for r in rows)"
lab_stop "$LAB_KEA4_PID"

lab_kea6 4 1 2
KEA6=$LAB_DIR/kea6/leases.csv
new_client
lease "$ns" --ipv6 --json --rapid-commit --hostname kea-6.lab.test --hold 4 --release > "$OUT/k6" 2> "$OUT/k6.err"
addr6=$(json_field "$OUT/k6" 1 "o['address'].split('/')[0]")
check "kea v6: rapid commit lease with DNS and search list" \
  json_true "$OUT/k6" "o['address'].startswith('fd00:18::') and o['dns_servers'] == ['fd00:18::1'] and o['search_domains'] == ['lab.test'] and o['requests_sent'] == 0"
check "kea v6: RENEW at T1, at least twice in 4 s" json_true "$OUT/k6" "sum(1 for r in rows if r.get('event') == 'renewed') >= 2"
check "kea v6: FQDN in the lease database" grep -q "^$addr6,.*,kea-6.lab.test.," "$KEA6"
check "kea v6: release recorded (valid lifetime 0)" lab_wait 5 grep -q "^$addr6,[^,]*,0," "$KEA6"

new_client
lease "$ns" --ipv6 --json --hold 6 > "$OUT/k7" 2>&1 &
holder=$!
lab_wait 5 grep -q '"address"' "$OUT/k7"
lab_stop "$LAB_KEA6_PID"
wait "$holder"
check "kea v6: four-message exchange, then server gone: renew, rebind, expire" \
  json_true "$OUT/k7" "o['requests_sent'] == 1 and any(r.get('event') == 'expired' for r in rows) and rows[-1]['rebinds_sent'] > 0"

# A pool of one address, taken: Kea answers a rapid-commit SOLICIT with a REPLY whose IA_NA says
# NoAddrsAvail. The client goes on with its SOLICIT schedule (RT doubling from 1 s: about 3 in
# 6 s), not a new SOLICIT for each REPLY (RFC 8415 14.1: it was round-trip rate).
lab_kea6 30 10 20 "fd00:18::100 - fd00:18::100"
new_client
lease "$ns" --ipv6 --json --hold 15 > "$OUT/k8a" 2>&1 &
holder=$!
check "kea v6: pool of one address, taken by a first client" lab_wait 5 grep -q '"address"' "$OUT/k8a"
new_client
lease "$ns" --ipv6 --rapid-commit --timeout 6 > "$OUT/k8" 2>&1
status=$?
solicits=$(grep -o '[0-9]* SOLICITs sent' "$OUT/k8" | awk '{print $1}')
echo "# pool full: $(tail -1 "$OUT/k8" | cut -c1-200)"
check "kea v6: pool full with rapid commit: refused, NoAddrsAvail named, the SOLICITs back off (${solicits:-?} in 6 s)" \
  bash -c "[ $status -eq 1 ] && grep -q 'NoAddrsAvail' '$OUT/k8' && [ '${solicits:-99}' -ge 2 ] && [ '${solicits:-99}' -le 5 ]"
lab_stop "$holder"
lab_stop "$LAB_KEA6_PID"

lab_down
trap - EXIT
for f in "$OUT"/*.err; do [ -s "$f" ] && { echo "# stderr of $(basename "$f"):"; sed 's/^/#   /' "$f"; }; done 2>/dev/null
echo "interop: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
