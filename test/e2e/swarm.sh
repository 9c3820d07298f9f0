#!/usr/bin/env bash
# End to end, issue 15: swarm services on a net-dhcp network across three Docker nodes, on the
# current engine (Debian unstable's docker.io 28). Each node is its own dockerd in a network,
# mount and UTS namespace of its own (test/lib/nodes.sh), joined to the lab LAN by a veth that
# is a port of the node's own bridge (br0 on n1 and n2, lan1 on n3: the config-only network
# names it per node). dnsmasq is the LAN's DHCP server and Debian's docker-registry the
# cluster's registry, both in the lab's server namespace (198.18.0.1).
#
# The flow is the README's ("Several hosts"): the plugin pushed to the registry and installed
# from it on every node; swarm init and join; a config-only network per node and one swarm
# network from it; services with --endpoint-mode dnsrr. Checks: a node lacking the plugin or the
# config-only network (Docker's error for each), a global service (one lease per node, with that
# node's endpoint MAC), scaling down (leases released), draining a node (tasks move, old leases
# released, new ones taken), a node's power cut (its task rescheduled; its leases left to expire
# at the server, released by its plugin when it is back), identity= keeping the address of a task that moves between nodes, templates
# in driver options (not expanded by Docker: refused), docker stack deploy, docker plugin
# upgrade with a task running (the state survives), and a kill -9 of one node's dockerd alone
# (its containers and plugin live on, holding their leases, while swarm replaces its tasks). Prints "swarm: N passed, M failed".
# Usage: test/e2e/swarm.sh [net-dhcp]   (root; the binary only for `net-dhcp status`: the nodes
#        run the plugin built by scripts/package plugin-dir from this checkout)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export NET_DHCP_ENGINE=current
. "$top/scripts/lib/common.sh"
. "$top/scripts/lib/docker.sh"
. "$top/test/interop/lab.sh"
. "$top/test/lib/checks.sh"
. "$top/test/lib/nodes.sh"
BIN=$(realpath "${1:-$top/build/src/net-dhcp}")

REGISTRY=198.18.0.1:5000
PLUGIN_REF=$REGISTRY/net-dhcp:test
IMAGE=$REGISTRY/busybox:test
DOCKERD_ARGS=(--insecure-registry "$REGISTRY" --default-address-pool base=198.19.32.0/19,size=24)

swarm_down() {
  local n
  for n in "${NODE_NAMES[@]}"; do
    nd "$n" service rm $(nd "$n" service ls -q 2>/dev/null) >/dev/null 2>&1
    nd "$n" swarm leave -f >/dev/null 2>&1
  done
  nodes_down
  lab_down
}
trap swarm_down EXIT
need_root "test/e2e/swarm.sh"
ensure_packages "${LAB_PACKAGES[@]}" "${SWARM_PACKAGES[@]}"
current_engine_ensure_root || { echo "not ok - the current engine could not be made"; echo "swarm: 0 passed, 1 failed"; exit 1; }
lab_up
trap swarm_down EXIT
OUT=$LAB_DIR/out
mkdir -p "$OUT"
# Checks run their conditions in `bash -c`: what they use is exported.
export LAB_DIR DOCKER OUT BIN PLUGIN_REF
export -f nd
wait_for() { lab_wait "$1" bash -c "$2"; }  # seconds condition
echo "# engine: $(engine_name), 3 nodes"

# --- the LAN: its DHCP server and the cluster's registry -------------------------------------
lab_dnsmasq --dhcp-range=198.18.0.100,198.18.0.199,255.255.255.0,2m --no-ping
LEASES=$LAB_DIR/dnsmasq/leases
export LEASES
cat > "$LAB_DIR/registry.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $LAB_DIR/registry
http:
  addr: $REGISTRY
YAML
lab_bg ip netns exec "$LAB_SERVER_NS" docker-registry serve "$LAB_DIR/registry.yml" > "$LAB_DIR/registry.log" 2>&1
require "the registry answers at $REGISTRY" \
  lab_wait 10 ip netns exec "$LAB_SERVER_NS" bash -c "exec 3<>/dev/tcp/${REGISTRY%:*}/${REGISTRY#*:}"

