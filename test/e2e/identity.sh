#!/usr/bin/env bash
# End to end, issue 13: a stable identity per container (the endpoint options identity= and
# hostname=). Real dockerd, `net-dhcp serve`, dnsmasq, then Kea, in the lab's namespaces.
# The options reach CreateEndpoint as users give them: docker run --network name=N,driver-opt=K=V
# (CLI 19.03+, both engines), `docker network connect --driver-opt` and Compose v2 driver_opts. Checks: the same identity re-created
# three times gets the same address (dnsmasq, Kea, IPv6), with the MAC and client id the unit
# tests pin; another identity another address; `docker compose up --force-recreate` keeps the
# address; hostname= is in the server's lease from the first exchange and wins over the
# container's; a duplicate identity is refused with its reason; --mac-address with identity;
# kill -9 and re-adoption keep the identity; bad options are refused and the daemon carries on.
# Prints "identity: N passed, M failed".
# Usage: test/e2e/identity.sh [net-dhcp]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(realpath "${1:-$top/build/src/net-dhcp}")
. "$top/test/lib/e2e.sh"

DRIVER="ndid-$LAB_ID"
SOCKET=/run/docker/plugins/$DRIVER.sock
PROJECT="ndid$LAB_ID"
DAEMON_PID=""

id_down() {
  [ -f "$LAB_DIR/compose.yml" ] && compose_cmd -p "$PROJECT" -f "$LAB_DIR/compose.yml" down -t 1 >/dev/null 2>&1
  e2e_remove_labelled
  for n in $(docker network ls -q --filter "driver=$DRIVER" 2>/dev/null); do docker network rm "$n" >/dev/null 2>&1; done
  [ -n "$DAEMON_PID" ] && lab_stop "$DAEMON_PID"
  e2e_finish
}
e2e_start id_down

start_daemon() {
  "$BIN" serve --socket "$SOCKET" --state-dir "$LAB_DIR/state" --log-level debug >> "$LAB_DIR/daemon.log" 2>&1 &
  DAEMON_PID=$!
  LAB_PIDS+=($!)
  disown "$DAEMON_PID"  # no "Killed" notes from bash after kill -9
  lab_wait 5 test -S "$SOCKET" || { echo "# the daemon did not start:"; tail -20 "$LAB_DIR/daemon.log" | sed 's/^/#   /'; exit 1; }
}
kill_daemon() {
  kill -9 "$DAEMON_PID"
  lab_wait 5 bash -c "! kill -0 $DAEMON_PID 2>/dev/null"
  DAEMON_PID=""
  rm -f "$SOCKET"
}
quiet() { "$@" > /dev/null 2>&1; }
ipv4_of() { awk '/inet / && $NF == "eth0" {split($2, a, "/"); print a[1]; exit}'; }
ipv6_of() { awk '/inet6 fd00:18::/ {split($2, a, "/"); print a[1]; exit}'; }
status_json() { "$BIN" status --socket "$SOCKET" --json; }
ENGINE_MAJOR=$(engine_major)
# `docker run --network name=N,driver-opt=K=V` is in the CLI since 19.03 (it lowercases K and V);
# mac-address= inside it needs Docker 25+ (a MAC per network), older engines take --mac-address.
per_network_mac() { [ "${ENGINE_MAJOR:-0}" -ge 25 ] 2>/dev/null; }

