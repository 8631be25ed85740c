#!/bin/bash
# LOCKTRACE_WATCHDOG on a hung zoo program: the watchdog must notice the hang,
# record a watchdog mark and write the diagnosis to TRACE.report.txt and to
# stderr while the process is still alive (and it must not fire on a healthy
# program that exits).
build=$1
. "$(dirname "$0")/lib.sh"

start_traced bank "$build/zoo/demo_bank" LOCKTRACE_WATCHDOG=1
report="$work/bank.trace.report.txt"
wait_for 60 grep -qs "BLOCKED THREADS" "$report" || fail "no watchdog report in $report after 60 s"
# The decoder has finished writing once the watchdog copied it to stderr.
wait_for 30 grep -q "BLOCKED THREADS" "$work/bank.err" || fail "the report was not copied to stderr"
kill -0 "$pid" 2>/dev/null || fail "the process is gone: the report must be made while it is alive"
grep -q "locktrace: watchdog: 2 thread(s) blocked" "$work/bank.err" || fail "no watchdog announcement on stderr"
grep -q "^\[error\]" "$report" || fail "the watchdog report names no error finding"
grep -q "transfer (demo_bank.c" "$report" || fail "the report has no symbolized stack of the program"
marks "$work/bank.trace" | grep -q "^1 0 " || fail "no LT_MARK_WATCHDOG mark in the trace header"
[ "$(marks "$work/bank.trace" | grep -c '^1 ')" = 1 ] || fail "the watchdog fired more than once for one hang"
sleep 2
[ "$(marks "$work/bank.trace" | grep -c '^1 ')" = 1 ] || fail "the watchdog fired again during the same hang"
kill -KILL "$pid"

# A thread hung in a pthread key destructor, after its exit record: still a
# blocked thread for the watchdog (the main thread sleeps meanwhile).
kd="$build/life/life_key_dtor"
[ -x "$kd" ] || fail "$kd is missing"
env LD_PRELOAD="$shim" LOCKTRACE_OUTPUT="$work/kd.trace" LOCKTRACE_WATCHDOG=1 "$kd" stuck 30 >"$work/kd.out" 2>"$work/kd.err" &
kdpid=$!
pids+=("$kdpid")
wait_for 60 grep -qs "BLOCKED THREADS" "$work/kd.trace.report.txt" ||
    fail "no watchdog report for a thread hung in a key destructor after 60 s"
grep -q "locktrace: watchdog: 1 thread(s) blocked" "$work/kd.err" || fail "the watchdog did not count the destructor's wait"
grep -q "stuck_destructor (key_dtor.c" "$work/kd.trace.report.txt" || fail "the report does not show the destructor's stack"
kill -KILL "$kdpid"

# A healthy program that finishes: no report, no mark.
for prog in healthy_prodcons healthy_rwlock; do
    exe="$build/zoo/$prog"
    [ -x "$exe" ] || fail "$exe is missing"
    env LD_PRELOAD="$shim" LOCKTRACE_OUTPUT="$work/$prog.trace" LOCKTRACE_WATCHDOG=1 "$exe" >"$work/$prog.out" 2>"$work/$prog.err" ||
        fail "$prog failed under the watchdog"
    [ ! -e "$work/$prog.trace.report.txt" ] || fail "the watchdog fired on the healthy $prog"
    ! grep -q "watchdog" "$work/$prog.err" || fail "watchdog message for the healthy $prog"
done
echo "PASS: watchdog reported the live hang once, with stacks, and stayed quiet on healthy programs"
