#!/bin/bash
# file_safety.sh BUILD: how the shim creates trace files, and what a bundle keeps.
#  1. a symlink planted at the output path (shared directory) is never followed:
#     the victim is untouched, the link stays, the program runs and exits as
#     without the shim, stderr has at most one "locktrace:" line;
#  2. the same with a dangling symlink: its target is never created;
#  3. an existing file at the output path is never truncated or written;
#  4. a trace is created 0600 even under umask 000;
#  5. `locktrace pack` leaves out the environment: a secret in the traced
#     program's environment is in neither the bundle nor its decompressed bytes.
#     (Exit 77 = skipped, said loudly, if this build has no `pack` command.)
set -u
BUILD=$(cd "${1:-build}" && pwd) || exit 2
SHIM=$BUILD/liblocktrace.so
LT=$BUILD/locktrace
PROG=$BUILD/crash/crash_lock_storm
D=$(mktemp -d "${TMPDIR:-/tmp}/locktrace-files.XXXXXX")
chmod 1777 "$D" # like /tmp: a directory others can write to
trap 'rm -rf "$D"' EXIT
failures=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; failures=$((failures + 1)); }

# What the program prints and returns without the shim.
"$PROG" 2 200 >"$D/plain.out" 2>&1
plain_rc=$?
run_traced() { # output-path stdout-file stderr-file
    LD_PRELOAD=$SHIM LOCKTRACE_OUTPUT=$1 "$PROG" 2 200 >"$2" 2>"$3"
}
check_program_ok() { # rc stdout stderr what
    # The layout lines are addresses (ASLR): compare the result line.
    if [ "$1" -ne "$plain_rc" ] || [ "$(grep '^done' "$2")" != "$(grep '^done' "$D/plain.out")" ]; then
        fail "$4: the program's exit status or output changed (rc $1, plain $plain_rc)"
        return 1
    fi
    local lines
    lines=$(wc -l <"$3")
    if [ "$lines" -gt 1 ] || { [ "$lines" -eq 1 ] && ! grep -q '^locktrace: ' "$3"; }; then
        fail "$4: stderr is not at most one 'locktrace:' line: $(head -c 400 "$3")"
        return 1
    fi
    return 0
}

# 1. Planted symlink to an existing victim.
printf 'precious\n' >"$D/victim"
chmod 644 "$D/victim"
ln -s "$D/victim" "$D/out.trace"
run_traced "$D/out.trace" "$D/1.out" "$D/1.err"
rc=$?
if check_program_ok $rc "$D/1.out" "$D/1.err" "planted symlink"; then
    if [ "$(cat "$D/victim")" != precious ] || [ "$(stat -c %a "$D/victim")" != 644 ]; then
        fail "planted symlink: the victim was written or its mode changed"
    elif [ ! -L "$D/out.trace" ] || [ "$(readlink "$D/out.trace")" != "$D/victim" ]; then
        fail "planted symlink: the link was replaced"
    else
        traces=$(find "$D" -maxdepth 1 -name 'out*.trace' -type f | wc -l)
        pass "planted symlink not followed (victim untouched; $traces trace(s) written elsewhere; stderr: $(cat "$D/1.err"))"
    fi
fi

# 2. Dangling symlink: O_CREAT would create its target if it followed it.
ln -s "$D/created-through-link" "$D/dangling.trace"
run_traced "$D/dangling.trace" "$D/2.out" "$D/2.err"
rc=$?
if check_program_ok $rc "$D/2.out" "$D/2.err" "dangling symlink"; then
    if [ -e "$D/created-through-link" ]; then
        fail "dangling symlink: its target was created"
    else
        pass "dangling symlink not followed (stderr: $(cat "$D/2.err"))"
    fi
fi

# 3. An existing regular file at the output path.
printf 'do not truncate\n' >"$D/existing.trace"
run_traced "$D/existing.trace" "$D/3.out" "$D/3.err"
rc=$?
if check_program_ok $rc "$D/3.out" "$D/3.err" "existing file"; then
    if [ "$(cat "$D/existing.trace")" != "do not truncate" ]; then
        fail "existing file: it was overwritten"
    else
        pass "existing file left alone"
    fi
fi

# 4. Mode 0600 whatever the umask.
( umask 000; run_traced "$D/mode.trace" "$D/4.out" "$D/4.err" )
rc=$?
if check_program_ok $rc "$D/4.out" "$D/4.err" "mode"; then
    mode=$(stat -c %a "$D/mode.trace" 2>/dev/null)
    if [ "$mode" = 600 ]; then pass "trace created 0600 under umask 000"; else fail "trace mode is '$mode', not 600"; fi
    if "$LT" dump "$D/mode.trace" >/dev/null 2>&1; then pass "that trace decodes"; else fail "that trace does not decode"; fi
fi

# 5. The bundle leaves out the environment.
skipped=0
if "$LT" pack --help >/dev/null 2>&1; then
    secret="lt-secret-$RANDOM$RANDOM-$$"
    LT_CRASH_TEST_SECRET=$secret LD_PRELOAD=$SHIM LOCKTRACE_OUTPUT=$D/env.trace "$PROG" 2 200 >/dev/null 2>&1
    if ! "$LT" pack "$D/env.trace" -o "$D/env.ltb" >"$D/pack.out" 2>&1; then
        fail "pack failed: $(head -c 300 "$D/pack.out")"
    else
        found=""
        grep -qa "$secret" "$D/env.ltb" && found="in the bundle's bytes"
        # Decompress every zstd frame found in the file, wherever it starts.
        if command -v zstd >/dev/null; then
            offsets=$(LC_ALL=C grep -obUaP '\x28\xb5\x2f\xfd' "$D/env.ltb" | cut -d: -f1)
            for off in $offsets; do
                tail -c +$((off + 1)) "$D/env.ltb" | zstd -dcq 2>/dev/null | grep -qa "$secret" &&
                    found="in a decompressed zstd frame at offset $off"
            done
            [ -n "$offsets" ] || echo "note: no zstd frame found in the bundle"
        fi
        # And what the decoder itself unpacks from it.
        "$LT" dump "$D/env.ltb" 2>&1 | grep -qa "$secret" && found="in 'locktrace dump' of the bundle"
        "$LT" report --json "$D/env.ltb" 2>&1 | grep -qa "$secret" && found="in 'locktrace report --json' of the bundle"
        if [ -n "$found" ]; then fail "the environment secret is $found"; else pass "bundle leaves out the environment"; fi
    fi
else
    echo "SKIP: this build has no 'locktrace pack' command: bundle environment check not run"
    skipped=1
fi

[ $failures -eq 0 ] || { echo "file_safety: $failures failure(s)"; exit 1; }
[ $skipped -eq 0 ] || exit 77
echo "file_safety: all passed"
