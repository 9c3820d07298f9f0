# A throw-away LAN for the tests: one bridge with no uplink, a "server" namespace and one or
# more "client" namespaces, each joined to the bridge by a veth pair; dnsmasq or Kea run in the
# server namespace. Addresses: 198.18.0.0/24 and fd00:18::/64 only (brief: test networks).
#
# Source this file, then:  lab_up; lab_client c1 02:00:00:00:00:01; lab_dnsmasq [args]; ...
# Everything is removed by lab_down, which lab_up registers on EXIT.
#
# Names carry a per-run id so that parallel runs and leftovers of a crashed run never collide.

LAB_ID=${LAB_ID:-$(printf '%04x' $(( ($$ + RANDOM) % 65536 )))}
LAB_BRIDGE="ndbr$LAB_ID"
LAB_SERVER_NS="nd-srv-$LAB_ID"
LAB_DIR=""
LAB_SERVER_IP4=198.18.0.1
LAB_SERVER_IP6=fd00:18::1
LAB_PIDS=()
LAB_CLIENT_NS=()
LAB_IPT_RULES=()

lab_log() { printf '  [lab] %s\n' "$*" >&2; }

# Disables IPv6 DAD on an interface so link-local addresses are usable at once (tests only).
lab_nodad() {  # ns ifname
  ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.accept_dad=0" "net.ipv6.conf.all.accept_dad=0" \
    "net.ipv6.conf.default.accept_dad=0" >/dev/null
}

lab_up() {
  LAB_DIR=$(mktemp -d "/tmp/net-dhcp-lab.$LAB_ID.XXXX")
  trap lab_down EXIT
  ip link add "$LAB_BRIDGE" type bridge
  # Forward multicast at once: no STP/learning delays on a lab bridge.
  ip link set "$LAB_BRIDGE" type bridge forward_delay 0 stp_state 0 mcast_snooping 0
  ip link set "$LAB_BRIDGE" up
  # Docker's FORWARD policy DROP plus br_netfilter drops bridged DHCP: accept our bridge only.
  if command -v iptables >/dev/null; then
    iptables -I FORWARD -i "$LAB_BRIDGE" -j ACCEPT && LAB_IPT_RULES+=("iptables -D FORWARD -i $LAB_BRIDGE -j ACCEPT")
  fi
  if command -v ip6tables >/dev/null; then
    ip6tables -I FORWARD -i "$LAB_BRIDGE" -j ACCEPT 2>/dev/null && LAB_IPT_RULES+=("ip6tables -D FORWARD -i $LAB_BRIDGE -j ACCEPT")
  fi
  ip netns add "$LAB_SERVER_NS"
  ip link add "ndv${LAB_ID}s" type veth peer name lan0 netns "$LAB_SERVER_NS"
  ip link set "ndv${LAB_ID}s" master "$LAB_BRIDGE" up
  lab_nodad "$LAB_SERVER_NS" lan0
  ip -n "$LAB_SERVER_NS" link set lo up
  ip -n "$LAB_SERVER_NS" link set lan0 address 02:00:5e:00:00:01 up
  ip -n "$LAB_SERVER_NS" addr add "$LAB_SERVER_IP4/24" dev lan0
  ip -n "$LAB_SERVER_NS" addr add "$LAB_SERVER_IP6/64" dev lan0 nodad
}

# Adds a client namespace NAME with interface lan0 (MAC given), up, no IPv4 address, and
# sets LAB_NS to its name. (Not for $(...): the cleanup list must be updated in this shell.)
lab_client() {  # name mac
  local ns="nd-$1-$LAB_ID" peer="ndv${LAB_ID}${1: -3}"
  ip netns add "$ns"
  LAB_CLIENT_NS+=("$ns")
  ip link add "$peer" type veth peer name lan0 netns "$ns"
  ip link set "$peer" master "$LAB_BRIDGE" up
  lab_nodad "$ns" lan0
  ip -n "$ns" link set lo up
  ip -n "$ns" link set lan0 address "$2" up
  LAB_NS=$ns
}

lab_bg() {  # command... ; runs in the background, remembered for lab_down
  "$@" &
  LAB_PIDS+=($!)
}

# Waits until a command succeeds, for at most SECONDS (deadline, not a fixed sleep).
lab_wait() {  # seconds command...
  local deadline=$(( $(date +%s%N) + $1 * 1000000000 ))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s%N)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# LAB_SERVER_TMPFS=1: dnsmasq's directory (its lease file and log) on a tmpfs of the lab's own.
