#!/bin/bash
# scripts/bench.sh BUILD_DIR  (what `make bench` runs)
#
# Times lock-heavy workloads (bench/workloads.h) and real programs untraced,
# under locktrace and under LTTng-UST's pthread wrapper, in ONE run of this
# script, round by round, and prints ns/op and every ratio: to untraced and to
# the in-loop floor (the same loop with one bare rdtsc, or one clock_gettime,
# before each lock call, measured in lt_bench itself), and locktrace's ns per
# record taken apart.  Checks that every traced run really produced a trace
# with events (a shim that records nothing must not look fast); measures the
# decoder's speed on a trace of >= 10 million events, and `locktrace pack`
# against zstd; and times Debian's parking_lot try_write_for bug untraced and
# traced, alternating.  A section whose parts are not built or installed says
# "SKIPPED" and why.
#
# Knobs (environment): BENCH_ROUNDS (3), BENCH_REPETITIONS (3 per round),
# BENCH_MIN_TIME (0.1 s per repetition), BENCH_FILTER (Google Benchmark regex),
# BENCH_NO_LTTNG=1, BENCH_SKIP_REAL=1, BENCH_REAL_ROUNDS (BENCH_ROUNDS),
# BENCH_SYSBENCH_LOCKS, BENCH_STRESS_OPS, BENCH_MEMCSLAP_OPS (scripts/bench-real.sh),
# BENCH_DECODER_EVENTS (10400000), BENCH_SKIP_DECODER=1, BENCH_SKIP_PACK=1,
# BENCH_HANG_RUNS (5 each way; 0 skips), BENCH_HANG_MAX (45 s),
# BENCH_KEEP=1 (keep the temporary directory).
set -uo pipefail

BUILD=${1:-build}
if ! BUILD=$(cd "$BUILD" 2>/dev/null && pwd); then
    echo "bench.sh: no build directory '${1:-build}' (run make first)" >&2; exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
B=$BUILD/bench
SHIM=$BUILD/liblocktrace.so
LT=$BUILD/locktrace
ROUNDS=${BENCH_ROUNDS:-3}
REPS=${BENCH_REPETITIONS:-3}
MIN_TIME=${BENCH_MIN_TIME:-0.1}
FILTER=${BENCH_FILTER:-.}
DEC_EVENTS=${BENCH_DECODER_EVENTS:-10400000}

for p in lt_bench lt_workload lt_trace_stats lt_bench_table; do
    [ -x "$B/$p" ] || { echo "bench.sh: $B/$p missing (build the bench targets)" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/locktrace-bench.XXXXXX)
# shellcheck source=scripts/bench-lttng.sh
. "$here/bench-lttng.sh"
cleanup() { lttng_stop; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$tmp"; }
trap cleanup EXIT
[ -n "${BENCH_KEEP:-}" ] && echo "(keeping $tmp)"

have_shim() { [ -f "$SHIM" ]; }
have_decoder() { [ -x "$LT" ]; }
section() { printf '\n== %s ==\n' "$*"; }
skip() { echo "SKIPPED: $*"; }
now_ns() { date +%s%N; }
# stat VALUE of KEY from lt_trace_stats output in file $1
stat_of() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1048576 }'; }
mil() { awk -v n="$1" 'BEGIN { printf "%.2f M", n / 1e6 }'; }

# The trace file a traced run left in directory $1.  LD_PRELOAD is given
# to the measured program only (through env, after timeout), so there should
# be exactly one; if there are more, the biggest is the program's.
trace_in() {
    local n
    n=$(find "$1" -maxdepth 1 -type f | wc -l)
    [ "$n" -gt 1 ] && echo "bench.sh: $n trace files in $1 (expected 1), using the biggest" >&2
    find "$1" -maxdepth 1 -type f -printf '%s %p\n' | sort -rn | head -1 | cut -d' ' -f2-
}

