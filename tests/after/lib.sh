# Shared helpers of the after-the-hang tests (sourced).  Expects $build.
set -u
lt="$build/locktrace"
shim="$build/liblocktrace.so"
for f in "$lt" "$shim"; do
    [ -e "$f" ] || { echo "FAIL: $f is missing (build first)"; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/lt-after.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*"
    for f in "$work"/*.err "$work"/*.out; do
        [ -s "$f" ] && { echo "--- $f:"; head -40 "$f"; }
    done
    exit 1
}

# start_traced NAME EXE [ENV=VAL...]: runs EXE under the shim in the background,
# trace $work/NAME.trace, output $work/NAME.out/.err; sets $pid.
start_traced() {
    local name=$1 exe=$2
    shift 2
    env LD_PRELOAD="$shim" LOCKTRACE_OUTPUT="$work/$name.trace" "$@" "$exe" >"$work/$name.out" 2>"$work/$name.err" &
    pid=$!
    pids+=("$pid")
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s; false if it never succeeds.
wait_for() {
    local limit=$1 i=0
    shift
    while [ "$i" -lt $((limit * 5)) ]; do
        "$@" && return 0
        sleep 0.2
        i=$((i + 1))
    done
    return 1
}

# report_both TRACE WANT: `locktrace report` of TRACE into $work/report.out
# must exit with status WANT; then its --json into $work/report.json.
report_both() {
    "$lt" report "$1" >"$work/report.out" 2>"$work/report.err"
    local rc=$?
    [ "$rc" = "$2" ] || fail "report of $1: want exit status $2, got $rc: $(head -30 "$work/report.out")"
    "$lt" report --json "$1" >"$work/report.json" 2>/dev/null
}

# blocked_threads TRACE: how many threads the live report says are blocked
# (a main thread in its join of a hung worker included).
blocked_threads() {
    "$lt" report --json "$1" 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["blocked"]))' 2>/dev/null || echo 0
}
at_least_blocked() { [ "$(blocked_threads "$1")" -ge "$2" ]; }

# marks TRACE: the header's marks, one "kind tid" per line (kind 0 user, 1 watchdog, 2 snapshot).
marks() {
    python3 - "$1" <<'PY'
import struct, sys
h = open(sys.argv[1], 'rb').read(4096)
used = struct.unpack_from('<I', h, 176)[0]   # offsetof(lt_file_header, marks_used)
for i in range(min(used, 32)):
    t, kind, tid = struct.unpack_from('<QIi', h, 184 + 16 * i)
    print(kind, tid, t)
PY
}