# A LAN's DHCP server is another machine, but the lab's shares the Docker host's disk, and
# dnsmasq fsyncs its lease file on every change: in a boot storm (scripts/bench storm), with
# dockerd writing at the same time, that took REQUEST->ACK to p90 83 ms and at most 420 ms (a
# capture on the lab bridge), 2.5 s in all of the exchanges inside the 100 CreateEndpoints that
# Docker makes one at a time. The benchmarks set it; the tests keep the server on the disk.
LAB_MOUNTS=()
lab_dnsmasq() {  # extra dnsmasq args...
  local dir="$LAB_DIR/dnsmasq"
  mkdir -p "$dir"
  if [ -n "${LAB_SERVER_TMPFS:-}" ] && ! mountpoint -q "$dir"; then
    if mount -t tmpfs -o size=64m,mode=0700 net-dhcp-lab "$dir"; then LAB_MOUNTS+=("$dir")
    else lab_log "no tmpfs for dnsmasq's lease file: it stays on the disk"; fi
  fi
  : > "$dir/leases"
  lab_bg ip netns exec "$LAB_SERVER_NS" dnsmasq --keep-in-foreground --conf-file=/dev/null \
    --port=0 --user=root --group=root --interface=lan0 --bind-interfaces \
    --pid-file="$dir/pid" --dhcp-leasefile="$dir/leases" --log-dhcp --log-facility="$dir/log" \
    --dhcp-authoritative --dhcp-option=option:router,$LAB_SERVER_IP4 \
    --dhcp-option=option:dns-server,$LAB_SERVER_IP4 --dhcp-option=option:domain-name,lab.test \
    "$@"
  LAB_DNSMASQ_PID=${LAB_PIDS[-1]}
  lab_wait 5 grep -q "DHCP" "$dir/log" || { lab_log "dnsmasq did not start"; cat "$dir/log" >&2; return 1; }
}

lab_stop() {  # pid
  kill "$1" 2>/dev/null || true
  local deadline=$(( $(date +%s) + 5 ))
  while kill -0 "$1" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.05; done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null
  return 0
}

# Kea DHCPv4 with a memfile lease database in the lab directory. Args: valid renew rebind
# [pool] [extra subnet json]. LAB_KEA4_SUBNET (198.18.0.0/24) and LAB_KEA_SEVERITY (DEBUG) override the
# subnet and the log level.
lab_kea4() {
  local valid=$1 renew=$2 rebind=$3 pool=${4:-198.18.0.100 - 198.18.0.199} extra=${5:-}
  local dir="$LAB_DIR/kea4"
  mkdir -p "$dir"
  [ -f "$dir/log" ] && mv "$dir/log" "$dir/log.$(date +%s%N)"  # "started" must be this instance's
  cat > "$dir/kea.json" <<JSON
{ "Dhcp4": {
    "interfaces-config": { "interfaces": [ "lan0" ], "dhcp-socket-type": "${LAB_KEA_SOCKET:-raw}" },
    "lease-database": { "type": "memfile", "persist": true, "name": "$dir/leases.csv", "lfc-interval": 0 },
    "valid-lifetime": $valid, "renew-timer": $renew, "rebind-timer": $rebind,
    "authoritative": true,
    "subnet4": [ { "subnet": "${LAB_KEA4_SUBNET:-198.18.0.0/24}", "id": 1,
                   "pools": [ { "pool": "$pool" } ],
                   "option-data": [ { "name": "routers", "data": "$LAB_SERVER_IP4" },
                                    { "name": "domain-name-servers", "data": "$LAB_SERVER_IP4" },
                                    { "name": "domain-name", "data": "lab.test" } ] $extra } ],
    "loggers": [ { "name": "kea-dhcp4", "severity": "${LAB_KEA_SEVERITY:-DEBUG}", "debuglevel": 40,
                   "output_options": [ { "output": "$dir/log" } ] } ]
} }
JSON
  KEA_PIDFILE_DIR="$dir" KEA_LOCKFILE_DIR="$dir" \
    lab_bg ip netns exec "$LAB_SERVER_NS" kea-dhcp4 -c "$dir/kea.json" >> "$dir/stdout" 2>&1
  LAB_KEA4_PID=${LAB_PIDS[-1]}
  lab_wait 10 grep -q "DHCP4_STARTED" "$dir/log" || { lab_log "kea-dhcp4 did not start"; tail "$dir/log" >&2; return 1; }
}

lab_kea6() {  # valid renew rebind [pool]
  local valid=$1 renew=$2 rebind=$3 pool=${4:-fd00:18::100 - fd00:18::1ff}
  local dir="$LAB_DIR/kea6"
  mkdir -p "$dir"
  [ -f "$dir/log" ] && mv "$dir/log" "$dir/log.$(date +%s%N)"  # "started" must be this instance's
  cat > "$dir/kea.json" <<JSON
{ "Dhcp6": {
    "interfaces-config": { "interfaces": [ "lan0" ] },
    "lease-database": { "type": "memfile", "persist": true, "name": "$dir/leases.csv", "lfc-interval": 0 },
    "server-id": { "type": "LL", "persist": false },
    "preferred-lifetime": $valid, "valid-lifetime": $valid, "renew-timer": $renew, "rebind-timer": $rebind,
    "subnet6": [ { "subnet": "fd00:18::/64", "id": 1, "interface": "lan0", "rapid-commit": true,
                   "pools": [ { "pool": "$pool" } ],
                   "option-data": [ { "name": "dns-servers", "data": "$LAB_SERVER_IP6" },
                                    { "name": "domain-search", "data": "lab.test" } ] } ],
    "loggers": [ { "name": "kea-dhcp6", "severity": "DEBUG", "debuglevel": 40,
                   "output_options": [ { "output": "$dir/log" } ] } ]
} }
JSON
  KEA_PIDFILE_DIR="$dir" KEA_LOCKFILE_DIR="$dir" \
    lab_bg ip netns exec "$LAB_SERVER_NS" kea-dhcp6 -c "$dir/kea.json" >> "$dir/stdout" 2>&1
  LAB_KEA6_PID=${LAB_PIDS[-1]}
  lab_wait 10 grep -q "DHCP6_STARTED" "$dir/log" || { lab_log "kea-dhcp6 did not start"; tail "$dir/log" >&2; return 1; }
}