# Checks a trace a traced run wrote, prints one line about it; returns 1 if
# the trace shows the run was not (fully) traced.
check_trace() { # label dir [count_dump]
    local label=$1 dir=$2 dump=${3:-} t s ok=0 lines=""
    t=$(trace_in "$dir")
    if [ -z "$t" ]; then echo "  $label: NO TRACE FILE WRITTEN -- traced figures are meaningless"; return 1; fi
    s=$dir.stats
    if ! "$B/lt_trace_stats" "$t" >"$s"; then echo "  $label: UNREADABLE TRACE -- traced figures are meaningless"; return 1; fi
    local rec kept drop thr recyc stacks
    rec=$(stat_of "$s" events_recorded); kept=$(stat_of "$s" events_kept)
    drop=$(stat_of "$s" threads_dropped); thr=$(stat_of "$s" threads_used)
    recyc=$(stat_of "$s" threads_recycled); stacks=$(stat_of "$s" stacks_stored)
    local walks pairs over; walks=$(stat_of "$s" stack_walks)
    pairs=$(stat_of "$s" order_pairs); over=$(stat_of "$s" order_overflow)
    if [ -n "$dump" ] && have_decoder; then
        lines=$("$LT" dump "$t" 2>/dev/null | wc -l)
        lines=", dump: $lines lines"
    fi
    echo "  $label: $(mb "$(stat_of "$s" file_bytes)") file ($(mb "$(stat_of "$s" disk_bytes)") on disk), $thr thread slots ($recyc recycled, $drop dropped), $(mil "$rec") events recorded, $(mil "$kept") kept, $stacks stacks, ${walks:-0} stack walks, ${pairs:-0} lock-order pairs (${over:-0} not kept)$lines"
    [ "${rec:-0}" -gt 0 ] || { echo "    ^ NO EVENTS: the shim recorded nothing"; ok=1; }
    [ "${drop:-0}" -eq 0 ] || { echo "    ^ $drop THREADS NOT TRACED: those threads' ops ran untraced, ratios understate the cost"; ok=1; }
    return $ok
}

# ---------------------------------------------------------------------------
section "machine"
echo "$(nproc) CPUs: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo "kernel $(uname -r), $(ldd --version 2>/dev/null | head -1)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)  (other work on these cores shows up as noise)"
echo "clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null);" \
     "TSC flags: $(grep -m1 -o -w -E 'constant_tsc|nonstop_tsc|tsc_known_freq|rdtscp' /proc/cpuinfo | tr '\n' ' ')"
echo "shim: $(have_shim && echo "$SHIM" || echo "not built")   decoder: $(have_decoder && echo "$LT" || echo "not built")"
if [ -n "${BENCH_NO_LTTNG:-}" ]; then lttng_why="BENCH_NO_LTTNG set"
elif lttng_start "$tmp"; then echo "LTTng: $lttng_whose, LTTNG_HOME=$LTTNG_HOME, LD_PRELOAD=$lttng_preload"
fi
[ -n "$lttng_why" ] && echo "LTTng column SKIPPED: $lttng_why"

