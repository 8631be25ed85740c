#!/bin/bash
# Runs one zoo program under the real shim and checks what `locktrace report
# --json` says about it.
#
#   check_finding.sh --build DIR --program NAME [--hangs] [--exit N]
#                    [--kind K --severity S] [--locks sym,sym] [--threads N]
#                    [--functions f,g] [--no-owners] [--clean] [--only]
#
# --only      no error finding of another kind than --kind (one diagnosis per hang).
# --hangs     the program must still be running once its trace has gone quiet;
#             the report is then checked twice: read live, and after SIGKILL.
# --kind/--severity/--locks/--threads/--functions
#             some finding of that kind and severity must name exactly --threads
#             threads (each with evidence of its own), locks whose symbols (from
#             the report's lock table, e.g. "lock_a", "accounts+56") include
#             --locks, and evidence stacks containing each of --functions.
# --sites f:marker,g:marker
#             some finding of --kind quotes in its summary each function as
#             "f(...) (file:line)", line being the line of the program's source
#             (tests/zoo/...) that holds the comment "site: marker".
# --inlined f,g
#             the evidence stacks show frames of f and g marked inlined.
# --skip-frames p
#             passed on to `locktrace report` (repeatable).
# --stripped debuglink|build-id
#             run a copy stripped with objcopy --strip-all, its debug file
#             found through .gnu_debuglink beside it, or only in a build-id
#             directory (DIR/.build-id/xx/rest.debug) given with --debug-dir;
#             then packed, and its bundle checked again with the copy and its
#             debug file gone.
# --no-owners the report must not name any holder for the blocked threads
#             (futex-only locks: owners are unknowable).
# --clean     no error or warning finding at all, report exit status 0.
# --env V=X   extra environment for the traced program (e.g. a tiny ring:
#             LOCKTRACE_RING_SIZE=64, so the flight recorder overwrites).
# Exit status 0 = all checks passed; the reason for a failure is printed.
set -u

build="" program="" hangs=0 want_exit=0 kind="" severity="error" locks="" threads=-1 functions=""
no_owners=0 clean=0 only=0 extra_env=() sites="" inlined="" report_args=() stripped=""
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build=$2; shift ;;
    --program) program=$2; shift ;;
    --hangs) hangs=1 ;;
    --exit) want_exit=$2; shift ;;
    --kind) kind=$2; shift ;;
    --severity) severity=$2; shift ;;
    --locks) locks=$2; shift ;;
    --threads) threads=$2; shift ;;
    --functions) functions=$2; shift ;;
    --sites) sites=$2; shift ;;
    --inlined) inlined=$2; shift ;;
    --skip-frames) report_args+=(--skip-frames "$2"); shift ;;
    --stripped) stripped=$2; shift ;;
    --no-owners) no_owners=1 ;;
    --clean) clean=1 ;;
    --only) only=1 ;;
    --env) extra_env+=("$2"); shift ;;
    *) echo "check_finding: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

lt="$build/locktrace"
shim="$build/liblocktrace.so"
exe="$build/zoo/$program"
for f in "$lt" "$shim" "$exe"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "FAIL: $f is missing (build first)"; exit 1; }
done
command -v jq >/dev/null || { echo "FAIL: jq is needed (scripts/deps/zoo.txt)"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/lt-finding-$program.XXXXXX")
trace="$work/$program.trace"
pid=""
cleanup() {
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# --stripped: run a stripped copy; its debug file goes beside it or into a
# build-id directory given to the report with --debug-dir.
if [ -n "$stripped" ]; then
    mkdir -p "$work/bin"
    objcopy --only-keep-debug "$exe" "$work/bin/$program.debug" && objcopy --strip-all "$exe" "$work/bin/$program" ||
        { echo "FAIL: objcopy could not split $exe"; exit 1; }
    case $stripped in
    debuglink)
        (cd "$work/bin" && objcopy --add-gnu-debuglink="$program.debug" "$program") ||
            { echo "FAIL: objcopy --add-gnu-debuglink"; exit 1; } ;;
    build-id)
        id=$(readelf -n "$exe" | sed -n 's/.*Build ID: *//p')
        [ -n "$id" ] || { echo "FAIL: $exe has no build-id"; exit 1; }
        mkdir -p "$work/debug/.build-id/${id:0:2}"
        mv "$work/bin/$program.debug" "$work/debug/.build-id/${id:0:2}/${id:2}.debug"
        report_args+=(--debug-dir "$work/debug") ;;
    *) echo "check_finding: --stripped debuglink|build-id" >&2; exit 2 ;;
    esac
    if readelf -S "$work/bin/$program" | grep -qE '\.symtab|\.debug_info'; then
        echo "FAIL: the stripped copy still has symbols or debug information"; exit 1
    fi
    exe="$work/bin/$program"
