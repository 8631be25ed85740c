#!/bin/bash
# The watchdog after fork: the parent's watchdog thread does not survive fork,
# the shim starts a new one for the child, which reports the child's own hang
# (from the child's own trace) while the parent just waits.
build=$1
. "$(dirname "$0")/lib.sh"
cc -O0 -g -pthread -o "$work/fork_hang" "$(dirname "$0")/fork_hang.c" || fail "cannot build fork_hang.c"
env LD_PRELOAD="$shim" LOCKTRACE_OUTPUT="$work/fh.%p.trace" LOCKTRACE_WATCHDOG=1 "$work/fork_hang" >"$work/fh.out" 2>"$work/fh.err" &
pid=$!
pids+=("$pid")
wait_for 60 grep -qs "child [0-9]* deadlocking" "$work/fh.out" || fail "the child did not start"
child=$(sed -n 's/^child \([0-9]*\) deadlocking/\1/p' "$work/fh.out")
pids+=("$child")
wait_for 60 grep -qs "BLOCKED THREADS" "$work/fh.$child.trace.report.txt" || fail "no watchdog report for the child's trace"
wait_for 30 grep -qs "BLOCKED THREADS" "$work/fh.err" || fail "the child's report did not reach stderr"
grep -q "deadlock\|hang" "$work/fh.$child.trace.report.txt" || fail "the child's report names no deadlock or hang"
grep -q "(pid $child)" "$work/fh.$child.trace.report.txt" || fail "the report is not about the child's trace"
[ ! -e "$work/fh.$pid.trace.report.txt" ] || fail "the parent (only waiting in waitpid) got a watchdog report"
marks "$work/fh.$child.trace" | grep -q "^1 " || fail "no watchdog mark in the child's trace"
! marks "$work/fh.$pid.trace" | grep -q "^1 " || fail "a watchdog mark in the parent's trace"
echo "PASS: the child's own watchdog reported the child's hang after fork"
