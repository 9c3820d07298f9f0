#!/usr/bin/env bash
# End to end, issue 12: macvlan networks (and ipvlan L2 where the kernel has it) with no bridge.
# Real dockerd, `net-dhcp serve`, dnsmasq, then Kea with short leases, in the lab's namespaces.
# The "host NIC" (the parent) is a veth in the host namespace whose peer is a port of the lab
# bridge, never the machine's own interface. Checks every CreateNetwork refusal, a container's
# address, routes and hostname at the server, reaching the server, release on stop, 20 containers
# in parallel, the macvlan modes, IPv6, kill -9 and SIGTERM with renewals going on, a container
# gone while the daemon was down, and that the parent is exactly as it was. Where the kernel lacks
# a feature (ipvlan, 802.1q, bonding) the check prints "# SKIP" and its reason: a skip is not a
# pass. Cleans up also when a check fails. Prints "macvlan: N passed, M failed".
# Usage: test/e2e/macvlan.sh [net-dhcp]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(realpath "${1:-$top/build/src/net-dhcp}")
. "$top/test/lib/e2e.sh"

DRIVER="ndmv-$LAB_ID"
SOCKET=/run/docker/plugins/$DRIVER.sock
PARENT="ndm${LAB_ID}p"    # the host's "LAN interface"
PEER="ndm${LAB_ID}q"      # its other end, a port of the lab bridge
DOWN="ndm${LAB_ID}d"      # an interface that is down (peer ndm<ID>e)
HANDMADE="ndm${LAB_ID}h"  # a macvlan child made by hand, as another program would
SHIM="ndm${LAB_ID}s"      # the README's host-side shim
BOND="ndm${LAB_ID}b"
GONE_NS="nd-mvgone-$LAB_ID"
DAEMON_PID=""

mv_down() {
  e2e_remove_labelled
  for n in $(docker network ls -q --filter "driver=$DRIVER" 2>/dev/null); do docker network rm "$n" >/dev/null 2>&1; done
  [ -n "$DAEMON_PID" ] && lab_stop "$DAEMON_PID"
  ip netns del "$GONE_NS" 2>/dev/null
  local link
  for link in "$SHIM" "$HANDMADE" "$BOND" "$DOWN" "$PARENT.10" "$PARENT"; do ip link del "$link" 2>/dev/null; done
  e2e_finish
}
e2e_start mv_down

