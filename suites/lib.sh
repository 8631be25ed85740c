# Shared by suites/run.sh and the per-suite scripts: run one test program twice,
# plain and under liblocktrace.so, classify both results, check the traced
# run's trace files with `locktrace report`, and keep the counts.
#
# Needs: LT_BUILD (build dir), LT_WORK (scratch dir), LT_LIB, LT_DECODER
# (empty when build/locktrace is not built: the trace check is then skipped
# and the summary says so).
#
# Results:   pass | fail | skip (the test said "unsupported here")
# A test is TRANSPARENT when plain and traced give the same result and, when
# the traced run passed, every trace it wrote decodes with no `error` finding.

LT_TIMEOUT=${LT_TIMEOUT:-300}

declare -A lt_n          # counters: lt_n[suite.mode.result], lt_n[suite.same], lt_n[suite.diff]
lt_suites=()             # suites in the order they ran
lt_diff_lines=()         # one line per test that was not transparent
lt_known_lines=()        # one line per test that differs for a known, open shim bug

# classify EXIT_CODE SKIP_CODES...: prints pass / skip / fail
lt_classify() {
    local rc=$1; shift
    [ "$rc" -eq 0 ] && { echo pass; return; }
    local s
    for s in "$@"; do [ "$rc" -eq "$s" ] && { echo skip; return; }; done
    echo fail
}

# lt_exec MODE DIR LOG -- CMD...: runs CMD in DIR with a timeout, plain or
# traced; output (stdout+stderr) to LOG; prints the exit code.
lt_exec() {
    local mode=$1 dir=$2 log=$3; shift 4
    local rc
    mkdir -p "$dir/traces"
    # A suite may seed the working directory (suite_dir_hook DIR).
    if [ -n "${LT_DIR_HOOK:-}" ]; then "$LT_DIR_HOOK" "$dir"; fi
    if [ "$mode" = traced ]; then
        # Sparse trace files: tst-robust-fork's 22,000 locking children would
        # otherwise allocate ~35 GB of mostly unwritten rings.  Traces of
        # processes that took no lock are kept: every traced run must leave
        # at least one (none means the shim wrote nothing).
        (cd "$dir" && exec timeout -k 10 "$LT_TIMEOUT" \
            env LD_PRELOAD="$LT_LIB" LOCKTRACE_SPARSE=1 LOCKTRACE_KEEP_EMPTY=1 \
            LOCKTRACE_OUTPUT="$dir/traces/%e.%p.trace" "$@") > "$log" 2>&1 < /dev/null
        rc=$?
    else
        (cd "$dir" && exec timeout -k 10 "$LT_TIMEOUT" "$@") > "$log" 2>&1 < /dev/null
        rc=$?
    fi
    echo "$rc"
}

# lt_check_traces DIR [ALLOWED]: decodes every trace the traced run left in
# DIR/traces.  ALLOWED lists error-finding kinds the test provokes on purpose
# (suites/*/expected-findings.txt): those are accepted, and said so, any
# other error finding is not.
# Prints "ok N", "expected N (kinds)", "none", "skipped" or "bad: <file> <why>".
lt_check_traces() {
    local dir=$1/traces allowed=" ${2:-} " f rc n=0 k kinds="" seen=""
    [ -n "$LT_DECODER" ] || { echo skipped; return; }
    shopt -s nullglob
    local files=("$dir"/*.trace)
    shopt -u nullglob
    [ ${#files[@]} -gt 0 ] || { echo none; return; }
    # A fork-heavy test (tst-robust-fork: ~16,000 child traces, ~10 decoded
    # a second here) is checked on the LT_TRACE_SAMPLE biggest traces (the
    # parent's among them) plus an even spread of the rest, and says so.
    local total=${#files[@]} cap=${LT_TRACE_SAMPLE:-400} sampled=""
    if [ "$total" -gt "$cap" ]; then
        local -a big spread
        # (find, not ls -S: thousands of names overflow the argument list)
        mapfile -t big < <(find "$dir" -maxdepth 1 -name '*.trace' -printf '%s %p\n' | sort -rn |
                           head -n $((cap / 2)) | cut -d' ' -f2-)
        local i step=$(( total / (cap / 2) ))
        for ((i = 0; i < total; i += step)); do spread+=("${files[$i]}"); done
        mapfile -t files < <(printf '%s\n' "${big[@]}" "${spread[@]}" | sort -u)
        sampled=" of $total (sampled: the biggest and an even spread)"
    fi
    for f in "${files[@]}"; do
        timeout 120 "$LT_DECODER" report "$f" > "$f.report" 2>&1
        rc=$?
        case $rc in
            0) ;;
            1)
                kinds=$(sed -n 's/^\[error\] \([a-z0-9_-]*\):.*/\1/p' "$f.report" | sort -u)
                for k in $kinds; do
                    if [[ $allowed != *" $k "* ]]; then
                        echo "bad: $(basename "$f") has error finding $k (see $f.report)"; return
                    fi
                    [[ " $seen " == *" $k "* ]] || seen+=" $k"
                done ;;
            2) echo "bad: $(basename "$f") unreadable (see $f.report)"; return ;;
            *) echo "bad: $(basename "$f") decoder exit $rc (see $f.report)"; return ;;
        esac
        n=$((n + 1))
    done
    if [ -n "$seen" ]; then echo "expected $n$sampled (${seen# })"; else echo "ok $n$sampled"; fi
}