# --- three nodes ------------------------------------------------------------------------------
node_up n1 198.18.0.21 br0 --bip 198.19.11.1/24 "${DOCKERD_ARGS[@]}"
node_up n2 198.18.0.22 br0 --bip 198.19.12.1/24 "${DOCKERD_ARGS[@]}"
node_up n3 198.18.0.23 lan1 --bip 198.19.13.1/24 "${DOCKERD_ARGS[@]}"
nodes_answer() { node_wait n1 && node_wait n2 && node_wait n3 && [ "$(nd n3 info -f '{{.Name}}')" = n3 ]; }
check "3 Docker nodes answer, each in namespaces of its own (hostnames n1 n2 n3)" nodes_answer
# Docker's FORWARD policy DROP and br_netfilter, inside each node: accept the node's own bridge.
ip netns exec "${NODE_NS[n1]}" iptables -I FORWARD -i br0 -j ACCEPT
ip netns exec "${NODE_NS[n2]}" iptables -I FORWARD -i br0 -j ACCEPT
ip netns exec "${NODE_NS[n3]}" iptables -I FORWARD -i lan1 -j ACCEPT

# --- the registry flow: image and plugin pushed once, installed on every node ----------------
DOCKER_HOST="unix://${NODE_DIR[n1]}/run/docker.sock" ensure_busybox_image
nd n1 tag "$BUSYBOX_IMAGE" "$IMAGE"
check "registry: the test image pushed from n1" bash -c "nd n1 push '$IMAGE' > '$OUT/push' 2>&1"
plugin_dir=$("$top/scripts/package" plugin-dir 2> "$OUT/plugin-dir" | tail -1)
nd n1 plugin create "$PLUGIN_REF" "$plugin_dir" > "$OUT/plugin-create" 2>&1
check "registry: docker plugin create and push (scripts/package plugin-dir)" \
  bash -c "nd n1 plugin push '$PLUGIN_REF' > '$OUT/plugin-push' 2>&1"
nd n1 plugin rm -f "$PLUGIN_REF" > /dev/null  # n1 installs it from the registry like the others
install_plugin() {  # node
  nd "$1" plugin install --grant-all-permissions --alias net-dhcp "$PLUGIN_REF" > "$OUT/install-$1" 2>&1 &&
    [ "$(nd "$1" plugin inspect -f '{{.Enabled}}' net-dhcp:latest 2>/dev/null)" = true ]
}
export -f install_plugin
check "n1 and n2: docker plugin install --alias net-dhcp from the registry (n3 later)" bash -c "
  install_plugin n1 && install_plugin n2"
nd n1 network create --config-only --ipam-driver null -o bridge=br0 lan-cfg > /dev/null
nd n2 network create --config-only --ipam-driver null -o bridge=br0 lan-cfg > /dev/null

# --- the swarm --------------------------------------------------------------------------------
nd n1 swarm init --advertise-addr 198.18.0.21 --listen-addr 198.18.0.21:2377 \
  --default-addr-pool 198.19.64.0/18 > "$OUT/init" 2>&1
token=$(nd n1 swarm join-token -q worker)
for n in n2 n3; do
  nd "$n" swarm join --token "$token" --advertise-addr "${NODE_ADDR[$n]}" --listen-addr "${NODE_ADDR[$n]}:2377" \
    198.18.0.21:2377 > "$OUT/join-$n" 2>&1
done
ready_nodes() { nd n1 node ls --format '{{.Hostname}} {{.Status}} {{.Availability}}' | grep -c " Ready Active$"; }
export -f ready_nodes
check "swarm: initialised on n1 over the test LAN, n2 and n3 joined, 3 nodes Ready" wait_for 30 '[ $(ready_nodes) -eq 3 ]'

