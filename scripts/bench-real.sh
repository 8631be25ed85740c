# Real programs from Debian as rows of `make bench`, sourced by
# scripts/bench.sh after scripts/bench-lttng.sh (it uses their helpers and
# variables: tmp, SHIM, B, check_trace, lttng_*).  Each round runs every
# program untraced, under locktrace without and with stacks, and under
# LTTng's pthread wrapper, one after the other, so that other load hits every
# column alike.  sysbench's and memcached's command lines are those of
# tests/real/programs.sh (what `make check-real` traces):
#   sysbench mutex   fixed work; CPU of all its threads (user+sys)
#   stress-ng mutex  fixed bogo ops (--mutex-ops); CPU of all its processes
#                    (run as nobody when the bench runs as root: see below)
#   memcached        memcslap's fixed load against it; the server's CPU
#                    during the load, and memcslap's throughput
# Knobs: BENCH_REAL_ROUNDS (BENCH_ROUNDS), BENCH_SYSBENCH_LOCKS (40000 per
# thread), BENCH_STRESS_OPS (200000), BENCH_MEMCSLAP_OPS (10000).

# shellcheck source=tests/real/programs.sh
. "$root/tests/real/programs.sh"

real_results=$tmp/real.tsv   # program config round cpu_s wall_s discarded

# real_prefix CONFIG DIR -> sets real_pre, the env command a run starts with
real_prefix() {
    case $1 in
    untraced) real_pre=(env) ;;
    nostacks) real_pre=(env LD_PRELOAD="$SHIM" LOCKTRACE_OUTPUT="$2/lt.%p.trace" LOCKTRACE_QUIET=1 LOCKTRACE_STACK_DEPTH=0) ;;
    stacks)   real_pre=(env LD_PRELOAD="$SHIM" LOCKTRACE_OUTPUT="$2/lt.%p.trace" LOCKTRACE_QUIET=1) ;;
    lttng)    real_pre=(env LD_PRELOAD="$lttng_preload") ;;
    esac
}

# Sets real_cpu and real_wall (seconds) from a /usr/bin/time -f '%e %U %S' file.
real_times() { read -r real_wall u s <"$1"; real_cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }'); }

# CPU seconds PID has used so far (utime + stime of /proc/PID/stat).
proc_cpu() {
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null
}

# real_one PROGRAM CONFIG ROUND: one measured run; appends to real_results.
real_one() {
    local prog=$1 cfg=$2 r=$3 dir=$tmp/real.$1.$2.$3 discarded=-
    mkdir -p "$dir"
    real_prefix "$cfg" "$dir"
    [ "$cfg" = lttng ] && { lttng_begin "bench-$prog-$r" "$dir/lttng" || { echo "  $prog/$cfg round $r: lttng session failed"; return; }; }
    case $prog in
    sysbench|stress-ng)
        if [ "$prog" = sysbench ]; then real_sysbench_mutex_argv "${BENCH_SYSBENCH_LOCKS:-40000}"
        else real_argv=(stress-ng --mutex 2 --mutex-ops "${BENCH_STRESS_OPS:-200000}" --quiet); fi
        local as=()
        # As root, stress-ng's mutex stressor often fails to create its
        # threads here ("could not create any pthreads", a run cut short);
        # as nobody it does not.  Its trace and temporary directory must then
        # be writable by nobody.
        if [ "$prog" = stress-ng ] && [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
            as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
            chmod o+x "$tmp"; chmod 1777 "$dir"
            real_argv+=(--temp-path "$dir")
        fi
        if ! timeout 300 /usr/bin/time -f '%e %U %S' -o "$dir.time" "${as[@]}" "${real_pre[@]}" "${real_argv[@]}" >"$dir.out" 2>&1; then
            echo "  $prog/$cfg round $r: FAILED: $(tail -1 "$dir.out")"
            [ "$cfg" = lttng ] && lttng_end "bench-$prog-$r" >/dev/null
            return
        fi
        real_times "$dir.time" ;;
    memcached)
        local port server c0 c1 t0 ops=${BENCH_MEMCSLAP_OPS:-10000}
        port=$(real_free_port)
        real_memcached_argv "$port"
        "${real_pre[@]}" "${real_argv[@]}" >"$dir.out" 2>&1 &
        server=$!
        if ! real_wait_port "$port"; then
            echo "  memcached/$cfg round $r: the server did not listen: $(tail -1 "$dir.out")"
            kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
            [ "$cfg" = lttng ] && lttng_end "bench-$prog-$r" >/dev/null
            return
        fi
        real_memcslap_argv "$port" "$ops"
        c0=$(proc_cpu "$server"); t0=$(now_ns)
        "${real_argv[@]}" >"$dir.load" 2>&1
        real_wall=$(awk -v d=$(( $(now_ns) - t0 )) 'BEGIN { print d / 1e9 }')
        c1=$(proc_cpu "$server")
        real_cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')
        kill "$server" 2>/dev/null; wait "$server" 2>/dev/null ;;
    esac
    [ "$cfg" = lttng ] && discarded=$(lttng_end "bench-$prog-$r")
    echo "$prog $cfg $r $real_cpu $real_wall $discarded" >>"$real_results"
    case $cfg in
    # (stress-ng's workers are processes of their own: one trace each, the biggest checked)
    nostacks|stacks) check_trace "round $r $prog ($cfg)" "$dir" >"$dir.check" 2>/dev/null || { cat "$dir.check"; bad_traces=1; } ;;
    esac
    rm -rf "$dir"
}

