# Shared by the scripts in scripts/: package installation and small helpers.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

die() { echo "$(basename "$0"): $*" >&2; exit 1; }
need_root() { [ "$(id -u)" -eq 0 ] || die "$1 needs root (network namespaces, packet sockets): run it with sudo"; }

# Installs the Debian packages that are missing. Services that packages would start (Kea, Docker)
# are held back while installing, through a temporary policy-rc.d, so that installing a test
# dependency never starts a DHCP server on the machine's own network.
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}" >&2
  local policy=/usr/sbin/policy-rc.d added_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && added_policy=1
  fi
  local rc=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
    > /tmp/net-dhcp-apt.log 2>&1 || rc=$?
  [ -n "$added_policy" ] && rm -f "$policy"
  # Debian enables the Kea and registry units; we run both only inside test namespaces.
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    for p in "${missing[@]}"; do
      case $p in kea-dhcp4-server|kea-dhcp6-server|docker-registry) systemctl disable --now "$p" >/dev/null 2>&1 || true ;; esac
    done
  fi
  [ $rc -eq 0 ] || { tail -20 /tmp/net-dhcp-apt.log >&2; die "apt-get install failed (log: /tmp/net-dhcp-apt.log)"; }
}

BUILD_PACKAGES=(g++ meson ninja-build pkg-config libboost1.81-dev libboost-json1.81-dev libmnl-dev catch2)
FUZZ_PACKAGES=(clang libclang-rt-14-dev)
LAB_PACKAGES=(iproute2 iptables python3 curl dnsmasq-base kea-dhcp4-server kea-dhcp6-server)
BENCH_PACKAGES=(udhcpc)
# The multi-node test's registry (test/e2e/swarm.sh), run on a test address only.
SWARM_PACKAGES=(docker-registry)

# Configures (once) and builds a meson build directory: build_dir DIR [meson options...]
# (BUILD_TARGETS, when set: only those ninja targets, e.g. the fuzz targets without the rest.)
build_dir() {
  local dir=$1; shift
  if [ ! -f "$top/$dir/build.ninja" ]; then
    meson setup "$top/$dir" "$top" "$@" > "$top/$dir.setup.log" 2>&1 || { cat "$top/$dir.setup.log" >&2; die "meson setup $dir failed"; }
    rm -f "$top/$dir.setup.log"
  fi
  # shellcheck disable=SC2086 # a list of targets
  ninja -C "$top/$dir" ${BUILD_TARGETS:-} > "$top/$dir.log" 2>&1 || { grep -E -B2 -A8 'error|FAILED' "$top/$dir.log" | head -60 >&2; die "build in $dir failed (log: $dir.log)"; }
  rm -f "$top/$dir.log"
}