fi

fail() {
    echo "FAIL [$program]: $*"
    echo "--- program output:"; head -20 "$work/out.txt" 2>/dev/null
    [ -f "$work/last.json" ] && { echo "--- findings:"; jq -r '.findings[] | "\(.severity) \(.kind) \(.locks) \(.threads): \(.summary)"' "$work/last.json" | cut -c1-400; }
    exit 1
}

# --sites: each "function:marker" becomes a pattern for the summary,
# "function(params) (file:line)" with the line of "site: marker" in the source.
check_sites() {
    local label=$1 src site fn marker line pats=()
    # A Rust program's release build (NAME_release) has the source of NAME.
    src=$(ls "$(dirname "$0")"/../zoo/"$program".c* "$(dirname "$0")"/../zoo/optimized/"$program".c* \
        "$(dirname "$0")"/../rust/src/bin/"${program%_release}".rs 2>/dev/null | head -1)
    [ -n "$src" ] || fail "no source of $program for --sites"
    IFS=, read -ra all <<<"$sites"
    for site in "${all[@]}"; do
        fn=${site%%:*} marker=${site#*:}
        line=$(grep -nE "site: $marker([^A-Za-z0-9_]|\$)" "$src" | cut -d: -f1)
        [ -n "$line" ] || fail "no \"site: $marker\" in $src"
        pats+=("$fn(\\([^()]*\\))? \\($(basename "$src"):$line\\)")
    done
    local want
    want=$(printf '%s\n' "${pats[@]}" | jq -R . | jq -s .)
    jq -e --arg kind "$kind" --argjson want "$want" '[.findings[] | select(.kind == $kind) | .summary as $s
        | select(all($want[]; . as $p | $s | test($p)))] | length > 0' "$work/last.json" >/dev/null ||
        fail "$label: no $kind summary quotes every site of: $(printf '%s ' "${pats[@]}")"
}

