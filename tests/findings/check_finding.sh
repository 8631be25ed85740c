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
# --frames f:marker,g:marker
#             the evidence stacks of --kind show a frame of f (its name whole
#             or a part of it) at the line of "site: marker" in the source.
# --skip-frames p
#             passed on to `locktrace report` (repeatable).
# --stripped debuglink|build-id|dwz|minidebuginfo|debuginfod
#             run a copy stripped with objcopy --strip-all, its debug file
#             found through .gnu_debuglink beside it, or only in a build-id
#             directory (DIR/.build-id/xx/rest.debug) given with --debug-dir;
#             dwz: the same build-id directory, the DWARF first shrunk by
#             `dwz -m` as Debian's -dbgsym packages are, so that it refers
#             to a shared alternate file (.gnu_debugaltlink), found there by
#             its own build-id; minidebuginfo: no debug file, the function
#             symbols only, xz-compressed into the copy's .gnu_debugdata
#             (Fedora's MiniDebugInfo); debuginfod: the debug file served by
#             a local debuginfod(8), reached with DEBUGINFOD_URLS (skipped,
#             77, without debuginfod), and without DEBUGINFOD_URLS no
#             connection may even be tried (strace); none: no debug file
#             and no symbols at all, and some finding of --kind must quote
#             each of its --threads threads at the program's own code, as
#             PROGRAM+0xOFFSET (never only a C library frame).  Then packed,
#             and its bundle checked again with the copy and its debug file gone.
# --no-owners the report must not name any holder for the blocked threads
#             (futex-only locks: owners are unknowable).
# --clean     no error or warning finding at all, report exit status 0.
# --env V=X   extra environment for the traced program (e.g. a tiny ring:
#             LOCKTRACE_RING_SIZE=64, so the flight recorder overwrites).
# Exit status 0 = all checks passed; the reason for a failure is printed.
set -u
. "$(dirname "$0")/../jq_ok.sh"

build="" program="" hangs=0 want_exit=0 kind="" severity="error" locks="" threads=-1 functions=""
no_owners=0 clean=0 only=0 extra_env=() sites="" inlined="" frames="" report_args=() stripped=""
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
    --frames) frames=$2; shift ;;
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
    [ -n "${server:-}" ] && kill "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# --stripped: run a stripped copy; its debug file goes beside it or into a
# build-id directory given to the report with --debug-dir.
if [ -n "$stripped" ]; then
    mkdir -p "$work/bin"
    objcopy --only-keep-debug "$exe" "$work/bin/$program.debug" && objcopy --strip-all "$exe" "$work/bin/$program" ||
        { echo "FAIL: objcopy could not split $exe"; exit 1; }
    build_id_of() { readelf -n "$1" | sed -n 's/.*Build ID: *//p' | head -1; }
    # into_build_id_dir FILE ID: FILE becomes debug/.build-id/xx/rest.debug.
    into_build_id_dir() {
        mkdir -p "$work/debug/.build-id/${2:0:2}"
        mv "$1" "$work/debug/.build-id/${2:0:2}/${2:2}.debug"
    }
    case $stripped in
    dwz)
        command -v dwz >/dev/null || { echo "FAIL: dwz is needed (scripts/deps/decoder.txt)"; exit 1; }
        # dwz -m moves what two files share into the alternate file: a twin
        # makes nearly all of the program's DWARF shared.
        cp "$exe" "$work/bin/$program.full" && cp "$exe" "$work/bin/$program.twin" &&
            dwz -m "$work/bin/alt.debug" -M /usr/lib/debug/.dwz/x86_64-linux-gnu/locktrace-test.debug \
                "$work/bin/$program.full" "$work/bin/$program.twin" ||
            { echo "FAIL: dwz -m could not process $exe"; exit 1; }
        objcopy --only-keep-debug "$work/bin/$program.full" "$work/bin/$program.debug" &&
            objcopy --strip-all "$work/bin/$program.full" "$work/bin/$program" ||
            { echo "FAIL: objcopy could not split the dwz output"; exit 1; }
        readelf -S "$work/bin/$program.debug" 2>/dev/null | grep -q '\.gnu_debugaltlink' ||
            { echo "FAIL: the debug file has no .gnu_debugaltlink"; exit 1; }
        readelf --debug-dump=info "$work/bin/$program.debug" 2>/dev/null | grep -q 'DW_FORM_GNU_strp_alt\|alt indirect string' ||
            { echo "FAIL: the debug file's DWARF does not refer to the alternate file"; exit 1; }
        into_build_id_dir "$work/bin/$program.debug" "$(build_id_of "$exe")"
        into_build_id_dir "$work/bin/alt.debug" "$(build_id_of "$work/bin/alt.debug")"
        rm -f "$work/bin/$program.full" "$work/bin/$program.twin"
        report_args+=(--debug-dir "$work/debug") ;;
    minidebuginfo)
        # As Fedora builds it: the function symbols .dynsym lacks, in an ELF
        # of their own, xz-compressed into .gnu_debugdata.
        nm -D "$exe" --format=posix --defined-only | awk '{ print $1 }' | sort >"$work/dynsyms"
        nm "$exe" --format=posix --defined-only | awk '$2 ~ /^[TtD]$/ { print $1 }' | sort >"$work/funcsyms"
        comm -13 "$work/dynsyms" "$work/funcsyms" >"$work/keep_symbols"
        objcopy -S --remove-section .gdb_index --remove-section .comment --keep-symbols="$work/keep_symbols" \
            "$work/bin/$program.debug" "$work/mini_debuginfo" && xz -f "$work/mini_debuginfo" &&
            objcopy --add-section .gnu_debugdata="$work/mini_debuginfo.xz" "$work/bin/$program" ||
            { echo "FAIL: could not make the MiniDebugInfo"; exit 1; }
        rm -f "$work/bin/$program.debug" ;;
    debuginfod)
        command -v debuginfod >/dev/null || { echo "SKIP: debuginfod is not installed"; exit 77; }
        command -v strace >/dev/null || { echo "FAIL: strace is needed (scripts/deps/decoder.txt)"; exit 1; }
        mkdir -p "$work/served" && mv "$work/bin/$program.debug" "$work/served/" ;;
    none)
        # No debug information anywhere, no symbol table: only module+offset.
        rm -f "$work/bin/$program.debug" ;;
    debuglink)
        (cd "$work/bin" && objcopy --add-gnu-debuglink="$program.debug" "$program") ||
            { echo "FAIL: objcopy --add-gnu-debuglink"; exit 1; } ;;
    build-id)
        id=$(readelf -n "$exe" | sed -n 's/.*Build ID: *//p')
        [ -n "$id" ] || { echo "FAIL: $exe has no build-id"; exit 1; }
        mkdir -p "$work/debug/.build-id/${id:0:2}"
        mv "$work/bin/$program.debug" "$work/debug/.build-id/${id:0:2}/${id:2}.debug"
        report_args+=(--debug-dir "$work/debug") ;;
    *) echo "check_finding: --stripped debuglink|build-id|dwz|minidebuginfo|debuginfod|none" >&2; exit 2 ;;
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

