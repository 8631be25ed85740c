#!/bin/bash
# The live view of another user's process: the kernel refuses its system
# calls and memory; the report says what was refused and how to allow it,
# goes on with the recorded history, and exits as usual.  Needs root (it runs
# the reader as nobody); skipped otherwise.
build=$1
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to run the reader as another user"; exit 77; }
command -v setpriv >/dev/null || { echo "SKIP: no setpriv"; exit 77; }
chmod 755 "$work"
start_traced lw "$build/zoo/lost_futex_no_wake"
wait_for 60 at_least_blocked "$work/lw.trace" 1 || fail "the consumer did not block"
sleep 0.3
chmod 644 "$work/lw.trace"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$lt" report "$work/lw.trace" >"$work/nobody.out" 2>"$work/nobody.err"
rc=$?
[ "$rc" = 1 ] || fail "report as nobody: exit status $rc, want 1 (the lost-wakeup found from the history)"
grep -q "^\[error\] lost-wakeup" "$work/nobody.out" || fail "no finding from the history"
grep -q "^  refused: cannot read /proc/$pid/task/\*/syscall (Permission denied): .*run locktrace as the process's user or as root" "$work/nobody.out" ||
    fail "the refusal is not explained: $(grep refused "$work/nobody.out")"
grep -q "process runs as uid 0, locktrace as uid $(id -u nobody)" "$work/nobody.out" || fail "the uids are not named"
kill -0 "$pid" 2>/dev/null || fail "the process died"
echo "PASS: the refused live view is explained and the report goes on"