start_daemon() {
  "$BIN" serve --socket "$SOCKET" --state-dir "$LAB_DIR/state" --follow-timeout 5s --log-level debug \
    >> "$LAB_DIR/daemon.log" 2>&1 &
  DAEMON_PID=$!
  LAB_PIDS+=($!)
  disown "$DAEMON_PID"  # no "Killed" notes from bash after kill -9
  lab_wait 5 test -S "$SOCKET" || { echo "# the daemon did not start:"; tail -20 "$LAB_DIR/daemon.log" | sed 's/^/#   /'; exit 1; }
}
stop_daemon() {  # signal
  kill "-$1" "$DAEMON_PID"
  local deadline=$(( $(date +%s) + 10 ))
  while kill -0 "$DAEMON_PID" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.05; done
  DAEMON_PID=""
  rm -f "$SOCKET"
}
quiet() { "$@" > /dev/null 2>&1; }
api() { curl -s --unix-socket "$SOCKET" -X POST "http://plugin$1" -d "$2"; }
ipv4_of() { awk '/inet / && $NF == "eth0" {split($2, a, "/"); print a[1]; exit}'; }
# Everything of the parent that net-dhcp must never change: MAC, flags, MTU, state,
# promiscuity, addresses.
parent_state() {
  local p=/sys/class/net/$PARENT
  echo "mac $(cat $p/address) flags $(cat $p/flags) mtu $(cat $p/mtu) operstate $(cat $p/operstate)"
  ip -d link show "$PARENT" | grep -oE 'promiscuity [0-9]+'
  ip -o addr show dev "$PARENT" | awk '{print $3, $4}' | sort
}
# How many links sit on the parent in the host namespace (its veth peer aside).
on_parent() { ip -o link show 2>/dev/null | grep "@$PARENT:" | grep -vc "^[0-9]*: $PEER@"; }
export PARENT PEER
export -f on_parent  # for the bash -c of checks
create_fails() {  # expected-message-part docker-network-create-args...
  local expected=$1 out
  shift
  out=$(docker network create --label "$LABEL" "$@" ndmvbad 2>&1) && { docker network rm ndmvbad >/dev/null; echo "#   created!"; return 1; }
  echo "$out" | grep -qF -- "$expected" || { echo "#   got: $out"; return 1; }
}
fails_with() {  # file expected-text: the command failed with this text in its output in file
  grep -qF -- "$2" "$1" || { echo "#   got: $(cat "$1")"; return 1; }
}
run_fails() {  # expected-message-part docker-run-args...
  local expected=$1 out
  shift
  out=$(docker run --rm --label "$LABEL" "$@" 2>&1) && { echo "#   it ran"; return 1; }
  echo "$out" | grep -qF -- "$expected" || { echo "#   got: $out"; return 1; }
}
network() {  # name -o options...: a net-dhcp network on the parent
  local name=$1
  shift
  docker network create --label "$LABEL" -d "$DRIVER" --ipam-driver null "$@" "$name" >/dev/null
}
status_json() { "$BIN" status --socket "$SOCKET" --json; }
# `ip -d link show eth0` of a container, seen from the host (busybox's ip has no details).
eth0_details() { nsenter --net="$(docker inspect -f '{{.NetworkSettings.SandboxKey}}' "$1")" ip -d link show eth0; }
# The host has no ping of its own here: busybox's.
host_ping() { busybox ping -c 1 -W 1 "$@"; }
SECTION_START=$(date +%s)
section() { echo "# --- $* (at $(( $(date +%s) - SECTION_START )) s)"; }

# --- the lab: a LAN bridge with dnsmasq, and the host's "LAN interface" on it -----------------
ip link add "$PARENT" type veth peer name "$PEER"
ip link set "$PEER" master "$LAB_BRIDGE" up
# A host NIC as on a server: an address of its own on the LAN, no RAs taken from it here.
sysctl -qw "net.ipv6.conf.$PARENT.accept_ra=0" "net.ipv6.conf.$PARENT.autoconf=0"
ip link set "$PARENT" address 02:00:5e:10:00:02 up
ip addr add 198.18.0.2/24 dev "$PARENT"
lab_dnsmasq --dhcp-range=198.18.0.100,198.18.0.199,255.255.255.0,2m --no-ping \
  --dhcp-range=fd00:18::100,fd00:18::1ff,64,2m --enable-ra --dhcp-host=02:00:00:00:05:01,198.18.0.60
LEASES=$LAB_DIR/dnsmasq/leases
start_daemon
echo "# engine: $(engine_name), driver $DRIVER, parent $PARENT on bridge $LAB_BRIDGE"
require "the parent is up with its address" lab_wait 5 bash -c "ip -o addr show dev $PARENT | grep -q 198.18.0.2/24"
parent_state > "$OUT/parent-before"

# --- CreateNetwork: every refusal, with its fix ------------------------------------------------
section "CreateNetwork refusals"
check "network create: macvlan without a parent" create_fails "-o mode=macvlan needs -o parent=IF, the host interface on the LAN" \
  -d "$DRIVER" --ipam-driver null -o mode=macvlan
check "network create: ipvlan_mode=l3 refused (no broadcast, so no DHCP)" \
  create_fails "option ipvlan_mode=l3 cannot work with DHCP: in ipvlan's L3 modes the parent routes the containers' traffic and passes no broadcasts" \
  -d "$DRIVER" --ipam-driver null -o mode=ipvlan -o parent="$PARENT" -o ipvlan_mode=l3
check "network create: macvlan_mode must be one of four" create_fails "option macvlan_mode=source must be bridge" \
  -d "$DRIVER" --ipam-driver null -o parent="$PARENT" -o macvlan_mode=source
check "network create: the parent does not exist" create_fails "parent ndnope does not exist: name the host interface on the LAN (ip -br link lists them)" \
  -d "$DRIVER" --ipam-driver null -o mode=macvlan -o parent=ndnope
