# Helpers for the process-life tests (sourced by tests/life/life.sh).
#
# Every test runs a program plain and traced and requires the same observable
# behaviour: exit status and standard output.  Standard error is compared only
# where a test says so (the shim may add its one-line warnings there).
#
# Set by life.sh: BUILD (build dir), LIB (liblocktrace.so), DECODER
# (build/locktrace), PROGS (dir of the life_* programs), T (scratch dir).

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
note() { echo "  $*"; }

# run NAME [ENV=VALUE...] -- CMD...: runs CMD with a timeout; leaves
# $T/NAME.out, $T/NAME.err and $T/NAME.rc.
run() {
    local name=$1; shift
    local -a envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    local rc=0
    timeout -k 5 240 env "${envs[@]}" "$@" > "$T/$name.out" 2> "$T/$name.err" < /dev/null || rc=$?
    echo "$rc" > "$T/$name.rc"
    [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || fail "$name timed out: $*"
}

# traced NAME TRACEDIR [ENV=VALUE...] -- CMD...: run under the shim, traces to TRACEDIR.
traced() {
    local name=$1 dir=$2; shift 2
    mkdir -p "$dir"
    run "$name" LD_PRELOAD="$LIB" LOCKTRACE_OUTPUT="$dir/%e.%p.trace" "$@"
}

# same A B: the two runs' exit status and stdout are identical.
same() {
    local a=$1 b=$2
    [ "$(cat "$T/$a.rc")" = "$(cat "$T/$b.rc")" ] ||
        fail "exit status differs: $a=$(cat "$T/$a.rc") $b=$(cat "$T/$b.rc") (stderr: $(head -c 400 "$T/$b.err"))"
    cmp -s "$T/$a.out" "$T/$b.out" ||
        fail "stdout differs between $a and $b: $(diff "$T/$a.out" "$T/$b.out" | head -10)"
    note "$a and $b: same exit status ($(cat "$T/$a.rc")) and output"
}

# ok NAME: the run exited 0.
ok() { [ "$(cat "$T/$1.rc")" = 0 ] || fail "$1 exited $(cat "$T/$1.rc"): $(head -c 600 "$T/$1.err")"; }

# no_shim_noise NAME: the shim printed nothing on the run's stderr.
no_shim_noise() {
    ! grep -q '^locktrace' "$T/$1.err" || fail "$1: unexpected shim message: $(grep '^locktrace' "$T/$1.err" | head -3)"
}

# traces DIR [GLOB]: the trace files in DIR (matching GLOB, default *.trace), one a line;
# not the files a report leaves beside a trace (TRACE.live, TRACE.report.txt).
traces() {
    find "$1" -maxdepth 1 -name "${2:-*.trace}" -type f ! -name '*.live' ! -name '*.report.txt' 2>/dev/null | sort
}

# count_traces DIR GLOB WANT: exactly WANT trace files match.
count_traces() {
    local n
    n=$(traces "$1" "$2" | wc -l)
    [ "$n" -eq "$3" ] || fail "expected $3 trace(s) $2 in $1, found $n: $(ls "$1" 2>/dev/null | tr '\n' ' ')"
    note "$n trace file(s) $2"
}

# decodes_clean FILE: `locktrace report` reads it and finds no error (exit 0).
decodes_clean() {
    local f=$1 rc=0
    [ -x "$DECODER" ] || fail "decoder $DECODER not built"
    "$DECODER" report "$f" > "$f.report" 2>&1 || rc=$?
    case $rc in
        0) note "$(basename "$f"): decodes, no error finding" ;;
        1) fail "$(basename "$f"): error findings: $(grep -A3 -i 'FINDINGS' "$f.report" | head -8)" ;;
        *) fail "$(basename "$f"): decoder exit $rc: $(head -5 "$f.report")" ;;
    esac
}

# all_decode_clean DIR: every trace in DIR decodes with no error finding.
all_decode_clean() {
    local f n=0
    for f in $(traces "$1"); do decodes_clean "$f"; n=$((n + 1)); done
    [ "$n" -gt 0 ] || fail "no trace in $1"
}

# NOBODY: a command prefix that runs as user nobody when we are root (so that
# permission checks bite), and as ourselves otherwise.
if [ "$(id -u)" -eq 0 ]; then NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
else NOBODY=(env); fi