# Checks one report; $1 = label ("live", "killed", "exited").
check_report() {
    local label=$1 rc
    "$lt" report --json ${report_args[@]+"${report_args[@]}"} "$trace" >"$work/last.json" 2>"$work/report.err"
    rc=$?
    [ "$rc" -le 1 ] || fail "$label: report could not read the trace (exit $rc): $(cat "$work/report.err")"
    jq -e . "$work/last.json" >/dev/null 2>&1 || fail "$label: report --json is not JSON"
    # Stacks show the program, never the shim's own frames (its hooks on top,
    # its thread start wrapper at the bottom).
    local ours
    ours=$(jq -r '[.findings[].evidence[]?.stack[]? | select((.module // "") | test("liblocktrace")) | .function // .address] | unique | join(",")' "$work/last.json")
    [ -z "$ours" ] || fail "$label: stack frames of the shim itself in the evidence: $ours"

    if [ "$clean" = 1 ]; then
        local bad
        bad=$(jq -r '[.findings[] | select(.severity == "error" or .severity == "warning") | "\(.severity) \(.kind): \(.summary)"] | join("\n")' "$work/last.json")
        [ -z "$bad" ] || fail "$label: a correct program got findings (false positive):
$bad"
        [ "$rc" = 0 ] || fail "$label: report exit status $rc for a clean trace, want 0"
    fi

    if [ -n "$kind" ]; then
        local want_rc=0
        [ "$severity" = error ] && want_rc=1
        if [ "$severity" != error ]; then
            # Only warnings expected: the report must not claim an error either.
            local errs
            errs=$(jq -r '[.findings[] | select(.severity == "error") | .kind] | join(",")' "$work/last.json")
            [ -z "$errs" ] || fail "$label: unexpected error findings: $errs"
        fi
        if [ "$only" = 1 ]; then
            # The expected kind must be the only error: no second diagnosis of the same hang.
            local others
            others=$(jq -r --arg kind "$kind" '[.findings[] | select(.severity == "error" and .kind != $kind) | .kind] | join(",")' "$work/last.json")
            [ -z "$others" ] || fail "$label: error findings besides $kind: $others"
        fi
        [ "$rc" = "$want_rc" ] || fail "$label: report exit status $rc, want $want_rc"
        local verdict
        verdict=$(jq -r --arg kind "$kind" --arg sev "$severity" --arg locks "$locks" \
            --arg functions "$functions" --argjson nthreads "$threads" '
            . as $r
            | ($locks | split(",") | map(select(length > 0))) as $wantlocks
            | ($functions | split(",") | map(select(length > 0))) as $wantfuncs
            | [.findings[] | select(.kind == $kind and .severity == $sev)] as $cands
            | if ($cands | length) == 0 then
                "no \($sev) finding of kind \($kind); the report has: \([$r.findings[] | "\(.severity) \(.kind)"] | join(", "))"
              else
                [ $cands[] | . as $f
                  | [ $f.locks[] | . as $a | ([$r.locks[] | select(.address == $a) | .symbol][0] // $a) ] as $syms
                  | [ $f.evidence[] | .stack[]? | .function | select(. != null) ] as $funcs
                  | [ ( $wantlocks[] | . as $w | select(($syms | index($w)) == null)
                        | "lock \($w) not among the finding locks \($syms)" ),
                      ( if $nthreads >= 0 and ($f.threads | length) != $nthreads
                        then "want \($nthreads) threads, finding has \($f.threads)" else empty end ),
                      ( $f.threads[] | . as $t
                        | select(([$f.evidence[] | select(.thread == $t)] | length) == 0)
                        | "thread \($t) is named but has no evidence" ),
                      ( $wantfuncs[] | . as $fn
                        | select(([$funcs[] | select(contains($fn))] | length) == 0)
                        | "function \($fn) not in the evidence stacks \($funcs | unique)" ) ] ]
                | if any(.[]; length == 0) then "OK"
                  else "no \($kind) finding matches: \(map(join("; ")) | join(" | "))" end
              end' "$work/last.json")
        [ "$verdict" = OK ] || fail "$label: $verdict"
    fi

    [ -n "$sites" ] && check_sites "$label"
    if [ -n "$inlined" ]; then
        local fn
        for fn in ${inlined//,/ }; do
            jq -e --arg fn "$fn" --arg kind "$kind" '[.findings[] | select(.kind == $kind) | .evidence[].stack[]?
                | select(.inlined == true and ((.function // "") | contains($fn)))] | length > 0' \
                "$work/last.json" >/dev/null || fail "$label: no frame of $fn marked inlined in the evidence"
        done
    fi

    if [ "$no_owners" = 1 ]; then
        local owners
        owners=$(jq -r '[.blocked[] | select((.holders // []) | length > 0)] | length' "$work/last.json")
        [ "$owners" = 0 ] || fail "$label: the report names holders of futex-only locks it cannot know"
        # Every thread of the finding is listed as blocked, on the word, with a stack.
        if [ -n "$kind" ]; then
            local missing
            missing=$(jq -r --arg kind "$kind" '
                . as $r | [.findings[] | select(.kind == $kind)][0] as $f
                | [ $f.threads[] | . as $t
                    | select(([$r.blocked[] | select(.thread == $t and (.stack | length) > 0
                               and (.address as $a | $f.locks | index($a)) != null)] | length) == 0) ]
                | map(tostring) | join(",")' "$work/last.json")
            [ -z "$missing" ] || fail "$label: threads $missing are not shown blocked on the finding's word with a stack"
        fi
    fi
    echo "ok [$program] $label"
}

env ${extra_env[@]+"${extra_env[@]}"} LD_PRELOAD="$shim" LOCKTRACE_OUTPUT="$trace" LOCKTRACE_QUIET=1 \
    "$exe" >"$work/out.txt" 2>&1 &
pid=$!

if [ "$hangs" = 1 ]; then
    # Hung = the process is alive and its trace stopped growing.  The zoo
    # programs hang within a fraction of a second; allow a slow, loaded machine.
    last=-1 quiet=0
    for _ in $(seq 1 300); do
        sleep 0.2
        kill -0 "$pid" 2>/dev/null || fail "the program exited (status $(wait "$pid"; echo $?)) but it should hang"
        n=$("$lt" dump "$trace" 2>/dev/null | grep -vc '^#')
        if [ "$n" -gt 0 ] && [ "$n" = "$last" ]; then
            quiet=$((quiet + 1))
            [ "$quiet" -ge 3 ] && break
        else
            quiet=0
        fi
        last=$n
    done
    [ "$quiet" -ge 3 ] || fail "the trace never went quiet"
    check_report live
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
    pid=""
    check_report killed
    if [ -n "$stripped" ]; then
        # Packed where the debug files are, the bundle reads the same without them.
        "$lt" pack ${report_args[@]+"${report_args[@]}"} "$trace" -o "$work/packed.ltb" >/dev/null 2>"$work/pack.err" ||
            fail "pack failed: $(cat "$work/pack.err")"
        rm -rf "$work/bin" "$work/debug"
        trace="$work/packed.ltb"
        check_report bundle
    fi
else
    for _ in $(seq 1 600); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then fail "the program did not finish within 60 s"; fi
    wait "$pid"
    status=$?
    pid=""
    [ "$status" = "$want_exit" ] || fail "the program exited with $status under the shim, want $want_exit"
    check_report exited
fi
exit 0