check "network create: the loopback is no parent" create_fails "parent lo is the loopback interface, not one on the LAN" \
  -d "$DRIVER" --ipam-driver null -o parent=lo
ip link add "$DOWN" type veth peer name "ndm${LAB_ID}e"
check "network create: a parent that is down is refused" \
  create_fails "parent $DOWN is down: net-dhcp never changes the parent, so bring it up yourself (ip link set $DOWN up)" \
  -d "$DRIVER" --ipam-driver null -o parent="$DOWN"
check "network create: ... and left down" bash -c "! ip -o link show $DOWN | grep -qE '[<,]UP[,>]'"
ip link del "$DOWN"
check "network create: a bridge port is refused" \
  create_fails "parent ndv${LAB_ID}s is a port of bridge $LAB_BRIDGE: what arrives on a bridge port belongs to the bridge" \
  -d "$DRIVER" --ipam-driver null -o parent="ndv${LAB_ID}s"
if ip link add "$BOND" type bond 2>/dev/null; then
  ip link add "ndm${LAB_ID}f" type veth peer name "ndm${LAB_ID}g"
  ip link set "ndm${LAB_ID}f" master "$BOND"
  check "network create: a bond slave is refused" create_fails "parent ndm${LAB_ID}f is a slave of bond $BOND: its traffic belongs to the bond. Use -o parent=$BOND" \
    -d "$DRIVER" --ipam-driver null -o parent="ndm${LAB_ID}f"
  ip link del "ndm${LAB_ID}f"
  ip link del "$BOND"
else
  ok "network create: a bond slave is refused # SKIP the kernel has no bonding (ip link add type bond: Unknown device type)"
fi
# A macvlan child another program made on the parent: not a parent itself; no ipvlan next to
# it; no passthru next to it.
ip link add "$HANDMADE" link "$PARENT" type macvlan mode bridge
check "network create: a macvlan child is no parent, its parent is named" \
  create_fails "parent $HANDMADE is itself a macvlan interface (of $PARENT): put the network on $PARENT (-o parent=$PARENT) instead" \
  -d "$DRIVER" --ipam-driver null -o parent="$HANDMADE"
check "network create: ipvlan on a parent with macvlan children is refused (the kernel would say EBUSY)" \
  create_fails "parent $PARENT has macvlan interfaces ($HANDMADE): the kernel allows macvlan or ipvlan children on one parent, not both" \
  -d "$DRIVER" --ipam-driver null -o mode=ipvlan -o parent="$PARENT"
check "network create: passthru on a parent with another macvlan child is refused" \
  create_fails "macvlan_mode=passthru gives parent $PARENT whole to one container, but $PARENT already has macvlan interfaces ($HANDMADE)" \
  -d "$DRIVER" --ipam-driver null -o parent="$PARENT" -o macvlan_mode=passthru
ip link del "$HANDMADE"
# ipvlan: this machine's kernel has no CONFIG_IPVLAN; the error names the module.
HAVE_IPVLAN=0
if docker network create --label "$LABEL" -d "$DRIVER" --ipam-driver null -o mode=ipvlan -o parent="$PARENT" ndiv > "$OUT/ipvlan" 2>&1; then
  HAVE_IPVLAN=1
  ok "network create: ipvlan L2 accepted (the kernel has ipvlan)"
  docker network rm ndiv >/dev/null
else
  check "network create: ipvlan on a kernel without it names the module" \
    fails_with "$OUT/ipvlan" "the kernel has no ipvlan support (module ipvlan, CONFIG_IPVLAN): load it (modprobe ipvlan), or use -o mode=macvlan"
