#!/bin/bash
# Real programs from Debian under the real shim: healthy ones must get no
# error or warning finding (read live while idle and under load, and after a
# SIGKILL at a random moment); hung ones must be named with the right kind.
#
#   real_check.sh --build DIR [--kills N] SCENARIO...
#
# Scenarios: memcached redis sysbench stress-ng python pigz java (healthy),
# python-deadlock (hung).  --kills N: SIGKILLs per healthy scenario (default 3),
# each at a random moment of a fresh run.  A scenario whose program is not
# installed is skipped; if every one is skipped the exit status is 77.
# Prints one line per check and the totals; exit 1 if any check failed.
set -u
. "$(dirname "$0")/../jq_ok.sh"
build="" kills=3 scenarios=()
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build=$2; shift ;;
    --kills) kills=$2; shift ;;
    -*) echo "real_check: unknown option $1" >&2; exit 2 ;;
    *) scenarios+=("$1") ;;
    esac
    shift
done
[ -n "$build" ] || { echo "real_check: --build DIR" >&2; exit 2; }
build=$(cd "$build" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
lt=$build/locktrace
shim=$build/liblocktrace.so
for f in "$lt" "$shim"; do [ -e "$f" ] || { echo "FAIL: $f is missing (build first)"; exit 1; }; done
command -v jq >/dev/null || { echo "FAIL: jq is needed (scripts/deps/zoo.txt)"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/lt-real.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=tests/real/programs.sh
. "$here/programs.sh"
py=$real_py

checks=0 failed=0 skipped=0 ran=0 killed=0 reports=0

free_port() { real_free_port; }

# random_ms MIN MAX
random_ms() { echo $(( $1 + RANDOM % ($2 - $1 + 1) )); }
sleep_ms() { sleep "$(awk -v ms="$1" 'BEGIN { printf "%.3f", ms / 1000 }')"; }

# Starts a command under the shim in the background: run_traced NAME CMD...
# Sets $pid and $trace.
run_traced() {
    local name=$1; shift
    trace=$work/$name.$RANDOM.trace
    LD_PRELOAD=$shim LOCKTRACE_OUTPUT=$trace LOCKTRACE_QUIET=1 "$@" >"$work/$name.out" 2>&1 &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 1 100); do [ -s "$trace" ] && return 0; sleep 0.05; done
    return 0
}

# report_of TRACE -> $work/last.json; sets $rc.
report_of() {
    "$lt" report --json "$1" >"$work/last.json" 2>"$work/report.err"
    rc=$?
    reports=$((reports + 1))
}

# check_clean NAME LABEL: the last report has no error or warning finding.
check_clean() {
    local name=$1 label=$2 bad
    checks=$((checks + 1))
    if [ "$rc" -gt 1 ] || ! jq_ok . "$work/last.json" >/dev/null 2>&1; then
        failed=$((failed + 1))
        echo "FAIL [$name] $label: report could not read the trace (exit $rc): $(head -c 300 "$work/report.err")"
        tail -3 "$work/$name.out" 2>/dev/null | sed 's/^/    output: /'
        return 1
    fi
    bad=$(jq -r '[.findings[] | select(.severity == "error" or .severity == "warning")
                  | "\(.severity) \(.kind): \(.summary[0:300])"] | join("\n")' "$work/last.json")
    local verdict
    verdict=$(jq -r '"\(.verdict.state // "?")"' "$work/last.json")
    if [ -n "$bad" ] || [ "$rc" != 0 ]; then
        failed=$((failed + 1))
        echo "FAIL [$name] $label (verdict $verdict): a healthy program got findings:"
        echo "$bad" | sed 's/^/    /'
        if [ -n "${REAL_KEEP:-}" ]; then mkdir -p "$REAL_KEEP"; cp "$trace" "$REAL_KEEP/$name.$label.trace"; fi
        return 1
    fi
    echo "ok [$name] $label: verdict $verdict, $(jq '[.findings[]] | length' "$work/last.json") info finding(s)"
}

# check_kind NAME LABEL KIND: some error finding of KIND, and the verdict is hung.
check_kind() {
    local name=$1 label=$2 kind=$3 got
    checks=$((checks + 1))
    got=$(jq -r --arg k "$kind" '[.findings[] | select(.severity == "error" and .kind == $k)] | length' \
        "$work/last.json" 2>/dev/null)
    local state
    state=$(jq -r '.verdict.state // "?"' "$work/last.json" 2>/dev/null)
    if [ "${got:-0}" -lt 1 ] || [ "$state" != hung ]; then
        failed=$((failed + 1))
        echo "FAIL [$name] $label: want an error $kind and verdict hung, got verdict $state and:"
        jq -r '.findings[] | "    \(.severity) \(.kind): \(.summary[0:300])"' "$work/last.json" 2>/dev/null
        return 1
    fi
    echo "ok [$name] $label: $kind, verdict hung ($(jq -r .verdict.sure "$work/last.json"))"
}

stop() { # stop PID: SIGKILL and reap
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# healthy_runs NAME MIN_MS MAX_MS CMD...: $kills runs, each SIGKILLed after a
# random MIN..MAX ms and its trace checked; the first one also read live
# twice before the kill.
healthy_runs() {
    local name=$1 lo=$2 hi=$3; shift 3
    local k
    for k in $(seq 1 "$kills"); do
        run_traced "$name" "$@"
        if [ "$k" = 1 ]; then
            sleep_ms "$lo"
            report_of "$trace"; check_clean "$name" "live, under load"
        fi
        sleep_ms "$(random_ms "$lo" "$hi")"
        kill -0 "$pid" 2>/dev/null && { stop "$pid"; killed=$((killed + 1)); }
        report_of "$trace"; check_clean "$name" "killed #$k"
    done
}

# healthy_exit NAME [--note-status] CMD...: runs to its end; exit 0 and a
# clean report.  --note-status: a non-zero exit is only noted (stress-ng gives
# up a stressor, exit 3, when it cannot start its threads in time on a loaded
# machine, traced or not).
healthy_exit() {
    local name=$1 note=0; shift
    [ "$1" = --note-status ] && { note=1; shift; }
    run_traced "$name" "$@"
    local st
    wait "$pid"; st=$?
    checks=$((checks + 1))
    if [ "$st" != 0 ] && [ "$note" = 1 ]; then
        echo "note [$name] exited with $st: $(grep -m1 -E 'fail|warn' "$work/$name.out")"
    elif [ "$st" != 0 ]; then
        failed=$((failed + 1)); echo "FAIL [$name] exited with $st under the shim:"; tail -5 "$work/$name.out"
        return 1
    fi
    report_of "$trace"; check_clean "$name" "exited"
}

have() { command -v "$1" >/dev/null 2>&1; }
skip() { skipped=$((skipped + 1)); echo "skip [$1]: $2 is not installed"; }

scenario_memcached() {
    have memcached || { skip memcached memcached; return; }
    local port
    port=$(free_port)
    real_memcached_argv "$port"
    run_traced memcached "${real_argv[@]}"
    local mc=$pid mctrace=$trace
    sleep 1.5  # idle: its maintenance threads wait on their condition variables
    report_of "$mctrace"; trace=$mctrace; check_clean memcached "live, idle"
    if have memcslap; then
        real_memcslap_argv "$port" 2000
        "${real_argv[@]}" >/dev/null 2>&1 &
        local load=$!
        sleep 0.7
        report_of "$mctrace"; check_clean memcached "live, under memcslap load"
        sleep_ms "$(random_ms 100 600)"
    else
        # No memcslap (the quick part): some load from Python's socket client.
        "$py" "$here/python/memcache_load.py" "$port" 1.5 &
        local load=$!
        sleep 0.7
        report_of "$mctrace"; check_clean memcached "live, under load"
    fi
    stop "$mc"; killed=$((killed + 1))
    wait "$load" 2>/dev/null
    report_of "$mctrace"; trace=$mctrace; check_clean memcached "killed under load"
    # More kills at random moments: idle, or just started.
    local k
    for k in $(seq 2 "$kills"); do
        port=$(free_port)
        real_memcached_argv "$port"
        run_traced memcached "${real_argv[@]}"
        "$py" "$here/python/memcache_load.py" "$port" 1 >/dev/null 2>&1 &
        load=$!
        sleep_ms "$(random_ms 50 1500)"
        stop "$pid"; killed=$((killed + 1))
        wait "$load" 2>/dev/null
        report_of "$trace"; check_clean memcached "killed #$k"
    done
    ran=$((ran + 1))
}

scenario_redis() {
    have redis-server && have redis-benchmark || { skip redis "redis-server/redis-benchmark"; return; }
    local port k
    for k in $(seq 1 "$kills"); do
        port=$(free_port)
        run_traced redis redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --io-threads 2 \
            --io-threads-do-reads yes --daemonize no
        local rs=$pid rtrace=$trace
        sleep 1
        if [ "$k" = 1 ]; then report_of "$rtrace"; check_clean redis "live, idle"; fi
        redis-benchmark -p "$port" -n 20000 -c 20 -q >/dev/null 2>&1 &
        local load=$!
        sleep_ms "$(random_ms 200 1200)"
        if [ "$k" = 1 ]; then report_of "$rtrace"; trace=$rtrace; check_clean redis "live, under redis-benchmark load"; fi
        stop "$rs"; killed=$((killed + 1))
        kill "$load" 2>/dev/null; wait "$load" 2>/dev/null
        trace=$rtrace; report_of "$rtrace"; check_clean redis "killed #$k"
    done
    ran=$((ran + 1))
}

scenario_sysbench() {
    have sysbench || { skip sysbench sysbench; return; }
    real_sysbench_mutex_argv
    healthy_runs sysbench-mutex 300 1500 "${real_argv[@]}"
    healthy_runs sysbench-threads 300 1500 sysbench threads --threads=4 --thread-locks=8 --time=3 run
    healthy_exit sysbench-threads sysbench threads --threads=4 --thread-locks=8 --time=1 run
    ran=$((ran + 1))
}

scenario_stress_ng() {
    have stress-ng || { skip stress-ng stress-ng; return; }
    healthy_runs stress-ng 300 1800 stress-ng --mutex 2 --futex 2 --sem 2 --timeout 3s --quiet
    healthy_exit stress-ng --note-status stress-ng --mutex 2 --sem 2 --timeout 1s --quiet
    ran=$((ran + 1))
}

scenario_python() {
    [ -x "$py" ] || { skip python python3; return; }
    healthy_exit python "$py" "$here/python/healthy_threads.py" 1 0.5
    # Read live while busy, then while idle (workers wait on the empty queue).
    run_traced python "$py" "$here/python/healthy_threads.py" 1.5 6
    local pypid=$pid
    sleep 0.8; report_of "$trace"; check_clean python "live, busy"
    sleep 2; report_of "$trace"; check_clean python "live, idle"
    stop "$pypid"; killed=$((killed + 1))
    report_of "$trace"; check_clean python "killed while idle"
    healthy_runs python 100 1500 "$py" "$here/python/healthy_threads.py" 3 0.5
    ran=$((ran + 1))
}

scenario_python_deadlock() {
    [ -x "$py" ] || { skip python-deadlock python3; return; }
    run_traced python-deadlock "$py" "$here/python/abba_deadlock.py"
    local n last=-1 quiet=0
    for _ in $(seq 1 150); do
        sleep 0.2
        n=$("$lt" dump "$trace" 2>/dev/null | grep -vc '^#')
        if grep -q started "$work/python-deadlock.out" && [ "$n" = "$last" ]; then
            quiet=$((quiet + 1)); [ "$quiet" -ge 3 ] && break
        else quiet=0; fi
        last=$n
    done
    report_of "$trace"; check_kind python-deadlock "live, hung" deadlock
    stop "$pid"; killed=$((killed + 1))
    report_of "$trace"; check_kind python-deadlock "killed" deadlock
    ran=$((ran + 1))
}

scenario_pigz() {
    have pigz || { skip pigz pigz; return; }
    head -c 64000000 /dev/urandom >"$work/data"
    healthy_runs pigz 100 900 pigz -p 4 -k -f "$work/data"
    healthy_exit pigz pigz -p 4 -k -f "$work/data"
    ran=$((ran + 1))
}

scenario_java() {
    have java && have javac || { skip java "java/javac (OpenJDK 17)"; return; }
    mkdir -p "$work/java"
    javac -d "$work/java" "$here/java/PoolWork.java" || { checks=$((checks + 1)); failed=$((failed + 1)); echo "FAIL [java] javac"; return; }
    healthy_exit java java -cp "$work/java" PoolWork 1 0.5
    run_traced java java -cp "$work/java" PoolWork 3 8
    local jv=$pid
    sleep 2; report_of "$trace"; check_clean java "live, busy"
    sleep 3; report_of "$trace"; check_clean java "live, idle"
    stop "$jv"; killed=$((killed + 1))
    report_of "$trace"; check_clean java "killed while idle"
    healthy_runs java 500 2500 java -cp "$work/java" PoolWork 6 0.5
    ran=$((ran + 1))
}

for s in "${scenarios[@]}"; do
    case "$s" in
    memcached) scenario_memcached ;;
    redis) scenario_redis ;;
    sysbench) scenario_sysbench ;;
    stress-ng) scenario_stress_ng ;;
    python) scenario_python ;;
    python-deadlock) scenario_python_deadlock ;;
    pigz) scenario_pigz ;;
    java) scenario_java ;;
    *) echo "real_check: unknown scenario $s" >&2; exit 2 ;;
    esac
done

echo "real programs: $ran scenario(s) ran, $skipped skipped; $checks checks, $failed failed; $killed SIGKILLs, $reports reports"
[ "$failed" = 0 ] || exit 1
[ "$ran" -gt 0 ] || exit 77
exit 0
