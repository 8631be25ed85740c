#!/bin/bash
# pack_bench.sh BUILD: size and speed of `locktrace pack` on a trace of about
# one million events (one ring of 2^20 records, bench/lt_workload), against
# `zstd -3` on the raw file.  Prints both figures; exit status 0 whether or not
# the targets are met (this is a measurement, `make bench` reads it).
#   target: bundle <= 1/10 of the raw trace; pack time <= zstd -3 time.
set -uo pipefail
build=$(cd "${1:-build}" && pwd) || { echo "pack_bench: no build directory" >&2; exit 2; }
lt=$build/locktrace shim=$build/liblocktrace.so wl=$build/bench/lt_workload
for f in "$lt" "$shim" "$wl"; do [ -e "$f" ] || { echo "pack_bench: $f missing (build it)" >&2; exit 2; }; done
command -v zstd >/dev/null || { echo "pack_bench: zstd (the command) is needed" >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/lt-packbench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
now() { date +%s%N; }

# 116,000 loops of 9 events: 1.04 M events, just inside the 2^20-record ring.
env LD_PRELOAD="$shim" LOCKTRACE_OUTPUT="$dir/lt.trace" LOCKTRACE_RING_SIZE=1048576 \
    "$wl" reference 1 116000 >/dev/null 2>"$dir/wl.err" || { echo "pack_bench: workload failed: $(tail -1 "$dir/wl.err")"; exit 1; }
t=$dir/lt.trace
events=$("$lt" report --json "$t" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])' 2>/dev/null || echo 0)
raw=$(stat -c %s "$t")
cat "$t" >/dev/null   # both start from the page cache
# Wall time (what a user waits) and CPU time (user+sys; fairer on a shared
# machine), best of 3 each.
best() { sort -g | head -1; }
: >"$dir/p.times"; : >"$dir/z.times"
for round in 1 2 3; do
    /usr/bin/time -f "%e %U %S" -a -o "$dir/p.times" "$lt" pack "$t" -o "$dir/b.ltb" >/dev/null 2>"$dir/pack.err" ||
        { echo "pack failed: $(cat "$dir/pack.err")"; exit 1; }
    /usr/bin/time -f "%e %U %S" -a -o "$dir/z.times" sh -c 'zstd -3 -q -f -c "$1" >"$2"' sh "$t" "$dir/raw.zst"
done
p=$(awk '{print $1}' "$dir/p.times" | best) z=$(awk '{print $1}' "$dir/z.times" | best)
pc=$(awk '{print $2 + $3}' "$dir/p.times" | best) zc=$(awk '{print $2 + $3}' "$dir/z.times" | best)
psz=$(stat -c %s "$dir/b.ltb") zsz=$(stat -c %s "$dir/raw.zst")
"$lt" report "$dir/b.ltb" >/dev/null 2>&1; rc=$?
awk -v ev="$events" -v raw="$raw" -v psz="$psz" -v zsz="$zsz" -v p="$p" -v z="$z" -v pc="$pc" -v zc="$zc" -v rc="$rc" 'BEGIN {
    printf "pack: trace of %.2f M events, %.1f MiB raw\n", ev / 1e6, raw / 1048576
    printf "pack: locktrace pack  %7.2f MiB = 1/%-6.1f of raw  %.3f s wall, %.3f s cpu   target <= 1/10: %s\n",
           psz / 1048576, raw / psz, p, pc, (raw / psz >= 10) ? "met" : "MISSED"
    printf "pack: zstd -3 (raw)   %7.2f MiB = 1/%-6.1f of raw  %.3f s wall, %.3f s cpu\n", zsz / 1048576, raw / zsz, z, zc
    printf "pack: pack / zstd -3 time: wall %.2f, cpu %.2f   target <= 1: %s\n", p / z, pc / zc, (p <= z) ? "met" : "MISSED"
    printf "pack: the bundle %s\n", (rc <= 1) ? "decodes (locktrace report)" : "does NOT decode"
}'