fi
# 802.1q: parent=IF.VID is made when missing, and goes with the last network on it.
if docker network create --label "$LABEL" -d "$DRIVER" --ipam-driver null -o parent="$PARENT.10" ndvlan > "$OUT/vlan" 2>&1; then
  check "network create: parent=$PARENT.10 makes the 802.1q sub-interface, up" \
    bash -c "ip -d link show $PARENT.10 | grep -q 'vlan protocol 802.1Q id 10' && ip link show $PARENT.10 | grep -q ',UP'"
  docker network rm ndvlan >/dev/null
  check "network rm: the 802.1q sub-interface it made is removed with it" lab_wait 5 bash -c "! ip link show $PARENT.10 >/dev/null 2>&1"
  ip link add link "$PARENT" name "$PARENT.10" type vlan id 10
  ip link set "$PARENT.10" up
  network ndvlan -o parent="$PARENT.10" && docker network rm ndvlan >/dev/null
  check "network rm: an 802.1q sub-interface made by the user stays" ip link show "$PARENT.10"
  ip link del "$PARENT.10"
else
  check "network create: parent=IF.VID on a kernel without 802.1q says so" \
    fails_with "$OUT/vlan" "parent $PARENT.10 does not exist, and the kernel has no 802.1q VLAN support (module 8021q) to make it as VLAN 10 of $PARENT"
  ok "network create: parent=IF.VID makes the 802.1q sub-interface and removes it with the network # SKIP the kernel has no 802.1q (module 8021q)"
fi
check "network create: nothing left on the parent by the checks (the trial children included)" bash -c "[ \$(on_parent) -eq 0 ]"

# --- one container on a macvlan network --------------------------------------------------------
section "one container"
network ndmv -o mode=macvlan -o parent="$PARENT" -o lease_timeout=5s
check "network create: -o mode=macvlan -o parent=$PARENT, the firewall probe skipped with a debug line" \
  grep -q "the firewall probe is about traffic bridged through a Linux bridge; a macvlan or ipvlan child's crosses none: not probed" "$LAB_DIR/daemon.log"
docker run --rm --label "$LABEL" --network ndmv "$BUSYBOX_IMAGE" sh -c 'ip addr show eth0; ip route; ping -c 1 -W 2 198.18.0.1' \
  > "$OUT/c1" 2>&1
addr=$(ipv4_of < "$OUT/c1")
check "container: eth0 has a DHCP address from the LAN" bash -c "[[ '$addr' == 198.18.0.1[0-9][0-9] ]]"
check "container: default route via the DHCP server's router" grep -q "default via 198.18.0.1 dev eth0" "$OUT/c1"
check "container: reaches the DHCP server" grep -q "1 packets received" "$OUT/c1"
check "container: released at the server when it stopped" \
  lab_wait 5 bash -c "grep -q 'DHCPRELEASE(lan0) $addr ' '$LAB_DIR/dnsmasq/log' && ! grep -q ' $addr ' '$LEASES'"

cid=$(docker run -d --label "$LABEL" --network ndmv --hostname mv-one "$BUSYBOX_IMAGE" sleep 120)
lab_wait 10 bash -c "docker exec $cid ip addr show eth0 | grep -q 'inet 198.18.0.'"
addr=$(docker exec "$cid" ip addr show eth0 | ipv4_of)
mac=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.MacAddress}}{{end}}' "$cid")
eth0_details "$cid" > "$OUT/eth0-details" 2>&1
check "running container: eth0 is a macvlan child of the parent (no veth, no bridge)" grep -q "macvlan mode bridge" "$OUT/eth0-details"
check "running container: the server's lease has its MAC, address and hostname" lab_wait 10 grep -q "$mac $addr mv-one " "$LEASES"
check "running container: the macvlan child has the MAC Docker shows, not the parent's" \
  bash -c "[ '$(docker exec "$cid" cat /sys/class/net/eth0/address)' = '$mac' ] && [ '$mac' != '$(cat /sys/class/net/$PARENT/address)' ]"
check "running container: routes from the lease (default via the router, the LAN on-link)" \
  bash -c "docker exec $cid ip route | grep -q 'default via 198.18.0.1 dev eth0' && docker exec $cid ip route | grep -q '198.18.0.0/24 dev eth0'"
lab_wait 5 bash -c "'$BIN' status --socket '$SOCKET' --json | grep -q '\"container_id\":\"$cid\"'"
status_json > "$OUT/status.json"
"$BIN" status --socket "$SOCKET" > "$OUT/status.txt"
check "status --json: mode macvlan, the parent, the child, eth0, bound" \
  python3 - "$OUT/status.json" "$cid" "$PARENT" "$addr" <<'PY'
