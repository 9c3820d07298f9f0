#!/usr/bin/env bash
# End to end, issue 5: nothing is lost when the daemon, dockerd or the DHCP server misbehave.
# Real dockerd, `net-dhcp serve`, Kea (v4 and v6, short leases) in a lab namespace. Starts
# dockerd if none answers (and only then restarts it for the restart=always checks). Cleans up
# containers, networks, namespaces, bridges and iptables rules, also when a check fails.
# Prints "lifecycle: N passed, M failed".
# Usage: test/e2e/lifecycle.sh [net-dhcp]    (CYCLES=200: create/delete cycles to measure;
#        RSS_CHECK=0 for a sanitizer build; DOCKERD_RESTARTS=0 skips the dockerd restarts)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(realpath "${1:-$top/build/src/net-dhcp}")
CYCLES=${CYCLES:-200}
. "$top/test/lib/e2e.sh"

DRIVER="ndlife-$LAB_ID"
SOCKET=/run/docker/plugins/$DRIVER.sock
DAEMON_PID=""
GONE_NS="nd-gone-$LAB_ID"
# A veth named as one of ours, on the lab bridge, that no record names: what a kill -9 during a
# DeleteEndpoint leaves (the record goes before the links).
ORPHAN=$(printf 'f%011x' $((RANDOM * 32768 + RANDOM)))

life_down() {
  e2e_remove_labelled
  [ -n "$DAEMON_PID" ] && lab_stop "$DAEMON_PID"
  ip netns del "$GONE_NS" 2>/dev/null
  ip link del "dh-$ORPHAN" 2>/dev/null
  e2e_finish
}

e2e_start life_down
STATE=$LAB_DIR/state

start_daemon() {
  # --follow-timeout 3s: Docker moves an interface within milliseconds; the "not followed" check
  # below need not wait Docker's 30 s.
  "$BIN" serve --socket "$SOCKET" --state-dir "$STATE" --follow-timeout 3s --log-level debug >> "$LAB_DIR/daemon.log" 2>&1 &
  DAEMON_PID=$!
  LAB_PIDS+=($!)
  disown "$DAEMON_PID"  # no "Killed" notes from bash after kill -9
  lab_wait 5 test -S "$SOCKET" || { echo "# the daemon did not start:"; tail -20 "$LAB_DIR/daemon.log" | sed 's/^/#   /'; exit 1; }
}
# kill -9 or -TERM, and wait for it to be gone.
stop_daemon() {  # signal
  kill "-$1" "$DAEMON_PID"
  local deadline=$(( $(date +%s) + 10 ))
  while kill -0 "$DAEMON_PID" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.05; done
  DAEMON_PID=""
}
log_mark() { wc -l < "$LAB_DIR/daemon.log"; }
log_since() { tail -n +"$(( $1 + 1 ))" "$LAB_DIR/daemon.log"; }
api() {  # path json -> body on stdout
  curl -s --unix-socket "$SOCKET" -X POST "http://plugin$1" -d "$2"
}
endpoint_of() {  # container network
  docker inspect -f "{{(index .NetworkSettings.Networks \"$2\").EndpointID}}" "$1"
}
network_id() { docker network inspect -f '{{.Id}}' "$1"; }
oper() {  # container network ipv4-field: from EndpointOperInfo's "ipv4" object
  api /NetworkDriver.EndpointOperInfo "{\"NetworkID\":\"$(network_id "$2")\",\"EndpointID\":\"$(endpoint_of "$1" "$2")\"}" |
    python3 -c "import json,sys; print(json.load(sys.stdin)['Value'].get('ipv4', {}).get('$3', ''))"
}
state_is() { [ "$(oper "$1" "$2" state)" = "$3" ]; }  # container network state
addrs_of() { docker exec "$1" ip -o addr show eth0 | awk '$3 == "inet" || ($3 == "inet6" && $4 !~ /^fe80/) {print $4}' | sort | tr '\n' ' '; }
# Lines in a Kea memfile for an address: one per lease written (acquire, each renewal, release).
kea_count() { grep -c "^$2," "$1" 2>/dev/null || echo 0; }
# True when the last time Kea wrote ADDRESS's lease (expire - valid_lifetime) is SECONDS ago.
kea_idle() {  # file address seconds
  awk -F, -v a="$2" -v s="$3" -v now="$(date +%s)" '$1 == a {last = $5 - $4} END {exit !(last && now - last >= s)}' "$1"
}

