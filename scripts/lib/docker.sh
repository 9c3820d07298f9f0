# Docker for the end-to-end tests, scripts/run and scripts/bench, on one of two engines:
#   NET_DHCP_ENGINE=debian   Debian 12's docker.io 20.10 (/usr/sbin/dockerd, /usr/bin/docker,
#                            docker-compose 1.29), the default
#   NET_DHCP_ENGINE=current  Debian unstable's docker.io 28.5 with docker-cli and docker-compose
#                            2.40 (Compose v2), debootstrapped once into $CURRENT_ENGINE_ROOT and
#                            run from there in a mount namespace of its own
#                            (scripts/lib/current_engine.sh)
# dockerd is started in the background when none answers, and stopped again by whoever started
# it. Only one dockerd runs at a time: the two engines would fight over iptables, /run/docker
# and the plugin sockets. A busybox image is made with `docker import` (no registry is reachable).

DOCKER_PACKAGES=(docker.io busybox-static docker-compose debootstrap)
NET_DHCP_ENGINE=${NET_DHCP_ENGINE:-debian}
STARTED_DOCKERD_PID=""
. "$(dirname "${BASH_SOURCE[0]}")/current_engine.sh"

case $NET_DHCP_ENGINE in
  debian)
    DOCKER=$( [ -x /usr/bin/docker ] && echo /usr/bin/docker || command -v docker )
    DOCKERD_LOG=/var/log/net-dhcp-dockerd.log
    unset DOCKER_HOST DOCKER_CONFIG
    ;;
  current)
    DOCKER=$CURRENT_ENGINE_ROOT/usr/bin/docker
    DOCKERD_LOG=/var/log/net-dhcp-dockerd-current.log
    # The chroot's CLI runs on the host (it needs only libc); its Compose v2 plugin is found
    # through DOCKER_CONFIG.
    export DOCKER_HOST=unix://$CURRENT_ENGINE_ROOT/run/docker.sock
    export DOCKER_CONFIG=$CURRENT_ENGINE_DIR/client
    ;;
  *) echo "NET_DHCP_ENGINE=$NET_DHCP_ENGINE: expected debian (Docker 20.10) or current (Docker 28)" >&2; exit 1 ;;
esac

docker_answers() { timeout 10 "$DOCKER" info >/dev/null 2>&1; }

# Names the engine in headers without asking dockerd, e.g. "Docker 28.5.2 (Debian unstable's
# docker.io), Compose 2.40.3": the installed packages' versions.
engine_name() {
  local v
  case $NET_DHCP_ENGINE in
    debian)
      v=$(dpkg-query -W -f '${Version}' docker.io 2>/dev/null)
      echo "Docker ${v%%+*} (Debian 12's docker.io), Compose $(dpkg-query -W -f '${Version}' docker-compose 2>/dev/null | sed 's/-.*//')" ;;
    current)
      v=$(dpkg-query --admindir="$CURRENT_ENGINE_ROOT/var/lib/dpkg" -W -f '${Version}' docker.io 2>/dev/null)
      echo "Docker ${v%%+*} (Debian unstable's docker.io), Compose $(dpkg-query --admindir="$CURRENT_ENGINE_ROOT/var/lib/dpkg" -W -f '${Version}' docker-compose 2>/dev/null | sed 's/-.*//')" ;;
  esac
}

# The major version of the engine that answers (20, 28, ...).
engine_major() { timeout 10 "$DOCKER" version --format '{{.Server.Version}}' 2>/dev/null | cut -d. -f1; }

# Compose: v1 (docker-compose) with Debian 12's engine, v2 (docker compose) with the current one.
compose_cmd() {
  if [ "$NET_DHCP_ENGINE" = current ]; then "$DOCKER" compose "$@"; else docker-compose "$@"; fi
}

# A dockerd that is not the engine we were asked for, or that we did not start, must not be
# run beside: prints its pid and root when there is one.
other_dockerd() {
  local pid root
  for pid in $(pgrep -x dockerd 2>/dev/null); do
    [ "$pid" = "$STARTED_DOCKERD_PID" ] && continue
    root=$(readlink "/proc/$pid/root" 2>/dev/null)
    echo "$pid ${root:-?}"
    return 0
  done
  return 1
}

# Starts dockerd if none answers; sets STARTED_DOCKERD_PID when it started one.
ensure_dockerd() {
  docker_answers && return 0
  start_dockerd
  wait_for_started_dockerd
}

# Starts the engine's dockerd in the background without waiting for it (sets STARTED_DOCKERD_PID).
start_dockerd() {
  local other
  if other=$(other_dockerd); then
    die "another dockerd is running (pid/root: $other) and does not answer as $NET_DHCP_ENGINE's engine; only one dockerd may run at a time: stop it first"
  fi
  echo "starting dockerd, $NET_DHCP_ENGINE engine (log: $DOCKERD_LOG)" >&2
  case $NET_DHCP_ENGINE in
    debian)
      [ -x /usr/sbin/dockerd ] || die "dockerd is not installed (apt-get install docker.io)"
      /usr/sbin/dockerd --host unix:///var/run/docker.sock >> "$DOCKERD_LOG" 2>&1 &
      STARTED_DOCKERD_PID=$!
      ;;
    current)
      current_engine_ensure_root || die "the current Docker engine could not be made (log: $CURRENT_ENGINE_DIR/debootstrap.log)"
      current_engine_start "$DOCKERD_LOG" || die "preparing the current engine's shared folders failed"
      ;;
  esac
}

# Waits (60 s at most) until the dockerd started by start_dockerd answers.
wait_for_started_dockerd() {
  local deadline=$(( $(date +%s) + 60 ))
  until docker_answers; do
    kill -0 "$STARTED_DOCKERD_PID" 2>/dev/null || { tail -20 "$DOCKERD_LOG" >&2; die "dockerd exited"; }
    [ "$(date +%s)" -lt "$deadline" ] || { tail -20 "$DOCKERD_LOG" >&2; die "dockerd did not answer within 60 s"; }
    sleep 0.2
  done
}

# Stops the dockerd this script started (by PID), if any, and for the current engine undoes
# the host mounts made for it.
stop_started_dockerd() {
  [ -n "$STARTED_DOCKERD_PID" ] || return 0
  kill "$STARTED_DOCKERD_PID" 2>/dev/null || true
  local deadline=$(( $(date +%s) + 30 ))
  while kill -0 "$STARTED_DOCKERD_PID" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
  kill -9 "$STARTED_DOCKERD_PID" 2>/dev/null || true
  wait "$STARTED_DOCKERD_PID" 2>/dev/null
  STARTED_DOCKERD_PID=""
  [ "$NET_DHCP_ENGINE" = current ] && current_engine_cleanup
  return 0
}

# A 2 MB image from Debian's busybox-static: busybox and its applets, nothing else.
BUSYBOX_IMAGE=net-dhcp-busybox:test
ensure_busybox_image() {
  "$DOCKER" image inspect "$BUSYBOX_IMAGE" >/dev/null 2>&1 && return 0
  local root
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/etc" "$root/proc" "$root/sys" "$root/dev" "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
  tar -C "$root" -c . | "$DOCKER" import --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' - "$BUSYBOX_IMAGE" >/dev/null || die "docker import of the busybox image failed"
  rm -rf "$root"
}