import json, sys
status = json.load(open(sys.argv[1]))
nets = [n for n in status["networks"] if any(e["container_id"] == sys.argv[2] for e in n["endpoints"])]
assert len(nets) == 1 and nets[0]["options"]["mode"] == "macvlan" and nets[0]["options"]["parent"] == sys.argv[3], nets
e = [e for e in nets[0]["endpoints"] if e["container_id"] == sys.argv[2]][0]
assert e["attachment"] == "macvlan" and e["mode"] == "macvlan" and e["parent"] == sys.argv[3], e
assert e["child"].startswith("dm-") and e["interface"] == "eth0" and e["macvlan_mode"] == "bridge", e
assert e["ipv4"]["state"] == "bound" and e["ipv4"]["address"] == sys.argv[4] + "/24" and e["followed"], e
PY
check "status: the table says macvlan parent $PARENT and the child" \
  bash -c "grep -qE '^network [0-9a-f]{12}  macvlan parent $PARENT  IPv4  1 endpoint' '$OUT/status.txt' &&
           grep -qE 'eth0 \(dm-[0-9a-f]{12} on $PARENT\) +$mac +$addr/24 +198.18.0.1 +198.18.0.1 +bound' '$OUT/status.txt'"
check "metrics: endpoints by mode" bash -c "curl -s --unix-socket '$SOCKET' http://plugin/metrics | grep -qx 'netdhcp_endpoints_by_mode{mode=\"macvlan\"} 1'"
# The host cannot reach its own macvlan children through the parent (the kernel hands a
# parent's own frames to the wire, not to its children); the README's shim can.
check "host: does not reach its macvlan container through the parent (as the README says)" \
  bash -c "busybox ping -c 1 -W 1 $addr 2>&1 | grep -q ' 0 packets received'"
ip link add "$SHIM" link "$PARENT" type macvlan mode bridge
ip addr add 198.18.0.3/32 dev "$SHIM"
ip link set "$SHIM" up
ip route add "$addr/32" dev "$SHIM"
check "host: reaches it through the README's shim (a macvlan of its own on the parent, a /32 route)" \
  lab_wait 5 busybox ping -c 1 -W 1 "$addr"
ip link del "$SHIM"
check "network create: a second network on the parent, while the first has a container, is refused" \
  create_fails "parent $PARENT is already used by net-dhcp network" -d "$DRIVER" --ipam-driver null -o parent="$PARENT"
check "network create: ipvlan next to a running macvlan container is refused, naming the network" \
  create_fails "macvlan network" -d "$DRIVER" --ipam-driver null -o mode=ipvlan -o parent="$PARENT" -o ignore_conflicts=true
check "network create: ... saying why" \
  create_fails "macvlan and ipvlan cannot share a parent (the kernel refuses one next to the other)" -d "$DRIVER" --ipam-driver null -o mode=ipvlan -o parent="$PARENT"
check "network create: passthru next to a running macvlan container is refused" \
  create_fails "macvlan_mode=passthru needs parent $PARENT to itself, but net-dhcp network" -d "$DRIVER" --ipam-driver null \
  -o parent="$PARENT" -o macvlan_mode=passthru -o ignore_conflicts=true
docker rm -f "$cid" >/dev/null
check "running container: removed, lease released, its child gone" \
  lab_wait 5 bash -c "! grep -q ' $addr ' '$LEASES' && [ \$(ip -o link show | grep -cE ' dm-[0-9a-f]{12}@$PARENT:') -eq 0 ]"

docker run --rm --label "$LABEL" --network ndmv --mac-address 02:00:00:00:05:01 "$BUSYBOX_IMAGE" ip addr show eth0 > "$OUT/c2" 2>&1
check "--mac-address: the server's reservation for that MAC" grep -q "inet 198.18.0.60/24" "$OUT/c2"

# --- 20 containers in parallel ---------------------------------------------------------------
section "20 in parallel"
starters=()
for i in $(seq 1 20); do
  docker run -d --label "$LABEL" --network ndmv "$BUSYBOX_IMAGE" sleep 120 > "$OUT/p$i" 2>&1 &
  starters+=($!)
