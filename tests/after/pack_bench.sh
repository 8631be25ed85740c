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

env LD_PRELOAD="$shim" LOCKTRACE_OUTPUT="$dir/lt.trace" LOCKTRACE_RING_SIZE=1048576 \
    "$wl" reference 1 81000 >/dev/null 2>"$dir/wl.err" || { echo "pack_bench: workload failed: $(tail -1 "$dir/wl.err")"; exit 1; }
t=$dir/lt.trace
events=$("$lt" dump "$t" 2>/dev/null | head -1 | sed -n 's/.*threads, \([0-9]*\) events.*/\1/p')
raw=$(stat -c %s "$t")
cat "$t" >/dev/null   # both start from the page cache
best_pack=0 best_zstd=0
for round in 1 2 3; do
    t0=$(now); "$lt" pack "$t" -o "$dir/b.ltb" >/dev/null 2>"$dir/pack.err" || { echo "pack failed: $(cat "$dir/pack.err")"; exit 1; }
    p=$(( $(now) - t0 ))
    t0=$(now); zstd -3 -q -f -c "$t" >"$dir/raw.zst"; z=$(( $(now) - t0 ))
    [ "$best_pack" = 0 ] || [ "$p" -lt "$best_pack" ] && best_pack=$p
    [ "$best_zstd" = 0 ] || [ "$z" -lt "$best_zstd" ] && best_zstd=$z
done
psz=$(stat -c %s "$dir/b.ltb") zsz=$(stat -c %s "$dir/raw.zst")
"$lt" report "$dir/b.ltb" >/dev/null 2>&1; rc=$?
awk -v ev="$events" -v raw="$raw" -v psz="$psz" -v zsz="$zsz" -v p="$best_pack" -v z="$best_zstd" -v rc="$rc" 'BEGIN {
    printf "pack: trace of %.2f M events, %.1f MiB raw\n", ev / 1e6, raw / 1048576
    printf "pack: locktrace pack  %7.2f MiB = 1/%-6.1f of raw in %.3f s (best of 3)   target <= 1/10: %s\n",
           psz / 1048576, raw / psz, p / 1e9, (raw / psz >= 10) ? "met" : "MISSED"
    printf "pack: zstd -3 (raw)   %7.2f MiB = 1/%-6.1f of raw in %.3f s (best of 3)\n", zsz / 1048576, raw / zsz, z / 1e9
    printf "pack: pack time / zstd -3 time = %.2f   target <= 1: %s\n", p / z, (p <= z) ? "met" : "MISSED"
    printf "pack: the bundle %s\n", (rc <= 1) ? "decodes (locktrace report)" : "does NOT decode"
}'
