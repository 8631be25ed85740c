#!/bin/bash
# LOCKTRACE_WATCHDOG_ACTION=abort: after the report the process ends by SIGABRT
# (the "watchdog bounce": a supervisor restarts it, the report stays).
build=$1
. "$(dirname "$0")/lib.sh"
ulimit -c 0
# timeout outside the preload: only demo_bank is traced.
timeout -s KILL 120 env LD_PRELOAD="$shim" LOCKTRACE_OUTPUT="$work/bank.trace" LOCKTRACE_WATCHDOG=1 \
    LOCKTRACE_WATCHDOG_ACTION=abort "$build/zoo/demo_bank" >"$work/bank.out" 2>"$work/bank.err"
rc=$?
[ "$rc" = 134 ] || fail "exit status $rc, want 134 (killed by SIGABRT)"
grep -q "BLOCKED THREADS" "$work/bank.trace.report.txt" || fail "no report before the abort"
grep -q "aborting the process" "$work/bank.err" || fail "the abort was not announced"
"$lt" report "$work/bank.trace" >"$work/after.out" 2>&1
[ $? -le 1 ] || fail "the aborted process's trace cannot be read"
echo "PASS: watchdog reported, then aborted the process (SIGABRT)"