done
wait "${starters[@]}"
started=$(cat "$OUT"/p* | grep -cE '^[0-9a-f]{64}$')
for i in $(seq 1 20); do docker exec "$(head -1 "$OUT/p$i")" ip addr show eth0 2>/dev/null | ipv4_of; done > "$OUT/parallel"
check "20 containers in parallel all run" [ "$started" -eq 20 ]
check "20 containers in parallel: 20 distinct leases" bash -c "[ \$(sort -u '$OUT/parallel' | grep -c '^198.18.0.') -eq 20 ]"
check "20 containers in parallel: all 20 in the server's database" bash -c "[ \$(grep -c ' 198.18.0.' '$LEASES') -ge 20 ]"
docker rm -f $(docker ps -aq --filter "label=$LABEL") >/dev/null 2>&1
check "20 containers removed: every lease released, no child left" \
  lab_wait 10 bash -c "[ \$(grep -c ' 198.18.0.' '$LEASES') -eq 0 ] && [ \$(ip -o link show | grep -cE ' dm-[0-9a-f]{12}@$PARENT:') -eq 0 ]"
docker network rm ndmv >/dev/null

# --- the other macvlan modes, and IPv6 ---------------------------------------------------------
section "modes and IPv6"
for mode in private vepa; do
  network "ndmv-$mode" -o parent="$PARENT" -o macvlan_mode="$mode"
  cid=$(docker run -d --label "$LABEL" --network "ndmv-$mode" "$BUSYBOX_IMAGE" sleep 60)
  eth0_details "$cid" > "$OUT/$mode" 2>&1
  check "macvlan_mode=$mode: a lease, on a $mode macvlan interface" \
    bash -c "grep -q 'macvlan mode $mode' '$OUT/$mode' && docker exec $cid ip addr show eth0 | grep -q 'inet 198.18.0.1[0-9][0-9]/24'"
  docker rm -f "$cid" >/dev/null
  docker network rm "ndmv-$mode" >/dev/null
