# Docker for the end-to-end tests and scripts/run: Debian's docker.io, started in the background
# when no daemon answers on /var/run/docker.sock, and a busybox image made with `docker import`
# (no registry is reachable).

DOCKER_PACKAGES=(docker.io busybox-static docker-compose)
DOCKER=${DOCKER:-$( [ -x /usr/bin/docker ] && echo /usr/bin/docker || command -v docker )}
STARTED_DOCKERD_PID=""

docker_answers() { timeout 10 "$DOCKER" info >/dev/null 2>&1; }

# Starts dockerd if none answers; sets STARTED_DOCKERD_PID when it started one.
ensure_dockerd() {
  docker_answers && return 0
  start_dockerd
  wait_for_started_dockerd
}

# Starts dockerd in the background without waiting for it (sets STARTED_DOCKERD_PID).
start_dockerd() {
  [ -x /usr/sbin/dockerd ] || die "dockerd is not installed (apt-get install docker.io)"
  echo "starting dockerd (log: /var/log/net-dhcp-dockerd.log)" >&2
  /usr/sbin/dockerd --host unix:///var/run/docker.sock > /var/log/net-dhcp-dockerd.log 2>&1 &
  STARTED_DOCKERD_PID=$!
}

# Waits (60 s at most) until the dockerd started by start_dockerd answers.
wait_for_started_dockerd() {
  local deadline=$(( $(date +%s) + 60 ))
  until docker_answers; do
    kill -0 "$STARTED_DOCKERD_PID" 2>/dev/null || { tail -20 /var/log/net-dhcp-dockerd.log >&2; die "dockerd exited"; }
    [ "$(date +%s)" -lt "$deadline" ] || { tail -20 /var/log/net-dhcp-dockerd.log >&2; die "dockerd did not answer within 60 s"; }
    sleep 0.2
  done
}

# Stops the dockerd this script started (by PID), if any.
stop_started_dockerd() {
  [ -n "$STARTED_DOCKERD_PID" ] || return 0
  kill "$STARTED_DOCKERD_PID" 2>/dev/null || true
  local deadline=$(( $(date +%s) + 30 ))
  while kill -0 "$STARTED_DOCKERD_PID" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
  kill -9 "$STARTED_DOCKERD_PID" 2>/dev/null || true
  STARTED_DOCKERD_PID=""
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
