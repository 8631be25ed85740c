#!/bin/bash
# Corrupt bundles: truncated, flipped bytes, wrong magic, a plain zstd file, an
# announced payload over the limit.  Every command that reads traces must say
# what is wrong and exit 2; never crash (a signal) or print a report.
build=$1
. "$(dirname "$0")/lib.sh"

start_traced bank "$build/zoo/demo_bank"
wait_for 60 at_least_blocked "$work/bank.trace" 3 || fail "demo_bank did not hang"
kill -KILL "$pid"
good="$work/good.ltb"
"$lt" pack "$work/bank.trace" -o "$good" >/dev/null 2>&1 || fail "pack failed"
size=$(stat -c %s "$good")

mk() { cp "$good" "$work/$1.ltb"; }
flip() { # flip FILE OFFSET: inverts one byte
    python3 -c 'import sys; p, o = sys.argv[1], int(sys.argv[2]); b = bytearray(open(p, "rb").read()); b[o] ^= 0xff; open(p, "wb").write(b)' "$1" "$2"
}
head -c $((size / 2)) "$good" >"$work/half.ltb"
head -c 30 "$good" >"$work/preamble.ltb"
head -c $((size - 1)) "$good" >"$work/lastbyte.ltb"
mk magic; printf 'XXXXXXXX' | dd of="$work/magic.ltb" bs=1 seek=8 conv=notrunc status=none
mk zmagic; printf '\x00\x00\x00\x00' | dd of="$work/zmagic.ltb" bs=1 seek=0 conv=notrunc status=none
mk version; printf '\x07' | dd of="$work/version.ltb" bs=1 seek=16 conv=notrunc status=none
mk bomb; printf '\x00\x00\x00\x00\x05\x00\x00\x00' | dd of="$work/bomb.ltb" bs=1 seek=24 conv=notrunc status=none
# Under the limit but a lie: 3 GiB announced by a file of a few KiB.
mk liar; printf '\x00\x00\x00\xc0\x00\x00\x00\x00' | dd of="$work/liar.ltb" bs=1 seek=24 conv=notrunc status=none
for o in 45 60 $((size / 3)) $((size / 2)) $((size - 5)); do mk "flip$o"; flip "$work/flip$o.ltb" "$o"; done
zstd -q -c "$work/bank.trace" >"$work/plain.ltb"
: >"$work/empty.ltb"
head -c 5000 /dev/urandom >"$work/random.ltb"
trailing="$work/trailing.ltb"; cp "$good" "$trailing"; printf 'junk' >>"$trailing"

n=0
for bad in "$work"/*.ltb; do
    [ "$bad" = "$good" ] && continue
    for cmd in "report" "report --json" "dump" "timeline" "export --format perfetto -o $work/x.json" "pack -o $work/x.ltb" "pack --info"; do
        # shellcheck disable=SC2086
        "$lt" $cmd "$bad" >"$work/c.out" 2>"$work/c.err"
        rc=$?
        [ "$rc" = 2 ] || fail "$(basename "$bad"): \`locktrace $cmd\` exit status $rc, want 2; stderr: $(head -3 "$work/c.err")"
        grep -q "^locktrace: .*$(basename "$bad")" "$work/c.err" || fail "$(basename "$bad"): \`locktrace $cmd\`: no clear error naming the file: $(head -3 "$work/c.err")"
        [ ! -s "$work/c.out" ] || fail "$(basename "$bad"): \`locktrace $cmd\` printed output for a corrupt bundle"
        n=$((n + 1))
    done
done
grep -q "above the 4 GiB limit" <("$lt" report "$work/bomb.ltb" 2>&1) || fail "bomb: the size limit is not named"
# The lie is caught before anything of its size is allocated (1 GiB of
# address space is plenty for an honest read of this bundle).
grep -q "payload shorter than the preamble says" <(ulimit -v 1048576; "$lt" report "$work/liar.ltb" 2>&1) ||
    fail "liar: a payload size the frames do not back is not named (or was allocated first)"
grep -q "not a locktrace bundle" <("$lt" report "$work/magic.ltb" 2>&1) || fail "magic: wrong magic not named"
grep -q "not a locktrace bundle" <("$lt" report "$work/plain.ltb" 2>&1) || fail "a plain zstd file is not named as such"
# Version 1 bundles (56-byte records) are refused by name, not misread.
mk v1; printf '\x01' | dd of="$work/v1.ltb" bs=1 seek=16 conv=notrunc status=none
grep -q "bundle format version 1, this locktrace reads version 2" <("$lt" report "$work/v1.ltb" 2>&1) ||
    fail "v1: an old bundle's version is not named"
# A well-formed payload whose first RING column claims 9-byte entries: caught
# by the column checks, not by zstd.
zstd -q -dc "$good" >"$work/payload"
python3 - "$work/payload" <<'PY' || fail "no RING section in the good bundle's payload"
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
off = 0
while off < len(d):
    tag, ln = d[off:off + 4], struct.unpack_from('<Q', d, off + 8)[0]
    if tag == b'RING':
        d[off + 16 + 40 + 8] = 9   # column 0's width, after the 40-byte ring header and its base
        open(sys.argv[1], 'wb').write(d)
        sys.exit(0)
    off += 16 + ln
sys.exit(1)
PY
{ head -c 40 "$good"; zstd -q -c "$work/payload"; } >"$work/width.ltb"
out=$("$lt" report "$work/width.ltb" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "RING column 0 of width 9" <<<"$out" || fail "width: a column width above 8 is not refused by name (status $rc: $out)"
"$lt" report "$good" >/dev/null 2>&1
[ $? = 1 ] || fail "the intact bundle no longer reads"
echo "PASS: $n reads of corrupt bundles, each a clear error with exit status 2"
