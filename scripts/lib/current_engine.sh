# The current Docker engine for the tests: Debian unstable's docker.io (28.5 when this was
# written) with docker-cli and docker-compose (Compose v2), debootstrapped once into a cache
# folder and run from there in a chroot. Sourced by scripts/lib/docker.sh.
#
# What makes that dockerd work beside a host `net-dhcp serve`:
# - It runs in a mount namespace of its own whose root is the folder (pivot_root, not chroot:
#   under a plain chroot, `docker exec` lands in the chroot's files instead of the container's,
#   because runc joins the container's mount namespace, whose root is not the chroot).
#   dockerd also looks up the mount that holds /var/lib/docker and makes it shared, so the new
#   root must be a mount point (a bind mount of the folder onto itself).
# - Docker bind-mounts each container's network namespace onto a file under /run/docker/netns
#   and names that file in Join's SandboxKey. The host daemon opens the same path in the host's
#   mount namespace, so that folder is a shared mount on the host, bound into the new root: a
#   peer of the host's, and the namespace mounts appear on both sides.
# - /run/docker/plugins is the same folder on both sides, so dockerd finds the host daemon's
#   socket (and the host sees a managed plugin's).
# - Its API socket is the folder's run/docker.sock, a plain file the host reaches as
#   $CURRENT_ENGINE_ROOT/run/docker.sock.
# Nothing of it is mounted in the host's namespace but the two shared folders; its own mounts
# go away with its namespace when its last process ends.

CURRENT_ENGINE_DIR=${CURRENT_ENGINE_DIR:-/var/cache/net-dhcp/docker-current}
CURRENT_ENGINE_ROOT=$CURRENT_ENGINE_DIR/root
CURRENT_ENGINE_SUITE=${CURRENT_ENGINE_SUITE:-sid}
# The Debian mirror of this machine's own apt sources (unstable is on the same mirror as the
# release), unless CURRENT_ENGINE_MIRROR names one.
current_engine_mirror() {
  if [ -n "${CURRENT_ENGINE_MIRROR:-}" ]; then echo "$CURRENT_ENGINE_MIRROR"; return; fi
  { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
    grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}'
  } | grep -E '/debian/?$' | head -1
}
CURRENT_ENGINE_PACKAGES=docker.io,docker-cli,docker-compose,iptables,iproute2,ca-certificates
# Bump when the chroot's recipe changes: a cached root with another stamp is made anew.
CURRENT_ENGINE_STAMP="recipe 1: $CURRENT_ENGINE_SUITE $CURRENT_ENGINE_PACKAGES"

# Makes the chroot if the cache has none for this recipe (about a minute with a fast mirror).
current_engine_ensure_root() {
  local root=$CURRENT_ENGINE_ROOT
  if [ -x "$root/usr/sbin/dockerd" ] && [ "$(cat "$root/.net-dhcp-stamp" 2>/dev/null)" = "$CURRENT_ENGINE_STAMP" ]; then
    current_engine_client_config
    return 0
  fi
  command -v debootstrap >/dev/null || { echo "debootstrap is not installed (apt-get install debootstrap)" >&2; return 1; }
  mkdir -p "$CURRENT_ENGINE_DIR"
  local new=$CURRENT_ENGINE_DIR/root.new
  rm -rf --one-file-system "$new"
  echo "making the current Docker engine: debootstrap $CURRENT_ENGINE_SUITE into $root (cached for later runs)" >&2
  local mirror
  mirror=$(current_engine_mirror)
  [ -n "$mirror" ] || { echo "no Debian mirror in /etc/apt/sources*: set CURRENT_ENGINE_MIRROR" >&2; return 1; }
  if ! debootstrap --variant=minbase --include="$CURRENT_ENGINE_PACKAGES" "$CURRENT_ENGINE_SUITE" "$new" \
       "$mirror" > "$CURRENT_ENGINE_DIR/debootstrap.log" 2>&1; then
    tail -5 "$CURRENT_ENGINE_DIR/debootstrap.log" >&2
    return 1
  fi
  echo "$CURRENT_ENGINE_STAMP" > "$new/.net-dhcp-stamp"
  rm -rf --one-file-system "$root"
  mv "$new" "$root"
  current_engine_client_config
}

