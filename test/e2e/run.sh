#!/usr/bin/env bash
# End to end: real dockerd, `net-dhcp serve`, dnsmasq and Kea in namespaces on lab bridges, a
# busybox image made with `docker import`. Needs root. Starts dockerd if none answers (and stops
# it again), cleans up its containers, networks, namespaces, bridges and iptables rules also
# when a check fails. Prints "e2e: N passed, M failed". Usage: test/e2e/run.sh [net-dhcp]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(realpath "${1:-$top/build/src/net-dhcp}")
. "$top/test/lib/e2e.sh"

DRIVER="ndtest-$LAB_ID"
SOCKET=/run/docker/plugins/$DRIVER.sock

HOLD_RULE=()  # an iptables rule holding one container's frames back, while it is in place
e2e_down() {
  [ ${#HOLD_RULE[@]} -gt 0 ] && iptables -D "${HOLD_RULE[@]}" 2>/dev/null
  e2e_remove_labelled
  [ -n "${IPV6_FORWARDING_BEFORE:-}" ] && echo "$IPV6_FORWARDING_BEFORE" > /proc/sys/net/ipv6/conf/all/forwarding
  for n in $(docker network ls -q --filter "driver=$DRIVER" 2>/dev/null); do docker network rm "$n" >/dev/null 2>&1; done
  e2e_finish
}

e2e_start e2e_down
# Docker turns IPv6 forwarding on for its IPv6 networks (the firewall checks make one) and
# leaves it on; put it back, so that the next run meets the same host.
IPV6_FORWARDING_BEFORE=$(cat /proc/sys/net/ipv6/conf/all/forwarding 2>/dev/null)

METRICS_PORT=$(( 19000 + 0x$LAB_ID % 1000 ))
start_daemon() {
  "$BIN" serve --socket "$SOCKET" --state-dir "$LAB_DIR/state" --docker-timeout 30s --log-level debug --metrics "127.0.0.1:$METRICS_PORT" \
    >> "$LAB_DIR/daemon.log" 2>&1 &
  LAB_PIDS+=($!)
  DAEMON_PID=$!
  lab_wait 5 test -S "$SOCKET" || { echo "# the daemon did not start:"; sed 's/^/#   /' "$LAB_DIR/daemon.log"; exit 1; }
}
start_daemon
echo "# engine: $(engine_name), driver $DRIVER, bridge $LAB_BRIDGE"

run() { docker run --rm --label "$LABEL" "$@"; }
quiet() { "$@" > /dev/null 2>&1; }
# Docker 28 has --ipv4=false networks and --ipv6 with --ipam-driver null; 20.10 has neither.
ENGINE_MAJOR=$(docker version --format '{{.Server.Version}}' 2>/dev/null | cut -d. -f1)
engine28() { [ "${ENGINE_MAJOR:-0}" -ge 28 ] 2>/dev/null; }
# A call to the daemon's plugin API as Docker makes it; the body of the answer goes to
# $OUT/api, the HTTP status to stdout.
plugin_call() {  # path json-body
  curl -s --unix-socket "$SOCKET" -o "$OUT/api" -w '%{http_code}' -X POST "http://plugin$1" -d "$2"
}
random_id() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
# fails_saying FILE STATUS TEXT...: the command failed and its output in FILE has every TEXT.
fails_saying() {
  local file=$1 status=$2 text
  shift 2
  [ "$status" -ne 0 ] || { echo "#   it succeeded"; return 1; }
  for text in "$@"; do
    grep -qF -- "$text" "$file" || { echo "#   no \"$text\" in:"; sed 's/^/#   /' "$file"; return 1; }
  done
  return 0
}
# The IPv4 address (without prefix) of eth0 in `ip addr` output on stdin.
ipv4_of() { awk '/inet / && $NF == "eth0" {split($2, a, "/"); print a[1]; exit}'; }

# --- network create: good and bad options, each error naming the fix -------------------------
lab_dnsmasq --dhcp-range=198.18.0.100,198.18.0.199,255.255.255.0,2m --no-ping \
  --dhcp-range=fd00:18::100,fd00:18::1ff,64,2m --enable-ra --dhcp-option=option6:dns-server,[fd00:18::1] \
  --dhcp-host=02:00:00:00:05:01,198.18.0.60
LEASES=$LAB_DIR/dnsmasq/leases

create_fails() {  # expected-message-part docker-network-create-args...
  local expected=$1; shift
  local out
  out=$(docker network create --label "$LABEL" "$@" ndbad 2>&1) && { docker network rm ndbad >/dev/null; echo "#   created!"; return 1; }
  echo "$out" | grep -qF -- "$expected" || { echo "#   got: $out"; return 1; }
}
check "network create: bridge option missing" create_fails "the bridge option is required: docker network create -d net-dhcp --ipam-driver null -o bridge=BRIDGE NAME" \
  -d "$DRIVER" --ipam-driver null
check "network create: no such bridge" create_fails "bridge ndnope does not exist: create it and attach the LAN interface to it" \
  -d "$DRIVER" --ipam-driver null -o bridge=ndnope
check "network create: not a bridge" create_fails "ndv${LAB_ID}s is not a bridge (it is a veth)" \
  -d "$DRIVER" --ipam-driver null -o bridge="ndv${LAB_ID}s"
check "network create: Docker's IPAM refused" create_fails "use --ipam-driver null" \
  -d "$DRIVER" --subnet 198.18.50.0/24 -o bridge="$LAB_BRIDGE"
check "network create: unknown option" create_fails "unknown option colour; net-dhcp knows: bridge, ipv6" \
  -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE" -o colour=blue
check "network create: bad lease_timeout" create_fails "option lease_timeout=soon must be a duration up to 1h, like 10s or 1500ms" \
  -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE" -o lease_timeout=soon
check "network create: lease_timeout at Docker's plugin timeout is refused, with the longest that fits" \
  create_fails "option lease_timeout=30s is too long: Docker gives up on this managed plugin's calls after 30 s (docker plugin enable --timeout" \
  -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE" -o lease_timeout=30s
check "network create: IPv4 off and no IPv6 is refused (as Docker 28 would send it)" bash -c "
  [ \$(curl -s --unix-socket '$SOCKET' -o '$OUT/nofamily' -w '%{http_code}' -X POST http://plugin/NetworkDriver.CreateNetwork \
    -d '{\"NetworkID\":\"$(random_id)\",\"Options\":{\"com.docker.network.enable_ipv4\":false,\"com.docker.network.enable_ipv6\":false,
         \"com.docker.network.generic\":{\"bridge\":\"$LAB_BRIDGE\"}},\"IPv4Data\":[],\"IPv6Data\":[]}') = 400 ] &&
  grep -qF 'IPv4 turned off (--ipv4=false) and no IPv6' '$OUT/nofamily'"
# A net-dhcp network with running endpoints owns its bridge; one without is no conflict: it may
# be state Docker no longer has (removed while the daemon was stopped). Simulated here with a
# network only the daemon knows (CreateNetwork straight through the API, as Docker would send
# it), which must not block `docker network create` on that bridge.
stale=$(random_id)
curl -s --unix-socket "$SOCKET" -o /dev/null -X POST http://plugin/NetworkDriver.CreateNetwork \
  -d "{\"NetworkID\":\"$stale\",\"Options\":{\"com.docker.network.generic\":{\"bridge\":\"$LAB_BRIDGE\",\"firewall_check\":\"false\"}},\"IPv4Data\":[{\"AddressSpace\":\"null\",\"Pool\":\"0.0.0.0/0\"}]}"
check "network create: a stale net-dhcp network (no endpoints) on the bridge does not block it" \
  quiet docker network create --label "$LABEL" -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE" -o lease_timeout=5s ndlan
curl -s --unix-socket "$SOCKET" -o /dev/null -X POST http://plugin/NetworkDriver.DeleteNetwork -d "{\"NetworkID\":\"$stale\"}"
cid=$(docker run -d --label "$LABEL" --network ndlan "$BUSYBOX_IMAGE" sleep 60)
check "network create: a second network on a bridge whose network has a container is refused, counting it" \
  create_fails "bridge $LAB_BRIDGE is already used by net-dhcp network" -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE"
check "network create: ... and the error says how many endpoints it has" \
  create_fails "(1 endpoint): use one network per bridge, or -o ignore_conflicts=true" -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE"
docker rm -f "$cid" >/dev/null

# --- one container --------------------------------------------------------------------------
run --network ndlan "$BUSYBOX_IMAGE" sh -c 'ip addr show eth0; ip route' > "$OUT/c1" 2>&1
addr=$(ipv4_of < "$OUT/c1")
check "container: eth0 has a DHCP address from the LAN" bash -c "[[ '$addr' == 198.18.0.1[0-9][0-9] ]]"
check "container: interface named eth0 (not <bridge>0)" grep -q "eth0@" "$OUT/c1"
check "container: default route via the DHCP server's router" grep -q "default via 198.18.0.1 dev eth0" "$OUT/c1"
check "container: the server's lease database had it, and the stop released it" \
  bash -c "grep -q ' $addr ' '$LAB_DIR/dnsmasq/log.leases-seen' 2>/dev/null || grep -q 'DHCPACK(lan0) $addr' '$LAB_DIR/dnsmasq/log'"
check "container: release on stop is visible at the server" \
  lab_wait 5 bash -c "grep -q 'DHCPRELEASE(lan0) $addr ' '$LAB_DIR/dnsmasq/log' && ! grep -q ' $addr ' '$LEASES'"

# A running container: the lease is in the server's database while it runs.
cid=$(docker run -d --label "$LABEL" --network ndlan "$BUSYBOX_IMAGE" sleep 60)
lab_wait 10 bash -c "docker exec $cid ip addr show eth0 | grep -q 'inet 198.18.0.'"
addr=$(docker exec "$cid" ip addr show eth0 | ipv4_of)
mac=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.MacAddress}}{{end}}' "$cid")
check "running container: lease database shows its MAC and address" grep -q "$mac $addr " "$LEASES"
check "running container: docker inspect agrees with the lease" \
  bash -c "[ \"\$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' $cid)\" = '$addr' ]"
check "running container: reaches the DHCP server's host" quiet docker exec "$cid" ping -c 1 -W 2 198.18.0.1
# What the daemon says about it: net-dhcp status (JSON and table), EndpointOperInfo, metrics.
lab_wait 5 bash -c "'$BIN' status --socket '$SOCKET' --json | grep -q '\"container_id\":\"$cid\"'"
"$BIN" status --socket "$SOCKET" --json > "$OUT/status.json"
"$BIN" status --socket "$SOCKET" > "$OUT/status.txt"
check "status --json: the endpoint with its container, eth0, MAC, address, gateway, server, bound, expiry" \
  python3 - "$OUT/status.json" "$cid" "$mac" "$addr" <<'PY'
import json, sys
status = json.load(open(sys.argv[1]))
eps = [e for n in status["networks"] for e in n["endpoints"] if e["container_id"] == sys.argv[2]]
assert len(eps) == 1, eps
e = eps[0]
assert e["interface"] == "eth0" and e["mac"] == sys.argv[3], e
v4 = e["ipv4"]
assert v4["address"] == sys.argv[4] + "/24" and v4["gateway"] == "198.18.0.1" and v4["server"] == "198.18.0.1", v4
assert v4["state"] == "bound" and v4["expires_at"].endswith("Z") and v4["renewed_at"].endswith("Z"), v4
assert e["phase"] == "joined" and e["last_error"] == "", e
PY
check "status: the table shows the container, its address and state" \
  bash -c "grep -qE '^  ${cid:0:12} +[0-9a-f]{12} +eth0 \(dh-[0-9a-f]{12}\) +$mac +$addr/24 +198.18.0.1 +198.18.0.1 +bound ' '$OUT/status.txt'"
check "EndpointOperInfo: the same facts" bash -c "curl -s --unix-socket '$SOCKET' -X POST http://plugin/NetworkDriver.EndpointOperInfo \
  -d '{\"NetworkID\":\"x\",\"EndpointID\":\"$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.EndpointID}}{{end}}' "$cid")\"}' |
  grep -q '\"address\":\"$addr/24\"'"
check "metrics on the socket: endpoints, leases, round trips" bash -c "curl -s --unix-socket '$SOCKET' http://plugin/metrics > '$OUT/metrics' &&
  grep -qx 'netdhcp_endpoints 1' '$OUT/metrics' && grep -qx 'netdhcp_leases{family=\"4\"} 1' '$OUT/metrics' &&
  grep -qE '^netdhcp_dhcp_round_trip_seconds_count\{family=\"4\"\} [1-9]' '$OUT/metrics'"
check "metrics over TCP (--metrics 127.0.0.1:$METRICS_PORT)" bash -c "curl -s http://127.0.0.1:$METRICS_PORT/metrics | grep -qx 'netdhcp_endpoints 1'"
# Any local user can connect to the metrics port. One that opens 100 connections and holds them
# must not take the daemon's descriptors nor hold Docker's API up: it serves 16 at once, and
# the rest (and a scrape) wait in the backlog until some close (each idle one after 5 s: the
# scrape, behind 84, waits more than 25 s).
python3 -c '
import socket, sys, time
held = [socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5) for _ in range(100)]
print("held", len(held), flush=True)
time.sleep(120)
' "$METRICS_PORT" > "$OUT/held" 2>&1 &
holder=$!
LAB_PIDS+=("$holder")
check "metrics: a client opens 100 connections and holds them" lab_wait 10 grep -qx 'held 100' "$OUT/held"
check "metrics: the daemon serves 16 of them and says so in its log" \
  lab_wait 10 grep -q "on 127.0.0.1:$METRICS_PORT: 16 connections are open, the most served at once" "$LAB_DIR/daemon.log"
check "metrics: a scrape beyond those waits (curl times out after 1 s, exit 28)" \
  bash -c "curl -s -m 1 http://127.0.0.1:$METRICS_PORT/metrics; [ \$? -eq 28 ]"
check "metrics: meanwhile the plugin API answers at once (Plugin.Activate within 2 s)" \
  bash -c "curl -s -m 2 --unix-socket '$SOCKET' -X POST http://plugin/Plugin.Activate | grep -q NetworkDriver"
lab_stop "$holder"
kept=(); for pid in "${LAB_PIDS[@]}"; do [ "$pid" = "$holder" ] || kept+=("$pid"); done; LAB_PIDS=("${kept[@]}")
check "metrics: answered again once that client closed its connections" \
  lab_wait 10 bash -c "curl -s -m 2 http://127.0.0.1:$METRICS_PORT/metrics | grep -qx 'netdhcp_endpoints 1'"
check "log lines name the container" grep -q "(container ${cid:0:12}): " "$LAB_DIR/daemon.log"
docker rm -f "$cid" >/dev/null
check "running container: removed, lease released" lab_wait 5 bash -c "! grep -q ' $addr ' '$LEASES'"

# The container's hostname reaches the server's lease (sent with an early renewal).
cid=$(docker run -d --label "$LABEL" --network ndlan --hostname web-7 "$BUSYBOX_IMAGE" sleep 60)
check "container hostname in the server's lease" lab_wait 10 grep -q " web-7 " "$LEASES"
docker rm -f "$cid" >/dev/null

# --mac-address: the server's reservation for that MAC.
run --network ndlan --mac-address 02:00:00:00:05:01 "$BUSYBOX_IMAGE" ip addr show eth0 > "$OUT/c2" 2>&1
check "--mac-address gets the address reserved for it" grep -q "inet 198.18.0.60/24" "$OUT/c2"
# Docker 25+ takes the MAC per network (--network name=N,mac-address=M); Docker 28 sends it both
# in Interface.MacAddress and base64 in the endpoint options.
if engine28; then
  run --network name=ndlan,mac-address=02:00:00:00:05:01 "$BUSYBOX_IMAGE" ip addr show eth0 > "$OUT/c2n" 2>&1
  check "--network name=ndlan,mac-address=...: the reservation for that MAC (Docker 28)" grep -q "inet 198.18.0.60/24" "$OUT/c2n"
else
  ok "--network name=ndlan,mac-address=... # SKIP needs Docker 25 or later (here $(engine_name))"
fi
# Docker 28 also sends the MAC as com.docker.network.endpoint.macaddress, base64 of the bytes
# (Go's []byte in JSON): with Interface.MacAddress empty, that one is used and not returned.
net_id=$(docker network inspect -f '{{.Id}}' ndlan)
eid=$(random_id)
code=$(plugin_call /NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$net_id\",\"EndpointID\":\"$eid\",
  \"Interface\":{\"Address\":\"\",\"AddressIPv6\":\"\",\"MacAddress\":\"\"},
  \"Options\":{\"com.docker.network.endpoint.macaddress\":\"AgAAAAUB\"}}")
cp "$OUT/api" "$OUT/mac-option"
check "endpoint MAC option (base64 AgAAAAUB = 02:00:00:00:05:01): the address reserved for that MAC, MAC not returned" \
  bash -c "[ '$code' = 200 ] && grep -q '\"Address\":\"198.18.0.60/24\"' '$OUT/mac-option' && ! grep -q MacAddress '$OUT/mac-option'"
plugin_call /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$net_id\",\"EndpointID\":\"$eid\"}" >/dev/null
code=$(plugin_call /NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$net_id\",\"EndpointID\":\"$(random_id)\",
  \"Interface\":{\"MacAddress\":\"02:00:00:00:05:02\"},\"Options\":{\"com.docker.network.endpoint.macaddress\":\"AgAAAAUB\"}}")
check "endpoint MAC option disagreeing with Interface.MacAddress: refused, naming both" \
  bash -c "[ '$code' = 400 ] && grep -qF '02:00:00:00:05:02 (Interface.MacAddress) and 02:00:00:00:05:01' '$OUT/api'"

# --- 20 containers in parallel --------------------------------------------------------------
starters=()
for i in $(seq 1 20); do
  docker run -d --label "$LABEL" --network ndlan "$BUSYBOX_IMAGE" sleep 120 > "$OUT/p$i" 2>&1 &
  starters+=($!)
done
wait "${starters[@]}"  # not a bare wait: the lab's servers and the daemon are children too
started=$(cat "$OUT"/p* | grep -cE '^[0-9a-f]{64}$')
for i in $(seq 1 20); do
  id=$(head -1 "$OUT/p$i")
  docker exec "$id" ip addr show eth0 2>/dev/null | ipv4_of
done > "$OUT/parallel"
check "20 containers started in parallel all run" [ "$started" -eq 20 ]
check "20 containers in parallel: 20 distinct leases" bash -c "[ \$(sort -u '$OUT/parallel' | grep -c '^198.18.0.') -eq 20 ]"
check "20 containers in parallel: all 20 in the server's database" bash -c "[ \$(grep -c ' 198.18.0.' '$LEASES') -ge 20 ]"
docker rm -f $(docker ps -aq --filter "label=$LABEL") >/dev/null 2>&1
check "20 containers removed: every lease released" lab_wait 10 bash -c "[ \$(grep -c ' 198.18.0.' '$LEASES') -eq 0 ]"

# Containers that exit at once, 10 at a time: Leave can come before the daemon has found the
# interface inside the container, and the RELEASE must still reach the server (it once went from
# the moved interface's old socket, failed with ENXIO and left the lease behind).
sent_errors_before=$(grep -c 'packet not sent' "$LAB_DIR/daemon.log")
mark=$(wc -l < "$LAB_DIR/dnsmasq/log")
for wave in 1 2 3; do
  quick=()
  for i in $(seq 1 10); do
    run --network ndlan "$BUSYBOX_IMAGE" true > "$OUT/q$wave-$i" 2>&1 &
    quick+=($!)
  done
  wait "${quick[@]}"
done
check "30 containers that exit at once, 10 at a time: each got a lease" \
  bash -c "[ \$(tail -n +$((mark + 1)) '$LAB_DIR/dnsmasq/log' | grep -c 'DHCPACK(lan0) 198.18.0.') -ge 30 ] && ! grep -q . '$OUT'/q[0-9]-*"
check "30 containers that exit at once: every lease released at the server" \
  lab_wait 10 bash -c "[ \$(grep -c ' 198.18.0.' '$LEASES') -eq 0 ]"
check "30 containers that exit at once: no RELEASE failed to go out" \
  bash -c "[ \$(grep -c 'packet not sent' '$LAB_DIR/daemon.log') -eq $sent_errors_before ]"

# --- a container on a net-dhcp network and Docker's bridge ----------------------------------
docker network create --label "$LABEL" --subnet 198.19.200.0/24 ndplain >/dev/null
cid=$(docker create --label "$LABEL" --network ndlan "$BUSYBOX_IMAGE" sh -c 'ip addr; ip route')
docker network connect ndplain "$cid"
docker start -a "$cid" > "$OUT/c3" 2>&1
check "net-dhcp and bridge networks together: both addresses" \
  bash -c "grep -q 'inet 198.18.0.1[0-9][0-9]/24' '$OUT/c3' && grep -q 'inet 198.19.200.' '$OUT/c3'"
docker rm -f "$cid" >/dev/null
docker network rm ndplain >/dev/null

# --- two networks on two bridges ------------------------------------------------------------
lab_second_lan
# Without its ACCEPT rule, Docker's FORWARD policy DROP eats bridged DHCP: refused, with the fix.
if [ "$(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null)" = 1 ] && [ "$(iptables -S FORWARD | head -1)" = "-P FORWARD DROP" ]; then
  iptables -D FORWARD -i "$LAB_BRIDGE2" -j ACCEPT
  check "network create: a firewall dropping bridged traffic is detected, with the fix" \
    create_fails "Fix: iptables -I FORWARD -i $LAB_BRIDGE2 -j ACCEPT" -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE2"
  # (removed on the daemon's helper thread right after the probe)
  check "firewall probe: leaves no ports on the bridge" lab_wait 2 bash -c "! ip -o link show master $LAB_BRIDGE2 | grep -q ' ndp[0-9a-f]\{6\}[ab]@'"
  iptables -I FORWARD -i "$LAB_BRIDGE2" -j ACCEPT
else
  ok "network create: firewall detection # SKIP FORWARD policy is not DROP or br_netfilter is off"
fi
docker network create --label "$LABEL" -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE2" ndlan2 >/dev/null
run --network ndlan2 "$BUSYBOX_IMAGE" ip addr show eth0 > "$OUT/c4" 2>&1
run --network ndlan "$BUSYBOX_IMAGE" ip addr show eth0 > "$OUT/c5" 2>&1
check "two networks on two bridges: each container leases from its own LAN" \
  bash -c "grep -q 'inet 198.18.1.1[0-9][0-9]/24' '$OUT/c4' && grep -q 'inet 198.18.0.1[0-9][0-9]/24' '$OUT/c5'"
docker network rm ndlan2 >/dev/null
# That LAN has no DHCPv6 server: an IPv6 network there fails the container, never a half-IPv6
# one (Docker 26.0.2+ would disable IPv6 on an interface without an IPv6 address).
if command -v ip6tables >/dev/null; then
  ip6tables -I FORWARD -i "$LAB_BRIDGE2" -j ACCEPT && LAB_IPT_RULES+=("ip6tables -D FORWARD -i $LAB_BRIDGE2 -j ACCEPT")
fi
docker network create --label "$LABEL" -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE2" -o ipv6=true \
  -o lease_timeout=2s ndnov6 >/dev/null
links_before=$(ip -o link show master "$LAB_BRIDGE" | grep -c ' dh-')
run --network ndnov6 "$BUSYBOX_IMAGE" true > "$OUT/nov6" 2>&1
status=$?
check "ipv6 without a DHCPv6 server: docker run fails, saying what was sent and the likely causes" \
  fails_saying "$OUT/nov6" "$status" "no DHCPv6 lease on bridge $LAB_BRIDGE2 within 2 s (" \
    "SOLICITs sent, 0 ADVERTISEs, 0 REPLYs received)" "Is a DHCPv6 server on that LAN?" \
    "create the network without --ipv6 and -o ipv6=true"
check "ipv6 without a DHCPv6 server: the DHCPv4 lease was not the problem" bash -c "! grep -q 'no DHCPv4 lease' '$OUT/nov6'"
check "ipv6 without a DHCPv6 server: no interfaces left behind" lab_wait 5 bash -c "[ \$(ip -o link show master $LAB_BRIDGE | grep -c ' dh-') -eq $links_before ]"
docker network rm ndnov6 >/dev/null

# --- IPv6 -----------------------------------------------------------------------------------
docker network rm ndlan >/dev/null
docker network create --label "$LABEL" -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE" -o ipv6=true ndlan6 >/dev/null
cid=$(docker run -d --label "$LABEL" --network ndlan6 "$BUSYBOX_IMAGE" sleep 60)
check "ipv6: DHCPv6 address with the on-link prefix length" \
  lab_wait 10 bash -c "docker exec $cid ip -6 addr show eth0 | grep -q 'inet6 fd00:18::[0-9a-f]*/64 scope global'"
check "ipv6: default route from the router's advertisements" \
  lab_wait 10 bash -c "docker exec $cid ip -6 route | grep -q 'default via fe80::'"
addr6=$(docker exec "$cid" ip -6 addr show eth0 | awk '/inet6 fd00:18::/ {split($2, a, "/"); print a[1]}')
check "ipv6: the address is the server's lease" grep -q " $addr6 " "$LEASES"
check "ipv6: IPv4 too" bash -c "docker exec $cid ip addr show eth0 | grep -q 'inet 198.18.0.1'"
docker rm -f "$cid" >/dev/null
check "ipv6: released at the server on removal" lab_wait 5 bash -c "! grep -q ' $addr6 ' '$LEASES'"
# A container that lives for a moment (its IPv6 link-local address is still in DAD when it
# goes): both leases are still released.
mark=$(wc -l < "$LAB_DIR/dnsmasq/log")
run --network ndlan6 "$BUSYBOX_IMAGE" ip -6 addr show eth0 > "$OUT/quick6" 2>&1
quick6=$(awk '/inet6 fd00:18::/ {split($2, a, "/"); print a[1]}' "$OUT/quick6")
# Only the server's log lines since this container started count (an earlier container's
# release must not pass this). dnsmasq logs a DHCPv6 RELEASE with the client's DUID (ours are
# DUID-UUID, type 4), a DHCPv4 one with the address.
check "ipv6: a short-lived container's DHCPv6 lease is released too" \
  lab_wait 5 bash -c "[ -n '$quick6' ] && tail -n +$((mark + 1)) '$LAB_DIR/dnsmasq/log' | grep -q 'DHCPRELEASE(lan0) 00:04:' &&
    ! grep -q ' $quick6 ' '$LEASES'"
docker network rm ndlan6 >/dev/null

# --- IPv6-only networks (Docker 28's --ipv4=false) ------------------------------------------
# The requests as Docker 28 sends them, on any engine: CreateNetwork with enable_ipv4 false and
# empty IPv4Data, CreateEndpoint, Join, EndpointOperInfo, DeleteEndpoint.
v6net=$(random_id)
eid=$(random_id)
code=$(plugin_call /NetworkDriver.CreateNetwork "{\"NetworkID\":\"$v6net\",\"IPv4Data\":[],
  \"IPv6Data\":[{\"AddressSpace\":\"null\",\"Pool\":\"::/0\"}],
  \"Options\":{\"com.docker.network.enable_ipv4\":false,\"com.docker.network.enable_ipv6\":true,
    \"com.docker.network.generic\":{\"bridge\":\"$LAB_BRIDGE\",\"lease_timeout\":\"5s\"}}}")
check "ipv6-only (API): CreateNetwork accepted" [ "$code" = 200 ]
mark=$(wc -l < "$LAB_DIR/dnsmasq/log")
code=$(plugin_call /NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$v6net\",\"EndpointID\":\"$eid\",\"Interface\":{},\"Options\":{}}")
cp "$OUT/api" "$OUT/v6only-create"
v6mac=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Interface"].get("MacAddress",""))' "$OUT/v6only-create" 2>/dev/null)
check "ipv6-only (API): CreateEndpoint returns AddressIPv6 and MacAddress, no Address" python3 - "$OUT/v6only-create" "$code" <<'PY'
import json, sys
assert sys.argv[2] == "200", sys.argv[2]
i = json.load(open(sys.argv[1]))["Interface"]
assert "Address" not in i and i["AddressIPv6"].startswith("fd00:18::") and i["MacAddress"], i
PY
check "ipv6-only (API): the DHCPv6 address is the server's lease" \
  grep -q " $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Interface"]["AddressIPv6"].split("/")[0])' "$OUT/v6only-create") " "$LEASES"