bench_real() {
    local rounds=${BENCH_REAL_ROUNDS:-$ROUNDS} progs=() cfgs=(untraced) p c r
    have_shim && cfgs+=(nostacks stacks)
    [ -n "$lttng_ready" ] && cfgs+=(lttng)
    command -v sysbench >/dev/null && progs+=(sysbench) || skip "sysbench not installed"
    command -v stress-ng >/dev/null && progs+=(stress-ng) || skip "stress-ng not installed"
    command -v memcached >/dev/null && command -v memcslap >/dev/null && progs+=(memcached) ||
        skip "memcached or memcslap not installed"
    [ ${#progs[@]} -gt 0 ] || return 0
    : >"$real_results"
    for r in $(seq 1 "$rounds"); do
        for p in "${progs[@]}"; do
            for c in "${cfgs[@]}"; do real_one "$p" "$c" "$r"; done
        done
    done
    # Medians per program and column, ratios to untraced.
    awk -v ops="${BENCH_MEMCSLAP_OPS:-10000}" '
        function median(key,   n, i, j, t, v) {
            n = split(vals[key], v, " ")
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
            return n == 0 ? "" : (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2)
        }
        { vals[$1 " " $2 " cpu"] = vals[$1 " " $2 " cpu"] " " $4; vals[$1 " " $2 " wall"] = vals[$1 " " $2 " wall"] " " $5
          runs[$1 " " $2]++
          if ($6 == "unknown") unk[$1 " " $2] = 1; else if ($6 != "-") disc[$1 " " $2] += $6
          if (!($1 in seen)) { seen[$1] = 1; order[++np] = $1 }
          if (!($2 in cseen)) { cseen[$2] = 1; corder[++nc] = $2 } }
        END {
            printf "  %-10s %-9s %5s %9s %7s %9s %7s %s\n", "program", "column", "runs", "CPU s", "xU", "wall s", "xU", "extra"
            for (i = 1; i <= np; i++) {
                p = order[i]; uc = median(p " untraced cpu"); uw = median(p " untraced wall")
                for (j = 1; j <= nc; j++) {
                    c = corder[j]; if (!((p " " c) in runs)) continue
                    mc = median(p " " c " cpu"); mw = median(p " " c " wall")
                    extra = ""
                    if (p == "memcached") extra = sprintf("memcslap %.0f ops/s, throughput %.2fx", ops / mw, uw / mw)
                    if (c == "lttng") extra = extra ((extra == "") ? "" : "; ") "discarded events: " \
                        (((p " " c) in unk) ? "some not counted, " : "") (disc[p " " c] + 0)
                    xc = (uc > 0) ? sprintf("%.2fx", mc / uc) : "-"
                    xw = (uw > 0) ? sprintf("%.2fx", mw / uw) : "-"
                    printf "  %-10s %-9s %5d %9.3f %7s %9.3f %7s %s\n", p, c, runs[p " " c], mc, xc, mw, xw, extra
                }
            }
        }' "$real_results"
    echo "  CPU = user+sys of the program (memcached: the server during the load, memcslap untraced);"
    echo "  medians of $rounds interleaved rounds; xU = traced / untraced."
}
