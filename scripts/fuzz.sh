#!/bin/bash
# fuzz.sh [SECONDS] [BUILD] [FUZZ_BUILD]: builds the libFuzzer targets (clang,
# ASan + UBSan) in FUZZ_BUILD (default build-fuzz), makes a seed corpus from
# real traces of tests/crash/progs/lock_storm run under BUILD's shim (default
# build), adds fuzz/corpus/, and runs each target for SECONDS (default 300)
# with a memory limit and a per-input timeout, so crashes, loops and unbounded
# allocation are all caught.  Prints executions, corpus inputs and crashes per
# target; exits 1 if any target found a crash (inputs kept under
# FUZZ_BUILD/fuzz/artifacts/: copy them to tests/crash/regressions/).
# Environment: FUZZ_TARGETS (default "fuzz_trace fuzz_bundle fuzz_cli"),
# FUZZ_RSS_MB (2048), FUZZ_TIMEOUT (10 s per input), FUZZ_CMAKE_ARGS (extra configure args).
set -u
SECONDS_EACH=${1:-300}
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${2:-$SRC/build}" && pwd) || { echo "fuzz: no build dir" >&2; exit 2; }
FB=${3:-$SRC/build-fuzz}
TARGETS=${FUZZ_TARGETS:-fuzz_trace fuzz_bundle fuzz_cli}
RSS=${FUZZ_RSS_MB:-2048}
TMO=${FUZZ_TIMEOUT:-10}
CC=${FUZZ_CC:-clang-14}
CXX=${FUZZ_CXX:-clang++-14}

if [ ! -f "$FB/CMakeCache.txt" ]; then
    cmake -S "$SRC" -B "$FB" -DLOCKTRACE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" ${FUZZ_CMAKE_ARGS:-} >"$FB.cmake.log" 2>&1 ||
        { echo "fuzz: configure failed, see $FB.cmake.log" >&2; exit 2; }
fi
cmake --build "$FB" -j "$(nproc)" --target $TARGETS make_seed >"$FB/fuzz-build.log" 2>&1 ||
    { tail -20 "$FB/fuzz-build.log"; echo "fuzz: build failed" >&2; exit 2; }
FD=$FB/fuzz
# Older layouts put the binaries elsewhere; find them.
for t in $TARGETS make_seed; do
    [ -x "$FD/$t" ] || { echo "fuzz: $t not built" >&2; exit 2; }
done

# Seeds: real traces, killed and exited, shrunk by make_seed; bundles of them.
SEEDS=$FD/seeds
rm -rf "$SEEDS"
mkdir -p "$SEEDS/trace" "$SEEDS/bundle"
PROG=$BUILD/crash/crash_lock_storm
if [ -x "$PROG" ] && [ -f "$BUILD/liblocktrace.so" ]; then
    n=0
    for variant in "exit 2 300 8" "exit 3 200 0" "kill 4 0 8" "kill 2 0 0"; do
        set -- $variant
        out=$SEEDS/raw.$n.trace
        rm -f "$out"
        if [ "$1" = exit ]; then
            LD_PRELOAD=$BUILD/liblocktrace.so LOCKTRACE_OUTPUT=$out LOCKTRACE_STACK_DEPTH=$4 LOCKTRACE_MAX_THREADS=16 \
                "$PROG" "$2" "$3" >/dev/null 2>&1
        else
            LD_PRELOAD=$BUILD/liblocktrace.so LOCKTRACE_OUTPUT=$out LOCKTRACE_STACK_DEPTH=$4 LOCKTRACE_MAX_THREADS=16 \
                "$PROG" "$2" >/dev/null 2>&1 &
            pid=$!
            sleep 0.2
            kill -KILL $pid 2>/dev/null
            wait $pid 2>/dev/null
        fi
        for ring in 8 32; do
            "$FD/make_seed" "$out" "$SEEDS/trace/seed.$n.r$ring.trace" $ring 1 >/dev/null 2>&1
        done
        rm -f "$out"
        n=$((n + 1))
    done
    if [ -x "$BUILD/locktrace" ] && "$BUILD/locktrace" pack --help >/dev/null 2>&1; then
        for s in "$SEEDS"/trace/*.trace "$SRC"/fuzz/corpus/*.trace; do
            [ -f "$s" ] && "$BUILD/locktrace" pack "$s" -o "$SEEDS/bundle/$(basename "$s" .trace).ltb" >/dev/null 2>&1
        done
    fi
else
    echo "fuzz: $PROG or the shim missing in $BUILD: only the committed corpus is used as seeds"
fi
# fuzz_bundle also takes decompressed payloads (it wraps them into a bundle
# itself, so mutations reach the sections): one per seed bundle.
if command -v zstd >/dev/null; then
    for b in "$SEEDS"/bundle/*.ltb "$SRC"/fuzz/corpus/*.ltb; do
        [ -f "$b" ] && zstd -q -dc "$b" >"$SEEDS/bundle/$(basename "$b" .ltb).payload" 2>/dev/null
    done
fi
echo "fuzz: seeds: $(ls "$SEEDS/trace" | wc -l) traces, $(ls "$SEEDS/bundle" | wc -l) bundles (+ fuzz/corpus)"

total_crashes=0
summary=""
for t in $TARGETS; do
    corpus=$FD/corpus-$t
    art=$FD/artifacts/$t
    mkdir -p "$corpus" "$art"
    case $t in
        fuzz_trace) seeds="$SEEDS/trace $SRC/fuzz/corpus" ;;
        fuzz_bundle) seeds="$SEEDS/bundle $SRC/fuzz/corpus" ;;
        *) seeds="$SEEDS/trace $SEEDS/bundle $SRC/fuzz/corpus" ;;
    esac
    before=$(ls "$art" | wc -l)
    log=$FD/$t.log
    echo "fuzz: $t for ${SECONDS_EACH}s (log $log)"
    # Fork mode: a crash, timeout or OOM is saved and the run goes on, so one
    # finding does not hide the next.
    "$FD/$t" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -max_total_time="$SECONDS_EACH" -rss_limit_mb="$RSS" -malloc_limit_mb="$RSS" -timeout="$TMO" \
        -max_len=131072 -artifact_prefix="$art/" -close_fd_mask=1 \
        "$corpus" $seeds >"$log" 2>&1
    rc=$?
    execs=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1 | sed -E 's/^#([0-9]+):.*/\1/')
    inputs=$(ls "$corpus" | wc -l)
    after=$(ls "$art" | wc -l)
    crashes=$((after - before))
    [ $rc -ne 0 ] && [ $crashes -eq 0 ] && crashes=1 # died without an artifact: count it, see the log
    total_crashes=$((total_crashes + crashes))
    line="$t: ${SECONDS_EACH}s, ${execs:-?} executions, $inputs corpus inputs, $crashes new crash/timeout/oom inputs"
    summary+="$line"$'\n'
    echo "fuzz: $line"
    # Replay each new finding once to show where it fails.
    for f in $(ls -t "$art" | head -n "$crashes"); do
        echo "  input: $art/$f"
        "$FD/$t" -timeout="$TMO" -rss_limit_mb="$RSS" -malloc_limit_mb="$RSS" "$art/$f" 2>&1 |
            grep -m1 -A14 -E 'ERROR: |runtime error|deadly signal|Timeout|out-of-memory|uncaught|terminate' |
            sed 's/^/    /'
    done
done
printf '%s' "$summary"
echo "fuzz: total crashes $total_crashes (inputs in $FD/artifacts; replayed by tests/crash/replay.sh once copied to tests/crash/regressions/)"
[ $total_crashes -eq 0 ]
