# TAP-style checks shared by the interop and end-to-end suites.

PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }
# check NAME COMMAND...: passes if the command succeeds.
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
# todo NAME COMMAND...: TAP's TODO, a check of what is known not to hold yet (the reason in
# NAME): "not ok - NAME # TODO" while it fails, "ok - NAME # TODO" once it passes (then make it
# a check); counted neither way.
todo() { local name=$1; shift; if "$@"; then echo "ok - $name # TODO passes now: make it a check"; else echo "not ok - $name # TODO"; fi; }
# require NAME COMMAND...: a precondition of the checks after it; a failure only when it fails
# (so a wait that timed out is never silently ignored).
require() { local name=$1; shift; "$@" || not_ok "precondition: $name"; }

# json_field FILE LINE EXPR: a python expression over the LINE-th JSON line of FILE (as `o`)
# and all of them (as `rows`).
json_field() {
  python3 - "$@" <<'PY'
import json, sys
path, line, expr = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = [json.loads(l) for l in open(path) if l.startswith('{')]
if line > len(rows):
    sys.exit(1)
v = eval(expr, {}, {'o': rows[line - 1], 'rows': rows})
print(v if not isinstance(v, bool) else str(v).lower())
PY
}
# json_true FILE EXPR: the expression over the first JSON line (and `rows`) is true.
json_true() { [ "$(json_field "$1" 1 "$2" 2>/dev/null)" = "true" ]; }