# lt_expected_findings FILE NAME: the finding kinds FILE allows for test NAME
# (lines "NAME kind kind ...  # why").
lt_expected_findings() {
    [ -f "$1" ] || return 0
    sed 's/#.*//' "$1" | awk -v n="$2" '$1 == n { for (i = 2; i <= NF; i++) printf "%s ", $i }'
}

# lt_case SUITE NAME RETRIES SKIP_CODES -- CMD...
#   RETRIES > 0 only for tests known to be timing-sensitive without the shim;
#   each retry is printed.  SKIP_CODES is a comma list ("77" or "4").
lt_case() {
    local suite=$1 name=$2 retries=$3 skips=$4; shift 5
    if [ -n "${LT_MATCH:-}" ] && ! [[ $name =~ $LT_MATCH ]]; then return 0; fi
    local safe=${name//[^A-Za-z0-9_.+-]/_}
    local base=$LT_WORK/runs/$suite/$safe
    rm -rf "$base"; mkdir -p "$base"
    local -a skipc; IFS=, read -r -a skipc <<< "$skips"
    local mode rc res attempt note="" t0 t1
    local -A out
    for mode in plain traced; do
        attempt=0
        while :; do
            rm -rf "$base/$mode"
            t0=$(date +%s%N)
            rc=$(lt_exec "$mode" "$base/$mode" "$base/$mode.log" -- "$@")
            t1=$(date +%s%N)
            res=$(lt_classify "$rc" "${skipc[@]}")
            if [ "$res" = fail ] && [ "$attempt" -lt "$retries" ]; then
                attempt=$((attempt + 1))
                note+=" [retry $attempt of $mode after exit $rc: known timing-sensitive]"
                continue
            fi
            break
        done
        out[$mode]=$res; out[$mode.rc]=$rc; out[$mode.ms]=$(( (t1 - t0) / 1000000 ))
    done
    local trace=""
    if [ "${out[traced]}" = pass ]; then
        trace=$(lt_check_traces "$base/traced" \
            "$(lt_expected_findings "$LT_SUITES/$suite/expected-findings.txt" "$name")")
    fi
    lt_n[$suite.plain.${out[plain]}]=$(( ${lt_n[$suite.plain.${out[plain]}]:-0} + 1 ))
    lt_n[$suite.traced.${out[traced]}]=$(( ${lt_n[$suite.traced.${out[traced]}]:-0} + 1 ))
    case $trace in ok*|expected*) lt_n[$suite.trace.ok]=$(( ${lt_n[$suite.trace.ok]:-0} + 1 )) ;; esac
    case $trace in expected*) lt_n[$suite.trace.expected]=$(( ${lt_n[$suite.trace.expected]:-0} + 1 )) ;; esac
    case $trace in skipped) lt_n[$suite.trace.skipped]=$(( ${lt_n[$suite.trace.skipped]:-0} + 1 )) ;; esac
    local verdict=SAME
    if [ "${out[plain]}" != "${out[traced]}" ]; then verdict=DIFF
    elif [[ $trace == bad* || $trace == none ]]; then verdict=DIFF; fi
    # A difference caused by a shim bug that is known and still open is shown
    # as KNOWN, with its reason, on every run and in the summary; it does not
    # fail the run, so that a new difference does.
    local known_why=""
    if [ $verdict = DIFF ] && [ -f "$LT_SUITES/$suite/known-differences.txt" ]; then
        known_why=$(awk -v n="$name" '$1 == n { sub(/^[^ \t]+[ \t]*/, ""); print; exit }' \
            "$LT_SUITES/$suite/known-differences.txt")
        [ -n "$known_why" ] && verdict=KNOWN
    fi
    if [ $verdict = KNOWN ]; then
        lt_n[$suite.known]=$(( ${lt_n[$suite.known]:-0} + 1 ))
        lt_known_lines+=("$suite/$name: plain=${out[plain]} traced=${out[traced]} trace=${trace:--}: $known_why")
        note+=" [known shim bug: $known_why]"
    elif [ $verdict = SAME ]; then
        # Traces are ~3 MB a process, and a fork-heavy test writes thousands:
        # keep them only for the tests that need a look.
        rm -rf "$base/traced/traces" "$base/plain/traces"
        lt_n[$suite.same]=$(( ${lt_n[$suite.same]:-0} + 1 ))
    else
        lt_n[$suite.diff]=$(( ${lt_n[$suite.diff]:-0} + 1 ))
        local why="plain=${out[plain]}(exit ${out[plain.rc]}) traced=${out[traced]}(exit ${out[traced.rc]})"
        [ "$trace" = none ] && why+=" no trace written"
        [[ $trace == bad* ]] && why+=" trace ${trace#bad: }"
        local ntr
        ntr=$(find "$base/traced/traces" -name '*.trace' 2>/dev/null | wc -l)
        if [ "$ntr" -gt 20 ]; then
            # A fork-heavy test: keep the reports, not thousands of 3 MB files.
            find "$base/traced/traces" -name '*.trace' -delete
            why+=" ($ntr trace files, deleted to save disk)"
        fi
        lt_diff_lines+=("$suite/$name: $why; logs in $base")
    fi
    printf '%-5s %-8s %-34s plain=%-4s traced=%-4s trace=%-10s %6dms %6dms%s\n' \
        "$verdict" "$suite" "$name" "${out[plain]}" "${out[traced]}" "${trace:--}" \
        "${out[plain.ms]}" "${out[traced.ms]}" "$note"
}

