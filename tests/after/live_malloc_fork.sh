#!/bin/bash
# The child of a careless fork: _Fork() while another thread allocates in a
# loop, until a child is forked with main_arena's lock locked; its malloc then
# sleeps for ever.  The child's live report names the malloc arena lock
# (main_arena) and says that no thread of the process can unlock it.  Which
# fork catches the allocator inside malloc is chance: the program tries up to
# 200 forks, and the test skips (status 77) when none hung.
build=$1
. "$(dirname "$0")/lib.sh"

env LD_PRELOAD="$shim" LOCKTRACE_OUTPUT="$work/mf.%p.trace" "$build/live/live_malloc_fork" \
    >"$work/mf.out" 2>"$work/mf.err" &
pid=$!
pids+=("$pid")
wait_for 240 grep -qs "hung child\|no child hung" "$work/mf.out" || fail "the program neither hung a child nor gave up"
if grep -q "no child hung" "$work/mf.out"; then
    echo "SKIP: no child of 200 forks was forked with the arena's lock locked"
    exit 77
fi
child=$(sed -n 's/^hung child \([0-9]*\) .*/\1/p' "$work/mf.out")
pids+=("$child")
read -r nr _ <"/proc/$child/syscall" || fail "cannot read the child's system call"
[ "$nr" = 202 ] || fail "the hung child is not asleep in futex ($nr)"
trace="$work/mf.$child.trace"
[ -s "$trace" ] || fail "no trace for the child ($trace)"
sleep 1.2  # the child's trace has been quiet for a second: a hang, not a busy moment
report_both "$trace" 1  # an error finding
python3 - "$work/report.json" <<'PY' || fail "the malloc arena lock is not named: $(cat "$work/report.out")"
import json, re, sys
r = json.load(open(sys.argv[1]))
h = [f for f in r["findings"] if f["kind"] == "hang"]
assert h and h[0]["severity"] == "error", [f["kind"] for f in r["findings"]]
s = h[0]["summary"]
assert re.search(r'thread \d+( "[^"]*")? in \S*malloc\S*.* called from child_work \(malloc_fork\.c:\d+\) sleeps on the '
                 r'malloc arena lock 0x[0-9a-f]+ \(main_arena\)', s), s
assert "no thread of this process is inside" in s, s
PY
read -r nr _ <"/proc/$child/syscall"
[ "$nr" = 202 ] || fail "the child is no longer asleep after the report ($nr)"
echo "PASS: $(head -1 "$work/mf.out"): the child's report names the malloc arena lock (main_arena) no thread can unlock"