# ---------------------------------------------------------------------------
section "lock workloads: untraced, in-loop floors, locktrace, LTTng ($ROUNDS rounds x $REPS repetitions, interleaved)"
gb_args=(--benchmark_format=json --benchmark_repetitions="$REPS" --benchmark_min_time="$MIN_TIME")
# The shim loaded with the loop's calls passed through unrecorded (only the
# futex family recorded): interposition alone, on the loops that are taken apart.
unrecorded_filter=$FILTER
[ "$FILTER" = . ] && unrecorded_filter='^(reference|mix)/'
configs=(untraced floor-rdtsc floor-rdtscp floor-gettime)
have_shim && configs+=(unrecorded nostacks stacks)
[ -n "$lttng_ready" ] && configs+=(lttng)
have_shim || skip "liblocktrace.so not built: timing the untraced side only"
declare -A json_of   # config -> its JSON files
bad_traces=0 lttng_discarded=0
run_config() { # config round
    local cfg=$1 r=$2 out=$tmp/$1.$2.json dir=$tmp/trace.$1.$2 rc pre=() args=("${gb_args[@]}")
    mkdir -p "$dir"
    case $cfg in
    floor-*)    args+=(--floor="${cfg#floor-}") ;;
    unrecorded) pre=(LD_PRELOAD="$SHIM" LOCKTRACE_OUTPUT="$dir/lt.%p.trace" LOCKTRACE_FAMILIES=futex)
                args+=(--benchmark_filter="$unrecorded_filter") ;;
    nostacks)   pre=(LD_PRELOAD="$SHIM" LOCKTRACE_OUTPUT="$dir/lt.%p.trace" LOCKTRACE_STACK_DEPTH=0) ;;
    stacks)     pre=(LD_PRELOAD="$SHIM" LOCKTRACE_OUTPUT="$dir/lt.%p.trace") ;;
    lttng)      pre=(LD_PRELOAD="$lttng_preload")
                lttng_begin "bench-$r" "$dir/lttng" || { echo "  round $r lttng: creating the session FAILED"; return; } ;;
    esac
    [ $cfg = unrecorded ] || args+=(--benchmark_filter="$FILTER")
    timeout 900 env "${pre[@]}" "$B/lt_bench" "${args[@]}" >"$out" 2>>"$tmp/lt_bench.log"; rc=$?
    if [ $cfg = lttng ]; then
        local d; d=$(lttng_end "bench-$r")
        lttng_discarded=$(awk -v a="$lttng_discarded" -v b="$d" 'BEGIN { print (a == "unknown" || b !~ /^[0-9]+$/) ? "unknown" : a + b }')
    fi
    if [ $rc -ne 0 ]; then
        echo "  round $r $cfg: lt_bench FAILED (exit $rc; last log lines below)"; tail -3 "$tmp/lt_bench.log" | sed 's/^/    /'
        return
    fi
    json_of[$cfg]+=" $out"
    case $cfg in
    nostacks|stacks)
        # count dump lines once per config (it reads the whole trace)
        check_trace "round $r traced($cfg)" "$dir" "$([ "$r" = 1 ] && echo dump)" || bad_traces=1 ;;
    esac
    rm -rf "$dir"
}
t0=$(now_ns)
for r in $(seq 1 "$ROUNDS"); do
    for c in "${configs[@]}"; do run_config "$c" "$r"; done
done
echo "  (timing took $(( ($(now_ns) - t0) / 1000000000 )) s; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
[ -n "$lttng_ready" ] && echo "  LTTng sessions: $lttng_discarded events discarded in all"

# Fixed-count runs: exactly OPS ops per thread under the shim, so the events
# the trace holds per op can be compared with what the workload did.
events_tsv=$tmp/events.tsv
: >"$events_tsv"
if have_shim; then
    section "events recorded per op (fixed-count traced runs, stacks off)"
    while read -r w n minev; do
        [[ "$w/real_time/threads:$n" =~ $FILTER ]] || continue
        case $w in *pingpong*) ops=20000 ;; *) ops=100000 ;; esac
        dir=$tmp/count.$w.$n; mkdir -p "$dir"
        if ! timeout 300 env LD_PRELOAD="$SHIM" LOCKTRACE_OUTPUT="$dir/lt.%p.trace" LOCKTRACE_STACK_DEPTH=0 \
                "$B/lt_workload" "$w" "$n" "$ops" >/dev/null 2>"$dir.err"; then
            echo "  $w/threads:$n: lt_workload FAILED under the shim: $(tail -1 "$dir.err")"; bad_traces=1; continue
        fi
        t=$(trace_in "$dir")
        if [ -z "$t" ] || ! "$B/lt_trace_stats" "$t" >"$dir.stats"; then
            echo "  $w/threads:$n: no readable trace"; bad_traces=1; continue
        fi
        rec=$(stat_of "$dir.stats" events_recorded)
        per=$(awk -v e="$rec" -v n="$n" -v o="$ops" 'BEGIN { printf "%.2f", e / (n * o) }')
        echo "$w $n $per" >>"$events_tsv"
        if awk -v p="$per" -v m="$minev" 'BEGIN { exit !(p < m) }'; then
            echo "  $w/threads:$n: $per events/op, fewer than the $minev the workload must produce: calls went unrecorded"
            bad_traces=1
        fi
        rm -rf "$dir"
    done < <("$B/lt_workload" --list)
    echo "  (events/op column below; minimum expected per workload is in bench/workloads.h)"
