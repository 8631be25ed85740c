#!/bin/bash
# bug-report.sh: run a program under locktrace with the watchdog, and when it
# hangs (or exits) pack the trace into one bundle to attach to a bug report.
#
#   scripts/bug-report.sh [-w SECONDS] [-d DIR] [--no-cmdline] [--keep] -- PROGRAM [ARGS...]
#
#   -w SECONDS     watchdog: threads blocked this long with no lock progress = a hang (default 5)
#   -d DIR         where the trace, report and bundle go (default ./locktrace-bug-PROGRAM-DATE)
#   --no-cmdline   leave the program's command line out of the bundle
#   --keep         leave a hung program running after packing (default: kill it)
#   LOCKTRACE_BUILD  the build directory with locktrace and liblocktrace.so
#                    (default: build/ next to this script's parent)
#
# Exit status: 0 a bundle was written, 2 usage or tool errors.
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${LOCKTRACE_BUILD:-$here/build}
lt=$build/locktrace
seconds=5 dir="" nocmd="" keep=0
while [ $# -gt 0 ]; do
    case "$1" in
    -w) seconds=$2; shift ;;
    -d) dir=$2; shift ;;
    --no-cmdline) nocmd=--no-cmdline ;;
    --keep) keep=1 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) break ;;
    esac
    shift
done
[ $# -gt 0 ] || { echo "usage: $0 [-w SECONDS] [-d DIR] [--no-cmdline] [--keep] -- PROGRAM [ARGS...]" >&2; exit 2; }
[ -x "$lt" ] || { echo "bug-report: $lt not found (build first, or set LOCKTRACE_BUILD)" >&2; exit 2; }
prog=$(basename "$1")
dir=${dir:-./locktrace-bug-$prog-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$dir" || exit 2
dir=$(cd "$dir" && pwd)

echo "bug-report: running $* under locktrace (watchdog ${seconds}s); output in $dir" >&2
"$lt" run --watchdog "$seconds" -o "$dir/$prog.%p.trace" -- "$@" 2> >(tee "$dir/stderr.txt" >&2) &
runner=$!

# Wait until the program exits or the watchdog has written its report.
report=""
while kill -0 "$runner" 2>/dev/null; do
    report=$(ls "$dir"/*.report.txt 2>/dev/null | head -1)
    if [ -n "$report" ] && grep -q "BLOCKED THREADS" "$dir/stderr.txt" 2>/dev/null; then break; fi
    sleep 0.5
done
trace=$(ls -t "$dir"/*.trace 2>/dev/null | head -1)
[ -n "$trace" ] || { echo "bug-report: no trace was written (did the program start?)" >&2; exit 2; }
bundle=${trace%.trace}.ltb

# Pack while a hung program is still alive: the trace is read live.
"$lt" pack $nocmd "$trace" -o "$bundle" >"$dir/pack.txt" 2>&1 || { cat "$dir/pack.txt" >&2; exit 2; }
if kill -0 "$runner" 2>/dev/null; then
    if [ "$keep" = 1 ]; then
        echo "bug-report: the program is still hung (left running: --keep)" >&2
    else
        pid=$(sed -n 's/.*(pid \([0-9]*\)).*/\1/p' "$report" | head -1)
        [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
        wait "$runner" 2>/dev/null
    fi
else
    wait "$runner" 2>/dev/null
fi
[ -n "$report" ] || { report=$dir/report.txt; "$lt" report "$bundle" >"$report" 2>&1; }

size=$(du -h "$bundle" | cut -f1)
echo
echo "================================================================"
echo "Attach this file to the bug report ($size):"
echo "    $bundle"
echo
echo "It holds the lock events, stacks symbolized here, lock and thread names,"
echo "the findings, kernel/glibc/CPU count; not the environment$( [ -n "$nocmd" ] && echo ", not the command line")."
echo "Anyone can read it without your binaries:  locktrace report $(basename "$bundle")"
echo
echo "What locktrace found (full report: $report):"
sed -n '/^FINDINGS/,/^$/p' "$report" | grep -E '^(FINDINGS|\[)' | cut -c1-160
echo "================================================================"