done
network ndpt -o parent="$PARENT" -o macvlan_mode=passthru
cid=$(docker run -d --label "$LABEL" --network ndpt "$BUSYBOX_IMAGE" sleep 60)
check "macvlan_mode=passthru: the container has a lease, with the parent's MAC" \
  lab_wait 10 bash -c "docker exec $cid ip addr show eth0 | grep -q 'inet 198.18.0.1[0-9][0-9]/24' &&
    [ \"\$(docker exec $cid cat /sys/class/net/eth0/address)\" = '$(cat /sys/class/net/$PARENT/address)' ]"
check "macvlan_mode=passthru: a second container is refused, saying passthru serves one" \
  run_fails "passthru interface serves one container at a time" --network ndpt "$BUSYBOX_IMAGE" true
check "macvlan_mode=passthru: --mac-address is refused, saying why" \
  run_fails "cannot be honoured with macvlan_mode=passthru: the passthru interface has its parent's MAC" \
  --network ndpt --mac-address 02:00:00:00:05:09 "$BUSYBOX_IMAGE" true
check "network create: nothing next to a passthru network in use" \
  create_fails "parent $PARENT is given whole to net-dhcp network" -d "$DRIVER" --ipam-driver null -o parent="$PARENT" -o ignore_conflicts=true
docker rm -f "$cid" >/dev/null
docker network rm ndpt >/dev/null
check "macvlan_mode=passthru: the parent has its own MAC back, and no child" \
  lab_wait 5 bash -c "[ \$(cat /sys/class/net/$PARENT/address) = 02:00:5e:10:00:02 ] && [ \$(on_parent) -eq 0 ]"
network ndmv6 -o parent="$PARENT" -o ipv6=true
cid=$(docker run -d --label "$LABEL" --network ndmv6 "$BUSYBOX_IMAGE" sleep 60)
check "ipv6: DHCPv6 address on the macvlan interface, with the on-link prefix length from the RAs" \
  lab_wait 10 bash -c "docker exec $cid ip -6 addr show eth0 | grep -q 'inet6 fd00:18::[0-9a-f]*/64 scope global'"
addr6=$(docker exec "$cid" ip -6 addr show eth0 | awk '/inet6 fd00:18::/ {split($2, a, "/"); print a[1]}')
check "ipv6: the address is the server's lease, and IPv4 too" \
  bash -c "[ -n '$addr6' ] && grep -q ' $addr6 ' '$LEASES' && docker exec $cid ip addr show eth0 | grep -q 'inet 198.18.0.1'"
docker rm -f "$cid" >/dev/null
check "ipv6: released at the server on removal" lab_wait 5 bash -c "! grep -q ' $addr6 ' '$LEASES'"
docker network rm ndmv6 >/dev/null

# --- Kea, short leases: kill -9 and SIGTERM with renewals going on ----------------------------
section "Kea, kill -9, SIGTERM"
lab_stop "$LAB_DNSMASQ_PID"
lab_kea4 6 2 4
KEA4=$LAB_DIR/kea4/leases.csv
network ndkea -o parent="$PARENT"
cid=$(docker run -d --label "$LABEL" --network ndkea "$BUSYBOX_IMAGE" sleep 300)
lab_wait 10 bash -c "docker exec $cid ip addr show eth0 | grep -q 'inet 198.18.0.'"
addr=$(docker exec "$cid" ip addr show eth0 | ipv4_of)
check "kea: renewed while the container runs (6 s lease)" lab_wait 10 bash -c "[ \$(grep -c '^$addr,' '$KEA4') -ge 3 ]"
before=$(grep -c "^$addr," "$KEA4")
stop_daemon 9
sleep_until=$(( $(date +%s) + 3 ))  # down past T1 (2 s): renewals are due when it is back
lab_wait 5 bash -c "[ \$(date +%s) -ge $sleep_until ]"
mark=$(wc -l < "$LAB_DIR/daemon.log")
start_daemon
check "kill -9: the restarted daemon re-adopts the macvlan endpoint in its container" \
  lab_wait 10 bash -c "tail -n +$((mark + 1)) '$LAB_DIR/daemon.log' | grep -qE 're-adopted in .*DHCPv4 (bound|renewing|rebinding) $addr'"
check "kill -9: renewals go on at the server (3 more)" lab_wait 15 bash -c "[ \$(grep -c '^$addr,' '$KEA4') -ge $((before + 3)) ]"
check "kill -9: the container's address did not change" bash -c "docker exec $cid ip addr show eth0 | grep -q 'inet $addr/24'"
stop_daemon TERM
check "SIGTERM: no lease released" bash -c "! grep -q '^$addr,[^,]*,[^,]*,0,' '$KEA4'"
mark=$(wc -l < "$LAB_DIR/daemon.log")
start_daemon
check "SIGTERM: re-adopted at the next start" \
  lab_wait 10 bash -c "tail -n +$((mark + 1)) '$LAB_DIR/daemon.log' | grep -q 're-adopted in '"
c=$(grep -c "^$addr," "$KEA4")
check "SIGTERM: renewals go on after the restart" lab_wait 10 bash -c "[ \$(grep -c '^$addr,' '$KEA4') -ge $((c + 2)) ]"
docker rm -f "$cid" >/dev/null
check "re-adopted: docker rm releases it (valid lifetime 0 at Kea)" lab_wait 10 grep -q "^$addr,[^,]*,[^,]*,0," "$KEA4"

# A container that went away while the daemon was down, driven through the plugin API with a
# namespace of the test's own as its sandbox (Docker itself would wait for the driver).
nid=$(docker network inspect -f '{{.Id}}' ndkea)
eid=$(printf 'e%063d' $RANDOM)
api /NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$eid\",\"Interface\":{}}" > "$OUT/gone-create"
gone_addr=$(python3 -c "import json; print(json.load(open('$OUT/gone-create'))['Interface']['Address'].split('/')[0])" 2>/dev/null)
require "gone container: CreateEndpoint leased an address" [ -n "$gone_addr" ]
check "gone container: the macvlan child dm-${eid:0:12} is on the parent until Join" quiet ip link show "dm-${eid:0:12}"
ip netns add "$GONE_NS"
api /NetworkDriver.Join "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$eid\",\"SandboxKey\":\"/run/netns/$GONE_NS\"}" > /dev/null
ip link set "dm-${eid:0:12}" netns "$GONE_NS"
ip -n "$GONE_NS" link set "dm-${eid:0:12}" name eth0
ip -n "$GONE_NS" link set eth0 up
require "gone container: followed into its namespace" \
  lab_wait 5 grep -q "endpoint ${eid:0:12}: following the leases inside the container as eth0" "$LAB_DIR/daemon.log"
stop_daemon 9
ip netns del "$GONE_NS"
start_daemon
check "gone container: its lease is released at the next start (from the parent)" \
  lab_wait 10 grep -q "^$gone_addr,[^,]*,[^,]*,0," "$KEA4"
check "gone container: its record is removed, no child left" \
  lab_wait 5 bash -c "[ ! -e '$LAB_DIR/state/endpoints/$eid.json' ] && ! ip link show dm-${eid:0:12} >/dev/null 2>&1"
docker network rm ndkea >/dev/null

# --- ipvlan L2, where the kernel has it ------------------------------------------------------
section "ipvlan"
if [ "$HAVE_IPVLAN" = 1 ]; then
  network ndiv -o mode=ipvlan -o parent="$PARENT"
  a=$(docker run -d --label "$LABEL" --network ndiv "$BUSYBOX_IMAGE" sleep 60)
  b=$(docker run -d --label "$LABEL" --network ndiv "$BUSYBOX_IMAGE" sleep 60)
  lab_wait 10 bash -c "docker exec $a ip addr show eth0 | grep -q 'inet 198.18.0.' && docker exec $b ip addr show eth0 | grep -q 'inet 198.18.0.'"
  ia=$(docker exec "$a" ip addr show eth0 | ipv4_of)
  ib=$(docker exec "$b" ip addr show eth0 | ipv4_of)
  check "ipvlan: two containers with the parent's MAC get two leases (client identifiers)" \
    bash -c "[ -n '$ia' ] && [ -n '$ib' ] && [ '$ia' != '$ib' ] &&
      [ \"\$(docker exec $a cat /sys/class/net/eth0/address)\" = '$(cat /sys/class/net/$PARENT/address)' ]"
  check "ipvlan: both reach the server" bash -c "docker exec $a ping -c 1 -W 2 198.18.0.1 >/dev/null && docker exec $b ping -c 1 -W 2 198.18.0.1 >/dev/null"
  check "ipvlan: renewals at Kea for both" lab_wait 10 bash -c "[ \$(grep -c '^$ia,' '$KEA4') -ge 2 ] && [ \$(grep -c '^$ib,' '$KEA4') -ge 2 ]"
  check "ipvlan: --mac-address refused, saying why" run_fails "cannot be honoured on an ipvlan network" \
    --network ndiv --mac-address 02:00:00:00:05:09 "$BUSYBOX_IMAGE" true
  docker rm -f "$a" "$b" >/dev/null
  check "ipvlan: released at the server" lab_wait 5 bash -c "grep -q '^$ia,[^,]*,[^,]*,0,' '$KEA4' && grep -q '^$ib,[^,]*,[^,]*,0,' '$KEA4'"
  docker network rm ndiv >/dev/null
else
  ok "ipvlan L2: two containers, two leases with the parent's MAC, renewals, release # SKIP the kernel has no ipvlan (CONFIG_IPVLAN)"
fi

# --- the parent is as it was ------------------------------------------------------------------
section "the parent"
lab_wait 5 bash -c "[ \$(on_parent) -eq 0 ]"
parent_state > "$OUT/parent-after"
check "the parent is unchanged: MAC, flags, MTU, state, promiscuity, addresses" \
  bash -c "diff '$OUT/parent-before' '$OUT/parent-after' | sed 's/^/#   /'; cmp -s '$OUT/parent-before' '$OUT/parent-after'"
check "the daemon's log has no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error:' '$LAB_DIR/daemon.log'"

mv_down
trap - EXIT
echo "macvlan: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