nd n1 network create -d net-dhcp:latest --scope swarm --config-from lan-cfg -o bridge=br9 lan-bad > "$OUT/lan-bad" 2>&1
rc=$?
echo "# docker network create --config-from with -o: $(tail -1 "$OUT/lan-bad")"
check "swarm network: -o beside --config-from is refused by Docker (the options belong in the config-only network)" \
  bash -c "[ $rc -ne 0 ] && grep -q 'network driver options are not supported if the network depends on a configuration network' '$OUT/lan-bad'"
check "swarm network: docker network create -d net-dhcp:latest --scope swarm --config-from lan-cfg lan" \
  bash -c "nd n1 network create -d net-dhcp:latest --scope swarm --config-from lan-cfg lan > '$OUT/lan' 2>&1"

# --- helpers over the tasks -------------------------------------------------------------------
# "NODE MAC IP" of each running container of SERVICE on the given nodes.
task_addresses() {  # service node...
  local svc=$1 n c
  shift
  for n in "$@"; do
    for c in $(nd "$n" ps -q --filter "label=com.docker.swarm.service.name=$svc" 2>/dev/null); do
      nd "$n" exec "$c" ip addr show eth0 2>/dev/null |
        awk -v n="$n" '/link\/ether/ {mac=$2} /inet / && $NF == "eth0" {split($2, a, "/"); print n, mac, a[1]}'
    done
  done
}
running() { nd n1 service ps -f desired-state=running --format '{{.CurrentState}}' "$1" 2>/dev/null | grep -c '^Running'; }
# Task errors of SERVICE on NODE (Docker keeps the last few), one per line.
task_errors() { nd n1 service ps --no-trunc -f "node=$2" --format '{{.Error}}' "$1" 2>/dev/null | grep -v '^$'; }
in_leases() { grep -q " $1 $2 " "$LEASES"; }  # mac ip
leases_named() { grep -cE " $1 " "$LEASES"; }  # hostname regex
export -f task_addresses running task_errors in_leases leases_named

# --- a node lacking the plugin, then the config-only network: Docker's errors ------------------
nd n1 service create -d --mode global --network lan --endpoint-mode dnsrr --name g --hostname 'g-{{.Node.Hostname}}' \
  "$IMAGE" sleep 3600 > "$OUT/g" 2>&1
require "global service: running on n1 and n2" wait_for 60 '[ $(running g) -ge 2 ]'
wait_for 30 'task_errors g n3 | grep -q .'
echo "# n3 without the plugin: $(task_errors g n3 | head -1)"
check "a node without the plugin: the scheduler leaves its task pending: missing plugin on 1 node" \
  bash -c "task_errors g n3 | grep -qF 'missing plugin on 1 node'"
install_plugin n3
check "n3: docker plugin install from the registry" bash -c "[ \"\$(nd n3 plugin inspect -f '{{.Enabled}}' net-dhcp:latest)\" = true ]"
wait_for 30 'task_errors g n3 | head -1 | grep -q "lan-cfg"'
echo "# n3 without the config-only network: $(task_errors g n3 | head -1)"
check "a node without the config-only network: its task is rejected: configuration network \"lan-cfg\" does not exist" \
  bash -c "task_errors g n3 | head -1 | grep -qF 'configuration network \"lan-cfg\" does not exist'"
nd n3 network create --config-only --ipam-driver null -o bridge=lan1 lan-cfg > /dev/null

# --- a global service: one task and one lease per node ----------------------------------------
check "global service: n3 given its config-only network (bridge lan1), a task runs on each of the 3 nodes" \
  wait_for 60 '[ $(running g) -eq 3 ] && [ $(task_addresses g n1 n2 n3 | wc -l) -eq 3 ]'
task_addresses g n1 n2 n3 > "$OUT/g-addrs"
sed 's/^/# g: /' "$OUT/g-addrs"
check "global service: 3 distinct addresses from the server, each leased to that node's endpoint MAC, under the task's hostname" \
  bash -c "[ \$(awk '{print \$3}' '$OUT/g-addrs' | sort -u | grep -c '^198.18.0.') -eq 3 ] &&
    while read -r n mac ip; do grep -q \" \$mac \$ip g-\$n \" '$LEASES' || exit 1; done < '$OUT/g-addrs'"
