#!/bin/bash
# The loader deadlock, read live: thread "scanner" holds registry_lock and
# waits in dlopen for the dynamic loader's lock, which thread "loader" holds
# while its plugin's constructor waits for registry_lock.  The scanner's wait
# is inside ld.so (no hook sees it); the live view finds it in
# /proc/PID/task/TID/syscall and the lock's owner in the glibc mutex word.
build=$1
. "$(dirname "$0")/lib.sh"

env LD_PRELOAD="$shim" LOCKTRACE_OUTPUT="$work/dl.trace" "$build/live/live_dlopen_deadlock" \
    "$build/live/live_dlopen_plugin.so" >"$work/dl.out" 2>"$work/dl.err" &
pid=$!
pids+=("$pid")
wait_for 60 grep -q "hangs" "$work/dl.out" || fail "the program did not reach its hang"
wait_for 60 at_least_blocked "$work/dl.trace" 1 || fail "no thread blocked"
sleep 0.5
"$lt" report "$work/dl.trace" >"$work/report.out" 2>"$work/report.err"
rc=$?
[ "$rc" = 1 ] || fail "report exit status $rc, want 1 (an error finding)"
grep -q "^\[error\] deadlock" "$work/report.out" || fail "no deadlock finding"
grep -q "^LIVE VIEW: " "$work/report.out" || fail "no LIVE VIEW section"
"$lt" report --json "$work/dl.trace" >"$work/report.json" 2>/dev/null
python3 - "$work/report.json" <<'PY' || fail "the deadlock or the live view is not as it should be"
import json, re, sys
r = json.load(open(sys.argv[1]))
d = [f for f in r["findings"] if f["kind"] == "deadlock"]
assert d and d[0]["severity"] == "error", "no deadlock"
s = d[0]["summary"]
print(s)
# Both hops, each with the user's site: the loader's constructor waiting for
# registry_lock held by the scanner, and the scanner waiting inside dlopen for
# the dynamic loader's lock owned by the loader.
assert re.search(r'thread \d+ "loader" in registry_add \(dlopen_deadlock\.c:\d+\) waits for mutex 0x[0-9a-f]+ '
                 r'\(registry_lock\), held by thread \d+ "scanner" since \+[0-9.]+s, taken in scan_plugins '
                 r'\(dlopen_deadlock\.c:\d+\)', s), s
assert re.search(r'thread \d+ "scanner" in \S*dlopen\S*, called from scan_plugins \(dlopen_deadlock\.c:\d+\) '
                 r'waits for the glibc mutex 0x[0-9a-f]+ \(_rtld_global\+\d+, a lock of the dynamic loader\).*'
                 r'its owner is thread \d+ "loader"', s), s
live = r["live"]
assert live and live["threads"], "no live view"
sc = [t for t in live["threads"] if t["name"] == "scanner"][0]
ld = [t for t in live["threads"] if t["name"] == "loader"][0]
assert sc["futex"]["mutex_owner"] == ld["thread"], (sc, ld)
assert sc["futex"]["symbol"].startswith("_rtld_global"), sc
PY
kill -0 "$pid" 2>/dev/null || fail "the process died"
# A bundle of the live process keeps the live view; read back, it says the same.
"$lt" pack "$work/dl.trace" -o "$work/dl.ltbundle" >/dev/null 2>"$work/pack.err" || fail "pack failed"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
"$lt" report "$work/dl.ltbundle" >"$work/bundle.out" 2>&1
grep -q "^\[error\] deadlock" "$work/bundle.out" || fail "the bundle lost the deadlock"
grep -q "^LIVE VIEW: " "$work/bundle.out" || fail "the bundle lost the live view"
# The killed trace: its .live file, taken when no event came after it, still tells.
[ -s "$work/dl.trace.live" ] || fail "no $work/dl.trace.live next to the trace"
"$lt" report "$work/dl.trace" >"$work/killed.out" 2>&1
grep -q "^\[error\] deadlock" "$work/killed.out" || fail "the killed trace with its .live file lost the deadlock"
echo "PASS: the dlopen deadlock is found through the loader's lock, live, in a bundle and after the kill"
