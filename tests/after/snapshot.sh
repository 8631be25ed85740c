#!/bin/bash
# `locktrace snapshot PID` on a live hung process: the report comes out, a
# snapshot mark lands in the trace, and the process keeps running.
build=$1
. "$(dirname "$0")/lib.sh"

start_traced bank "$build/zoo/demo_bank"
wait_for 60 at_least_blocked "$work/bank.trace" 3 || fail "demo_bank did not hang"
"$lt" snapshot "$pid" >"$work/snap.out" 2>"$work/snap.err"
rc=$?
[ "$rc" = 1 ] || fail "snapshot exit status $rc, want 1 (error findings)"
# The two tellers, and main in its join of the first.
grep -q "BLOCKED THREADS: 3" "$work/snap.out" || fail "snapshot report lacks the blocked threads"
grep -q "transfer (demo_bank.c" "$work/snap.out" || fail "snapshot report lacks the program's stacks"
cmp -s "$work/snap.out" "$work/bank.trace.snapshot.txt" || fail "TRACE.snapshot.txt differs from what was printed"
marks "$work/bank.trace" | grep -q "^2 " || fail "no LT_MARK_SNAPSHOT mark in the trace"
kill -0 "$pid" 2>/dev/null || fail "the process died: snapshot must not stop it"
grep -q "State:.*[SR]" "/proc/$pid/status" || fail "the process is not running normally after the snapshot"

# JSON, and a second snapshot adds a second mark.
"$lt" snapshot --json -o - "$pid" >"$work/snap.json" 2>"$work/snap2.err"
python3 -m json.tool "$work/snap.json" >/dev/null || fail "snapshot --json is not JSON"
[ "$(marks "$work/bank.trace" | grep -c '^2 ')" = 2 ] || fail "the second snapshot left no second mark"

# Not a traced process: a clear error, exit 2.
"$lt" snapshot $$ >"$work/none.out" 2>"$work/none.err"
[ $? = 2 ] || fail "snapshot of an untraced process should exit 2"
grep -q "no locktrace trace" "$work/none.err" || fail "unclear error for an untraced process: $(cat "$work/none.err")"
echo "PASS: snapshot reported the live hang, marked the trace and left the process running"
