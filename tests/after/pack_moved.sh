#!/bin/bash
# A bundle made here decodes to the same report after the program's binary is
# gone: the zoo program is copied to a temporary directory, run from there
# until it hangs, killed, packed; then the binary is deleted and the report,
# timeline and dump of the bundle must match those of the raw trace made while
# the binary was still there.
build=$1
. "$(dirname "$0")/lib.sh"

for prog in demo_bank lost_cond_signal_early; do
    mkdir -p "$work/bin"
    cp "$build/zoo/$prog" "$work/bin/$prog" || fail "cannot copy $prog"
    start_traced "$prog" "$work/bin/$prog"
    wait_for 60 at_least_blocked "$work/$prog.trace" 1 || fail "$prog did not hang"
    sleep 0.5
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
    t="$work/$prog.trace"
    "$lt" report --json "$t" >"$work/raw.json" 2>"$work/raw.err"
    [ $? -le 1 ] || fail "$prog: report of the raw trace failed"
    "$lt" timeline "$t" >"$work/raw.timeline" 2>&1 || fail "$prog: timeline of the raw trace failed"
    "$lt" dump --no-header "$t" >"$work/raw.dump" 2>&1 || fail "$prog: dump of the raw trace failed"
    grep -q "\"function\": *\"\|\"function\":\"" "$work/raw.json" || fail "$prog: the raw report has no function names"

    "$lt" pack "$t" -o "$work/$prog.ltb" >"$work/pack.out" 2>"$work/pack.err" || fail "$prog: pack failed"
    "$lt" pack --no-cmdline "$t" -o "$work/$prog.nocmd.ltb" >/dev/null 2>&1 || fail "$prog: pack --no-cmdline failed"
    rm -rf "$work/bin"

    "$lt" report --json "$work/$prog.ltb" >"$work/packed.json" 2>"$work/packed.err"
    [ $? -le 1 ] || fail "$prog: report of the bundle failed"
    python3 - "$work/raw.json" "$work/packed.json" "$prog" <<'PY' || fail "$prog: the bundle's report differs from the raw trace's"
import json, sys
raw, packed, prog = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
same = True
for key in raw:
    # "clock": a bundle's times are already CLOCK_MONOTONIC (mapped through
    # the raw trace's anchors when packed), so it carries no anchors.
    if key in ("trace", "notes", "running_when_packed", "clock"):
        continue
    if raw[key] != packed.get(key):
        print("differs:", key, "\n raw:   ", str(raw[key])[:300], "\n bundle:", str(packed.get(key))[:300])
        same = False
funcs = {f.get("function") for fi in packed["findings"] for ev in fi["evidence"] for f in ev["stack"]}
if not any(f and f not in ("start_thread", "__clone3") and "pthread" not in f for f in funcs):
    print("no program function in the bundle's evidence stacks:", funcs)
    same = False
# Only a bundle knows whether the process ran when it was packed: here it had been killed.
if raw["running_when_packed"] is not None or packed["running_when_packed"] is not False or raw["process_running"]:
    print("running_when_packed: raw %r, bundle %r" % (raw["running_when_packed"], packed["running_when_packed"]))
    same = False
if not packed["findings"]:
    print("no findings")
    same = False
sys.exit(0 if same else 1)
PY
    "$lt" timeline "$work/$prog.ltb" >"$work/packed.timeline" 2>&1 || fail "$prog: timeline of the bundle failed"
    # The timeline names the file it read on its first line; the rest must match.
    diff <(tail -n +2 "$work/raw.timeline") <(tail -n +2 "$work/packed.timeline") >"$work/timeline.diff" ||
        fail "$prog: timeline differs: $(head -5 "$work/timeline.diff")"
    "$lt" dump --no-header "$work/$prog.ltb" >"$work/packed.dump" 2>&1 || fail "$prog: dump of the bundle failed"
    cmp -s "$work/raw.dump" "$work/packed.dump" || fail "$prog: the bundle's events differ from the trace's"
    # The raw trace alone no longer symbolizes: the names really come from the bundle.
    "$lt" report --json "$t" >"$work/gone.json" 2>/dev/null
    grep -q "binary not found" "$work/gone.json" || fail "$prog: the binary still seems to be there"
    # A bundle packed without the binary says so where it is read, not only
    # where it was packed.
    "$lt" pack "$t" -o "$work/gone.ltb" >/dev/null 2>&1 || fail "$prog: pack without the binary failed"
    "$lt" report "$work/gone.ltb" >"$work/gone.report" 2>&1
    grep -q "note: when packed: binary not found.*$prog" "$work/gone.report" ||
        fail "$prog: the report of a bundle packed without the binary does not say it was not symbolized"
    "$lt" pack --info "$work/$prog.nocmd.ltb" >"$work/info.out" 2>&1 || fail "pack --info failed"
    grep -q '"command": null' "$work/info.out" || fail "--no-cmdline kept the command line"
    "$lt" report --json "$work/$prog.nocmd.ltb" | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["command"] == [] else 1)' ||
        fail "--no-cmdline: the bundle's trace header still has the command line"
    ! grep -q "LD_PRELOAD\|LOCKTRACE_OUTPUT" <(zstd -dc "$work/$prog.ltb" 2>/dev/null) || fail "the bundle contains the environment"
    echo "ok: $prog"
done
echo "PASS: bundles decode to the same report, timeline and events without the program's binary"