# Starts a detached container NAME on NETWORK with endpoint options OPTS (K=V,K=V), through
# `docker run --network name=...,driver-opt=...`. Extra docker run arguments follow.
start_with() {  # name network opts [docker-run-args...]
  local name=$1 network=$2 opts=$3 spec o
  shift 3
  spec="name=$network"
  IFS=, read -ra o <<< "$opts"
  for kv in "${o[@]}"; do
    case $kv in
      mac-address=*) if per_network_mac; then spec+=",$kv"; else set -- "$@" --mac-address "${kv#mac-address=}"; fi ;;
      *) spec+=",driver-opt=$kv" ;;
    esac
  done
  docker run -d --label "$LABEL" --name "$name" --network "$spec" "$@" "$BUSYBOX_IMAGE" sleep 600
}
connect_with() {  # name network opts [docker-create-args...]: the network connect way
  local name=$1 network=$2 opts=$3 args=() o
  shift 3
  IFS=, read -ra o <<< "$opts"
  for kv in "${o[@]}"; do args+=(--driver-opt "$kv"); done
  # Created on the network (so that a --mac-address given applies to it, as on docker run), then
  # connected again with the options: a created container's network settings are only config.
  docker create --label "$LABEL" --name "$name" --network "$network" "$@" "$BUSYBOX_IMAGE" sleep 600 >/dev/null || return 1
  docker network disconnect "$network" "$name" >/dev/null || return 1
  docker network connect "${args[@]}" "$network" "$name" || return 1
  docker start "$name"
}
address_of() {  # container: its eth0's IPv4 address, once it has one
  lab_wait 10 bash -c "docker exec $1 ip addr show eth0 2>/dev/null | grep -q 'inet 198.18.0.'" || return 1
  docker exec "$1" ip addr show eth0 | ipv4_of
}
mac_of() { docker exec "$1" cat /sys/class/net/eth0/address; }
gone() { docker rm -f "$1" >/dev/null 2>&1; }
# The endpoint of `container` in net-dhcp's status: FIELD (dotted path) printed.
endpoint_field() {  # container field
  status_json | python3 -c '
import json, sys
cid, path = sys.argv[1], sys.argv[2].split(".")
for n in json.load(sys.stdin)["networks"]:
    for e in n["endpoints"]:
        if e["container_id"].startswith(cid):
            v = e
            for p in path: v = v[p]
            print(v); sys.exit(0)
sys.exit(1)' "$1" "$2"
}
# What the unit tests pin for identity=web and identity=db (test/unit/test_client_identity.cpp).
WEB_MAC=02:c2:d8:1f:05:ef
WEB_CLIENT_ID=ff:e1:e4:b0:a1:00:04:87:4b:8c:6a:66:af:8c:cb:ba:c6:6c:92:62:18:25:c4
DB_MAC=02:30:ee:3a:18:12  # identity=db-1

lab_dnsmasq --dhcp-range=198.18.0.100,198.18.0.199,255.255.255.0,2m --no-ping \
  --dhcp-range=fd00:18::100,fd00:18::1ff,64,2m --enable-ra --dhcp-host=02:00:00:00:05:01,198.18.0.60
LEASES=$LAB_DIR/dnsmasq/leases
start_daemon
echo "# engine: $(engine_name), driver $DRIVER, bridge $LAB_BRIDGE"
docker network create --label "$LABEL" -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE" -o ipv6=true \
  -o lease_timeout=8s ndid >/dev/null
SECTION_START=$(date +%s)
section() { echo "# --- $* (at $(( $(date +%s) - SECTION_START )) s)"; }

# --- the same identity, three times -------------------------------------------------------
section "re-created with identity=web (dnsmasq)"
addrs=() addrs6=() macs=()
for i in 1 2 3; do
  start_with "web$i" ndid identity=web > /dev/null
  addrs+=("$(address_of "web$i")")
  lab_wait 10 bash -c "docker exec web$i ip -6 addr show eth0 | grep -q 'inet6 fd00:18::'"
  addrs6+=("$(docker exec "web$i" ip -6 addr show eth0 | ipv6_of)")
  macs+=("$(mac_of "web$i")")
  [ "$i" = 1 ] && { endpoint_field "$(docker inspect -f '{{.Id}}' web1)" identity > "$OUT/status-identity"; grep -i " ${addrs[0]} " "$LEASES" > "$OUT/lease-web1"; }
  gone "web$i"
  lab_wait 5 bash -c "! grep -q ' ${addrs[-1]} ' '$LEASES'"  # released before the next one asks
done
echo "# identity=web got ${addrs[*]} / ${addrs6[*]} with MACs ${macs[*]}"
check "identity: re-created 3 times, the same IPv4 address each time" \
  bash -c "[[ '${addrs[0]}' == 198.18.0.* ]] && [ '${addrs[0]}' = '${addrs[1]}' ] && [ '${addrs[1]}' = '${addrs[2]}' ]"
check "identity: re-created 3 times, the same IPv6 address each time (the identity's DUID and IAID)" \
  bash -c "[[ '${addrs6[0]}' == fd00:18::* ]] && [ '${addrs6[0]}' = '${addrs6[1]}' ] && [ '${addrs6[1]}' = '${addrs6[2]}' ]"
check "identity: the MAC is the identity's, as the unit tests pin it ($WEB_MAC)" \
  bash -c "[ '${macs[0]}' = $WEB_MAC ] && [ '${macs[1]}' = $WEB_MAC ] && [ '${macs[2]}' = $WEB_MAC ]"
check "identity: the server's lease has the identity's client id (RFC 4361 type 255)" grep -qi " $WEB_CLIENT_ID\$" "$OUT/lease-web1"
check "identity: status shows identity web" grep -qx web "$OUT/status-identity"
start_with db1 ndid identity=db-1 > /dev/null
db_addr=$(address_of db1)
check "identity: another identity gets another address and its own MAC" \
  bash -c "[[ '$db_addr' == 198.18.0.* ]] && [ '$db_addr' != '${addrs[0]}' ] && [ '$(mac_of db1)' = $DB_MAC ]"
