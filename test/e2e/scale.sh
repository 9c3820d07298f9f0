#!/usr/bin/env bash
# Scale, issue 14: N endpoints on one daemon, driven through the plugin API the way dockerd
# drives it (CreateEndpoint; Join with a namespace of the test's own as the SandboxKey; the
# container end moved in, renamed eth0, given its address, set up), against Kea on a /22 in a lab
# namespace (test/interop/lab.sh). No Docker. Phases, each with checks and figures:
#   1. create and join N endpoints, SCALE_PARALLEL at a time, the last SCALE_SERIAL of them one at
#      a time: all leased, distinct addresses; CreateEndpoint and Join p50/p99 of both (one at a
#      time: what one request costs with N-1 endpoints there; PARALLEL at a time: that plus the
#      wait behind the others, latency = PARALLEL / throughput); RSS, fds (and of what kind),
#      state bytes per endpoint
#   2. renewals: SCALE_LEASE-second leases (T1 half of it) for SCALE_RENEW_SECONDS: every lease
#      renewed at Kea on time, none lost, every address still on its eth0; the daemon's CPU and
#      wakeups (context switches, all threads) over the window
#   3. restarts: kill -9 right after the renewals (every record on disk still has its address and
#      an unexpired lease: nothing that matters was lost with the deferred writes) and start
#      again, then SIGTERM (every record written at exit) and start again: the time to exit, to
#      answer again, until all N are bound once more
#   4. teardown: Leave + DeleteEndpoint for all: every lease released at Kea, links, records and
#      namespaces gone, the daemon's fds back to idle, its RSS after
# The last figures line starts "# scale figures:" (scripts/bench scale prints it). Cleans up
# namespaces, links, iptables rules, sysctls and the processes it started, also when a check
# fails. Prints "scale: N passed, M failed".
# Usage: test/e2e/scale.sh [net-dhcp]
#   SCALE_ENDPOINTS=200   endpoints (at most 1000: the Kea pool is 198.18.0.10 - 198.18.3.250,
#                         and a Linux bridge takes at most 1024 ports)
#   SCALE_PARALLEL=10     endpoints created (and deleted) at a time
#   SCALE_SERIAL          the last endpoints, created one at a time (default N/10, at least 1)
#   SCALE_LEASE=30        Kea's lease time in seconds (renew at half, rebind at 7/8)
#   SCALE_RENEW_SECONDS   the renewal window (default the lease time + 5 s: two renewals each)
#   SCALE_RESTARTS=1      0 skips phase 3
#   SCALE_LOG_LEVEL=warning the daemon's --log-level
#   SCALE_KEEP=DIR        keep the daemon's log, the timings and its memory map after teardown
#                         (smaps-after-teardown) in DIR, for a look afterwards
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(realpath "${1:-$top/build/src/net-dhcp}")
N=${SCALE_ENDPOINTS:-200}
PARALLEL=${SCALE_PARALLEL:-10}
SERIAL=${SCALE_SERIAL:-$(( N / 10 > 0 ? N / 10 : 1 ))}
[ "$SERIAL" -le "$N" ] || SERIAL=$N
LEASE=${SCALE_LEASE:-30}
RENEW_SECONDS=${SCALE_RENEW_SECONDS:-$((LEASE + 5))}
RESTARTS=${SCALE_RESTARTS:-1}
LOG_LEVEL=${SCALE_LOG_LEVEL:-warning}
. "$top/test/interop/lab.sh"
. "$top/test/lib/checks.sh"
. "$top/test/lib/plugin_api.sh"

