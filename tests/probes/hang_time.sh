#!/bin/sh
# Median time until parking_lot 0.12.1's try_write_for bug hangs the stress
# program, untraced and under the shim (built-in parking_lot probes on).
#
#   tests/probes/hang_time.sh BUILD_DIR N [MAX_SECONDS]
#
# Runs BUILD_DIR/probes/parking_lot_stress N times each way; a run that has not
# hung after MAX_SECONDS (default 120) counts as "> MAX_SECONDS" (so does a
# STALL: progress stopped without the bug's wrapped word, e.g. an overloaded
# machine starving a writer that holds the lock).  The runs alternate between
# the two ways.  Prints one line per mode and the ratio of the medians:
#   untraced: 5/5 hung, median 12.3 s (times: 4.1 8.0 12.3 20.7 33.0)
#   traced:   4/5 hung, median 25.0 s (times: ...)
#   ratio:    traced / untraced median 2.03x (target <= 1.5x)
#   per hang: untraced one every 7.8 s of running, traced one every 28.0 s: 3.59x
# (the last line counts the censored runs too: all seconds run / hangs).
# Stress parameters can be passed in STRESS_ARGS.
set -u
build=${1:?usage: hang_time.sh BUILD_DIR N [MAX_SECONDS]}
n=${2:?usage: hang_time.sh BUILD_DIR N [MAX_SECONDS]}
max=${3:-120}
prog=$build/probes/parking_lot_stress
shim=$build/liblocktrace.so
[ -x "$prog" ] || { echo "hang_time.sh: $prog not built (needs cargo + librust-parking-lot-dev)" >&2; exit 2; }
[ -f "$shim" ] || { echo "hang_time.sh: $shim not built" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

one() { # mode -> prints seconds, or ">max"
    if [ "$1" = traced ]; then
        out=$(LD_PRELOAD=$shim LOCKTRACE_OUTPUT=$tmp/t.%p.trace timeout $((max + 30)) "$prog" --max-seconds "$max" ${STRESS_ARGS:-} 2>/dev/null)
    else
        out=$(timeout $((max + 30)) "$prog" --max-seconds "$max" ${STRESS_ARGS:-} 2>/dev/null)
    fi
    rm -f "$tmp"/t.*
    t=$(printf '%s\n' "$out" | sed -n 's/^HANG after \([0-9.]*\) s.*/\1/p')
    [ -n "$t" ] && echo "$t" || echo ">$max"
}

# Alternating (untraced, traced, traced, untraced, ...) so that other load on
# the machine hits both ways alike.
times_untraced="" times_traced=""
i=0
while [ $i -lt "$n" ]; do
    if [ $((i % 2)) = 0 ]; then order="untraced traced"; else order="traced untraced"; fi
    for mode in $order; do
        t=$(one $mode)
        if [ $mode = traced ]; then times_traced="$times_traced $t"; else times_untraced="$times_untraced $t"; fi
    done
    i=$((i + 1))
done
# Median with censored runs (">max") sorted last.
median_line() { # mode times
    printf '%s\n' $2 | awk -v mode="$1" -v max="$max" -v all="$2" '
        { v[NR] = ($0 ~ /^>/) ? 1e18 : $0 + 0; if ($0 !~ /^>/) hung++ }
        END {
            n = NR; for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
            lo = (n % 2) ? v[(n + 1) / 2] : v[n / 2]; hi = (n % 2) ? lo : v[n / 2 + 1]
            # A censored run in the middle makes the median a lower bound
            # (a censored run counts as max there).
            if (lo >= 1e18) med = "> " max
            else if (hi >= 1e18) med = sprintf("> %.1f", (lo + max) / 2)
            else med = sprintf("%.1f", (lo + hi) / 2)
            printf "%-9s %d/%d hung, median %s s (times:%s)\n", mode ":", hung, n, med, all
        }'
}
u=$(median_line untraced "$times_untraced")
t=$(median_line traced "$times_traced")
printf '%s\n%s\n' "$u" "$t"
# The ratio of the medians (a censored median makes it a lower bound).
printf '%s\n%s\n' "$u" "$t" | sed -n 's/.*median \(>\{0,1\}\) *\([0-9.]*\) s.*/=\1 \2/p' | awk '
    NR == 1 { ul = $1; u = $2 } NR == 2 { tl = $1; t = $2 }
    END {
        if (u + 0 <= 0 || t == "") exit
        if (ul == "=>") { print "ratio:    not measured (the untraced median is censored)"; exit }
        printf "ratio:    traced / untraced median %s%.2fx (target <= 1.5x)\n", (tl == "=>") ? ">= " : "", t / u
    }'
# The time to the hang is close to memoryless (0.05 s to over 45 s in one
# setting), so a 10-run median moves by half either way.  Steadier: the mean
# time to hang with the censored runs counted, all seconds run / hangs (the
# maximum-likelihood estimate for exponential times).
rate_of() { # times -> "seconds hangs"
    printf '%s\n' $1 | awk -v max="$max" '{ if ($0 ~ /^>/) s += max; else { s += $0; h++ } } END { printf "%.1f %d\n", s, h }'
}
ru=$(rate_of "$times_untraced") rt=$(rate_of "$times_traced")
printf '%s %s\n' "$ru" "$rt" | awk '{
    if ($2 == 0 || $4 == 0) { print "per hang: not measured (a side never hung)"; exit }
    mu = $1 / $2; mt = $3 / $4
    printf "per hang: untraced one every %.1f s of running, traced one every %.1f s: %.2fx\n", mu, mt, mt / mu }'