g3=$(awk '$1 == "n3" {print $3}' "$OUT/g-addrs")
g1=$(nd n1 ps -q --filter label=com.docker.swarm.service.name=g | head -1)
check "global service: n1's task reaches n3's across the LAN (ping $g3)" \
  bash -c "nd n1 exec '$g1' ping -c 1 -W 2 '$g3' > /dev/null"

# --- a replicated service: scale up, scale down ----------------------------------------------
nd n1 service create -d --replicas 6 --network lan --endpoint-mode dnsrr --name r --hostname 'r-{{.Task.Slot}}' \
  "$IMAGE" sleep 3600 > "$OUT/r" 2>&1
check "replicated service: 6 tasks across the nodes, 6 leases (hostnames r-1 to r-6)" \
  wait_for 60 '[ $(running r) -eq 6 ] && [ $(leases_named "r-[1-6]") -eq 6 ]'
task_addresses r n1 n2 n3 > "$OUT/r6"
echo "# r on nodes: $(awk '{print $1}' "$OUT/r6" | sort | uniq -c | tr -s ' ' | tr '\n' ' ')"
nd n1 service scale -d r=3 > /dev/null
check "scaled down to 3: the 3 removed tasks' leases are released" \
  wait_for 30 '[ $(running r) -eq 3 ] && [ $(leases_named "r-[1-6]") -eq 3 ]'

# --- draining a node ---------------------------------------------------------------------------
task_addresses r n1 n2 n3 > "$OUT/r3"
task_addresses g n3 >> "$OUT/r3-n3"
awk '$1 == "n3"' "$OUT/r3" >> "$OUT/r3-n3"
echo "# before draining n3: $(awk '{print $1}' "$OUT/r3" | sort | uniq -c | tr -s ' ' | tr '\n' ' ')"
require "n3 runs a task of r and one of g before it is drained" bash -c "[ \$(wc -l < '$OUT/r3-n3') -ge 2 ]"
nd n1 node update --availability drain n3 > /dev/null
check "n3 drained: no task of r or g left on it, r back at 3 tasks elsewhere" \
  wait_for 60 '[ $(task_addresses r n3 | wc -l) -eq 0 ] && [ $(task_addresses g n3 | wc -l) -eq 0 ] && [ $(running r) -eq 3 ] && [ $(task_addresses r n1 n2 | wc -l) -eq 3 ]'
check "n3 drained: the leases of its tasks are released at the server" \
  bash -c "while read -r n mac ip; do ! grep -q \" \$mac \$ip \" '$LEASES' || exit 1; done < '$OUT/r3-n3'"
task_addresses r n1 n2 > "$OUT/r-drained"
check "n3 drained: r's moved task has a lease of its own on its new node" \
  bash -c "[ \$(wc -l < '$OUT/r-drained') -eq 3 ] && while read -r n mac ip; do grep -q \" \$mac \$ip \" '$LEASES' || exit 1; done < '$OUT/r-drained'"
nd n1 node update --availability active n3 > /dev/null
require "n3 active again: g runs there" wait_for 60 '[ $(task_addresses g n3 | wc -l) -eq 1 ]'

# --- a node's power cut ------------------------------------------------------------------------
task_addresses r n2 > "$OUT/r-n2"
task_addresses g n2 >> "$OUT/r-n2"
require "n2 runs tasks before its power cut" bash -c "[ \$(wc -l < '$OUT/r-n2') -ge 2 ]"
cut_at=$(date +%s)
node_kill n2
check "n2's power cut: the manager marks it Down" wait_for 90 \
  'nd n1 node ls --format "{{.Hostname}} {{.Status}}" | grep -q "^n2 Down"'
check "n2's power cut: its task of r is rescheduled on n1 or n3, with a new lease" \
  wait_for 60 '[ $(task_addresses r n1 n3 | wc -l) -eq 3 ] && task_addresses r n1 n3 | while read -r n mac ip; do in_leases $mac $ip || exit 1; done'