[ "$(id -u)" -eq 0 ] || { echo "scale: needs root (namespaces, links, iptables)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "scale: no daemon binary at $BIN" >&2; exit 1; }
[ "$N" -ge 1 ] && [ "$N" -le 1000 ] || { echo "scale: SCALE_ENDPOINTS must be 1..1000 (the Kea pool, the bridge's ports)" >&2; exit 1; }
[ "$LEASE" -ge 10 ] || { echo "scale: SCALE_LEASE must be at least 10 s" >&2; exit 1; }
for tool in jq curl kea-dhcp4 python3; do
  command -v "$tool" >/dev/null || { echo "scale: $tool is missing" >&2; exit 1; }
done

DAEMON_PID=""
STATE=""
SYSCTL_RESTORE=()
NET_ID=$(printf '6%s%059d' "$LAB_ID" 0)
# Endpoint ids start with the run id, so that the dh- link names (the first 12 characters) are
# this run's alone. Namespace names likewise.
eid_of() { printf '%s6b%06x%052d' "$LAB_ID" "$1" 0; }
ns_of() { echo "ndscale-$LAB_ID-$1"; }

# Like api, and appends the request's seconds to FILE.
timed_api() {  # file path json -> body on stdout
  local out rc
  out=$(curl -s --max-time 60 --unix-socket "$SOCKET" -X POST "http://plugin$2" -d "$3" -w '\n%{time_total}')
  rc=$?
  printf '%s\n' "${out##*$'\n'}" >> "$1"
  printf '%s\n' "${out%$'\n'*}"
  return $rc
}

scale_down() {
  local i eid
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null && [ -n "$STATE" ]; then
    for f in "$STATE"/endpoints/*.json; do
      [ -e "$f" ] || continue
      leave_and_delete "$NET_ID" "$(basename "$f" .json)"
    done
    api /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$NET_ID\"}" >/dev/null
  fi
  [ -n "$DAEMON_PID" ] && lab_stop "$DAEMON_PID"
  DAEMON_PID=""
  for i in $(seq 1 "$N"); do
    eid=$(eid_of "$i")
    ip link del "dh-${eid:0:12}" 2>/dev/null
    ip netns del "$(ns_of "$i")" 2>/dev/null
  done
  for s in "${SYSCTL_RESTORE[@]}"; do sysctl -qw "$s" >/dev/null; done
  SYSCTL_RESTORE=()
  if [ -n "${SCALE_KEEP:-}" ]; then
    mkdir -p "$SCALE_KEEP" && cp -r "$LOG" "$OUT" "$SCALE_KEEP"/ 2>/dev/null
  fi
  lab_down
}

lab_up
trap scale_down EXIT
OUT=$LAB_DIR/out
STATE=$LAB_DIR/state
SOCKET=$LAB_DIR/net-dhcp.sock
LOG=$LAB_DIR/daemon.log
KEA4=$LAB_DIR/kea4/leases.csv
mkdir -p "$OUT/ep"

# The kernel's neighbour table is one for all namespaces, 1024 entries at most by default
# (gc_thresh3): every container's entry for the server plus the server's entry for every
# container pass that near 500 containers, and then unicast renewals fail with "neighbour table
# overflow". Raised for the run (a busy host needs the same, README "Many containers"), restored after.
for fam in ipv4 ipv6; do
  for k in gc_thresh1:1024 gc_thresh2:4096 gc_thresh3:8192; do
    key="net.$fam.neigh.default.${k%%:*}"
    old=$(sysctl -n "$key") || continue
    [ "$old" -lt "${k#*:}" ] || continue
    SYSCTL_RESTORE+=("$key=$old")
    sysctl -qw "$key=${k#*:}"
  done
done
# The server answers the whole /22 (its unicast replies to renewals need the route). Its one
# address is widened, not joined by a second: Kea opens a socket per address, and with two it
# answered every broadcast twice (two OFFERs of different addresses per DISCOVER, two ACKs per
# REQUEST), doubling its work and the clients'.
ip -n "$LAB_SERVER_NS" addr del "$LAB_SERVER_IP4/24" dev lan0
ip -n "$LAB_SERVER_NS" addr add "$LAB_SERVER_IP4/22" dev lan0

# Context switches of all the daemon's threads: each one is a wakeup (or a preemption).
switches() { cat /proc/"$DAEMON_PID"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s + 0}'; }
# The daemon's fds by kind: "socket:[..]" as the socket's protocol from /proc/net, "anon_inode:X" as X.
fd_kinds() {
  local pid=$DAEMON_PID
  python3 - "$pid" <<'PY'
import os, sys, collections
pid = sys.argv[1]
protos = {}
for name in ('packet', 'netlink', 'unix', 'udp', 'udp6', 'raw', 'raw6', 'tcp', 'tcp6'):
    try:
        lines = open(f'/proc/{pid}/net/{name}').read().splitlines()[1:]
    except OSError:
        continue
    # the inode column: packet 9th, netlink 10th, unix 7th, inet 10th
    col = {'packet': 8, 'netlink': 9, 'unix': 6}.get(name, 9)
    for l in lines:
        f = l.split()
        if len(f) > col:
            protos[f[col]] = name
kinds = collections.Counter()
for fd in os.listdir(f'/proc/{pid}/fd'):
    try:
        t = os.readlink(f'/proc/{pid}/fd/{fd}')
    except OSError:
        continue
    if t.startswith('socket:['):
        kinds['socket:' + protos.get(t[8:-1], 'in a container namespace')] += 1
    elif t.startswith('anon_inode:'):
        kinds[t[11:].strip('[]')] += 1
    elif t.startswith('/'):
        kinds['file'] += 1
    else:
        kinds[t.split(':')[0]] += 1
print(', '.join(f'{k} {v}' for k, v in kinds.most_common()))
PY
}
percentile() {  # p file (seconds, one per line) -> milliseconds
  sort -g "$2" | awk -v p="$1" '{a[NR] = $1} END {if (NR == 0) {print "n/a"; exit} i = int((NR * p + 99) / 100); if (i < 1) i = 1; printf "%.1f", a[i] * 1000}'
}
kea_deltas() {  # before after -> "address delta" per endpoint
  local i
  for i in "${!ADDR[@]}"; do
    awk -v a="${ADDR[$i]}" 'FNR == 1 {f++} $1 == a {c[f] = $2} END {print a, c[2] - c[1]}' "$1" "$2"
  done
}
status_bound() {  # -> how many endpoints of the network are bound (IPv4)
  api /NetDhcp.Status | jq --arg n "$NET_ID" '[.networks[] | select(.id == $n) | .endpoints[] | select(.ipv4.state == "bound" or .ipv4.state == "renewing")] | length'
}
start_daemon() {
  "$BIN" serve --socket "$SOCKET" --state-dir "$STATE" --log-level "$LOG_LEVEL" >> "$LOG" 2>&1 &
  DAEMON_PID=$!
  disown "$DAEMON_PID"
  lab_wait 30 curl -sf --max-time 1 --unix-socket "$SOCKET" -X POST http://plugin/Plugin.Activate
}

# --- the daemon, the network, Kea --------------------------------------------------------------
start_daemon || { echo "# the daemon did not start:"; tail -20 "$LOG" | sed 's/^/#   /'; exit 1; }
LAB_KEA4_SUBNET=198.18.0.0/22 LAB_KEA_SEVERITY=INFO \
  lab_kea4 "$LEASE" $((LEASE / 2)) $((LEASE * 7 / 8)) "198.18.0.10 - 198.18.3.250" || exit 1
echo "# daemon $BIN (pid $DAEMON_PID), bridge $LAB_BRIDGE, $N endpoints $PARALLEL at a time, Kea ${LEASE}s leases on 198.18.0.0/22"
api /NetworkDriver.CreateNetwork "{\"NetworkID\":\"$NET_ID\",\"Options\":{\"com.docker.network.enable_ipv6\":false,
  \"com.docker.network.generic\":{\"bridge\":\"$LAB_BRIDGE\"}},
  \"IPv4Data\":[{\"AddressSpace\":\"null\",\"Pool\":\"0.0.0.0/0\"}],\"IPv6Data\":[]}" > "$OUT/create-network"
check "CreateNetwork on $LAB_BRIDGE" jq -e 'has("Err") | not' "$OUT/create-network" >/dev/null
sleep 1  # (a figure, not a wait for a condition: the idle daemon's wakeups over one second)
rss_idle=$(rss) fd_idle=$(fds) other_fd_idle=$(other_fds)
sw0=$(switches); sleep 2; idle_wakeups=$(( ($(switches) - sw0) / 2 ))

# --- 1. create and join ------------------------------------------------------------------------
make_endpoint() {  # index; writes $OUT/ep/INDEX: "address/len mac" once it is all done
  local i=$1 eid ns src addr gw
  eid=$(eid_of "$i") ns=$(ns_of "$i")
  timed_api "$OUT/ep/$i.tc" /NetworkDriver.CreateEndpoint \
    "{\"NetworkID\":\"$NET_ID\",\"EndpointID\":\"$eid\",\"Interface\":{},\"Options\":{}}" > "$OUT/ep/$i.create"
  addr=$(jq -r '.Interface.Address // empty' "$OUT/ep/$i.create" 2>/dev/null)
  [ -n "$addr" ] || { echo "# endpoint $i: CreateEndpoint: $(head -c 300 "$OUT/ep/$i.create")"; return 1; }
  ip netns add "$ns" || return 1
  timed_api "$OUT/ep/$i.tj" /NetworkDriver.Join \
    "{\"NetworkID\":\"$NET_ID\",\"EndpointID\":\"$eid\",\"SandboxKey\":\"/run/netns/$ns\",\"Options\":{}}" > "$OUT/ep/$i.join"
  src=$(jq -r '.InterfaceName.SrcName // empty' "$OUT/ep/$i.join" 2>/dev/null)
  gw=$(jq -r '.Gateway // empty' "$OUT/ep/$i.join" 2>/dev/null)
  [ -n "$src" ] || { echo "# endpoint $i: Join: $(head -c 300 "$OUT/ep/$i.join")"; return 1; }
  ip link set "$src" netns "$ns" || return 1
  {
    echo "link set $src name eth0"
    echo "addr add $addr dev eth0"
    echo "link set eth0 up"
    echo "link set lo up"
    [ -z "$gw" ] || echo "route add default via $gw dev eth0"
  } | ip -n "$ns" -batch - || return 1
  echo "$addr $(jq -r '.Interface.MacAddress // empty' "$OUT/ep/$i.create")" > "$OUT/ep/$i"
}
# Runs FUNCTION INDEX for FIRST..LAST (default 1..N), PARALLEL at a time (waits for its own jobs only).
run_pool() {  # function [first last]
  local makers=() live p i
  for i in $(seq "${2:-1}" "${3:-$N}"); do
    while :; do
      live=()
      for p in "${makers[@]}"; do kill -0 "$p" 2>/dev/null && live+=("$p"); done
      makers=("${live[@]}")
      [ "${#live[@]}" -lt "$PARALLEL" ] && break
      wait -n "${live[@]}"
    done
    "$1" "$i" &
    makers+=($!)
  done
  for p in "${makers[@]}"; do wait "$p"; done
}
t0=$(date +%s%N)
run_pool make_endpoint 1 $((N - SERIAL))
for i in $(seq $((N - SERIAL + 1)) "$N"); do make_endpoint "$i"; done
create_wall_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
ADDR=() CIDR=()
made=0
for i in $(seq 1 "$N"); do
  [ -s "$OUT/ep/$i" ] || continue
  read -r CIDR[$i] _ < "$OUT/ep/$i"
  ADDR[$i]=${CIDR[$i]%/*}
  made=$((made + 1))
done
times_of() {  # suffix first last -> the seconds of those endpoints' requests, one a line
  local i
  for i in $(seq "$2" "$3"); do cat "$OUT/ep/$i.$1" 2>/dev/null; done
}
times_of tc 1 $((N - SERIAL)) > "$OUT/create-times"
times_of tj 1 $((N - SERIAL)) > "$OUT/join-times"
times_of tc $((N - SERIAL + 1)) "$N" > "$OUT/create-times-serial"
times_of tj $((N - SERIAL + 1)) "$N" > "$OUT/join-times-serial"
create_p50=$(percentile 50 "$OUT/create-times") create_p99=$(percentile 99 "$OUT/create-times")
join_p50=$(percentile 50 "$OUT/join-times") join_p99=$(percentile 99 "$OUT/join-times")
serial_p50=$(percentile 50 "$OUT/create-times-serial") serial_p99=$(percentile 99 "$OUT/create-times-serial")
serial_join_p99=$(percentile 99 "$OUT/join-times-serial")
echo "# $made endpoints created and joined in $create_wall_ms ms; $PARALLEL at a time ($((N - SERIAL))): CreateEndpoint p50 $create_p50 ms, p99 $create_p99 ms; Join p50 $join_p50 ms, p99 $join_p99 ms"
echo "# one at a time (the last $SERIAL, with up to $((N - 1)) others there): CreateEndpoint p50 $serial_p50 ms, p99 $serial_p99 ms; Join p99 $serial_join_p99 ms"
check "all $N endpoints created and joined, each with a lease" [ "$made" -eq "$N" ]
# The lab itself: Kea answered each DISCOVER once. It offers on every socket, one per address
# of its interface: with a second address it offered two addresses to every client, doubling its
# work and the clients'. (A retransmitted DISCOVER is offered again: fewer than 1.5 per endpoint.)
offers=$(grep -c 'DHCP4_LEASE_ADVERT' "$LAB_DIR/kea4/log")
check "the lab's Kea made one offer per DISCOVER ($offers for $N endpoints)" [ $((offers * 2)) -lt $((N * 3)) ]
distinct=$(printf '%s\n' "${ADDR[@]}" | sort -u | wc -l)
check "$made distinct addresses, all in 198.18.0.0/22" \
  bash -c "[ \$(printf '%s\n' ${ADDR[*]:-} | grep -cE '^198\.18\.[0-3]\.') -eq $made ] && [ $distinct -eq $made ]"
followed() { [ "$(grep -c 'following the leases inside the container as eth0' "$LOG")" -ge "$made" ]; }
# (at --log-level warning the follow line is not logged: the status says where each one is)
followed_status() {
  [ "$(api /NetDhcp.Status | jq --arg n "$NET_ID" '[.networks[] | select(.id == $n) | .endpoints[] | select(.interface == "eth0")] | length')" -ge "$made" ]
}
check "the daemon followed every interface into its namespace (status: eth0)" lab_wait 60 followed_status
rss_joined=$(rss) fd_joined=$(fds) kinds_joined=$(fd_kinds)
state_bytes=$(du -sb "$STATE/endpoints" | awk '{print $1}')
record_bytes=$(cat "$STATE"/endpoints/*.json | wc -c)
echo "# with $made joined: RSS $rss_joined kB (idle $rss_idle kB, $(( (rss_joined - rss_idle) * 1000 / (made > 0 ? made : 1) )) bytes per endpoint)," \
  "fds $fd_joined (idle $fd_idle, $(awk -v a="$fd_joined" -v b="$fd_idle" -v n="$made" 'BEGIN {printf "%.2f", (a - b) / (n > 0 ? n : 1)}') per endpoint): $kinds_joined"
echo "# state: $(ls "$STATE/endpoints" | grep -c '\.json$') records, $record_bytes bytes ($(( record_bytes / (made > 0 ? made : 1) )) per endpoint; $state_bytes on disk with the directory)"

# --- 2. renewals -------------------------------------------------------------------------------
sample_addresses() {  # -> how many endpoints lack their address on eth0 (names the first few)
  local i missed=0
  for i in "${!ADDR[@]}"; do
    ip -n "$(ns_of "$i")" -4 -o addr show dev eth0 2>/dev/null | grep -q " inet ${CIDR[$i]} " && continue
    [ "$missed" -lt 3 ] && echo "# endpoint $i has lost ${CIDR[$i]} from eth0" >&2
    missed=$((missed + 1))
  done
  echo "$missed"
}
# UDP datagrams to a closed port in the containers, summed over a tenth of the namespaces: port
# 68 is held on the leased address (src/transport/dhcp4_socket.hpp), so Kea's unicast ACKs meet
# none, and no ICMP port unreachable goes back.
udp_noports() {
  local i sum=0 u
  for ((i = 0; i < N; i += N / 10 > 0 ? 10 : 1)); do
    u=$(ip netns exec "$(ns_of "$i")" awk '/^Udp:/ && ++n == 2 {print $3}' /proc/net/snmp 2>/dev/null)
    sum=$((sum + ${u:-0}))
  done
  echo "$sum"
}
kea_counts > "$OUT/renew.before"
noports0=$(udp_noports)
lost0=$(losses) cpu0=$(cpu_ticks) sw0=$(switches) t0=$(date +%s%N)
sleep "$RENEW_SECONDS"  # (the window the figures are over; the checks after it look at what happened in it)
window_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
cpu1=$(cpu_ticks) sw1=$(switches) lost1=$(losses)
noports1=$(udp_noports)
kea_counts > "$OUT/renew.after"
kea_deltas "$OUT/renew.before" "$OUT/renew.after" > "$OUT/renew.deltas"
# T1 is half the lease: a window of the lease + 5 s holds two renewals of every endpoint, one of
# them whatever the phase; fewer than that is a late or missed renewal.
want=$(( RENEW_SECONDS * 2 / LEASE ))
min_renewals=$(awk 'NR == 1 || $2 < m {m = $2} END {print m + 0}' "$OUT/renew.deltas")
late=$(awk -v w="$want" '$2 < w' "$OUT/renew.deltas" | wc -l)
renew_rate=$(awk -v ms="$window_ms" '{s += $2} END {printf "%.1f", s * 1000 / ms}' "$OUT/renew.deltas")
cpu_pct=$(awk -v t=$((cpu1 - cpu0)) -v k="$clk_tck" -v ms="$window_ms" 'BEGIN {printf "%.2f", t / k * 100000 / ms}')
cpu_s=$(awk -v t=$((cpu1 - cpu0)) -v k="$clk_tck" 'BEGIN {printf "%.2f", t / k}')
wakeups=$(awk -v s=$((sw1 - sw0)) -v ms="$window_ms" 'BEGIN {printf "%.1f", s * 1000 / ms}')
missing=$(sample_addresses)
echo "# renewals over $((window_ms / 1000)) s: $renew_rate a second at Kea, each endpoint at least $min_renewals ($late below $want);" \
  "daemon CPU ${cpu_s}s ($cpu_pct % of a core), $wakeups wakeups a second (idle daemon: $idle_wakeups)"
check "renewals: every lease renewed on time at Kea (at least $want each in $((window_ms / 1000)) s with T1 $((LEASE / 2)) s; $late late)" [ "$late" -eq 0 ]
check "renewals: no lease lost (netdhcp_lease_losses_total $lost0 -> $lost1)" [ "$lost1" -eq "$lost0" ]
check "renewals: every address still on its eth0 ($missing missing)" [ "$missing" -eq 0 ]
check "renewals: Kea's ACKs met no closed port in the containers (Udp NoPorts $noports0 -> $noports1 in a tenth of them)" \
  [ "$noports1" -eq "$noports0" ]

# --- 3. restarts -------------------------------------------------------------------------------
# kill -9 first, right after the renewals: records of renewals that kept their address wait up
# to a quarter of the lease to reach the disk (src/state/state_writer.hpp, write_later), so some
# are surely still waiting. What is on disk must be enough: every endpoint's record, with its
# address and a lease that has not expired. Then SIGTERM, which writes every record at exit.
all_bound() { [ "$(status_bound)" -ge "$made" ]; }
# -> how many records on disk lack the endpoint's address or hold an expired lease (names a few)
stale_records() {
  local i f now_ms bad=0
  now_ms=$(( $(date +%s%N) / 1000000 ))
  for i in "${!ADDR[@]}"; do
    f="$STATE/endpoints/$(eid_of "$i").json"
    if ! jq -e --arg a "${ADDR[$i]}" --argjson now "$now_ms" \
         '.phase == "joined" and .lease4.address == $a and (.lease4.acquired_at_unix_ms + .lease4.lease_time * 1000 > $now)' \
         "$f" >/dev/null 2>&1; then
      [ "$bad" -lt 3 ] && echo "# record of endpoint $i (${ADDR[$i]}): $(head -c 300 "$f" 2>/dev/null || echo missing)" >&2
      bad=$((bad + 1))
    fi
  done
  echo "$bad"
}
if [ "$RESTARTS" = 1 ]; then
  t0=$(date +%s%N)
  kill -KILL "$DAEMON_PID"
  # The kernel closes a killed process's packet sockets one RCU grace period at a time (10-16
  # ms each): with a thousand it is still dying, and still holding its socket, for 15 s or more.
  # A new daemon refuses to start beside it ("another process is already serving"), as systemd
  # would not start one before the old one is gone: wait for that.
  lab_wait 300 bash -c "! kill -0 $DAEMON_PID 2>/dev/null"
  die_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  check "kill -9: the daemon is gone (in $die_ms ms)" bash -c "! kill -0 $DAEMON_PID 2>/dev/null"
  stale=$(stale_records)
  check "kill -9 lost nothing that matters: every record on disk has its address and an unexpired lease ($stale not)" \
    [ "$stale" -eq 0 ]
  t0=$(date +%s%N)
  start_daemon
  kill_answer_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  check "after kill -9: all $made re-adopted and bound" lab_wait 120 all_bound
  kill_bound_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  missing=$(sample_addresses)
  check "after kill -9: every address still on its eth0 ($missing missing)" [ "$missing" -eq 0 ]
  t0=$(date +%s%N)
  kill -TERM "$DAEMON_PID"
  lab_wait 120 bash -c "! kill -0 $DAEMON_PID 2>/dev/null"
  term_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  check "SIGTERM: the daemon exited (in $term_ms ms, every record written)" bash -c "! kill -0 $DAEMON_PID 2>/dev/null"
  check "SIGTERM: $made records on disk" [ "$(ls "$STATE/endpoints" | grep -c '\.json$')" -eq "$made" ]
  t0=$(date +%s%N)
  start_daemon
  answer_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  check "after SIGTERM: all $made re-adopted and bound" lab_wait 120 all_bound
  term_bound_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  missing=$(sample_addresses)
  check "after SIGTERM: every address still on its eth0 ($missing missing)" [ "$missing" -eq 0 ]
  echo "# restarts with $made endpoints: kill -9: gone after $die_ms ms, then answering $kill_answer_ms ms, all bound $kill_bound_ms ms;" \
    "SIGTERM exit $term_ms ms; start to answering $answer_ms ms, to all bound $term_bound_ms ms"
  RESTART_FIGURES="kill -9: dead after ${die_ms} ms, restart to all bound ${kill_bound_ms} ms; SIGTERM exit ${term_ms} ms, restart to all bound ${term_bound_ms} ms (answering ${answer_ms} ms)"
else
  RESTART_FIGURES="restarts skipped"
fi

# --- 4. teardown -------------------------------------------------------------------------------
remove_endpoint() {  # index
  local eid
  [ -n "${ADDR[$1]:-}" ] || return 0
  eid=$(eid_of "$1")
  timed_api "$OUT/ep/$1.tl" /NetworkDriver.Leave "{\"NetworkID\":\"$NET_ID\",\"EndpointID\":\"$eid\"}" > "$OUT/ep/$1.leave"
  timed_api "$OUT/ep/$1.td" /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$NET_ID\",\"EndpointID\":\"$eid\"}" > "$OUT/ep/$1.delete"
  jq -e 'has("Err") | not' "$OUT/ep/$1.leave" >/dev/null && jq -e 'has("Err") | not' "$OUT/ep/$1.delete" >/dev/null ||
    echo "# endpoint $1: Leave/DeleteEndpoint: $(cat "$OUT/ep/$1.leave" "$OUT/ep/$1.delete" | head -c 300)"
}
rss_peak=$(awk '/VmHWM/ {print $2}' "/proc/$DAEMON_PID/status")
t0=$(date +%s%N)
run_pool remove_endpoint
delete_wall_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
cat "$OUT"/ep/*.td > "$OUT/delete-times" 2>/dev/null
delete_p99=$(percentile 99 "$OUT/delete-times")
answered=$(for i in "${!ADDR[@]}"; do jq -e 'has("Err") | not' "$OUT/ep/$i.delete" 2>/dev/null; done | grep -c true)
check "teardown: Leave and DeleteEndpoint answered for all $made ($answered)" [ "$answered" -eq "$made" ]
released() {
  local i
  for i in "${!ADDR[@]}"; do grep -q "^${ADDR[$i]},[^,]*,[^,]*,0," "$KEA4" || return 1; done
}
check "teardown: every lease released at Kea (valid lifetime 0 in its lease file)" lab_wait 30 released
links_gone() { ! ip -o link | grep -q " dh-${LAB_ID}6b"; }
check "teardown: no dh- links of this run left" lab_wait 30 links_gone
links_gone || ip -o link | grep " dh-${LAB_ID}6b" | head -3 | cut -c1-150 | sed "s/^/# left: /"
check "teardown: no endpoint records left" bash -c "[ \$(ls '$STATE/endpoints' | grep -c '\.json\$') -eq 0 ]"
api /NetworkDriver.DeleteNetwork "{\"NetworkID\":\"$NET_ID\"}" > "$OUT/delete-network"
check "DeleteNetwork" jq -e 'has("Err") | not' "$OUT/delete-network" >/dev/null
# Every fd back to idle but the threads' handles on the daemon's own namespace (plugin_api.sh:
# one per thread that entered a container's, 3 at most).
fds_back() { [ "$(other_fds)" -le "$other_fd_idle" ] && [ "$(home_netns_fds)" -le 3 ]; }
lab_wait 10 fds_back
# The daemon gives its freed heap back on its helper thread, after the closes and link deletions
# queued there (src/plugin/driver.cpp, release_memory): the figure once its RSS stops falling.
rss_settled() {
  local before after
  before=$(rss)
  for _ in $(seq 25); do
    sleep 0.2
    after=$(rss)
    [ "$after" = "$before" ] && break
    before=$after
  done
  echo "$after"
}
rss_end=$(rss_settled) fd_end=$(fds)
[ -n "${SCALE_KEEP:-}" ] && cp "/proc/$DAEMON_PID/smaps" "$OUT/smaps-after-teardown"
check "teardown: the daemon's fds back to idle ($fd_idle -> $fd_end; other than its own namespace's $other_fd_idle -> $(other_fds), that namespace's $(home_netns_fds) of at most 3)" fds_back
for i in $(seq 1 "$N"); do ip netns del "$(ns_of "$i")" 2>/dev/null; done
check "teardown: the namespaces are removed" bash -c "! ip netns list | grep -q '^ndscale-$LAB_ID-'"
check "the daemon is still running" kill -0 "$DAEMON_PID"
echo "# teardown: $made Leave + DeleteEndpoint in $delete_wall_ms ms (DeleteEndpoint p99 $delete_p99 ms); RSS peak $rss_peak kB, after $rss_end kB (idle $rss_idle kB)"
lab_stop "$DAEMON_PID"
DAEMON_PID=""
check "the daemon's log has no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error:' '$LOG'"

echo "# scale figures: $made/$N leased; CreateEndpoint one at a time p50 $serial_p50 ms p99 $serial_p99 ms ($SERIAL), $PARALLEL at a time p50 $create_p50 ms p99 $create_p99 ms, Join p99 $join_p99 ms;" \
  "RSS $rss_joined kB joined (idle $rss_idle, after teardown $rss_end); fds $fd_joined ($fd_idle idle);" \
  "renewing: $renew_rate/s, CPU $cpu_pct % of a core, $wakeups wakeups/s; state $(( record_bytes / (made > 0 ? made : 1) )) B/endpoint; $RESTART_FIGURES"
scale_down
trap - EXIT
echo "scale: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
