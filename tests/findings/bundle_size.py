#!/usr/bin/env python3
"""A bundle's size with inlined frames (man/locktrace-bundle.5), on a real -O2 program.

  bundle_size.py BUILD_DIR [PROGRAM]

Runs zoo/PROGRAM (default deadlock_o2_lock_guard: a std::lock_guard ABBA
with the std code inlined into transfer()) under the real shim until it
hangs, kills it and packs the trace.  Then:
  size   the bundle is at most 1.2x the bundle the same trace gives without
         inlined frames, as pack wrote it before they were kept: SYMS with
         six fields an address ([pc, function, file, line, module, offset]),
         FIND with the evidence's stacks (report --json's findings of the
         bundle), both without inlined frames, the second frame recompressed
         with zstd at pack's level (3); the rings' frame is the same in both.
  reads  the bundle's report still has the stacks, inlined frames marked.
Exit 0 = both hold; the figures are printed.
"""
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

build = sys.argv[1]
lt = os.path.join(build, "locktrace")
shim = os.path.join(build, "liblocktrace.so")
prog = os.path.join(build, "zoo", sys.argv[2] if len(sys.argv) > 2 else "deadlock_o2_lock_guard")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def zstd(data, level=3):
    with tempfile.NamedTemporaryFile() as f:  # from a file: the frame records its content size
        f.write(data)
        f.flush()
        return subprocess.run(["zstd", "-q", "-%d" % level, "-c", f.name], check=True,
                              capture_output=True).stdout


def sections(payload):
    out, off = [], 0
    while off < len(payload):
        tag = payload[off:off + 4].decode()
        (n,) = struct.unpack_from("<Q", payload, off + 8)
        out.append([tag, payload[off + 16:off + 16 + n]])
        off += 16 + n
    return out


def join(secs):
    return b"".join(t.encode() + struct.pack("<IQ", 0, len(d)) + d for t, d in secs)


def without_inlined_syms(syms):
    """SYMS as it was before inlined frames were kept: six fields an address."""
    return {"frames": [f[:6] for f in syms["frames"]], "data": syms["data"], "notes": syms["notes"]}


def without_inlined(o):
    if isinstance(o, dict):
        return {k: without_inlined(v) for k, v in o.items() if k not in ("inlined", "column")}
    if isinstance(o, list):
        return [without_inlined(x) for x in o if not (isinstance(x, dict) and x.get("inlined"))]
    return o


def dump(o):
    return json.dumps(o, separators=(",", ":")).encode()


work = tempfile.mkdtemp(prefix="lt-bundle-size.")
trace = os.path.join(work, "o2.trace")
env = dict(os.environ, LD_PRELOAD=shim, LOCKTRACE_OUTPUT=trace, LOCKTRACE_QUIET="1")
p = subprocess.Popen([prog], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    last, quiet = -1, 0
    for _ in range(300):
        time.sleep(0.2)
        if p.poll() is not None:
            fail("the program exited, it should hang")
        n = subprocess.run([lt, "dump", trace], capture_output=True, text=True).stdout.count("\n")
        quiet = quiet + 1 if n > 0 and n == last else 0
        last = n
        if quiet >= 3:
            break
    else:
        fail("the trace never went quiet")
finally:
    p.send_signal(signal.SIGKILL)
    p.wait()



def report(path):
    r = subprocess.run([lt, "report", "--json", path], capture_output=True, text=True)
    if r.returncode > 1:
        fail("report %s: exit %d: %s" % (path, r.returncode, r.stderr))
    return json.loads(r.stdout)


bundle = os.path.join(work, "o2.ltb")
subprocess.run([lt, "pack", trace, "-o", bundle], check=True, capture_output=True)
raw = open(bundle, "rb").read()
payload = subprocess.run(["zstd", "-dc", bundle], check=True, capture_output=True).stdout
secs = sections(payload)
tags = [t for t, _ in secs]
if "SYMS" not in tags or "FIND" not in tags:
    fail("no SYMS or FIND section")
second = secs[tags.index("SYMS"):]
syms = json.loads(dict(second)["SYMS"])
inline_frames = sum(len(f[7]) for f in syms["frames"] if len(f) > 7)
if inline_frames == 0:
    fail("no inlined frames in SYMS: the program's std code should be inlined")

# reads: the stacks, inlined frames included, come back from the events and SYMS.
rep = report(bundle)
stacks = [e.get("stack", []) for f in rep["findings"] for e in f.get("evidence", [])]
if not any(fr.get("inlined") for st in stacks for fr in st):
    fail("the bundle's report shows no inlined frame in the findings' evidence")

# size: the second frame as pack wrote it before inlined frames were kept.
old_second = [[t, dump(without_inlined_syms(syms)) if t == "SYMS" else
               dump(without_inlined(rep["findings"])) if t == "FIND" else d] for t, d in second]
now_z, old_z = len(zstd(join(second))), len(zstd(join(old_second)))
baseline = len(raw) - now_z + old_z
print("bundle %d bytes; without inlined frames %d bytes; ratio %.3f; %d inlined frames in SYMS" %
      (len(raw), baseline, len(raw) / baseline, inline_frames))
if len(raw) > 1.2 * baseline:
    fail("the bundle is %d bytes, more than 1.2x the %d bytes without inlined frames" % (len(raw), baseline))
subprocess.run(["rm", "-rf", work])
print("ok")