# The host runs the chroot's docker CLI (it links only libc); DOCKER_CONFIG points it at the
# chroot's Compose v2 plugin.
current_engine_client_config() {
  mkdir -p "$CURRENT_ENGINE_DIR/client/cli-plugins"
  ln -sfn "$CURRENT_ENGINE_ROOT/usr/libexec/docker/cli-plugins/docker-compose" \
    "$CURRENT_ENGINE_DIR/client/cli-plugins/docker-compose"
}

# The host folders shared with the engine (see the top of this file).
CURRENT_ENGINE_SHARED=(/run/docker/netns /run/docker/plugins)

# Starts the engine's dockerd in the background; sets STARTED_DOCKERD_PID (dockerd's own pid:
# unshare and the launcher exec into it).
current_engine_start() {  # log-file
  local root=$CURRENT_ENGINE_ROOT dir
  for dir in "${CURRENT_ENGINE_SHARED[@]}"; do
    mkdir -p "$dir" "$root$dir"
    # A folder of the host becomes a mount point of its own (made here, undone by
    # current_engine_cleanup), so that it can be shared without changing how the rest of the
    # host propagates.
    if ! mountpoint -q "$dir"; then
      mount --bind "$dir" "$dir" || return 1
      echo "$dir" >> "$CURRENT_ENGINE_DIR/host-mounts"
    fi
    mount --make-shared "$dir" || return 1
  done
  # What a killed dockerd left in its run folder (pid files, sockets) would stop the next one;
  # the namespace note too (a stale one could name a namespace the kernel has reused).
  find "$root/run" -mindepth 1 -maxdepth 1 ! -name docker -exec rm -rf --one-file-system {} + 2>/dev/null
  find "$root/run/docker" -mindepth 1 -maxdepth 1 ! -name netns ! -name plugins -exec rm -rf --one-file-system {} + 2>/dev/null
  unshare --mount --propagation unchanged /bin/sh "$(dirname "${BASH_SOURCE[0]}")/current_engine_dockerd" "$root" \
    >> "$1" 2>&1 &
  STARTED_DOCKERD_PID=$!
  return 0
}

# Once the engine's dockerd has stopped: ends what it left running in its mount namespace (its
# containerd and shims, after a kill -9), unmounts the namespace files it left on the host, and
# undoes the host mounts made for it.
current_engine_cleanup() {
  local pid ns f dir
  # The launcher writes its namespace once it has its own; never the host's (ours).
  ns=$(cat "$CURRENT_ENGINE_ROOT/run/net-dhcp-mntns" 2>/dev/null)
  if [ -n "$ns" ] && [ "$ns" != "$(readlink /proc/self/ns/mnt)" ] && [ "$ns" != "$(readlink /proc/1/ns/mnt 2>/dev/null)" ]; then
    for pid in $(pgrep -x dockerd 2>/dev/null); do
      [ "$(readlink "/proc/$pid/ns/mnt")" = "$ns" ] && return 0  # still running: leave it be
    done
    # Only processes in that namespace whose root is the engine's folder (same device and inode).
    local want
    want=$(stat -c %d:%i "$CURRENT_ENGINE_ROOT" 2>/dev/null)
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
      [ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$ns" ] || continue
      [ -n "$want" ] && [ "$(stat -L -c %d:%i "/proc/$pid/root" 2>/dev/null)" = "$want" ] && kill -9 "$pid" 2>/dev/null
    done
    rm -f "$CURRENT_ENGINE_ROOT/run/net-dhcp-mntns"
  fi
  if [ -f "$CURRENT_ENGINE_DIR/host-mounts" ]; then
    for f in /run/docker/netns/*; do mountpoint -q "$f" 2>/dev/null && umount "$f" 2>/dev/null; done
    # A socket still bound in the folder (a daemon not yet gone) keeps the mount busy; the lazy
    # unmount detaches it anyway (the folder under it is the same one), so none is left behind.
    while read -r dir; do
      mountpoint -q "$dir" || continue
      umount "$dir" 2>/dev/null || umount -l "$dir" 2>/dev/null ||
        echo "warning: $dir is still mounted (made by current_engine_start); umount -l $dir removes it" >&2
    done < "$CURRENT_ENGINE_DIR/host-mounts"
    rm -f "$CURRENT_ENGINE_DIR/host-mounts"
  fi
  return 0
}