# lt_suite_summary SUITE: the suite's counts for both modes.
lt_suite_summary() {
    local s=$1 m
    for m in plain traced; do
        printf '%-8s %-6s: %d passed, %d failed, %d unsupported\n' "$s" "$m" \
            "${lt_n[$s.$m.pass]:-0}" "${lt_n[$s.$m.fail]:-0}" "${lt_n[$s.$m.skip]:-0}"
    done
    local tr
    if [ -z "$LT_DECODER" ]; then tr="trace check skipped: $LT_BUILD/locktrace not built"
    else tr="${lt_n[$s.trace.ok]:-0} traced passes decoded with no unexpected error finding, ${lt_n[$s.trace.expected]:-0} of them with the findings the test provokes on purpose"; fi
    printf '%-8s same result plain vs traced: %d of %d (%s)\n' "$s" "${lt_n[$s.same]:-0}" \
        $(( ${lt_n[$s.same]:-0} + ${lt_n[$s.diff]:-0} )) "$tr"
}

# lt_list FILE [lines]: the names in a list file, comments (#) and blank
# lines dropped; one word a line, or one line a line with "lines".
lt_list() {
    [ -f "$1" ] || return 0
    if [ "${2:-}" = lines ]; then
        sed 's/#.*//; s/^[ \t]*//; s/[ \t]*$//; /^$/d' "$1"
    else
        sed 's/#.*//' "$1" | tr -s ' \t' '\n' | sed '/^$/d'
    fi
}
