# Driving `net-dhcp serve` through the plugin API as dockerd does, and reading the daemon's own
# figures, for the suites that run without Docker (test/e2e/soak.sh, test/e2e/scale.sh).
# Uses SOCKET (the daemon's), DAEMON_PID and, for kea_counts, KEA4 (Kea's lease file).

api() {  # path [json] -> body on stdout
  local body=${2:-'{}'}
  curl -s --max-time 60 --unix-socket "$SOCKET" -X POST "http://plugin$1" -d "$body"
}
# What dockerd sends when a container goes: Leave, then DeleteEndpoint (answers dropped).
leave_and_delete() {  # network-id endpoint-id
  api /NetworkDriver.Leave "{\"NetworkID\":\"$1\",\"EndpointID\":\"$2\"}" >/dev/null
  api /NetworkDriver.DeleteEndpoint "{\"NetworkID\":\"$1\",\"EndpointID\":\"$2\"}" >/dev/null
}
clk_tck=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$DAEMON_PID/stat"; }
seconds_of() { awk -v t="$1" -v k="$clk_tck" 'BEGIN {printf "%.1f", t / k}'; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$DAEMON_PID/status"; }
fds() { ls "/proc/$DAEMON_PID/fd" | wc -l; }
# Its handles on its own network namespace: each thread that has entered a container's keeps one
# to come back by (netlink::Enter), the event loop and the two off-loop threads
# (src/support/off_loop.hpp): 3 at most, however many endpoints came and went.
home_netns_fds() {
  find "/proc/$DAEMON_PID/fd" -maxdepth 1 -type l -printf '%l\n' 2>/dev/null | grep -cxF "$(readlink "/proc/$DAEMON_PID/ns/net")"
}
other_fds() { echo $(( $(fds) - $(home_netns_fds) )); }
metric() {  # name-and-labels-prefix: the sum of the matching samples in /metrics
  api /metrics | awk -v m="$1" 'index($0, m) == 1 {s += $NF} END {print s + 0}'
}
losses() { metric 'netdhcp_lease_losses_total{family="4"'; }
# Lines per address in Kea's memfile (one per lease written: acquire, each renewal, release).
kea_counts() { awk -F, '$1 ~ /^198\.18\./ {c[$1]++} END {for (a in c) print a, c[a]}' "$KEA4" | sort; }
