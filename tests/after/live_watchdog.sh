#!/bin/bash
# The watchdog takes the live view itself, from inside the hung process (no
# permission needed, nothing allocated), writes it to TRACE.live and reports
# with it: the sleeper's futex word now beside the value it expected, read by
# the process itself, and the sleeper still asleep afterwards; the stacks
# unwound from the copies the watchdog keeps, and a socket's peer named.
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

# The raw material the watchdog keeps, and what the report made of it: the
# stacks unwound with CFI from the copies (frames not marked scanned): main's
# down to main in the program, through pthread_join; the consumer's through
# libc's syscall (the frame-pointer code above it needs %rbp, which /proc does
# not give: the watchdog's scan goes on from there, as outside).
grep -q "^stackmem $tid 0x[0-9a-f]* [0-9a-f]*$" "$live" || fail "no copy of the consumer's stack in the view"
grep -q "^map .*lost_futex_no_wake$" "$live" || fail "no mappings in the view"
grep -q "^fdlink 0 " "$live" || fail "no descriptor targets in the view"
sed -n '/^LIVE VIEW/,/^LOCKS/p' "$report" >"$work/view.txt"
awk -v t="$tid" '/^  thread/ { cur = ($2 == t) } cur' "$work/view.txt" >"$work/consumer.txt"
awk -v t="$pid" '/^  thread/ { cur = ($2 == t) } cur' "$work/view.txt" >"$work/main.txt"
grep -Eq '^    #[0-9]+ main \(lost_futex_no_wake\.c:[0-9]+\)$' "$work/main.txt" ||
    fail "main's stack is not unwound to main by CFI: $(cat "$work/main.txt")"
grep '^    #1 ' "$work/consumer.txt" | grep -vq '\[scanned\]' || fail "the consumer's stack has no frame from CFI: $(cat "$work/consumer.txt")"
grep -Eq '^    #[0-9]+ wait_ready \(lost_futex_no_wake\.c:[0-9]+\)' "$work/consumer.txt" ||
    fail "the consumer's stack does not reach wait_ready: $(cat "$work/consumer.txt")"
kill -KILL "$pid"

# A mutex holder blocked in read() on a unix socket whose peer waits for the
# mutex: the watchdog's report says what the socket is and where its peer is
# open, as a view taken from outside does.
start_traced sock "$build/live/live_socket_chain" LOCKTRACE_WATCHDOG=1
report="$work/sock.trace.report.txt"
wait_for 60 grep -qs "BLOCKED THREADS" "$report" || fail "no watchdog report in $report after 60 s"
grep -q "^source watchdog" "$work/sock.trace.live" || fail "the socket program's view was not the watchdog's"
grep -Eq '^    on fd [0-9]+, unix socket socket:\[[0-9]+\], connected to socket:\[[0-9]+\], which is fd [0-9]+ of this process$' \
    "$report" || fail "the watchdog's report does not describe the socket: $(grep '^    on ' "$report")"
grep -Eq '^    #[0-9]+ .*wait_for_reply \(socket_chain\.c:[0-9]+\)$' "$report" ||
    fail "the worker's stack is not unwound to wait_for_reply: $(sed -n '/^LIVE VIEW/,$p' "$report" | head -40)"
echo "PASS: the watchdog took the live view in-process and reported with it (stacks unwound, sockets described)"