# Drops unicast DHCP to the server as it crosses the bridge (iptables sees bridged frames
# through br_netfilter). Broadcasts still pass, so clients in RENEWING fail and in REBINDING
# succeed. Kea's packet socket sees frames before the server namespace's own iptables would,
# hence the bridge. Returns 1 when bridged frames do not reach iptables here.
lab_block_unicast_to_server() {
  [ "$(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null)" = 1 ] || return 1
  iptables -I FORWARD 1 -i "$LAB_BRIDGE" -p udp -d "$LAB_SERVER_IP4" --dport 67 -j DROP
}
lab_unblock_unicast_to_server() {
  iptables -D FORWARD -i "$LAB_BRIDGE" -p udp -d "$LAB_SERVER_IP4" --dport 67 -j DROP 2>/dev/null || true
}

# A second LAN: bridge ndbr<ID>b, its own server namespace and dnsmasq on 198.18.1.0/24.
LAB_BRIDGE2="ndbr${LAB_ID}b"
lab_second_lan() {
  local ns="nd-srv2-$LAB_ID" dir="$LAB_DIR/dnsmasq2"
  ip link add "$LAB_BRIDGE2" type bridge
  ip link set "$LAB_BRIDGE2" type bridge forward_delay 0 stp_state 0 mcast_snooping 0
  ip link set "$LAB_BRIDGE2" up
  iptables -I FORWARD -i "$LAB_BRIDGE2" -j ACCEPT && LAB_IPT_RULES+=("iptables -D FORWARD -i $LAB_BRIDGE2 -j ACCEPT")
  ip netns add "$ns"
  LAB_CLIENT_NS+=("$ns")
  ip link add "ndv${LAB_ID}t" type veth peer name lan0 netns "$ns"
  ip link set "ndv${LAB_ID}t" master "$LAB_BRIDGE2" up
  ip -n "$ns" link set lo up
  ip -n "$ns" link set lan0 up
  ip -n "$ns" addr add 198.18.1.1/24 dev lan0
  mkdir -p "$dir"
  : > "$dir/leases"
  lab_bg ip netns exec "$ns" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --user=root --group=root \
    --interface=lan0 --bind-interfaces --pid-file="$dir/pid" --dhcp-leasefile="$dir/leases" --log-dhcp \
    --log-facility="$dir/log" --dhcp-authoritative --no-ping --dhcp-option=option:router,198.18.1.1 \
    --dhcp-range=198.18.1.100,198.18.1.199,255.255.255.0,2m
  lab_wait 5 grep -q "DHCP" "$dir/log"
}

lab_down() {
  local pid ns rule
  for pid in "${LAB_PIDS[@]}"; do lab_stop "$pid"; done
  LAB_PIDS=()
  lab_unblock_unicast_to_server
  for rule in "${LAB_IPT_RULES[@]}"; do $rule 2>/dev/null; done
  LAB_IPT_RULES=()
  for ns in "${LAB_CLIENT_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  LAB_CLIENT_NS=()
  [ -n "$LAB_SERVER_NS" ] && ip netns del "$LAB_SERVER_NS" 2>/dev/null
  ip link del "$LAB_BRIDGE" 2>/dev/null
  ip link del "$LAB_BRIDGE2" 2>/dev/null
  local mounted kept
  for mounted in "${LAB_MOUNTS[@]}"; do
    if [ -n "${LAB_KEEP:-}" ]; then  # what was on the tmpfs stays readable after it
      kept=$(mktemp -d) && cp -a "$mounted/." "$kept/" 2>/dev/null
    fi
    umount "$mounted" 2>/dev/null || umount -l "$mounted" 2>/dev/null
    [ -n "${kept:-}" ] && { cp -a "$kept/." "$mounted/" 2>/dev/null; rm -rf "$kept"; }
  done
  LAB_MOUNTS=()
  [ -n "$LAB_DIR" ] && [ -z "${LAB_KEEP:-}" ] && rm -rf "$LAB_DIR"
  return 0
}
