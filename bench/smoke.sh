#!/bin/bash
# bench/smoke.sh BUILD_DIR: `make bench`'s own plumbing in one tiny round (the
# reference loop on one thread only, no LTTng, no real programs, decoder,
# pack or parking_lot): every column of the table, the floors and the ns per
# record must come out as numbers read from real runs.  No timing is judged.
set -u
build=$(cd "${1:?usage: smoke.sh BUILD_DIR}" && pwd) || exit 2
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
BENCH_FILTER='^reference/real_time/threads:1$' BENCH_ROUNDS=1 BENCH_REPETITIONS=1 BENCH_MIN_TIME=0.01 \
    BENCH_NO_LTTNG=1 BENCH_SKIP_REAL=1 BENCH_SKIP_DECODER=1 BENCH_SKIP_PACK=1 BENCH_HANG_RUNS=0 \
    "$root/scripts/bench.sh" "$build" >"$out" 2>&1
rc=$?
fail() { echo "bench smoke: $*"; cat "$out"; exit 1; }
[ $rc = 0 ] || fail "bench.sh exited with $rc"
num='[0-9]+(\.[0-9]+)?'
# The CPU table's reference row: untraced, 3 floors (ns, xU), then
# unrecorded, nostacks, stacks (ns, xU, xF): 16 numbers, the spread and 9.00 events/op.
row=$(sed -n '/^== results: CPU time/,/^== /p' "$out" | grep -E '^reference +1 ')
[ -n "$row" ] || fail "no reference row in the CPU table"
echo "$row" | grep -Eq "^reference +1( +$num){16} +$num% +9\.00$" || fail "reference row not complete: $row"
parts=$(sed -n "/^== locktrace's ns per record/,/^== /p" "$out" | grep -E '^reference +1 ')
echo "$parts" | grep -Eq "^reference +1 +9\.00( +-?$num){7}" || fail "ns per record not complete: $parts"
grep -q 'default stacks: .*x the in-loop rdtsc floor' "$out" || fail "no verdict against the floor"
grep -q '^WARNING' "$out" && fail "a traced run did not record what it did"
echo "bench smoke: ok"
echo "$row"
echo "$parts"