echo "# n2 cut: its task of r ran again elsewhere after $(( $(date +%s) - cut_at )) s"
check "n2's power cut: its leases stay at the server (nobody released them): they expire at the lease's end" \
  bash -c "while read -r n mac ip; do grep -q \" \$mac \$ip \" '$LEASES' || exit 1; done < '$OUT/r-n2'"
node_start n2
require "n2 restarted (its /run emptied, as by a reboot)" node_wait n2
check "n2 back: its plugin finds its containers gone and releases the leases they held" \
  wait_for 60 "while read -r n mac ip; do ! grep -q \" \$mac \$ip \" '$LEASES' || exit 1; done < '$OUT/r-n2'"
check "n2 back: it rejoins the swarm, and the global service runs there again with a lease" \
  wait_for 60 '[ $(task_addresses g n2 | wc -l) -eq 1 ] && task_addresses g n2 | while read -r n mac ip; do in_leases $mac $ip || exit 1; done'

# --- identity: a task that moves keeps its address ---------------------------------------------
nd n1 service create -d --replicas 1 --network name=lan,driver-opt=identity=db --endpoint-mode dnsrr --name db \
  --hostname db --constraint node.hostname==n1 "$IMAGE" sleep 3600 > "$OUT/db" 2>&1
wait_for 60 '[ $(task_addresses db n1 | wc -l) -eq 1 ]'
db_before=$(task_addresses db n1)
echo "# db on n1: $db_before"
nd n1 service update -d --constraint-rm node.hostname==n1 --constraint-add node.hostname==n3 db > /dev/null
wait_for 60 '[ $(task_addresses db n1 | wc -l) -eq 0 ] && [ $(task_addresses db n3 | wc -l) -eq 1 ]'
db_after=$(task_addresses db n3)
echo "# db on n3: $db_after"
check "identity=db: the task moved from n1 to n3 has the same MAC and the same address" \
  bash -c "[ -n '$db_before' ] && [ '${db_before#n1 }' = '${db_after#n3 }' ]"
nd n1 service create -d --replicas 2 --network 'name=lan,driver-opt=identity=web-{{.Task.Slot}}' --endpoint-mode dnsrr \
  --name tpl "$IMAGE" sleep 3600 > "$OUT/tpl" 2>&1
wait_for 30 'nd n1 service ps --no-trunc --format "{{.Error}}" tpl | grep -q "holds a template"'
echo "# the service's driver options as Docker keeps them: $(nd n1 service inspect -f '{{json .Spec.TaskTemplate.Networks}}' tpl)"
echo "# its tasks: $(nd n1 service ps --no-trunc --format '{{.Error}}' tpl | grep -m1 -o 'endpoint option.*')"
check "identity={{.Task.Slot}} templates: Docker does not expand them (and the CLI lowercases the value): refused, naming why" \
  bash -c "nd n1 service ps --no-trunc --format '{{.Error}}' tpl | grep -q 'identity=\"web-{{.task.slot}}\" holds a template, which Docker does not expand'"
nd n1 service rm tpl db > /dev/null

# --- docker stack deploy with the swarm network as external -----------------------------------
cat > "$OUT/stack.yml" <<YAML
services:
  web:
    image: $IMAGE
    command: ["sleep", "3600"]
    hostname: "st-{{.Task.Slot}}"
    networks: [lan]
    deploy:
      replicas: 2
      endpoint_mode: dnsrr
networks:
  lan:
    external: true
YAML
nd n1 stack deploy -c "$OUT/stack.yml" st > "$OUT/stack" 2>&1
check "docker stack deploy: 2 tasks on the external net-dhcp network, 2 leases" \
  wait_for 60 '[ $(running st_web) -eq 2 ] && [ $(leases_named "st-[12]") -eq 2 ]'
nd n1 stack rm st > /dev/null 2>&1
check "docker stack rm: both leases released" wait_for 30 '[ $(leases_named "st-[12]") -eq 0 ]'

