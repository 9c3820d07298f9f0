# Shared by the end-to-end suites (test/e2e/*.sh): the libraries they all use, and removal of
# what a suite labelled as its own. Source after setting `top`; sets LAB_ID (lab.sh) and LABEL.
. "$top/scripts/lib/common.sh"
. "$top/scripts/lib/docker.sh"
. "$top/test/interop/lab.sh"
. "$top/test/lib/checks.sh"

LABEL="net-dhcp-test=$LAB_ID"
docker() { "$DOCKER" "$@"; }

# Removes the containers and networks carrying this run's label.
e2e_remove_labelled() {
  local ids n
  ids=$(docker ps -aq --filter "label=$LABEL" 2>/dev/null)
  [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
  for n in $(docker network ls -q --filter "label=$LABEL" 2>/dev/null); do docker network rm "$n" >/dev/null 2>&1; done
  return 0
}

# Starts what every suite needs (dockerd if none answers, the busybox image, the lab LAN) and
# registers CLEANUP (which should end with e2e_finish) for EXIT. Sets OUT, a scratch directory.
e2e_start() {  # cleanup-function
  trap "$1" EXIT  # first: a dockerd started below must be stopped even if what follows dies
  ensure_dockerd
  ensure_busybox_image
  lab_up
  trap "$1" EXIT  # again: lab_up sets its own
  OUT=$LAB_DIR/out
  mkdir -p "$OUT"
}

# The end of every cleanup: the lab, the suite's socket ($SOCKET), a dockerd we started.
e2e_finish() {
  lab_down
  rm -f "$SOCKET"
  stop_started_dockerd
}