code=$(plugin_call /NetworkDriver.Join "{\"NetworkID\":\"$v6net\",\"EndpointID\":\"$eid\",\"SandboxKey\":\"\",\"Options\":{}}")
check "ipv6-only (API): Join answers without an IPv4 gateway or routes" \
  bash -c "[ '$code' = 200 ] && grep -q '\"SrcName\":\"dc-' '$OUT/api' && ! grep -q 'Gateway\"' '$OUT/api' && ! grep -q StaticRoutes '$OUT/api'"
plugin_call /NetworkDriver.EndpointOperInfo "{\"NetworkID\":\"$v6net\",\"EndpointID\":\"$eid\"}" >/dev/null
check "ipv6-only (API): EndpointOperInfo has the DHCPv6 lease and no IPv4 part" \
  bash -c "python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[\"Value\"]; assert \"ipv4\" not in v and v[\"ipv6\"][\"state\"]==\"bound\", v' '$OUT/api'"
"$BIN" status --socket "$SOCKET" > "$OUT/status-v6only.txt"
check "ipv6-only (API): status shows the network as IPv6 and the lease" \
  bash -c "grep -qE '^network ${v6net:0:12}  bridge $LAB_BRIDGE  IPv6  1 endpoint' '$OUT/status-v6only.txt' && grep -q 'fd00:18::' '$OUT/status-v6only.txt'"
