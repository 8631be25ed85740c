#!/bin/bash
# A trace names a library by another spelling of the file this machine has
# (/lib/x86_64-linux-gnu/libc.so.6 for /usr/lib/x86_64-linux-gnu/libc.so.6
# on a merged /usr, a path through a symlinked directory): it is the same
# file, so the report symbolizes it and notes nothing about it.
#
#   module_spelling.sh BUILD_DIR      exit 0 pass, 1 fail
set -u
. "$(dirname "$0")/../jq_ok.sh"
build=$(cd "$1" && pwd)
lt=$build/locktrace shim=$build/liblocktrace.so exe=$build/zoo/deadlock_abba_mutex
command -v jq >/dev/null || { echo "FAIL: jq is needed (scripts/deps/zoo.txt)"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/lt-spelling.XXXXXX")
pid=""
cleanup() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

LD_PRELOAD="$shim" LOCKTRACE_OUTPUT="$work/t.trace" "$exe" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    "$lt" report --json "$work/t.trace" >"$work/r.json" 2>/dev/null
    [ -s "$work/r.json" ] && jq_ok '[.findings[] | select(.kind == "deadlock")] | length > 0' "$work/r.json" >/dev/null 2>&1 && break
    sleep 0.1
done
kill -KILL "$pid"; wait "$pid" 2>/dev/null; pid=""

# The libc path as recorded (the shim writes real paths).
recorded=$(grep -ao '/[a-z0-9_/.-]*/libc\.so\.6' "$work/t.trace" | head -1)
[ -n "$recorded" ] || fail "no libc module path in the trace"
real=$(realpath "$recorded")
mkdir -p "$work/links" && ln -s "$(dirname "$real")" "$work/links/libdir"

# respell FROM TO OUT: the trace with the module path FROM written as TO.
respell() {
    python3 - "$work/t.trace" "$1" "$2" "$3" <<'PY'
import sys
src, old, new, out = sys.argv[1:]
data = bytearray(open(src, "rb").read())
o, n = old.encode() + b"\0", new.encode() + b"\0"
i = data.find(o)
assert i >= 0 and len(n) <= 400, "path not found or too long"
data[i:i + len(o)] = b"\0" * len(o)
data[i:i + len(n)] = n
open(out, "wb").write(data)
PY
}

# libc's own frames (the blocked threads wait inside pthread_mutex_lock).
libc_frames() {
    jq -r '[.blocked[].stack[] | select((.module // "") | test("libc\\.so")) | .function // empty] | length' "$1"
}
"$lt" report --json "$work/t.trace" >"$work/as_recorded.json" 2>/dev/null
want=$(libc_frames "$work/as_recorded.json")
[ "$want" -gt 0 ] || fail "the trace as recorded has no named libc frame"

case $real in
/usr/lib/*) spellings=("${real#/usr}" "$work/links/libdir/$(basename "$real")") ;;
*) spellings=("$work/links/libdir/$(basename "$real")") ;;
esac
for s in "${spellings[@]}"; do
    [ -e "$s" ] || fail "$s does not exist here"
    respell "$recorded" "$s" "$work/respelled.trace"
    grep -aq "$s" "$work/respelled.trace" || fail "respelling to $s failed"
    "$lt" report --json "$work/respelled.trace" >"$work/r.json" 2>"$work/r.err"
    notes=$(jq -r '.notes | join("; ")' "$work/r.json")
    [ -z "$notes" ] || fail "libc as $s: notes: $notes"
    got=$(libc_frames "$work/r.json")
    [ "$got" = "$want" ] || fail "libc as $s: $got named libc frames, $want as recorded"
    echo "ok: libc recorded as $s: symbolized ($got libc frames), no note"
done
