#!/bin/bash
# kill-loop.sh [N] [BUILD]: run a lock-heavy program under the shim N times
# (default 300), SIGKILL it after a random 1-300 ms, and check every trace:
#   - crash_check: loss only the newest in-flight record of each thread, each
#     worker's events exactly a prefix of its schedule, holds consistent,
#     no two holders of one lock at once; each thread's held set and totals
#     (what outlives the rings) agree with the events in its ring;
#   - `locktrace dump` and `locktrace report --json` decode it (exit 0 or 1,
#     never 2, never a signal), and the JSON parses.
# Prints the figures; exits non-zero if any run was inconsistent.
# Environment: KILL_THREADS (default 6), KILL_MAX_MS (300), KILL_RING_SIZE
# (records per thread, default 262144: no overwrite), KILL_KEEP=1 keeps
# the traces of failed runs (always kept: the first 5 failures).
set -u
N=${1:-300}
BUILD=$(cd "${2:-build}" && pwd) || { echo "kill-loop: no build dir ${2:-build}" >&2; exit 2; }
THREADS=${KILL_THREADS:-6}
MAX_MS=${KILL_MAX_MS:-300}
SHIM=$BUILD/liblocktrace.so
LT=$BUILD/locktrace
PROG=$BUILD/crash/crash_lock_storm
CHECK=$BUILD/crash/crash_check
for f in "$SHIM" "$LT" "$PROG" "$CHECK"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "kill-loop: missing $f (build first)" >&2; exit 2; }
done
have_jq=0
command -v jq >/dev/null && have_jq=1

WORK=$(mktemp -d "${TMPDIR:-/tmp}/locktrace-kill.XXXXXX")
FAILDIR=$BUILD/crash/kill-failures
trap 'rm -rf "$WORK"' EXIT

kills=0 decoded=0 torn=0 inconsistent=0 before_trace=0 ok_events=0 lost_runs=0 failures_kept=0

fail() { # run-number message
    inconsistent=$((inconsistent + 1))
    echo "run $1: INCONSISTENT: $2"
    if [ "$failures_kept" -lt 5 ] || [ "${KILL_KEEP:-0}" = 1 ]; then
        mkdir -p "$FAILDIR"
        for f in "$WORK"/run.*; do cp "$f" "$FAILDIR/$1.$(basename "$f")"; done
        failures_kept=$((failures_kept + 1))
        echo "  kept in $FAILDIR/$1.*"
    fi
}

for ((run = 1; run <= N; run++)); do
    rm -f "$WORK"/run.*
    delay_ms=$((RANDOM % MAX_MS + 1))
    LD_PRELOAD=$SHIM LOCKTRACE_OUTPUT="$WORK/run.trace" LOCKTRACE_RING_SIZE=${KILL_RING_SIZE:-262144} \
        "$PROG" "$THREADS" >"$WORK/run.layout" 2>"$WORK/run.stderr" &
    pid=$!
    # Three runs in four count the delay from when the workers start (the
    # layout is out), so that a loaded machine's slow start does not eat it;
    # the fourth counts from the launch, to hit the shim's start-up too.
    if ((run % 4 != 0)); then
        for ((w = 0; w < 1000; w++)); do
            grep -q '^end$' "$WORK/run.layout" 2>/dev/null && break
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.005
        done
    fi
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    if ! kill -KILL "$pid" 2>/dev/null; then
        wait "$pid"
        fail "$run" "the program ended by itself before the kill (status $?)"
        continue
    fi
    wait "$pid" 2>/dev/null
    kills=$((kills + 1))
    if [ -s "$WORK/run.stderr" ]; then
        fail "$run" "the shim or program wrote to stderr: $(head -c 300 "$WORK/run.stderr")"
        continue
    fi
    if [ ! -s "$WORK/run.trace" ] || ! grep -q '^end$' "$WORK/run.layout"; then
        # Killed before the shim laid out the file or the program printed its
        # layout: nothing to check beyond "no crash when reading it".
        before_trace=$((before_trace + 1))
        [ -e "$WORK/run.trace" ] && "$LT" dump "$WORK/run.trace" >/dev/null 2>&1
        rc=$?
        if [ -e "$WORK/run.trace" ] && [ $rc -gt 2 ]; then fail "$run" "dump of an early trace died (exit $rc)"; fi
        continue
    fi
    out=$("$CHECK" "$WORK/run.trace" "$WORK/run.layout")
    rc=$?
    if [ $rc -eq 2 ] && grep -q 'bad magic 0x0000000000000000' <<<"$out"; then
        before_trace=$((before_trace + 1)) # created, killed before the magic was published
        continue
    fi
    if [ $rc -ne 0 ]; then
        fail "$run" "$out"
        continue
    fi
    t=$(sed -n 's/.* torn=\([0-9]*\).*/\1/p' <<<"$out")
    l=$(sed -n 's/.* lost=\([0-9]*\).*/\1/p' <<<"$out")
    e=$(sed -n 's/.* events=\([0-9]*\).*/\1/p' <<<"$out")
    torn=$((torn + t)); ok_events=$((ok_events + e))
    [ "$l" != 0 ] && lost_runs=$((lost_runs + 1))

    "$LT" dump "$WORK/run.trace" >"$WORK/run.dump" 2>"$WORK/run.dump.err"
    rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
        fail "$run" "locktrace dump exited $rc: $(head -c 300 "$WORK/run.dump.err")"
        continue
    fi
    # The dump's own count must match what crash_check decoded.
    dn=$(sed -n 's/^# total: \([0-9]*\) events.*/\1/p' "$WORK/run.dump")
    if [ "$dn" != "$e" ]; then
        fail "$run" "dump says '$dn' events, crash_check decoded $e"
        continue
    fi
    "$LT" report --json "$WORK/run.trace" >"$WORK/run.json" 2>"$WORK/run.report.err"
    rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
        fail "$run" "locktrace report --json exited $rc: $(head -c 300 "$WORK/run.report.err")"
        continue
    fi
    # -s first: jq 1.6 -e passes an empty file.
    if [ $have_jq = 1 ] && { [ ! -s "$WORK/run.json" ] || ! jq -e 'type == "object"' "$WORK/run.json" >/dev/null 2>&1; }; then
        fail "$run" "report --json is not a JSON object"
        continue
    fi
    decoded=$((decoded + 1))
done

echo "kill-loop: kills $kills, traces decoded and consistent $decoded, killed before the trace existed $before_trace," \
     "torn records seen $torn, runs with ring overwrite $lost_runs, events checked $ok_events, inconsistencies $inconsistent"
[ "$inconsistent" -eq 0 ]