# The program's source (a Rust program's release build NAME_release has the source of NAME).
program_source() {
    ls "$(dirname "$0")"/../zoo/"$program".c* "$(dirname "$0")"/../zoo/optimized/"$program".c* \
        "$(dirname "$0")"/../rust/src/bin/"${program%_release}".rs \
        "$(dirname "$0")"/../rust/parking_lot/src/bin/"${program%_release}".rs 2>/dev/null | head -1
}

# --frames: each "function:marker" must be a frame of an evidence stack, at
# the line of "site: marker".
check_frames() {
    local label=$1 src site fn marker line
    src=$(program_source)
    [ -n "$src" ] || fail "no source of $program for --frames"
    IFS=, read -ra all <<<"$frames"
    for site in "${all[@]}"; do
        fn=${site%:*} marker=${site##*:}  # the name may hold "::"
        line=$(grep -nE "site: $marker([^A-Za-z0-9_]|\$)" "$src" | cut -d: -f1)
        [ -n "$line" ] || fail "no \"site: $marker\" in $src"
        jq_ok --arg kind "$kind" --arg fn "$fn" --arg file "$(basename "$src")" --argjson line "$line" \
            '[.findings[] | select(.kind == $kind) | .evidence[].stack[]?
              | select(((.function // "") | contains($fn)) and ((.file // "") | endswith($file)) and .line == $line)]
             | length > 0' "$work/last.json" >/dev/null ||
            fail "$label: no frame of $fn at $(basename "$src"):$line in the evidence"
    done
}

# --sites: each "function:marker" becomes a pattern for the summary,
# "function(params) (file:line)" with the line of "site: marker" in the source.
check_sites() {
    local label=$1 src site fn marker line pats=()
    src=$(program_source)
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
    jq_ok --arg kind "$kind" --argjson want "$want" '[.findings[] | select(.kind == $kind) | .summary as $s
        | select(all($want[]; . as $p | $s | test($p)))] | length > 0' "$work/last.json" >/dev/null ||
        fail "$label: no $kind summary quotes every site of: $(printf '%s ' "${pats[@]}")"
}

# --stripped none: a finding of --kind quotes the program's own code, by
# module and offset, once for each of its threads (distinct offsets: each
# thread's own site).
check_bare_sites() {
    local label=$1
    jq_ok --arg kind "$kind" --arg prog "$program" --argjson n "$threads" '[.findings[] | select(.kind == $kind)
        | [.summary | scan("\\b" + $prog + "\\+0x[0-9a-f]+")] | unique | length | select(. >= $n)] | length > 0' \
        "$work/last.json" >/dev/null ||
        fail "$label: no $kind summary quotes $threads distinct sites $program+0x... of the stripped program"
}

# Checks one report; $1 = label ("live", "killed", "exited").
# --stripped debuginfod: the reports' environment (DEBUGINFOD_URLS), and a
# local server of $work/served, started here.
report_env=()
if [ "$stripped" = debuginfod ]; then
    id=$(readelf -n "$exe" | sed -n 's/.*Build ID: *//p')
    for _ in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 20000))
        debuginfod -F -p "$port" -d "$work/debuginfod.sqlite" "$work/served" >"$work/debuginfod.log" 2>&1 &
        server=$!
        for _ in $(seq 1 100); do
            # A fresh cache each time: the client remembers a miss (before
            # the server's first scan) for minutes.
            rm -rf "$work/probe-cache"
            DEBUGINFOD_URLS="http://127.0.0.1:$port" DEBUGINFOD_CACHE_PATH="$work/probe-cache" \
                debuginfod-find debuginfo "$id" >/dev/null 2>&1 && break 2
            kill -0 "$server" 2>/dev/null || break
            sleep 0.1
        done
        kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; server=""
    done
    [ -n "${server:-}" ] || { echo "FAIL: debuginfod did not serve $id: $(tail -3 "$work/debuginfod.log")"; exit 1; }
    report_env=(DEBUGINFOD_URLS="http://127.0.0.1:$port" DEBUGINFOD_CACHE_PATH="$work/cache")