plugin_call /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$v6net\",\"EndpointID\":\"$eid\"}" >/dev/null
check "ipv6-only (API): the DHCPv6 lease is released" \
  lab_wait 5 bash -c "tail -n +$((mark + 1)) '$LAB_DIR/dnsmasq/log' | grep -q 'DHCPRELEASE(lan0) 00:04:'"
check "ipv6-only (API): not one DHCPv4 packet from that endpoint's MAC" \
  bash -c "[ -n '$v6mac' ] && ! tail -n +$((mark + 1)) '$LAB_DIR/dnsmasq/log' | grep -qiE 'DHCP(DISCOVER|REQUEST|RELEASE)\(lan0\) ([0-9.]+ )?$v6mac'"
plugin_call /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$v6net\"}" >/dev/null

if engine28; then
  check "ipv6-only: docker network create --ipv4=false --ipv6 --ipam-driver null" quiet docker network create --label "$LABEL" \
    -d "$DRIVER" --ipv4=false --ipv6 --ipam-driver null -o bridge="$LAB_BRIDGE" ndv6only
  mark=$(wc -l < "$LAB_DIR/dnsmasq/log")
  cid=$(docker run -d --label "$LABEL" --network ndv6only "$BUSYBOX_IMAGE" sleep 120)
  check "ipv6-only: the container has its DHCPv6 address" \
    lab_wait 10 bash -c "docker exec $cid ip -6 addr show eth0 | grep -q 'inet6 fd00:18::[0-9a-f]*/[0-9]* scope global'"
  check "ipv6-only: no IPv4 address and no IPv4 default route" \
    bash -c "! docker exec $cid ip -4 addr show eth0 | grep -q inet && ! docker exec $cid ip -4 route | grep -q default"
  check "ipv6-only: an IPv6 default route from the router's advertisements" \
    lab_wait 10 bash -c "docker exec $cid ip -6 route | grep -q 'default via fe80::'"
  addr6=$(docker exec "$cid" ip -6 addr show eth0 | awk '/inet6 fd00:18::/ {split($2, a, "/"); print a[1]}')
  check "ipv6-only: docker inspect has the address" \
    bash -c "[ \"\$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.GlobalIPv6Address}}{{end}}' $cid)\" = '$addr6' ]"
  mac=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.MacAddress}}{{end}}' "$cid")
  # A restart re-adopts it with no DHCPv4 lease to resume.
  kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
  rm -f "$SOCKET"
  start_daemon
  check "ipv6-only: re-adopted after kill -9, DHCPv6 still bound, no IPv4 part" \
    lab_wait 10 bash -c "'$BIN' status --socket '$SOCKET' --json | python3 -c '