# --- docker plugin upgrade with a task running --------------------------------------------------
cp -a "$plugin_dir" "$OUT/plugin-v2"
echo "upgraded" > "$OUT/plugin-v2/rootfs/etc/net-dhcp-test-release"
nd n1 plugin create "$REGISTRY/net-dhcp:v2" "$OUT/plugin-v2" > /dev/null 2>&1 &&
  nd n1 plugin push "$REGISTRY/net-dhcp:v2" > "$OUT/push-v2" 2>&1
nd n1 plugin rm -f "$REGISTRY/net-dhcp:v2" > /dev/null 2>&1
g_n3=$(task_addresses g n3)
plugin_status() { "$BIN" status --socket "$LAB_DIR/nodes/n3/run/docker/plugins/$(nd n3 plugin inspect -f '{{.Id}}' net-dhcp:latest)/net-dhcp.sock"; }
export -f plugin_status
nd n3 plugin disable -f net-dhcp:latest > /dev/null
nd n3 plugin upgrade --grant-all-permissions --skip-remote-check net-dhcp:latest "$REGISTRY/net-dhcp:v2" > "$OUT/upgrade" 2>&1
nd n3 plugin enable net-dhcp:latest > /dev/null
check "docker plugin upgrade on n3 (disable -f, upgrade, enable): now the v2 plugin" \
  bash -c "[ \"\$(nd n3 plugin inspect -f '{{.PluginReference}}' net-dhcp:latest)\" = '$REGISTRY/net-dhcp:v2' ]"
check "docker plugin upgrade: the state survives (it is outside the rootfs): g's task on n3 is re-adopted, bound, same address" \
  wait_for 15 "plugin_status | grep -q ' ${g_n3##* }/24 .* bound '"
plugin_status > "$OUT/status-n3" 2>&1
sed 's/^/#   /' "$OUT/status-n3" | head -6

# --- n3's dockerd alone killed: its containerd, containers and plugin live on -----------------
task_addresses g n3 > "$OUT/orphans"
task_addresses r n3 >> "$OUT/orphans"
n3_socket="$LAB_DIR/nodes/n3/run/docker/plugins/$(nd n3 plugin inspect -f '{{.Id}}' net-dhcp:latest)/net-dhcp.sock"
r_before=$(task_addresses r n1 n2 n3 | wc -l)
kill -9 "${NODE_PID[n3]}"
check "n3's dockerd killed alone (kill -9): the manager marks n3 Down" wait_for 90 \
  'nd n1 node ls --format "{{.Hostname}} {{.Status}}" | grep -q "^n3 Down"'
check "n3's dockerd killed alone: r's tasks are all running again on n1 and n2" \
  wait_for 60 "[ \$(task_addresses r n1 n2 | wc -l) -eq $r_before ]"
check "n3's dockerd killed alone: its containers and plugin live on, their leases held (status through the plugin's socket: bound)" \
  bash -c "[ -s '$OUT/orphans' ] && while read -r n mac ip; do grep -q \" \$mac \$ip \" '$LEASES' &&
    '$BIN' status --socket '$n3_socket' | grep -q \" \$ip/24 .* bound \" || exit 1; done < '$OUT/orphans'"
echo "# n3's orphans (dockerd dead, containers running): $(awk '{print $3}' "$OUT/orphans" | tr '\n' ' ')"

# --- the end: every lease of a live node released ----------------------------------------------
nd n1 service rm g r > /dev/null
check "service rm: every lease released but those of n3's orphaned containers" \
  wait_for 30 "[ \$(grep -c ' 198.18.0.' '$LEASES') -eq $(wc -l < "$OUT/orphans") ]"
for n in n1 n2; do
  if wait_for 15 "! ip -n '${NODE_NS[$n]}' -o link show | grep -q ' dh-'"; then
    ok "$n: no net-dhcp link left on its bridge"
  else
    not_ok "$n: no net-dhcp link left on its bridge"
    ip -n "${NODE_NS[$n]}" -o link show | grep ' dh-' | sed 's/^/#   left: /'
  fi
done

swarm_down
trap - EXIT
echo "swarm: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