start_daemon
echo "# engine: $(engine_name), driver $DRIVER, bridge $LAB_BRIDGE"

# Kea with 6 s leases (T1 2 s, T2 4 s), both families.
lab_kea4 6 2 4
lab_kea6 6 2 4
KEA4=$LAB_DIR/kea4/leases.csv
KEA6=$LAB_DIR/kea6/leases.csv
docker network create --label "$LABEL" -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE" -o ipv6=true ndlife >/dev/null

# --- kill -9 with running containers: re-adopted, renewing, no address change ----------------
ids=()
for i in 1 2 3 4; do ids+=("$(docker run -d --label "$LABEL" --network ndlife "$BUSYBOX_IMAGE" sleep 600)"); done
for id in "${ids[@]}"; do
  lab_wait 10 bash -c "docker exec $id ip -o addr show eth0 | grep -q 'inet6 fd00:18::'" || echo "# $id: no IPv6 address"
  addrs_of "$id" > "$OUT/before-${id:0:12}"
done
check "kill -9: 4 containers with v4 and v6 leases" \
  bash -c "for f in $OUT/before-*; do grep -q '198.18.0.' \$f && grep -q 'fd00:18::' \$f || exit 1; done"
check "kill -9: one state record per endpoint" bash -c "[ \$(ls '$STATE/endpoints' | grep -c '\.json\$') -eq 4 ]"
# docker run --network container:A: the sharer's processes are in A's namespace, newer than A's.
sharer=$(docker run -d --label "$LABEL" --network "container:${ids[0]}" "$BUSYBOX_IMAGE" sleep 600)
stop_daemon 9
# Down past T1 (2 s): the restarted daemon must pick up renewals that are already due.
for id in "${ids[@]}"; do
  a=$(awk '{print $1}' "$OUT/before-${id:0:12}")
  require "${a%/24} idle at Kea before the kill" lab_wait 10 kea_idle "$KEA4" "${a%/24}" 3
done
counts_at_kill=()
for id in "${ids[@]}"; do a=$(awk '{print $1}' "$OUT/before-${id:0:12}"); counts_at_kill+=("$(kea_count "$KEA4" "${a%/24}")"); done
mark=$(log_mark)
start_daemon
check "kill -9: the restarted daemon re-adopts all 4 endpoints, renewals due (RENEWING or REBINDING)" \
  lab_wait 10 bash -c "[ \$(tail -n +$((mark + 1)) '$LAB_DIR/daemon.log' | grep -cE 're-adopted in .*DHCPv4 (renewing|rebinding)') -eq 4 ]"
renewing=0
for n in "${!ids[@]}"; do
  id=${ids[$n]}
  a=$(awk '{print $1}' "$OUT/before-${id:0:12}")
  lab_wait 15 bash -c "[ \$(grep -c '^${a%/24},' '$KEA4') -ge $(( counts_at_kill[n] + 3 )) ]" && renewing=$((renewing + 1))
done
check "kill -9: every IPv4 lease keeps renewing at the server (3+ renewals after the restart)" [ "$renewing" -eq 4 ]
# Re-adopted, each endpoint looked for its container in /proc again (seconds ago, at once).
check "kill -9: a container sharing one's namespace (--network container:) is not taken for it" \
  bash -c "'$BIN' status --socket '$SOCKET' --json | python3 -c 'import json,sys
