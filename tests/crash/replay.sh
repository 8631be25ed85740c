#!/bin/bash
# replay.sh BUILD DIR...: every file in DIRs (fuzzer crash inputs, hostile
# traces, the seed corpus) through the real commands: `dump`, `report`,
# `report --json`, `timeline`.  Each must end by itself within the timeout with
# exit 0, 1 (error findings) or 2 (a clear error): never a signal, never a hang.
# Files named *.expect-error must exit 2 for every command.
set -u
BUILD=$(cd "${1:-build}" && pwd) || exit 2
shift
LT=$BUILD/locktrace
LIMIT=${REPLAY_TIMEOUT:-30}
bad=0 n=0
# module-path-fifo.trace names this FIFO as a loaded module: a decoder that
# opens it blocking waits forever for a writer.
FIFO=/tmp/locktrace-replay-fifo
made_fifo=0
if [ ! -e "$FIFO" ]; then mkfifo -m 600 "$FIFO" && made_fifo=1; fi
[ -p "$FIFO" ] || echo "note: $FIFO exists and is not a FIFO: module-path-fifo.trace does not test the FIFO case"
cleanup() { [ $made_fifo = 1 ] && rm -f "$FIFO"; }
trap cleanup EXIT
for dir in "$@"; do
    [ -d "$dir" ] || continue
    for f in "$dir"/*; do
        [ -f "$f" ] || continue
        case "$f" in *.md|*.txt) continue ;; esac
        n=$((n + 1))
        for cmd in "dump" "report" "report --json" "timeline"; do
            # </dev/null: a hostile module path such as /dev/stdin must not wait for a terminal.
            timeout -s KILL "$LIMIT" "$LT" $cmd "$f" >/dev/null 2>"$BUILD/replay.err" </dev/null
            rc=$?
            msg=$(head -c 200 "$BUILD/replay.err")
            if [ $rc -eq 137 ]; then
                echo "FAIL: $f: '$cmd' did not finish within ${LIMIT}s"; bad=$((bad + 1))
            elif [ $rc -gt 2 ]; then
                echo "FAIL: $f: '$cmd' exited $rc (signal $((rc - 128)) if > 128): $msg"; bad=$((bad + 1))
            elif [[ $f == *.expect-error ]] && [ $rc -ne 2 ]; then
                echo "FAIL: $f: '$cmd' exited $rc, expected a clear error (2)"; bad=$((bad + 1))
            elif [ $rc -eq 2 ] && [ -z "$msg" ]; then
                echo "FAIL: $f: '$cmd' exited 2 without saying why"; bad=$((bad + 1))
            fi
        done
    done
done
rm -f "$BUILD/replay.err"
echo "replay: $n inputs, $bad failures"
[ $n -gt 0 ] || { echo "replay: no inputs found"; exit 1; }
[ $bad -eq 0 ]