fi

# --stripped debuginfod: never without DEBUGINFOD_URLS (the server is up and
# has the file): no connection is even tried (strace sees no connect),
# nothing is fetched and no source file is named.  With it, the debug file
# was fetched.
check_debuginfod_use() {
    local src
    src=$(basename "$(ls "$(dirname "$0")"/../zoo/"$program".c* "$(dirname "$0")"/../zoo/optimized/"$program".c* | head -1)")
    env -u DEBUGINFOD_URLS DEBUGINFOD_CACHE_PATH="$work/cache-unset" \
        strace -f -qq -e trace=connect -o "$work/unset.strace" "$lt" report --json "$trace" >"$work/unset.json" 2>/dev/null
    [ -f "$work/unset.strace" ] || fail "strace did not run"
    ! grep -q 'connect(' "$work/unset.strace" ||
        fail "DEBUGINFOD_URLS unset, yet report tried to connect: $(grep 'connect(' "$work/unset.strace" | head -3)"
    [ ! -e "$work/cache-unset" ] || fail "DEBUGINFOD_URLS unset, yet something was fetched: $(find "$work/cache-unset")"
    ! grep -q "$src" "$work/unset.json" || fail "DEBUGINFOD_URLS unset, yet $src is named"
    [ -n "$(find "$work/cache" -type f -name debuginfo 2>/dev/null)" ] ||
        fail "with DEBUGINFOD_URLS the debug file was not fetched"
    echo "ok [$program] debuginfod: fetched with DEBUGINFOD_URLS, not loaded without"
}

# check_report LABEL: `locktrace report --json` of the trace, checked.
check_report() {
    local label=$1 rc
    env ${report_env[@]+"${report_env[@]}"} "$lt" report --json ${report_args[@]+"${report_args[@]}"} "$trace" \
        >"$work/last.json" 2>"$work/report.err"
    rc=$?
    [ "$rc" -le 1 ] || fail "$label: report could not read the trace (exit $rc): $(cat "$work/report.err")"
    jq_ok . "$work/last.json" >/dev/null 2>&1 || fail "$label: report --json is not JSON"
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
    [ -n "$frames" ] && check_frames "$label"
    [ "$stripped" = none ] && check_bare_sites "$label"
    if [ -n "$inlined" ]; then
        local fn
        for fn in ${inlined//,/ }; do
            jq_ok --arg fn "$fn" --arg kind "$kind" '[.findings[] | select(.kind == $kind) | .evidence[].stack[]?
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
    [ "$stripped" = debuginfod ] && check_debuginfod_use
    if [ -n "$stripped" ]; then
        # Packed where the debug files are, the bundle reads the same without them.
        env ${report_env[@]+"${report_env[@]}"} "$lt" pack ${report_args[@]+"${report_args[@]}"} "$trace" \
            -o "$work/packed.ltb" >/dev/null 2>"$work/pack.err" ||
            fail "pack failed: $(cat "$work/pack.err")"
        rm -rf "$work/bin" "$work/debug" "$work/served" "$work/cache"
        [ -n "${server:-}" ] && { kill "$server"; wait "$server" 2>/dev/null; server=""; }
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
