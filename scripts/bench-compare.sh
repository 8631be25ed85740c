#!/bin/bash
# bench-compare.sh SHIM_A SHIM_B [BUILD] [ROUNDS]: the reference loop
# (bench/README.md) with default stacks, one thread, under two builds of
# liblocktrace.so in turns (A, B, A, B, ...), so that load from other
# processes hits both alike.  Prints the CPU ns per loop of every round and
# the medians, and B / A.
set -u
A=$(realpath "$1") B=$(realpath "$2")
BUILD=$(cd "${3:-build}" && pwd) || exit 2
ROUNDS=${4:-9}
bench=$BUILD/bench/lt_bench
[ -x "$bench" ] || { echo "bench-compare: $bench is missing (build first)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/lt-bench-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT
one() { # shim -> CPU ns of one reference loop (best of 3 repetitions)
    env LD_PRELOAD="$1" LOCKTRACE_OUTPUT="$work/t.%p.trace" LOCKTRACE_QUIET=1 \
        "$bench" --benchmark_filter='^reference/real_time/threads:1$' --benchmark_min_time=0.2 \
        --benchmark_repetitions=3 --benchmark_format=csv 2>/dev/null |
        grep '^"reference' | grep -v '_mean\|_median\|_stddev\|_cv' | cut -d, -f4 | sort -g | head -1
    rm -f "$work"/t.*.trace
}
: >"$work/a"; : >"$work/b"
for r in $(seq 1 "$ROUNDS"); do
    a=$(one "$A"); b=$(one "$B")
    echo "round $r: A $a ns, B $b ns"
    echo "$a" >>"$work/a"; echo "$b" >>"$work/b"
done
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ma=$(median "$work/a") mb=$(median "$work/b")
echo "median: A $ma ns, B $mb ns, B/A $(awk -v a="$ma" -v b="$mb" 'BEGIN { printf "%.3f", b / a }')"