ids=[e[\"container_id\"] for n in json.load(sys.stdin)[\"networks\"] for e in n[\"endpoints\"]]
sys.exit(0 if \"${ids[0]}\" in ids and \"$sharer\" not in ids else 1)'"
v6renewing=0
for id in "${ids[@]}"; do
  a6=$(grep -o 'fd00:18::[0-9a-f]*' "$OUT/before-${id:0:12}")
  c=$(kea_count "$KEA6" "$a6")
  lab_wait 15 bash -c "[ \$(grep -c '^$a6,' '$KEA6') -ge $(( c + 2 )) ]" && v6renewing=$((v6renewing + 1))
done
check "kill -9: every IPv6 lease keeps renewing at the server" [ "$v6renewing" -eq 4 ]
same=0
for id in "${ids[@]}"; do [ "$(addrs_of "$id")" = "$(cat "$OUT/before-${id:0:12}")" ] && same=$((same + 1)); done
check "kill -9: no container's addresses changed" [ "$same" -eq 4 ]
check "kill -9: nothing released while the daemon was away (no valid lifetime 0 in Kea's file)" \
  bash -c "! grep -q '^198.18.0.[0-9]*,[^,]*,[^,]*,0,' '$KEA4'"

# --- SIGTERM: state kept, leases left alone, re-adopted --------------------------------------
stop_daemon TERM
check "SIGTERM: no lease released" bash -c "! grep -q '^198.18.0.[0-9]*,[^,]*,[^,]*,0,' '$KEA4'"
mark=$(log_mark)
start_daemon
check "SIGTERM: the next start re-adopts all 4" \
  lab_wait 10 bash -c "[ \$(tail -n +$((mark + 1)) '$LAB_DIR/daemon.log' | grep -c 're-adopted in ') -eq 4 ]"
id=${ids[0]}
a=$(awk '{print $1}' "$OUT/before-${id:0:12}")
c=$(kea_count "$KEA4" "${a%/24}")
check "SIGTERM: renewals go on after the restart" lab_wait 10 bash -c "[ \$(grep -c '^${a%/24},' '$KEA4') -ge $((c + 2)) ]"
docker rm -f "$sharer" "${ids[@]}" >/dev/null
check "re-adopted endpoints: docker rm releases them (Leave/DeleteEndpoint reach the new daemon)" \
  lab_wait 10 bash -c "[ \$(grep -c '^198.18.0.[0-9]*,[^,]*,[^,]*,0,' '$KEA4') -ge 4 ]"
check "re-adopted endpoints: records removed" bash -c "[ \$(ls '$STATE/endpoints' | grep -c '\.json\$') -eq 0 ]"

# --- a container that went away while the daemon was down ------------------------------------
# Driven through the plugin API with a namespace of the test's own as the "sandbox", so that it
# can disappear while the daemon is down (Docker itself would wait for the driver).
nid=$(network_id ndlife)
eid=$(printf 'e%063d' $RANDOM)
api /NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$eid\",\"Interface\":{}}" > "$OUT/gone-create"
gone_addr=$(python3 -c "import json; print(json.load(open('$OUT/gone-create'))['Interface']['Address'].split('/')[0])" 2>/dev/null)
ip netns add "$GONE_NS"
api /NetworkDriver.Join "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$eid\",\"SandboxKey\":\"/run/netns/$GONE_NS\"}" > /dev/null
ip link set "dc-${eid:0:12}" netns "$GONE_NS"
ip -n "$GONE_NS" link set "dc-${eid:0:12}" name eth0
ip -n "$GONE_NS" link set eth0 up
check "gone container: the daemon followed the interface into its namespace" \
  lab_wait 5 bash -c "grep -q 'endpoint ${eid:0:12}: following the leases inside the container as eth0' '$LAB_DIR/daemon.log'"
stop_daemon 9
ip netns del "$GONE_NS"
ip link add "dh-$ORPHAN" type veth peer name "dc-$ORPHAN"
ip link set "dh-$ORPHAN" master "$LAB_BRIDGE"
start_daemon
check "gone container: its lease is released at the next start" \
  lab_wait 10 grep -q "^$gone_addr,[^,]*,[^,]*,0," "$KEA4"
check "gone container: its links and record are removed" \
  lab_wait 5 bash -c "! ip link show dh-${eid:0:12} >/dev/null 2>&1 && [ ! -e '$STATE/endpoints/$eid.json' ]"
check "a veth of ours on the bridge that no record names is removed at start, and said so" \
  lab_wait 5 bash -c "! ip link show dh-$ORPHAN >/dev/null 2>&1 && ! ip link show dc-$ORPHAN >/dev/null 2>&1 &&
    grep -q 'state: removing dh-$ORPHAN on bridge $LAB_BRIDGE: no endpoint record names it' '$LAB_DIR/daemon.log'"

# --- an interface that can never be followed: reported, not silent ---------------------------
# As with a dockerd whose namespace mounts do not reach the daemon: the SandboxKey is a plain
# empty file, never a network namespace.
eid=$(printf 'f%063d' $RANDOM)
bogus=$LAB_DIR/not-a-netns
: > "$bogus"
api /NetworkDriver.CreateEndpoint "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$eid\",\"Interface\":{}}" > /dev/null
api /NetworkDriver.Join "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$eid\",\"SandboxKey\":\"$bogus\"}" > /dev/null
check "not followed: a warning names the path and what is there" lab_wait 10 grep -q \
  "warning endpoint ${eid:0:12}: not following the container into $bogus after 3 s: $bogus is there but is not a network namespace (a regular file of 0 bytes)" \
  "$LAB_DIR/daemon.log"
check "not followed: status says so (followed false, the reason in last_error)" bash -c "'$BIN' status --socket '$SOCKET' --json |
  python3 -c 'import json,sys; e=[e for n in json.load(sys.stdin)[\"networks\"] for e in n[\"endpoints\"] if e[\"endpoint_id\"]==\"$eid\"][0]
sys.exit(0 if e[\"followed\"] is False and \"is not a network namespace\" in e[\"last_error\"] else 1)'"
check "not followed: counted in metrics" bash -c "curl -s --unix-socket '$SOCKET' http://plugin/metrics | grep -qx 'netdhcp_follow_failures_total 1'"
api /NetworkDriver.Leave "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$eid\"}" > /dev/null
api /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$nid\",\"EndpointID\":\"$eid\"}" > /dev/null
check "not followed: DeleteEndpoint removes its links and record" \
  lab_wait 5 bash -c "! ip link show dh-${eid:0:12} >/dev/null 2>&1 && [ ! -e '$STATE/endpoints/$eid.json' ]"

# --- kill -9 in the middle of CreateEndpoint --------------------------------------------------
lab_stop "$LAB_KEA4_PID"
docker network create --label "$LABEL" -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE" -o lease_timeout=20s \
  -o ignore_conflicts=true ndslow >/dev/null
docker run --rm --label "$LABEL" --network ndslow "$BUSYBOX_IMAGE" true > "$OUT/mid-create" 2>&1 &
runner=$!
require "mid-create: CreateEndpoint has made its links" lab_wait 10 bash -c "ip -o link show master $LAB_BRIDGE | grep -q ' dh-'"
check "mid-create: a record exists while CreateEndpoint waits" bash -c "ls '$STATE/endpoints' | grep -q '\.json\$'"
stop_daemon 9
start_daemon
check "mid-create: the next start removes the half-made links" lab_wait 10 bash -c "! ip -o link show master $LAB_BRIDGE | grep -q ' dh-'"
check "mid-create: and its record" lab_wait 5 bash -c "[ \$(ls '$STATE/endpoints' | grep -c '\.json\$') -eq 0 ]"
check "mid-create: docker run failed (it did not hang)" lab_wait 40 bash -c "! kill -0 $runner 2>/dev/null"
docker network rm ndslow >/dev/null 2>&1
lab_kea4 6 2 4

# --- the DHCP server goes away past T1 and T2, and comes back; then past expiry --------------
lab_stop "$LAB_KEA4_PID"
lab_kea4 12 2 4  # 8 s between T2 and expiry: time to bring the server back
docker network rm ndlife >/dev/null
docker network create --label "$LABEL" -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE" ndlife4 >/dev/null
cid=$(docker run -d --label "$LABEL" --network ndlife4 "$BUSYBOX_IMAGE" sleep 600)
require "server away: the container has its lease" lab_wait 10 bash -c "docker exec $cid ip addr show eth0 | grep -q 'inet 198.18.0.'"
addr=$(docker exec "$cid" ip -o addr show eth0 | awk '$3 == "inet" {print $4}')
lab_stop "$LAB_KEA4_PID"
check "server away: RENEWING after T1" lab_wait 5 state_is "$cid" ndlife4 renewing
check "server away: REBINDING after T2" lab_wait 5 state_is "$cid" ndlife4 rebinding
check "server away: the container keeps its address meanwhile" bash -c "docker exec $cid ip -o addr show eth0 | grep -q 'inet $addr'"
c=$(kea_count "$KEA4" "${addr%/24}")
mark=$(log_mark)
lab_kea4 12 2 4
check "server back: renewals resume, same address" \
  lab_wait 10 bash -c "[ \$(grep -c '^${addr%/24},' '$KEA4') -ge $((c + 2)) ] && docker exec $cid ip -o addr show eth0 | grep -q 'inet $addr'"
check "server back: bound again" lab_wait 5 state_is "$cid" ndlife4 bound
check "server back: the lease never expired meanwhile" bash -c "! tail -n +$((mark + 1)) '$LAB_DIR/daemon.log' | grep -q 'lost (expired)'"
lab_stop "$LAB_KEA4_PID"
check "lease expired: the address is removed from the container" \
  lab_wait 20 bash -c "! docker exec $cid ip -o addr show eth0 | grep -q 'inet '"
check "lease expired: logged at warning level" grep -q "warning.*DHCPv4 lease of ${addr%/24} lost (expired)" "$LAB_DIR/daemon.log"
lab_kea4 12 2 4
check "server back after expiry: a lease again, with the default route" \
  lab_wait 15 bash -c "docker exec $cid ip -o addr show eth0 | grep -q 'inet 198.18.0.' && docker exec $cid ip route | grep -q 'default via 198.18.0.1'"

# --- garbage and spoofed replies on the bridge -------------------------------------------------
lab_client rogue 02:00:00:ba:d0:01
mac=$(docker inspect -f '{{(index .NetworkSettings.Networks "ndlife4").MacAddress}}' "$cid")
addr=$(docker exec "$cid" ip -o addr show eth0 | awk '$3 == "inet" {print $4}')
c=$(kea_count "$KEA4" "${addr%/24}")
ip netns exec "$LAB_NS" python3 "$top/test/tools/dhcp_spoof.py" lan0 "$mac" 6000 > "$OUT/spoof"
echo "# spoofed: $(cat "$OUT/spoof")"
ignored=$(oper "$cid" ndlife4 packets_ignored)
echo "# the client counted ${ignored:-?} replies it ignored"
check "spoofed replies: the client saw them and ignored them" [ "${ignored:-0}" -ge 1000 ]
check "spoofed replies: the container keeps its address" bash -c "docker exec $cid ip -o addr show eth0 | grep -q 'inet $addr'"
check "spoofed replies: renewals with the real server go on" \
  lab_wait 10 bash -c "[ \$(grep -c '^${addr%/24},' '$KEA4') -ge $((c + 2)) ]"
check "spoofed replies: the daemon is alive" kill -0 "$DAEMON_PID"
docker rm -f "$cid" >/dev/null

# --- dockerd restarts with restart=always containers (only a dockerd this test started) -------
if [ -n "$STARTED_DOCKERD_PID" ] && [ "${DOCKERD_RESTARTS:-1}" = 1 ]; then
  n=10
  for i in $(seq 1 $n); do docker run -d --restart=always --label "$LABEL" --network ndlife4 "$BUSYBOX_IMAGE" sleep 600 >/dev/null; done
  require "dockerd restart: $n restart=always containers run" lab_wait 20 bash -c "[ \$(docker ps -q --filter label=$LABEL | wc -l) -eq $n ]"
  stop_started_dockerd
  started=$(date +%s%N)
  ensure_dockerd
  check "dockerd restart: dockerd answers again (no hang at boot)" docker_answers
  up() {
    local ok=0 id
    for id in $(docker ps -q --filter "label=$LABEL"); do
      docker exec "$id" ip -o addr show eth0 2>/dev/null | grep -q 'inet 198.18.0.' && ok=$((ok + 1))
    done
    [ "$ok" -eq "$n" ]
  }
  check "dockerd restart: all $n restart=always containers back, each with a lease" lab_wait 60 up
  echo "# all $n back with leases $(( ($(date +%s%N) - started) / 1000000 )) ms after dockerd was started"
  for id in $(docker ps -q --filter "label=$LABEL"); do docker exec "$id" ip -o addr show eth0 | awk '$3 == "inet" {print $4}'; done > "$OUT/storm"
  check "dockerd restart: $n distinct addresses" bash -c "[ \$(sort -u '$OUT/storm' | wc -l) -eq $n ]"
  check "dockerd restart: one record per running endpoint, none stale" \
    lab_wait 10 bash -c "[ \$(ls '$STATE/endpoints' | grep -c '\.json\$') -eq $n ]"
  docker rm -f $(docker ps -aq --filter "label=$LABEL") >/dev/null
  # Boot in the wrong order: dockerd first, net-dhcp once dockerd is already looking for it
  # (the systemd unit orders it the other way round). Docker retries a driver it cannot find
  # for about 15 s per container while it restores them.
  n=3
  for i in $(seq 1 $n); do docker run -d --restart=always --label "$LABEL" --network ndlife4 "$BUSYBOX_IMAGE" sleep 600 >/dev/null; done
  require "dockerd restart: $n restart=always containers run" lab_wait 20 bash -c "[ \$(docker ps -q --filter label=$LABEL | wc -l) -eq $n ]"
  stop_started_dockerd
  stop_daemon TERM
  check "net-dhcp stopped: its socket is gone" [ ! -e "$SOCKET" ]
  log_mark=$(wc -l < "$DOCKERD_LOG")
  start_dockerd
  check "dockerd restores the containers and looks for the missing driver" \
    lab_wait 30 bash -c "tail -n +$((log_mark + 1)) '$DOCKERD_LOG' | grep -q 'Unable to locate plugin: $DRIVER'"
  start_daemon
  wait_for_started_dockerd
  check "net-dhcp started after dockerd: the restart=always containers come back with leases" lab_wait 60 up
  docker rm -f $(docker ps -aq --filter "label=$LABEL") >/dev/null
else
  ok "dockerd restart # SKIP dockerd was already running (this test restarts only a dockerd it started), or DOCKERD_RESTARTS=0"
fi

# --- create/delete cycles: fds and memory flat, no links left -------------------------------
fds() { ls "/proc/$DAEMON_PID/fd" | wc -l; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$DAEMON_PID/status"; }
for i in $(seq 1 10); do docker run --rm --label "$LABEL" --network ndlife4 "$BUSYBOX_IMAGE" true; done
fd0=$(fds); rss0=$(rss)
failed=0
for i in $(seq 1 "$CYCLES"); do docker run --rm --label "$LABEL" --network ndlife4 "$BUSYBOX_IMAGE" true || failed=$((failed + 1)); done
# Sockets of deleted endpoints are closed on a helper thread (the kernel's close of a packet
# socket waits for an RCU grace period): give it a moment to finish.
fds_back() { [ "$(fds)" -le "$fd0" ]; }
lab_wait 5 fds_back
fd1=$(fds); rss1=$(rss)
echo "# $CYCLES cycles: $failed failed; fds $fd0 -> $fd1; RSS $rss0 kB -> $rss1 kB"
check "$CYCLES create/delete cycles: all succeeded" [ "$failed" -eq 0 ]
check "$CYCLES create/delete cycles: the daemon's fd count is flat" [ "$fd1" -le "$fd0" ]
if [ "${RSS_CHECK:-1}" = 1 ]; then
  check "$CYCLES create/delete cycles: RSS flat (grew less than 1 MB)" [ $(( rss1 - rss0 )) -lt 1024 ]
else
  ok "$CYCLES create/delete cycles: RSS flat # SKIP a sanitizer build (ASan's quarantine keeps freed memory; its leak check at exit stands in)"
fi
check "$CYCLES create/delete cycles: no links left" lab_wait 5 bash -c "! ip -o link show master $LAB_BRIDGE | grep -q ' dh-'"
check "$CYCLES create/delete cycles: no records left" bash -c "[ \$(ls '$STATE/endpoints' | grep -c '\.json\$') -eq 0 ]"

# --- a torn state file: reported, set aside, its links removed, the daemon starts -------------
stop_daemon TERM
torn=$(printf 'f%063d' $RANDOM)
ip link add "dh-${torn:0:12}" type veth peer name "dc-${torn:0:12}"
printf '{"version": 1, "endpoint_id": "%s", "net' "$torn" > "$STATE/endpoints/$torn.json"
mark=$(log_mark)
start_daemon
check "torn state file: reported with its name, and set aside" \
  bash -c "tail -n +$((mark + 1)) '$LAB_DIR/daemon.log' | grep -q 'state: $STATE/endpoints/$torn.json: not JSON.*moved to $STATE/endpoints/$torn.json.corrupt'"
check "torn state file: the links it named are removed" lab_wait 5 bash -c "! ip link show dh-${torn:0:12} >/dev/null 2>&1"
check "torn state file: the daemon serves (a container gets its lease)" \
  bash -c "docker run --rm --label '$LABEL' --network ndlife4 '$BUSYBOX_IMAGE' ip addr show eth0 | grep -q 'inet 198.18.0.'"
ip link del "dh-${torn:0:12}" 2>/dev/null

check "the daemon is still running" kill -0 "$DAEMON_PID"
stop_daemon TERM
check "the daemon's log has no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error:' '$LAB_DIR/daemon.log'"
grep -E -A30 'Sanitizer|runtime error:' "$LAB_DIR/daemon.log" | head -60 | sed 's/^/#   /'

life_down
trap - EXIT
echo "lifecycle: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