fi
# The same for LTTng (it records mutex calls only), on the loops taken apart:
# the events its session holds, counted with babeltrace2.
lttng_tsv=$tmp/lttng-events.tsv
: >"$lttng_tsv"
if [ -n "$lttng_ready" ] && command -v babeltrace2 >/dev/null; then
    section "LTTng events per op (fixed-count runs recorded to a session)"
    while read -r w n _; do
        [[ "$w/real_time/threads:$n" =~ $FILTER ]] && [[ "$w" =~ ^(reference|mix)$ ]] || continue
        ops=50000 dir=$tmp/lttcount.$w.$n
        lttng_begin "count-$w-$n" "$dir" || continue
        LD_PRELOAD="$lttng_preload" timeout 300 "$B/lt_workload" "$w" "$n" "$ops" >/dev/null 2>&1
        d=$(lttng_end "count-$w-$n")
        ev=$(lttng_count "$dir")
        per=$(awk -v e="$ev" -v n="$n" -v o="$ops" 'BEGIN { printf "%.2f", e / (n * o) }')
        echo "$w $n $per" >>"$lttng_tsv"
        echo "  $w/threads:$n: $ev events, $per per op, $d discarded"
        rm -rf "$dir"
    done < <("$B/lt_workload" --list)
fi

table_args=()
for c in "${configs[@]}"; do
    [ -n "${json_of[$c]:-}" ] || continue
    # shellcheck disable=SC2206
    table_args+=(--column "$c" ${json_of[$c]})
done
[ -n "${json_of[untraced]:-}" ] || { echo "no successful untraced run"; exit 1; }
table_args+=(--events locktrace "$events_tsv")
[ -s "$lttng_tsv" ] && table_args+=(--events lttng "$lttng_tsv")
section "results: CPU time (CPU ns of all threads / ops; immune to other load, blind to sleeping)"
"$B/lt_bench_table" --cpu "${table_args[@]}"
section "results: wall clock (ns/op = wall time / ops of all threads; median of all repetitions)"
"$B/lt_bench_table" "${table_args[@]}"
section "locktrace's ns per record, taken apart (CPU time; LTTng's ns per event beside)"
"$B/lt_bench_table" --cpu --parts "${table_args[@]}"
{ echo "CPU time:"; echo; "$B/lt_bench_table" --markdown --cpu "${table_args[@]}"
  echo; echo "Wall clock:"; echo; "$B/lt_bench_table" --markdown "${table_args[@]}"
  echo; echo "ns per record (CPU time):"; echo; "$B/lt_bench_table" --markdown --cpu --parts "${table_args[@]}"
} >"$B/results.md" 2>/dev/null
clk=$("$B/lt_clock_cost" --benchmark_min_time="$MIN_TIME" --benchmark_format=csv 2>/dev/null)
cost() { echo "$clk" | awk -F, -v n="\"$1\"" '$1 == n { printf "%.1f", $4 }'; }
cat <<EOF

columns: untraced; floor rdtsc / floor rdtscp / floor gettime = the same loop
  with one bare rdtsc / one rdtscp (which waits for the instructions before it:
  a stamp ordered without the decoder's help) / one clock_gettime(CLOCK_MONOTONIC)
  before each lock call (measured in the loop, where the clock read overlaps the
  work around it); unrecorded = the
  shim loaded, the loop's calls passed through unrecorded (LOCKTRACE_FAMILIES=futex,
  reference and mix only); nostacks = locktrace with LOCKTRACE_STACK_DEPTH=0;
  stacks = locktrace's defaults; lttng = LTTng-UST's pthread wrapper recording to
  a session (it records mutex calls only: its ev/op column).
xU = column / untraced, xF = column / floor rdtsc.  spread = largest
  interquartile range / median of the columns (how far to trust a row).
  ev/op = events a tracer recorded per op per thread in a fixed-count run
  (LOW = fewer than the calls made imply: something went unrecorded).
ns per record: interposition = (unrecorded - untraced) / records; clock =
  (floor rdtsc - untraced) / calls; record = (nostacks - unrecorded) / records
  - clock; stacks = (stacks - nostacks) / records; rdtscp and clock_gettime in
  the loop = (their floor - untraced) / calls, what the shim's unfenced rdtsc
  would cost instead.
