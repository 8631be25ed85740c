# Shared helpers of the install tests (sourced).  Expects $build and $version.
# The after-the-hang tests' helpers give $work, cleanup on exit and fail.
. "$(dirname "${BASH_SOURCE[0]}")/../after/lib.sh"
for f in "$build/zoo/deadlock_abba_mutex" "$build/zoo/healthy_prodcons"; do
    [ -e "$f" ] || fail "$f is missing (build first)"
done

# check_version LOCKTRACE: --version names this release and the trace format.
check_version() {
    local v
    v=$("$1" --version) || fail "$1 --version failed"
    [[ "$v" =~ ^locktrace\ ${version//./\\.}\ \(reads\ trace\ format\ [0-9]+\)$ ]] ||
        fail "$1 --version says '$v', not 'locktrace $version (reads trace format N)'"
}

# check_hang_found LOCKTRACE NAME: the installed `locktrace run` records the
# zoo's ABBA deadlock until the watchdog (which runs the installed decoder)
# reports and aborts it; then `report` of the trace names the deadlock.
check_hang_found() {
    local lt=$1 name=$2 code=0
    (ulimit -c 0; exec timeout -s KILL 120 "$lt" run -o "$work/$name.trace" --watchdog 1 --watchdog-action abort \
        -- "$build/zoo/deadlock_abba_mutex") >"$work/$name.out" 2>"$work/$name.err" || code=$?
    [ "$code" = 134 ] || fail "$lt run on the hung program exited $code, not 134 (SIGABRT from the watchdog)"
    grep -q "^\[error\] deadlock" "$work/$name.trace.report.txt" 2>/dev/null ||
        fail "the watchdog's report $work/$name.trace.report.txt names no deadlock"
    "$lt" report "$work/$name.trace" >"$work/$name.report.out" 2>"$work/$name.report.err"
    grep -q "^\[error\] deadlock" "$work/$name.report.out" || fail "$lt report names no deadlock"
}

# check_short_run LOCKTRACE NAME: a program that exits is traced and its status kept.
check_short_run() {
    local lt=$1 name=$2
    "$lt" run -o "$work/$name.trace" -- "$build/zoo/healthy_prodcons" >"$work/$name.out" 2>"$work/$name.err" ||
        fail "$lt run healthy_prodcons failed"
    grep -q "trace written to $work/$name.trace" "$work/$name.err" || fail "$lt run wrote no trace"
    "$lt" report "$work/$name.trace" >"$work/$name.report.out" 2>&1 || fail "$lt report of a healthy run failed"
}
