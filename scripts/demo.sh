#!/bin/bash
# The main job on a built-in example: trace a program that hangs, read its
# trace while it is still hung, print the diagnosis, then end the program.
set -u
build=${1:-build}
prog="$build/zoo/demo_bank"
for f in "$build/locktrace" "$build/liblocktrace.so" "$prog"; do
    [ -e "$f" ] || { echo "demo: $f is missing; run 'make' first" >&2; exit 2; }
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/locktrace-demo.XXXXXX")
trace="$dir/demo_bank.trace"

echo "== Running $prog under locktrace (it will hang: that is the point)"
"$build/locktrace" run -o "$trace" -- "$prog" &
runner=$!

# Wait until the program is hung: its trace stops growing for a second.
last=-1
for _ in $(seq 1 30); do
    sleep 0.5
    size=$("$build/locktrace" dump "$trace" 2>/dev/null | wc -l)
    [ "$size" -gt 0 ] && [ "$size" -eq "$last" ] && break
    last=$size
done

echo
echo "== locktrace report $trace   (read while the process is still hung)"
echo
"$build/locktrace" report "$trace"
status=$?

echo
echo "== Ending the hung program (SIGKILL); the trace stays."
# End the hung program itself; `locktrace run` then exits on its own, saying
# how the program ended (killing the runner would leave bash to print "Killed").
child=$(pgrep -P "$runner")
if [ -n "$child" ]; then kill -KILL $child 2>/dev/null; else kill -KILL "$runner" 2>/dev/null; fi
wait "$runner" 2>/dev/null
echo
echo "== The trace is kept at $trace (report exit status $status: 1 means error findings)."
echo "   Try: $build/locktrace timeline $trace"
# The demo succeeded if the report could read the trace and found the bug.
[ "$status" -eq 1 ]
