#!/bin/bash
# A live report of a hung lost-wakeup program leaves it hung: reported twice,
# the consumer is still asleep in the same futex wait on the same word (its
# /proc/PID/task/TID/syscall is the same before and after), and the report
# prints the word now beside the value the waiter expected.
build=$1
. "$(dirname "$0")/lib.sh"

start_traced lw "$build/zoo/lost_futex_no_wake"
wait_for 60 at_least_blocked "$work/lw.trace" 1 || fail "the consumer did not block"
wait_for 60 grep -q "waiting for ready" "$work/lw.out" || fail "no consumer output"
tid=""
for t in /proc/$pid/task/*; do
    read -r nr rest <"$t/syscall" 2>/dev/null
    [ "$nr" = 202 ] && [ "$(basename "$t")" != "$pid" ] && tid=$(basename "$t")
done
[ -n "$tid" ] || fail "no thread of $pid asleep in futex"
before=$(cat "/proc/$pid/task/$tid/syscall")
for i in 1 2; do
    "$lt" report "$work/lw.trace" >"$work/report$i.out" 2>&1
    [ $? = 1 ] || fail "report $i: want exit status 1 (lost-wakeup)"
    grep -q "^\[error\] lost-wakeup" "$work/report$i.out" || fail "report $i: no lost-wakeup"
    grep -q "futex word now: 1 (read live), the waiter expected 0" "$work/report$i.out" ||
        fail "report $i: the word now is not printed beside the expected value"
done
after=$(cat "/proc/$pid/task/$tid/syscall")
[ "$before" = "$after" ] || fail "the consumer's system call changed: '$before' -> '$after'"
grep -q "State:.*S (sleeping)" "/proc/$pid/task/$tid/status" || fail "the consumer is not asleep any more"
grep -q "unexpected" "$work/lw.out" && fail "the consumer woke up"
kill -KILL "$pid"

# The word a futex wait recorded: a Rust RwLock's words live on the heap, on a
# page the shim does not yet know mapped when the first wait begins, so it
# records no word rather than a 0 no sleeper could have slept on; the word
# now, read live, is the one the waiter expected.
rw="$build/zoo/rust_rwlock_deadlock"
if [ -x "$rw" ]; then
    start_traced rw "$rw"
    wait_for 60 at_least_blocked "$work/rw.trace" 2 || fail "the Rust rwlock program did not hang"
    sleep 0.3
    "$lt" report "$work/rw.trace" >"$work/rw.out" 2>&1
    python3 - "$work/rw.out" <<'PY' || fail "a futex wait's recorded word cannot be true of a sleeper"
import re, sys
text = open(sys.argv[1]).read()
waits = re.findall(r"futex WAIT\w* on 0x[0-9a-f]+ \((word (\d+)|word not read[^;]*); expected (\d+)|futex WAIT\w* on 0x[0-9a-f]+ \(word (\d+), expected (\d+)\)", text)
assert waits, "no futex wait in the report"
for w in re.findall(r"futex WAIT\w* on 0x[0-9a-f]+ \(word (\d+), expected (\d+)\)", text):
    assert w[0] == w[1], "recorded word %s, expected %s, for a thread still asleep" % w
nows = re.findall(r"futex word now: (\d+) \(read live\), the waiter expected (\d+)", text)
assert nows and all(a == b for a, b in nows), nows
PY
fi
echo "PASS: two live reports left the lost wakeup asleep on the same word ($after)"