Back to back (lt_clock_cost), for comparison: rdtsc $(cost clock_rdtsc) ns, lfence+rdtsc
  $(cost clock_lfence_rdtsc) ns, clock_gettime $(cost clock_gettime_monotonic) ns.
reference = one iteration of: rdlock(L); rdlock(L); unlock(L); unlock(L);
  wrlock(L); unlock(L); lock(M); cond_signal(C); unlock(M)  (9 calls, own objects).
mix = a lock hammer's mix, one op at a time: rdlock+unlock, rdlock+unlock,
  wrlock+unlock, lock+cond_signal+unlock (2.25 calls per op), objects shared.
_shared = one object for all threads (contended); pingpong = threads in pairs
  handing a token back and forth; 1 op = 1 hand-off.
This machine has $(nproc) CPUs shared with other work: 4-thread rows run more threads
than cores, so contended and ping-pong figures measure scheduling as much as
locking.  (markdown copy of the tables: $B/results.md)
EOF
[ $bad_traces -eq 0 ] || echo "WARNING: some traced runs did not record what they did (see above): their ratios are not valid."

# ---------------------------------------------------------------------------
section "real programs (untraced, locktrace, LTTng; interleaved)"
if [ -n "${BENCH_SKIP_REAL:-}" ]; then skip "BENCH_SKIP_REAL set"
else
    # shellcheck source=scripts/bench-real.sh
    . "$here/bench-real.sh"
    bench_real
fi

# ---------------------------------------------------------------------------
section "decoder speed (trace of >= $(mil "$DEC_EVENTS") events)"
if [ -n "${BENCH_SKIP_DECODER:-}" ]; then skip "BENCH_SKIP_DECODER set"
elif ! have_shim; then skip "liblocktrace.so not built"
elif ! have_decoder; then skip "locktrace (decoder) not built"
else
    # 4 threads of the reference loop, rings big enough that nothing is
    # overwritten, default stacks.  9 events per iteration: the shim's fast
    # path records an uncontended lock as one ACQUIRED, without an ATTEMPT.
    thr=4 per=9
    ops=$(( (DEC_EVENTS + per * thr - 1) / (per * thr) ))
    ring=1; while [ $ring -lt $(( ops * per + 1024 )) ]; do ring=$(( ring * 2 )); done
    dir=$tmp/decoder; mkdir -p "$dir"
    t0=$(now_ns)
    if timeout 900 env LD_PRELOAD="$SHIM" LOCKTRACE_OUTPUT="$dir/lt.%p.trace" LOCKTRACE_RING_SIZE=$ring \
            "$B/lt_workload" reference $thr $ops >/dev/null 2>"$dir.err"; then
        gen_s=$(awk -v d=$(( $(now_ns) - t0 )) 'BEGIN { printf "%.2f", d / 1e9 }')
        t=$(trace_in "$dir")
        "$B/lt_trace_stats" "$t" >"$dir.stats"
        kept=$(stat_of "$dir.stats" events_kept)
        echo "  trace: $(mil "$kept") events kept ($(mil "$(stat_of "$dir.stats" events_overwritten)") overwritten), $(mb "$(stat_of "$dir.stats" file_bytes)"), written in $gen_s s (LOCKTRACE_RING_SIZE=$ring)"
        [ "$kept" -ge "$DEC_EVENTS" ] || echo "  WARNING: fewer events kept than asked for (does LOCKTRACE_RING_SIZE mean something else?)"
        cat "$t" >/dev/null # page cache warm for every command alike
        # What `report` needs before its findings: every ring read and merged,
        # and the model built (decoder/tools/decode_bench.cpp, best of 5).
        # CPU time as well as wall: on a shared machine the wall clock also
        # measures the neighbours.
        if [ -x "$BUILD/ltdecode_bench" ] && "$BUILD/ltdecode_bench" "$t" 5 >"$dir.model" 2>&1; then
            sed -n 's/^best of [0-9]*: read+model *\([0-9.]*\)s wall.*, \([0-9.]*\)s cpu.*/\1 \2/p' "$dir.model" |
                awk -v n="$kept" '{ w = n / $1 / 1e6; c = n / $2 / 1e6
                    printf "  read+model   %5.2f s cpu %6.1f M events/s, %5.2f s wall %6.1f M events/s  (target >= 20: %s by CPU, %s by wall)\n",
                           $2, c, $1, w, (c >= 20) ? "met" : "MISSED", (w >= 20) ? "met" : "MISSED" }'
        else
            echo "  read+model: ltdecode_bench missing or failed: $(tail -1 "$dir.model" 2>/dev/null)"
        fi
        for cmd in dump report; do
            t0=$(now_ns)
            if "$LT" $cmd "$t" >"$dir.$cmd.out" 2>"$dir.$cmd.err"; then rc=0; else rc=$?; fi
            d=$(( $(now_ns) - t0 ))
            extra=""
            [ $cmd = dump ] && extra=", $(wc -l <"$dir.$cmd.out") lines"
            awk -v c="$cmd" -v n="$kept" -v d="$d" -v rc="$rc" -v x="$extra" 'BEGIN {
                r = n / (d / 1e9) / 1e6
                printf "  locktrace %-6s %7.2f s  %6.1f M events/s  (target >= 20: %s)%s%s\n",
                       c, d / 1e9, r, (r >= 20) ? "met" : "MISSED", x, rc ? "  [exit " rc "]" : "" }'
            [ $rc -eq 0 ] || sed 's/^/    /' "$dir.$cmd.err" | tail -3
        done
    else
        echo "  generating the trace FAILED: $(tail -1 "$dir.err")"
    fi
    rm -rf "$dir"
