#!/bin/bash
# A deadlock through a timed join: main holds config_lock and waits in
# pthread_timedjoin_np (an hour's timeout) for "loader", which waits for
# config_lock.  The join still waiting is an edge of the wait-for graph: a
# deadlock with both user sites, and the BLOCKED line names the joined
# thread by tid and name.
build=$1
. "$(dirname "$0")/lib.sh"

start_traced tj "$build/live/live_timedjoin_deadlock"
wait_for 60 at_least_blocked "$work/tj.trace" 2 || fail "main and the loader did not both block"
report_both "$work/tj.trace" 1  # a deadlock
python3 - "$work/report.json" <<'PY' || fail "the deadlock through the timed join is not said"
import json, re, sys
r = json.load(open(sys.argv[1]))
d = [f for f in r["findings"] if f["kind"] == "deadlock"]
assert d and d[0]["severity"] == "error", [f["kind"] for f in r["findings"]]
s = d[0]["summary"]
assert re.search(r'thread \d+( "[^"]*")? in wait_for_loader \(timedjoin_deadlock\.c:\d+\) waits in a timed '
                 r'join for thread \d+ "loader" to end', s), s
assert re.search(r'thread \d+ "loader" in load_config \(timedjoin_deadlock\.c:\d+\) waits for mutex 0x[0-9a-f]+ '
                 r'\(config_lock\), held by thread \d+', s), s
PY
grep -Eq 'in a timed join of thread [0-9]+ "loader"' "$work/report.out" ||
    fail "the BLOCKED line does not name the joined thread: $(grep -i 'join of' "$work/report.out")"
kill -0 "$pid" 2>/dev/null || fail "the process died"
echo "PASS: the deadlock through a timed join is found, both user sites named"