gone db1
# docker network connect --driver-opt: on every engine (on 20.10 it is what start_with did).
connect_with webc ndid identity=web > /dev/null
check "identity: docker network connect --driver-opt identity=web gets the same address" \
  bash -c "[ '$(address_of webc)' = '${addrs[0]}' ]"

# --- one running container per identity ---------------------------------------------------
section "a duplicate identity"
start_with webdup ndid identity=web > "$OUT/dup" 2>&1
rc=$?
check "identity: a second running container with identity=web is refused, saying why" \
  bash -c "[ $rc -ne 0 ] && grep -q 'identity=web is already in use by endpoint' '$OUT/dup' &&
    grep -q 'one running container per identity per LAN' '$OUT/dup'"
[ $rc -ne 0 ] || sed 's/^/#   /' "$OUT/dup"
check "identity: ... and the first one keeps its address" bash -c "[ '$(docker exec webc ip addr show eth0 | ipv4_of)' = '${addrs[0]}' ]"
gone webdup
gone webc
start_with webafter ndid identity=web > /dev/null
check "identity: free again once the first container is gone" bash -c "[ '$(address_of webafter)' = '${addrs[0]}' ]"
gone webafter

# --- hostname= ----------------------------------------------------------------------------
section "hostname="
mark=$(wc -l < "$LAB_DIR/dnsmasq/log")
start_with named ndid identity=named,hostname=web-7 --hostname container-7 > /dev/null
named_addr=$(address_of named)
# With hostname= the daemon never renews to send the container's name: the only DHCPREQUEST
# is the first exchange's, so a name in the lease came with it.
check "hostname=: in the server's lease from the first exchange" \
  lab_wait 5 bash -c "grep -q ' $named_addr web-7 ' '$LEASES' &&
    [ \$(tail -n +$((mark + 1)) '$LAB_DIR/dnsmasq/log' | grep -c 'DHCPREQUEST(lan0) $named_addr ') -eq 1 ]"
named_status=$(endpoint_field "$(docker inspect -f '{{.Id}}' named)" hostname)
check "hostname=: wins over the container's own hostname (status and server)" \
  bash -c "[ '$named_status' = web-7 ] && ! grep -q container-7 '$LEASES'"
gone named

# --- --mac-address with identity ------------------------------------------------------------
section "--mac-address with identity"
start_with fixedmac ndid identity=web,mac-address=02:00:00:00:05:01 > "$OUT/fixedmac" 2>&1 ||
  sed 's/^/#   /' "$OUT/fixedmac"
fixed_addr=$(address_of fixedmac)
check "--mac-address with identity=: the frames carry Docker's MAC, the reservation for it holds" \
  bash -c "[ '$(mac_of fixedmac)' = 02:00:00:00:05:01 ] && [ '$fixed_addr' = 198.18.0.60 ]"
check "--mac-address with identity=: the client id is the identity's" grep -qi " 198.18.0.60 .* $WEB_CLIENT_ID\$" "$LEASES"
gone fixedmac

# --- bad options --------------------------------------------------------------------------
section "bad endpoint options"
start_with bad1 ndid identiy=web > "$OUT/bad1" 2>&1
check "bad option: unknown endpoint option named, with the known ones" \
  grep -q "unknown endpoint option identiy; net-dhcp's endpoint options are: identity, hostname" "$OUT/bad1"
gone bad1
start_with bad2 ndid "identity=$(printf 'x%.0s' $(seq 70))" > "$OUT/bad2" 2>&1
check "bad option: an identity over 64 bytes" grep -q "has 70 bytes, more than 64: use a shorter name" "$OUT/bad2"
gone bad2
# (the links are removed off the event loop: waited for; only this bridge's ports count)
check "bad option: nothing left behind (no endpoint in status, no link on the bridge)" \
  lab_wait 5 bash -c "[ \"\$('$BIN' status --socket '$SOCKET' --json | python3 -c 'import json,sys; print(sum(len(n[\"endpoints\"]) for n in json.load(sys.stdin)[\"networks\"]))')\" = 0 ] &&
    ! ip -o link show master '$LAB_BRIDGE' | grep -q ' dh-'"

# --- kill -9: re-adoption keeps the identity ------------------------------------------------
section "kill -9 and re-adoption"
start_with keep ndid identity=web > /dev/null
keep_addr=$(address_of keep)
keep_id=$(docker inspect -f '{{.Id}}' keep)
kill_daemon
start_daemon
readopted() { [ "$(endpoint_field "$keep_id" identity 2>/dev/null)" = web ] && [ "$(endpoint_field "$keep_id" ipv4.state)" = bound ]; }
check "re-adoption: the endpoint keeps identity=web in status" lab_wait 10 readopted
start_with keep2 ndid identity=web > "$OUT/keep2" 2>&1
rc=$?
check "re-adoption: a duplicate is still refused" bash -c "[ $rc -ne 0 ] && grep -q 'identity=web is already in use' '$OUT/keep2'"
gone keep2
gone keep
start_with keepagain ndid identity=web > /dev/null
check "re-adoption: re-created after the restart, the same address again" bash -c "[ '$(address_of keepagain)' = '$keep_addr' ]"
gone keepagain

