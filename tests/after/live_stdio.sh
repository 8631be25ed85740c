#!/bin/bash
# A deadlock through stdio's own lock: "logger" holds stdout's FILE lock
# (flockfile) and waits for stats_lock; "counter" holds stats_lock and waits
# inside printf for the FILE lock, which no hook sees.  The live view finds
# the counter asleep on the FILE lock, whose owner field is the logger's
# pthread_t as the trace recorded it: a deadlock with both user sites.
build=$1
. "$(dirname "$0")/lib.sh"

start_traced sd "$build/live/live_stdio_deadlock"
wait_for 60 at_least_blocked "$work/sd.trace" 1 || fail "the logger did not block"
sleep 0.5
report_both "$work/sd.trace" 1  # a deadlock
python3 - "$work/report.json" <<'PY' || fail "the deadlock through the FILE lock is not said"
import json, re, sys
r = json.load(open(sys.argv[1]))
d = [f for f in r["findings"] if f["kind"] == "deadlock"]
assert d and d[0]["severity"] == "error", [f["kind"] for f in r["findings"]]
s = d[0]["summary"]
assert re.search(r'thread \d+ "counter" in \S*printf\S*, called from count_and_print \(stdio_deadlock\.c:\d+\) waits '
                 r"for the C library's lock 0x[0-9a-f]+ \(_IO_stdfile_1_lock\).*its owner is thread \d+ \"logger\"", s), s
assert re.search(r'thread \d+ "logger" in log_record \(stdio_deadlock\.c:\d+\) waits for mutex 0x[0-9a-f]+ '
                 r'\(stats_lock\), held by thread \d+ "counter"', s), s
PY
kill -0 "$pid" 2>/dev/null || fail "the process died"
echo "PASS: the deadlock through stdout's FILE lock is found, both user sites named"