fi

# ---------------------------------------------------------------------------
# `locktrace pack`.  A trace of ~1 million events (one full ring of 2^20
# records) should pack to <= 1/10 of its raw size, at least as fast as zstd
# at its default level on the raw file.  The measurement is
# tests/after/pack_bench.sh (size, wall and CPU time, best of 3 each, and that
# the bundle decodes), which lives beside the pack tests.
section "pack"
if [ -n "${BENCH_SKIP_PACK:-}" ]; then skip "BENCH_SKIP_PACK set"
elif ! have_shim || ! have_decoder; then skip "shim or decoder not built"
elif ! "$LT" pack --help >/dev/null 2>&1; then skip "this locktrace has no 'pack' command"
elif ! command -v zstd >/dev/null; then skip "zstd (the command) not installed"
elif [ ! -x "$B/lt_workload" ]; then skip "$B/lt_workload not built"
else
    bash "$root/tests/after/pack_bench.sh" "$BUILD" 2>&1 | sed 's/^pack: /  /' || echo "  pack_bench.sh FAILED"
fi

# ---------------------------------------------------------------------------
# Median time until Debian's parking_lot 0.12.1 try_write_for bug hangs a
# Rust stress program, untraced vs traced (a slow tracer hides it), runs
# alternating untraced and traced (tests/probes/hang_time.sh).
# BENCH_HANG_RUNS (5) runs each way, each given BENCH_HANG_MAX (45) seconds:
# at most 7.5 minutes, usually under 2; BENCH_HANG_RUNS=0 skips it.
section "parking_lot hang time"
hang_runs=${BENCH_HANG_RUNS:-5} hang_max=${BENCH_HANG_MAX:-45}
if [ "$hang_runs" = 0 ]; then skip "BENCH_HANG_RUNS=0"
elif [ ! -f "$root/tests/probes/hang_time.sh" ]; then skip "tests/probes/hang_time.sh missing"
elif [ ! -x "$BUILD/probes/parking_lot_stress" ]; then skip "$BUILD/probes/parking_lot_stress not built (target parking_lot_stress; needs cargo)"
elif ! have_shim; then skip "liblocktrace.so not built"
else
    echo "  parking_lot 0.12.1 try_write_for stress: time until it hangs, $hang_runs runs each way alternating, $hang_max s max per run"
    sh "$root/tests/probes/hang_time.sh" "$BUILD" "$hang_runs" "$hang_max" | sed 's/^/  /'
fi

exit 0