# --- Compose v2: driver_opts under the service's network, up --force-recreate ----------------
section "compose --force-recreate"
compose_version=$(compose_cmd version --short 2>/dev/null)
if [[ "$compose_version" == 2.* || "$compose_version" == v2.* ]]; then
  cat > "$LAB_DIR/compose.yml" <<YAML
services:
  web:
    image: $BUSYBOX_IMAGE
    command: sleep 600
    stop_grace_period: 1s
    labels: ["$LABEL"]
    networks:
      lan:
        driver_opts:
          identity: compose-web
networks:
  lan:
    external: true
    name: ndid
YAML
  compose() { compose_cmd -p "$PROJECT" -f "$LAB_DIR/compose.yml" "$@"; }
  compose up -d > "$OUT/compose" 2>&1 || sed 's/^/#   /' "$OUT/compose"
  first=$(address_of "$(compose ps -q web)")
  compose up -d --force-recreate > "$OUT/compose2" 2>&1 || sed 's/^/#   /' "$OUT/compose2"
  second=$(address_of "$(compose ps -q web)")
  compose up -d --force-recreate > "$OUT/compose3" 2>&1 || sed 's/^/#   /' "$OUT/compose3"
  third=$(address_of "$(compose ps -q web)")
  echo "# compose $compose_version: $first, $second, $third"
  check "compose: driver_opts identity keeps the address through up --force-recreate (twice)" \
    bash -c "[[ '$first' == 198.18.0.* ]] && [ '$first' = '$second' ] && [ '$second' = '$third' ]"
  compose down -t 1 > /dev/null 2>&1
else
  ok "compose: driver_opts identity through up --force-recreate # SKIP docker-compose $compose_version (v1) has no driver_opts under a service's network (tested with Compose v2 on the current engine)"
fi

# --- Kea: the same identity, three times ---------------------------------------------------
section "re-created with identity=web (Kea)"
lab_stop "$LAB_DNSMASQ_PID"
lab_kea4 60 30 45
KEA4=$LAB_DIR/kea4/leases.csv
docker network create --label "$LABEL" -d "$DRIVER" --ipam-driver null -o bridge="$LAB_BRIDGE" -o lease_timeout=8s ndidk >/dev/null
kaddrs=()
for i in 1 2 3; do
  start_with "kweb$i" ndidk identity=web > /dev/null
  kaddrs+=("$(address_of "kweb$i")")
  gone "kweb$i"
done
start_with kdb ndidk identity=db-1 > /dev/null
kdb_addr=$(address_of kdb)
gone kdb
# An identity Kea has never seen: its first address comes from Kea's iterative allocator.
# Re-created, Kea (which deleted the released lease: no DHCP4_LEASE_ADVERT for an old lease)
# would hand out the next one, but the daemon asks for the last (option 50 in the DISCOVER).
start_with kfresh1 ndidk identity=kea-only > /dev/null
fresh1=$(address_of kfresh1)
gone kfresh1
check "kea: the released lease is gone at Kea (DHCP4_RELEASE)" lab_wait 5 grep -q "DHCP4_RELEASE .*address $fresh1 was released" "$LAB_DIR/kea4/log"
start_with kfresh2 ndidk identity=kea-only > /dev/null
fresh2=$(address_of kfresh2)
gone kfresh2
echo "# Kea: identity=web got ${kaddrs[*]}, identity=db-1 $kdb_addr, identity=kea-only $fresh1 then $fresh2"
check "kea: identity re-created 3 times, the same address each time" \
  bash -c "[[ '${kaddrs[0]}' == 198.18.0.* ]] && [ '${kaddrs[0]}' = '${kaddrs[1]}' ] && [ '${kaddrs[1]}' = '${kaddrs[2]}' ]"
check "kea: its lease has the identity's MAC and client id" grep -qi "^${kaddrs[0]},$WEB_MAC,$WEB_CLIENT_ID," "$KEA4"
check "kea: another identity, another address" bash -c "[[ '$kdb_addr' == 198.18.0.* ]] && [ '$kdb_addr' != '${kaddrs[0]}' ]"
check "kea: a new identity, re-created after Kea dropped its released lease, asks for and gets its address again" \
  bash -c "[[ '$fresh1' == 198.18.0.* ]] && [ '$fresh1' = '$fresh2' ]"
check "the daemon is still running" kill -0 "$DAEMON_PID"

echo "identity: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