import json, sys
eps = [e for n in json.load(sys.stdin)[\"networks\"] for e in n[\"endpoints\"] if e[\"container_id\"] == \"$cid\"]
assert len(eps) == 1 and eps[0][\"phase\"] == \"joined\" and \"ipv4\" not in eps[0], eps
assert eps[0][\"ipv6\"][\"state\"] in (\"bound\", \"renewing\"), eps'"
  docker rm -f "$cid" >/dev/null
  check "ipv6-only: released at the server on removal" lab_wait 5 bash -c "[ -n '$addr6' ] && ! grep -q ' $addr6 ' '$LEASES'"
  check "ipv6-only: not one DHCPv4 packet from the container's MAC" \
    bash -c "[ -n '$mac' ] && ! tail -n +$((mark + 1)) '$LAB_DIR/dnsmasq/log' | grep -qiE 'DHCP(DISCOVER|REQUEST|RELEASE)\(lan0\) ([0-9.]+ )?$mac'"
  docker network rm ndv6only >/dev/null
  # Docker's --ipv6 is -o ipv6=true.
  check "--ipv6 --ipam-driver null: accepted" quiet docker network create --label "$LABEL" -d "$DRIVER" --ipv6 \
    --ipam-driver null -o bridge="$LAB_BRIDGE" ndipv6flag
  run --network ndipv6flag "$BUSYBOX_IMAGE" ip addr show eth0 > "$OUT/ipv6flag" 2>&1
  check "--ipv6: the container has both leases, like -o ipv6=true" \
    bash -c "grep -q 'inet 198.18.0.1[0-9][0-9]/24' '$OUT/ipv6flag' && grep -q 'inet6 fd00:18::' '$OUT/ipv6flag'"
  docker network rm ndipv6flag >/dev/null
else
  ok "ipv6-only: docker network create --ipv4=false --ipv6, docker run, re-adoption # SKIP needs Docker 28"
  ok "--ipv6 --ipam-driver null works like -o ipv6=true # SKIP needs Docker 28"
fi

# --- IPv6 behind the host firewall ----------------------------------------------------------
# Docker 28 sets ip6tables' FORWARD policy to DROP once a Docker IPv6 network exists; with
# br_netfilter every bridged DHCPv6 frame is then dropped. Docker 20.10 never touches ip6tables:
# there the test sets the policy itself. Whatever it changes is put back in the cleanup too.
ip6_forward_policy() { ip6tables -S FORWARD 2>/dev/null | awk '$1 == "-P" {print $3; exit}'; }
# Makes the IPv6 FORWARD policy DROP: by creating a Docker IPv6 network on Docker 28 (as a
# user would), and by hand where that does not (Docker 20.10, or forwarding was already on).
ip6_drop_like_docker() {  # docker-network-name
  if engine28; then
    docker network create --label "$LABEL" --ipv6 --subnet fd00:77::/64 --subnet 198.18.77.0/24 "$1" >/dev/null
  fi
  if [ "$(ip6_forward_policy)" != DROP ]; then
    engine28 && echo "# Docker did not set the ip6tables FORWARD policy to DROP here; setting it by hand"
    ip6tables -P FORWARD DROP
  fi
}
if [ "$(cat /proc/sys/net/bridge/bridge-nf-call-ip6tables 2>/dev/null)" = 1 ] && command -v ip6tables >/dev/null &&
   ip6tables -C FORWARD -i "$LAB_BRIDGE" -j ACCEPT 2>/dev/null; then
  old_policy=$(ip6_forward_policy)
  LAB_IPT_RULES=("ip6tables -P FORWARD ${old_policy:-ACCEPT}" "${LAB_IPT_RULES[@]}")
  # (a) A Docker IPv6 network first, then the net-dhcp one: refused, naming the rule.
  ip6_drop_like_docker nddocker6a
  ip6tables -D FORWARD -i "$LAB_BRIDGE" -j ACCEPT
  check "ipv6 firewall, Docker's IPv6 network first: network create refused, naming the ip6tables rule" \
    create_fails "Fix: ip6tables -I FORWARD -i $LAB_BRIDGE -j ACCEPT" -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE" -o ipv6=true
  check "ipv6 firewall: refused for IPv6 only, the IPv4 probe still passed (no iptables rule named)" \
    bash -c "out=\$(docker network create -d '$DRIVER' --ipam-driver null -o bridge='$LAB_BRIDGE' -o ipv6=true ndbad 2>&1) && exit 1
      echo \"\$out\" | grep -q 'Fix: ip6tables -I FORWARD -i $LAB_BRIDGE -j ACCEPT' &&
      ! echo \"\$out\" | grep -q 'iptables -I FORWARD -i $LAB_BRIDGE -j ACCEPT'"
  docker network rm ndbad >/dev/null 2>&1
  check "ipv6 firewall probe: leaves no ports on the bridge" lab_wait 2 bash -c "! ip -o link show master $LAB_BRIDGE | grep -q ' ndp[0-9a-f]\{6\}[ab]@'"
  ip6tables -I FORWARD -i "$LAB_BRIDGE" -j ACCEPT
  engine28 && docker network rm nddocker6a >/dev/null
  # (b) The net-dhcp network first (the firewall lets DHCPv6 through), then the policy turns to
  # DROP: docker run fails, and the error names the rule instead of blaming the LAN.
  ip6tables -P FORWARD "${old_policy:-ACCEPT}"
  docker network create --label "$LABEL" -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE" -o ipv6=true \
    -o lease_timeout=2s ndfw6 >/dev/null
  ip6tables -D FORWARD -i "$LAB_BRIDGE" -j ACCEPT
  ip6_drop_like_docker nddocker6b
  run --network ndfw6 "$BUSYBOX_IMAGE" true > "$OUT/fw6" 2>&1
  status=$?
  check "ipv6 firewall, policy DROP after network create: docker run fails, the re-probe names the ip6tables rule" \
    fails_saying "$OUT/fw6" "$status" "no DHCPv6 lease on bridge $LAB_BRIDGE within 2 s (" "0 ADVERTISEs" \
      "the host firewall drops IPv6 traffic bridged through $LAB_BRIDGE" "Fix: ip6tables -I FORWARD -i $LAB_BRIDGE -j ACCEPT"
  check "ipv6 firewall: that error does not send the user to drop IPv6" bash -c "! grep -q 'without --ipv6' '$OUT/fw6'"
  ip6tables -I FORWARD -i "$LAB_BRIDGE" -j ACCEPT
  ip6tables -P FORWARD "${old_policy:-ACCEPT}"
  run --network ndfw6 "$BUSYBOX_IMAGE" ip -6 addr show eth0 > "$OUT/fw6-fixed" 2>&1
  check "ipv6 firewall: with the rule back, the same network works" grep -q 'inet6 fd00:18::' "$OUT/fw6-fixed"
  engine28 && docker network rm nddocker6b >/dev/null
  docker network rm ndfw6 >/dev/null
else
  ok "ipv6 firewall detection # SKIP br_netfilter does not pass IPv6 to ip6tables, or no ip6tables ACCEPT rule for the lab bridge"
fi

# --- Kea with short leases: renewals, an address change, release ----------------------------
lab_stop "$LAB_DNSMASQ_PID"
lab_kea4 4 1 2
KEA4=$LAB_DIR/kea4/leases.csv
docker network create --label "$LABEL" -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE" ndkea >/dev/null
cid=$(docker run -d --label "$LABEL" --network ndkea "$BUSYBOX_IMAGE" sleep 120)
lab_wait 10 bash -c "docker exec $cid ip addr show eth0 | grep -q 'inet 198.18.0.'"
addr=$(docker exec "$cid" ip addr show eth0 | ipv4_of)
check "kea: lease renewed while the container runs (4 s lease)" \
  lab_wait 10 bash -c "[ \$(grep -c '^$addr,.*,4,' '$KEA4') -ge 5 ]"
# RFC 2131 RENEWING is unicast from the leased address: frames to the server's MAC, learnt from
# its replies (no ARP broadcast from the container per renewal), with port 68 held on the
# address in the container (a socket made inside its namespace): its kernel answers none of
# Kea's unicast ACKs with ICMP port unreachable.
check "kea: renewals go as frames to the server's MAC (unicast_path frame)" \
  bash -c "'$BIN' status --socket '$SOCKET' --json | python3 -c 'import json,sys; s=json.load(sys.stdin); \
eps=[e for n in s[\"networks\"] for e in n[\"endpoints\"] if e[\"container_id\"]==\"$cid\"]; \
sys.exit(0 if eps and eps[0][\"ipv4\"].get(\"unicast_path\")==\"frame\" else 1)'"
noports=$(docker exec "$cid" cat /proc/net/snmp | awk '/^Udp:/ && ++n == 2 {print $3}')
check "kea: no ICMP port unreachable from the container for the ACKs (Udp NoPorts ${noports:-?})" test "${noports:-1}" -eq 0
# The server forgets everything and gives our address to someone else: NAK, new address.
# The container's frames are held back at the bridge until the thief has the address: else a
# renewal retransmitted meanwhile (every 250 ms on a 4 s lease) can reach the fresh Kea first,
# which then hands the address back to the container and refuses the thief (seen in CI).
mac=$(docker exec "$cid" cat /sys/class/net/eth0/address)
HOLD_RULE=(FORWARD -m mac --mac-source "$mac" -j DROP)
iptables -I "${HOLD_RULE[@]}"
lab_stop "$LAB_KEA4_PID"
rm -f "$KEA4"
lab_kea4 4 1 2
lab_client thief 02:00:00:00:06:01
ip netns exec "$LAB_NS" "$BIN" lease -i lan0 --request "$addr" > "$OUT/thief" 2>&1
iptables -D "${HOLD_RULE[@]}"
HOLD_RULE=()
check "kea: another client got the forgotten address" grep -q "^$addr/24" "$OUT/thief"
check "kea: the container's address changed to the new lease" \
  lab_wait 15 bash -c "a=\$(docker exec $cid ip addr show eth0 | awk '/inet / {print \$2}'); [ -n \"\$a\" ] && [ \"\$a\" != '$addr/24' ] && grep -q \"^\${a%/24},\" '$KEA4'"
check "kea: the container keeps its default route after the change" \
  bash -c "docker exec $cid ip route | grep -q 'default via 198.18.0.1'"
new=$(docker exec "$cid" ip addr show eth0 | ipv4_of)
docker rm -f "$cid" >/dev/null
check "kea: release after stop recorded (valid lifetime 0)" lab_wait 5 grep -q "^$new,[^,]*,[^,]*,0," "$KEA4"
docker network rm ndkea >/dev/null

# --- a hostile container: its /etc/hostname a FIFO, a 1 GB file ----------------------------
# The daemon reads /etc/hostname of the processes in a container's network namespace (through
# /proc/PID/root) after each Join and each re-adoption. Two containers with CAP_SYS_ADMIN
# unmount Docker's file and put there a FIFO that nobody writes and a sparse 1 GB file without
# a newline. The daemon's first read, right after the Join, usually comes before they have
# done so; the reads that count come later: a Join of each into a second network (LAN 2),
# then a restart of the daemon (re-adoption). The daemon must not block on the FIFO or read
# the 1 GB: it answers within 1 s throughout (probed every 0.2 s), its peak RSS does not grow,
# every lease is kept and renewed (Kea's 4 s leases, T1 1 s: a line in its lease file each),
# and a container started afterwards gets its lease, renews and has its hostname learnt.
hostile_start=$(date +%s)
docker network create --label "$LABEL" -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE" ndhostile >/dev/null
docker network create --label "$LABEL" -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE2" ndhostile2 >/dev/null
# Every docker command here has a deadline: with a daemon that hangs, dockerd waits for it
# without one (a socket plugin's calls have no timeout) and holds the container meanwhile.
tdocker() { timeout -k 5 20 "$DOCKER" "$@"; }
hostile_run() {  # command that makes /etc/hostname
  tdocker run -d --label "$LABEL" --cap-add SYS_ADMIN --network ndhostile "$BUSYBOX_IMAGE" \
    sh -c "umount /etc/hostname && rm -f /etc/hostname && $1 /etc/hostname && touch /tmp/hostile && exec sleep 300"
}
hfifo=$(hostile_run mkfifo)
hhuge=$(hostile_run 'truncate -s 1G')
require "hostile: /etc/hostname is a FIFO in one container, a 1 GB file in the other" lab_wait 10 bash -c "
  timeout -k 2 5 '$DOCKER' exec $hfifo test -p /etc/hostname -a -e /tmp/hostile &&
  [ \"\$(timeout -k 2 5 '$DOCKER' exec $hhuge stat -c %s /etc/hostname)\" = 1073741824 ] && timeout -k 2 5 '$DOCKER' exec $hhuge test -e /tmp/hostile"
hf4=$(tdocker exec "$hfifo" ip addr show eth0 | ipv4_of)
hh4=$(tdocker exec "$hhuge" ip addr show eth0 | ipv4_of)
hostile_macs=()
# daemon_answers: the daemon's API answers /Plugin.Activate, then /NetDhcp.Status (what `net-dhcp
# status` asks; curl, so that only the daemon's time counts), each within 1 s; says how fast.
daemon_answers() {
  local start mid code
  start=$(date +%s%N)
  code=$(curl -s -m 1 --unix-socket "$SOCKET" -o /dev/null -w '%{http_code}' -X POST http://plugin/Plugin.Activate -d '{}')
  mid=$(date +%s%N)
  [ "$code" = 200 ] || { echo "Plugin.Activate: HTTP ${code:-none} after $(( (mid - start) / 1000000 )) ms"; return 1; }
  code=$(curl -s -m 1 --unix-socket "$SOCKET" -o /dev/null -w '%{http_code}' -X POST http://plugin/NetDhcp.Status -d '{}')
  [ "$code" = 200 ] || { echo "NetDhcp.Status: HTTP ${code:-none} after $(( ($(date +%s%N) - mid) / 1000000 )) ms"; return 1; }
  echo "answered in $(( (mid - start) / 1000000 )) + $(( ($(date +%s%N) - mid) / 1000000 )) ms"
}
# probe_daemon SECONDS FILE: daemon_answers every 0.2 s for SECONDS, a line each in FILE.
probe_daemon() {
  local end=$(( $(date +%s%N) + $1 * 1000000000 ))
  while [ "$(date +%s%N)" -lt "$end" ]; do daemon_answers; sleep 0.2; done > "$2" 2>&1
}
probes_ok() {  # file: at least 10 probes, every one answered
  local n bad
  n=$(grep -c . "$1")
  bad=$(grep -vc '^answered' "$1")
  echo "#   $n probes, the slowest answered in $(awk '/^answered/ {t = $3 + $5; if (t > m) m = t} END {print m + 0}' "$1") ms"
  [ "$n" -ge 10 ] && [ "$bad" -eq 0 ] || { grep -v '^answered' "$1" | head -3 | sed 's/^/#   /'; return 1; }
}
# Renewals at Kea: its lease file gets a line per lease granted or renewed (valid lifetime 4,
# state 0; a new expiry time each second at T1 1 s), and others when a lease expires.
kea_renewals() { awk -F, -v a="$1" '$1 == a && $4 == 4 && $10 == 0 {print $5}' "$KEA4" 2>/dev/null | sort -u | wc -l; }
renews() {  # address count-before: 3 more within 10 s
  lab_wait 10 bash -c "[ -n '$1' ] && [ \$(awk -F, -v a='$1' '\$1 == a && \$4 == 4 && \$10 == 0 {print \$5}' '$KEA4' | sort -u | wc -l) -ge $(( $2 + 3 )) ]"
}
peak_rss() { awk '/^VmHWM:/ {print $2}' "/proc/$DAEMON_PID/status" 2>/dev/null; }
# The hostile containers' endpoints, by MAC, in `net-dhcp status --json`: 4 (2 each), joined,
# their DHCPv4 leases held; EXPR must hold for each (as `e`, `lan2` true for LAN 2's).
hostile_endpoints() {  # python-expression
  timeout -k 1 5 "$BIN" status --socket "$SOCKET" --json 2>/dev/null | python3 -c '
import json, sys
macs, expr = sys.argv[1].split(), sys.argv[2]
try:
    eps = [e for n in json.load(sys.stdin)["networks"] for e in n["endpoints"] if e["mac"] in macs]
except ValueError:
    sys.exit("#   no answer from net-dhcp status")
if len(macs) != 4 or len(eps) != 4:
    sys.exit("#   %d MACs, %d endpoints found" % (len(macs), len(eps)))
for e in eps:
    lan2 = e["bridge"] == sys.argv[3]
    if e["phase"] != "joined" or e.get("ipv4", {}).get("state") not in ("bound", "renewing") or not eval(expr):
        sys.exit("#   %s on %s: %s, DHCPv4 %s, hostname %r" % (e["mac"], e["bridge"], e["phase"],
                 e.get("ipv4", {}).get("state"), e["hostname"][:8] + ("..." if len(e["hostname"]) > 8 else "")))' \
    "${hostile_macs[*]}" "$1" "$LAB_BRIDGE2"
}
hostile_fifo_lan2_mac() { tdocker inspect -f '{{(index .NetworkSettings.Networks "ndhostile2").MacAddress}}' "$1"; }

peak_before=$(peak_rss)
probe_daemon 7 "$OUT/hostile-probes" &
prober=$!
n_fifo=$(kea_renewals "$hf4")
n_huge=$(kea_renewals "$hh4")
check "hostile: the 1 GB-hostname container joins a second network (the daemon reads its /etc/hostname)" \
  quiet tdocker network connect ndhostile2 "$hhuge"
check "hostile: the FIFO-hostname container joins a second network" quiet tdocker network connect ndhostile2 "$hfifo"
hostile_macs=($(tdocker inspect -f '{{range .NetworkSettings.Networks}}{{.MacAddress}} {{end}}' "$hfifo" "$hhuge"))
good=$(tdocker run -d --label "$LABEL" --network ndhostile --hostname good-1 "$BUSYBOX_IMAGE" sleep 300)
check "hostile: a container started afterwards gets a lease" \
  lab_wait 10 bash -c "timeout -k 2 5 '$DOCKER' exec $good ip addr show eth0 | grep -q 'inet 198.18.0.'"
good4=$(tdocker exec "$good" ip addr show eth0 2>/dev/null | ipv4_of)
check "hostile: ... renews it (3 renewals at Kea)" renews "$good4" 1
check "hostile: ... and has its hostname learnt (status)" lab_wait 10 bash -c "timeout -k 1 5 '$BIN' status --socket '$SOCKET' --json | python3 -c '
import json, sys
eps = [e for n in json.load(sys.stdin)[\"networks\"] for e in n[\"endpoints\"] if e[\"container_id\"] == \"$good\"]
sys.exit(0 if len(eps) == 1 and eps[0][\"hostname\"] == \"good-1\" else 1)'"
check "hostile: the FIFO container keeps renewing its lease (3 more renewals at Kea)" renews "$hf4" "$n_fifo"
check "hostile: the 1 GB container keeps renewing its lease" renews "$hh4" "$n_huge"
wait "$prober"
check "hostile: the daemon answered within 1 s every 0.2 s while it read those files (Plugin.Activate, NetDhcp.Status)" \
  probes_ok "$OUT/hostile-probes"
peak_after=$(peak_rss)
echo "# daemon peak RSS (VmHWM): $peak_before kB before the Joins, $peak_after kB after"
check "hostile: the daemon's peak RSS grew by less than 16 MB (it did not read the 1 GB)" \
  [ $(( ${peak_after:-9999999} - ${peak_before:-0} )) -lt 16384 ]
check "hostile: the hostile containers' 4 endpoints joined and bound; none took a hostname from the FIFO" \
  hostile_endpoints "not (lan2 and e['mac'] == '$(hostile_fifo_lan2_mac "$hfifo")') or e['hostname'] == ''"
check "hostile: no hostname taken from the 1 GB file either" \
  hostile_endpoints "not lan2 or e['hostname'] == ''"
check "hostile: the daemon warns that the FIFO /etc/hostname is not a regular file, naming it" \
  grep -aqE "/etc/hostname.*not a regular file" "$LAB_DIR/daemon.log"
check "hostile: the daemon warns that the 1 GB /etc/hostname is too large, naming it" \
  grep -aqE "/etc/hostname.* has 1073741824 bytes, more than a hostname file's 256" "$LAB_DIR/daemon.log"

# A restart: re-adoption reads both files again, for all four endpoints.
if [ -n "$hf4" ] && daemon_answers > /dev/null; then
  kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
  rm -f "$SOCKET"
  n_fifo=$(kea_renewals "$hf4")
  n_good=$(kea_renewals "$good4")
  start_daemon
  probe_daemon 6 "$OUT/hostile-probes-readopt" &
  prober=$!
  check "hostile: after a restart, re-adopted all 4 hostile endpoints, bound" lab_wait 10 hostile_endpoints True
  check "hostile: ... the FIFO container renews" renews "$hf4" "$n_fifo"
  check "hostile: ... and so does the container started after it" renews "$good4" "$n_good"
  wait "$prober"
  check "hostile: the daemon answered within 1 s every 0.2 s while it re-adopted them" probes_ok "$OUT/hostile-probes-readopt"
  echo "# daemon peak RSS (VmHWM) after the re-adoption: $(peak_rss) kB"
else
  not_ok "hostile: restart and re-adoption # not tried, the daemon does not answer"
fi
# A daemon that hangs (the protection broken) is killed, the two files made harmless (docker
# exec needs no network driver) and the daemon started again, so that the rest of the suite
# and the cleanup do not wait for it.
if ! daemon_answers > /dev/null; then
  echo "# the daemon does not answer: killed, the hostile files replaced, started again"
  kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
  rm -f "$SOCKET"
  for c in "$hfifo" "$hhuge"; do tdocker exec "$c" sh -c 'rm -f /etc/hostname; echo hostile > /etc/hostname'; done
  start_daemon
fi
timeout -k 5 60 "$DOCKER" rm -f "$hfifo" "$hhuge" ${good:+"$good"} >/dev/null 2>&1
check "hostile: the containers removed, their leases released at Kea (valid lifetime 0)" \
  lab_wait 5 bash -c "grep -q '^$hf4,[^,]*,[^,]*,0,' '$KEA4' && grep -q '^$hh4,[^,]*,[^,]*,0,' '$KEA4' && grep -q '^$good4,[^,]*,[^,]*,0,' '$KEA4'"
timeout -k 5 60 "$DOCKER" network rm ndhostile ndhostile2 >/dev/null
echo "# the hostile-container checks took $(( $(date +%s) - hostile_start )) s"

# --- no DHCP server: docker run fails in time, nothing left behind --------------------------
lab_stop "$LAB_KEA4_PID"
docker network create --label "$LABEL" -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE" -o lease_timeout=2s ndnone >/dev/null
links_before=$(ip -o link show master "$LAB_BRIDGE" | grep -c ' dh-')
start=$(date +%s)
run --network ndnone "$BUSYBOX_IMAGE" true > "$OUT/none" 2>&1
status=$?
check "no server: docker run fails, saying what was sent on which bridge" \
  bash -c "[ $status -ne 0 ] && grep -q 'no DHCPv4 lease on bridge $LAB_BRIDGE within 2 s' '$OUT/none'"
check "no server: fails within the lease timeout (plus Docker's own time)" [ $(( $(date +%s) - start )) -le 8 ]
check "no server: no interfaces left behind" lab_wait 5 bash -c "[ \$(ip -o link show master $LAB_BRIDGE | grep -c ' dh-') -eq $links_before ]"
docker network rm ndnone >/dev/null

# --- the daemon survives bad requests -------------------------------------------------------
api() { curl -s --unix-socket "$SOCKET" -o "$OUT/api" -w '%{http_code}' -X POST "http://plugin$1" -d "$2"; }
if command -v curl >/dev/null; then
  check "api: malformed JSON is a 400 with Err" bash -c "[ \$(api() { curl -s --unix-socket '$SOCKET' -o '$OUT/api' -w '%{http_code}' -X POST \"http://plugin\$1\" -d \"\$2\"; }; api /NetworkDriver.CreateNetwork '{not json') = 400 ] && grep -q '\"Err\":\"malformed request body' '$OUT/api'"
  check "api: unknown path is a 404" bash -c "[ \$(curl -s --unix-socket '$SOCKET' -o /dev/null -w '%{http_code}' -X POST http://plugin/NetworkDriver.Nope -d '{}') = 404 ]"
  check "api: Leave and DeleteEndpoint of unknown endpoints are harmless" bash -c "[ \$(curl -s --unix-socket '$SOCKET' -o /dev/null -w '%{http_code}' -X POST http://plugin/NetworkDriver.DeleteEndpoint -d '{\"NetworkID\":\"x\",\"EndpointID\":\"y\"}') = 200 ]"
fi
check "the daemon is still running" kill -0 "$DAEMON_PID"
# Stop it the normal way (SIGTERM) so that a sanitizer build reports leaks at exit too.
kill "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
check "the daemon's log has no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error:' '$LAB_DIR/daemon.log'"
grep -a -E -A30 'Sanitizer|runtime error:' "$LAB_DIR/daemon.log" | head -60 | sed 's/^/#   /'

e2e_down
trap - EXIT
echo "e2e: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
