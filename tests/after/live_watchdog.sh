#!/bin/bash
# The watchdog takes the live view itself, from inside the hung process (no
# permission needed, nothing allocated), writes it to TRACE.live and reports
# with it: the sleeper's futex word now beside the value it expected, read by
# the process itself, and the sleeper still asleep afterwards.
build=$1
. "$(dirname "$0")/lib.sh"

start_traced lw "$build/zoo/lost_futex_no_wake" LOCKTRACE_WATCHDOG=1
report="$work/lw.trace.report.txt"
wait_for 60 grep -qs "BLOCKED THREADS" "$report" || fail "no watchdog report in $report after 60 s"
wait_for 30 grep -q "BLOCKED THREADS" "$work/lw.err" || fail "the report was not copied to stderr"
live="$work/lw.trace.live"
[ -s "$live" ] || fail "the watchdog wrote no $live"
head -1 "$live" | grep -qx "locktrace-live 1" || fail "$live is not a live view"
grep -qx "source watchdog" "$live" || fail "$live was not taken by the watchdog"
grep -q "^LIVE VIEW: .* by the watchdog inside the process" "$report" || fail "the report does not use the watchdog's view"
grep -q "futex word now: 1 (read live), the waiter expected 0" "$report" || fail "no word now beside the expected value"
grep -q "^\[error\] lost-wakeup" "$report" || fail "no lost-wakeup finding"
# The watchdog's own thread is not in its view; the consumer is, asleep in futex.
grep -q "lt-watchdog" "$live" && fail "the watchdog's own thread is in the view"
grep -q "^syscall [0-9]* 202 " "$live" || fail "no futex wait in the view"
grep -q "^stack [0-9]* 1 0x" "$live" || fail "no scanned stack in the view"
kill -0 "$pid" 2>/dev/null || fail "the process is gone"
tid=$(awk '$1 == "syscall" && $3 == 202 { print $2 }' "$live" | while read -r t; do
    [ "$t" != "$pid" ] && echo "$t"; done | head -1)
[ -n "$tid" ] || fail "no consumer thread in the view"
read -r nr rest <"/proc/$pid/task/$tid/syscall"
[ "$nr" = 202 ] || fail "the consumer is not asleep in futex any more ($nr $rest)"
grep -q "unexpected" "$work/lw.out" && fail "the consumer woke up"
echo "PASS: the watchdog took the live view in-process and reported with it"
