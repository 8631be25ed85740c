#!/bin/bash
# A mutex holder blocked in read() on a socket whose peer waits for that
# mutex: the report says what the holder is doing, names the socket and the
# chain from the waiter to it.
build=$1
. "$(dirname "$0")/lib.sh"

start_traced sock "$build/live/live_socket_chain"
wait_for 60 at_least_blocked "$work/sock.trace" 1 || fail "the replier did not block"
sleep 0.3
"$lt" report "$work/sock.trace" >"$work/report.out" 2>"$work/report.err"
rc=$?
[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "report exit status $rc"
grep -q "^LIVE VIEW: " "$work/report.out" || fail "no LIVE VIEW part"
grep -q "on fd [0-9]*, unix socket socket:" "$work/report.out" || fail "the LIVE VIEW does not name the socket"
"$lt" report --json "$work/sock.trace" >"$work/report.json" 2>/dev/null
python3 - "$work/report.json" <<'PY' || fail "the blocked finding does not give the chain to the socket"
import json, re, sys
r = json.load(open(sys.argv[1]))
b = [f["summary"] for f in r["findings"] if f["kind"] == "blocked" and "replier" in f["summary"]]
assert b, "no blocked finding on state_lock: %r" % [f["summary"] for f in r["findings"]]
pat = (r'thread \d+ "replier" is blocked on mutex .*state_lock.*, held by thread \d+ "worker", which is blocked '
       r'in read\(\) on fd (\d+), unix socket socket:\[\d+\], connected to socket:\[\d+\], which is fd (\d+) '
       r'of this process, in .*wait_for_reply \(socket_chain\.c:\d+\)')
# main's join of the worker ends at the same read
assert any("waits in a join for" in f["summary"] and "blocked in read()" in f["summary"] for f in r["findings"])
m = re.search(pat, b[0])
assert m, b[0]
assert m.group(1) != m.group(2), b[0]
PY
kill -KILL "$pid"

# The same over a TCP connection on the loopback: the socket's addresses and
# its peer, found in /proc/PID/net/tcp, open in the same process.
env LD_PRELOAD="$shim" LOCKTRACE_OUTPUT="$work/tcp.trace" "$build/live/live_socket_chain" tcp >"$work/tcp.out" 2>"$work/tcp.err" &
pid=$!
pids+=("$pid")
wait_for 60 at_least_blocked "$work/tcp.trace" 1 || fail "the replier did not block (tcp)"
sleep 0.3
"$lt" report --json "$work/tcp.trace" >"$work/tcp.json" 2>/dev/null
python3 - "$work/tcp.json" <<'PY' || fail "the chain to the worker's read on the TCP socket is not said"
import json, re, sys
r = json.load(open(sys.argv[1]))
b = [f["summary"] for f in r["findings"] if f["kind"] == "blocked" and "replier" in f["summary"]]
assert b, [f["summary"] for f in r["findings"]]
pat = (r'held by thread \d+ "worker", which is blocked in read\(\) on fd \d+, tcp socket socket:\[\d+\] '
       r'127\.0\.0\.1:(\d+) -> 127\.0\.0\.1:(\d+), peer socket:\[\d+\], which is fd \d+ of this process')
m = re.search(pat, b[0])
assert m and m.group(1) != m.group(2), b[0]
PY
echo "PASS: the holder's read on the socket and the chain are named (unix and TCP)"
