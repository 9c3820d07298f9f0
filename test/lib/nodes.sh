# Docker "nodes" on one machine for the multi-host tests (test/e2e/swarm.sh): each node is the
# current engine's dockerd (scripts/lib/current_engine.sh) in a network, mount and UTS namespace
# of its own, with its own /var/lib/docker, /run/docker, socket and hostname, joined to the lab
# LAN ($LAB_BRIDGE, test/interop/lab.sh) by a veth that is a port of a bridge inside the node:
# the node's "br0", which its containers attach to, as on a real host.
#
#   node_up NAME ADDRESS BRIDGE [dockerd args...]   makes it (ADDRESS/24 on BRIDGE) and starts it
#   node_start NAME                                 starts it again after node_kill (a reboot:
#                                                   /run emptied, /var/lib kept)
#   node_wait NAME                                  until its dockerd answers (60 s)
#   nd NAME docker-args...                          the docker CLI against that node
#   node_kill NAME                                  kill -9 of everything of the node: a power cut
#   nodes_down                                      stops them all (by lab_down's cleanup)
# Source after test/interop/lab.sh and scripts/lib/docker.sh (NET_DHCP_ENGINE=current).

declare -A NODE_PID=() NODE_NS=() NODE_DIR=() NODE_ADDR=()
NODE_NAMES=()

node_up() {  # name address bridge [dockerd args...]
  local name=$1 addr=$2 bridge=$3
  shift 3
  local ns="nd-$name-$LAB_ID" dir="$LAB_DIR/nodes/$name" peer="ndn${LAB_ID}${name: -2}"
  ip netns add "$ns" || return 1
  LAB_CLIENT_NS+=("$ns")  # lab_down deletes it
  NODE_NAMES+=("$name")
  NODE_NS[$name]=$ns NODE_DIR[$name]=$dir NODE_ADDR[$name]=$addr
  ip link add "$peer" type veth peer name lan0 netns "$ns"
  ip link set "$peer" master "$LAB_BRIDGE" up
  lab_nodad "$ns" lan0
  ip -n "$ns" link set lo up
  ip -n "$ns" link add "$bridge" type bridge
  ip -n "$ns" link set "$bridge" type bridge forward_delay 0 stp_state 0 mcast_snooping 0
  ip -n "$ns" link set lan0 master "$bridge" up
  ip -n "$ns" link set "$bridge" up
  ip -n "$ns" addr add "$addr/24" dev "$bridge"
  mkdir -p "$dir"
  printf '%q ' "$@" > "$dir/dockerd-args"
  node_start "$name"
}

node_start() {  # name
  local name=$1 dir=${NODE_DIR[$1]}
  # After a power cut its mount namespace is gone: what is left in run/ are plain files.
  rm -rf "${dir:?}/run"
  eval "set -- $(cat "$dir/dockerd-args")"
  nsenter --net="/run/netns/${NODE_NS[$name]}" unshare --mount --uts --propagation unchanged \
    /bin/sh "$top/test/lib/node_dockerd" "$CURRENT_ENGINE_ROOT" "$dir" "$name" "$@" >> "$dir/dockerd.log" 2>&1 &
  NODE_PID[$name]=$!
  disown "$!"  # no "Killed" note from bash after node_kill
}

# (Through LAB_DIR, not NODE_DIR: exported with `export -f nd LAB_DIR DOCKER`, it works in
# `bash -c` too.)
nd() { local name=$1; shift; DOCKER_HOST="unix://$LAB_DIR/nodes/$name/run/docker.sock" "$DOCKER" "$@"; }

node_wait() {  # name
  local name=$1 deadline=$(( $(date +%s) + 60 ))
  until timeout 10 env DOCKER_HOST="unix://${NODE_DIR[$name]}/run/docker.sock" "$DOCKER" info >/dev/null 2>&1; do
    if ! kill -0 "${NODE_PID[$name]}" 2>/dev/null || [ "$(date +%s)" -ge "$deadline" ]; then
      lab_log "node $name's dockerd did not answer; its log:"
      tail -15 "${NODE_DIR[$name]}/dockerd.log" >&2
      return 1
    fi
    sleep 0.2
  done
}

# Every process of the node: those in its mount namespace (dockerd, containerd, the shims) or
# its network namespace (a managed plugin on the host network), and their descendants (the
# containers, which have namespaces of their own).
node_pids() {  # name
  local name=$1 mnt net
  mnt=$(cat "${NODE_DIR[$name]}/run/mntns" 2>/dev/null)
  net=$(readlink "/proc/${NODE_PID[$name]}/ns/net" 2>/dev/null)
  [ -n "$net" ] || net="net:[$(stat -L -c %i "/run/netns/${NODE_NS[$name]}" 2>/dev/null)]"
  python3 - "$mnt" "$net" <<'PY'
import os, sys
mnt, net = sys.argv[1], sys.argv[2]
parent, seeds = {}, set()
for p in os.listdir('/proc'):
    if not p.isdigit():
        continue
    try:
        with open(f'/proc/{p}/stat') as f:
            parent[int(p)] = int(f.read().rsplit(')', 1)[1].split()[1])
        ns = (os.readlink(f'/proc/{p}/ns/mnt'), os.readlink(f'/proc/{p}/ns/net'))
    except OSError:
        continue
    if (mnt and ns[0] == mnt) or ns[1] == net:
        seeds.add(int(p))
found, grew = set(seeds), True
while grew:
    grew = False
    for p, pp in parent.items():
        if pp in found and p not in found:
            found.add(p)
            grew = True
print(' '.join(map(str, sorted(found))))
PY
}

node_kill() {  # name
  local name=$1 pids round
  for round in 1 2 3; do
    pids=$(node_pids "$name")
    [ -n "$pids" ] || break
    kill -9 $pids 2>/dev/null
    sleep 0.2
  done
  return 0
}

# SIGTERM to each dockerd (it stops its containers and plugins), then kill -9 of what is left.
nodes_down() {
  local name deadline
  for name in "${NODE_NAMES[@]}"; do kill "${NODE_PID[$name]}" 2>/dev/null; done
  deadline=$(( $(date +%s) + 30 ))
  for name in "${NODE_NAMES[@]}"; do
    while kill -0 "${NODE_PID[$name]}" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
    node_kill "$name"
  done
  NODE_NAMES=()
}
