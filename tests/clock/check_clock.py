#!/usr/bin/env python3
"""The decoder's times against the traced program's own CLOCK_MONOTONIC.

Runs clock_stamps under the real shim (threads pinned to different CPUs,
sleeps between lock calls), decodes the trace with `locktrace dump`, and
checks that each lock call's ATTEMPT, ACQUIRED and RELEASE lie between the
program's own readings around that call, within a tolerance: the TSC stamps
mapped through the trace's anchors must agree with CLOCK_MONOTONIC across
CPUs, after sleeps and over the whole run.  Also checks the trace's clock
header line (TSC used where the CPU has an invariant one, no jump reported).
Exit 0 pass, 1 fail."""
import argparse
import os
import struct
import subprocess
import sys
import tempfile

# How far outside the program's own readings a decoded time may lie: the
# mapping is good to about a microsecond; this leaves room for a reading
# interrupted on a busy machine, while a clock off by its calibration
# (1e-5 over minutes: milliseconds) or a cross-CPU offset fails.
TOLERANCE_NS = 20000


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--decoder", required=True)
    ap.add_argument("--prog", required=True)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clock", default=None, help="LOCKTRACE_CLOCK for the run (default: unset, auto)")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="lt_clock_") as tmp:
        out = os.path.join(tmp, "readings.txt")
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOCKTRACE_") and k != "LD_PRELOAD"}
        env["LD_PRELOAD"] = a.lib
        env["LOCKTRACE_OUTPUT"] = os.path.join(tmp, "%p.trace")
        env["LOCKTRACE_RING_SIZE"] = str(1 << 19)  # the whole run stays in the rings
        if a.clock:
            env["LOCKTRACE_CLOCK"] = a.clock
        subprocess.run([a.prog, str(a.seconds), out], env=env, check=True)
        traces = [f for f in os.listdir(tmp) if f.endswith(".trace")]
        if len(traces) != 1:
            fail("expected one trace, found %s" % traces)
        trace = os.path.join(tmp, traces[0])
        with open(trace, "rb") as f:
            hdr = f.read(64)
        start_mono = struct.unpack_from("<Q", hdr, 40)[0]

        lines = open(out).read().split("\n")
        lock = int(lines[0].split()[1], 16)
        calls = {}
        for ln in lines[1:]:
            if ln:
                tid, b, l, u = (int(x) for x in ln.split())
                calls.setdefault(tid, []).append((b, l, u))

        dump = subprocess.run([a.decoder, "dump", trace], capture_output=True, text=True, check=True).stdout
        events = {}
        clock_line = ""
        for ln in dump.split("\n"):
            if ln.startswith("# clock:"):
                clock_line = ln
            if not ln or ln.startswith("#"):
                continue
            f = ln.split()
            if f[3] != "mutex" or int(f[5], 16) != lock or f[2] not in ("attempt", "acquired", "release"):
                continue
            sec, ns = f[0].split(".")
            events.setdefault(int(f[1]), []).append((f[2], start_mono + int(sec) * 1000000000 + int(ns)))

    print("clock: " + (clock_line or "# clock: monotonic (no TSC)"))
    if a.clock != "monotonic" and a.clock is not None and not clock_line:
        fail("LOCKTRACE_CLOCK=%s but the trace is not TSC-stamped" % a.clock)
    if clock_line and " 0 jump(s)" not in clock_line:
        fail("the decoder reports a clock jump: " + clock_line)
    worst = 0
    checked = 0
    for tid, cs in calls.items():
        ev = events.get(tid, [])
        # Per call: an ATTEMPT (only when the lock was found taken: an
        # uncontended lock is recorded by its ACQUIRED alone), ACQUIRED, RELEASE.
        i = 0
        for k, (b, l, u) in enumerate(cs):
            want = [("acquired", b, l), ("release", l, u)]
            if i < len(ev) and ev[i][0] == "attempt":
                want.insert(0, ("attempt", b, l))
            if i + len(want) > len(ev):
                fail("thread %d: %d lock calls, the decoded events end at call %d" % (tid, len(cs), k))
            for (kind, t), (wkind, lo, hi) in zip(ev[i:i + len(want)], want):
                if kind != wkind:
                    fail("thread %d call %d: %s where %s was expected" % (tid, k, kind, wkind))
                off = lo - t if t < lo else (t - hi if t > hi else 0)
                worst = max(worst, off)
                if off > TOLERANCE_NS:
                    fail("thread %d call %d (%.3f s into the run): %s decoded %d ns outside [%d, %d] read by "
                         "the program" % (tid, k, (b - start_mono) / 1e9, kind, off, lo - start_mono,
                                          hi - start_mono))
                checked += 1
            i += len(want)
        if i != len(ev):
            fail("thread %d: %d decoded events beyond its %d lock calls" % (tid, len(ev) - i, len(cs)))
    if len(calls) < 2 or checked < 20:
        fail("too few readings: %d threads, %d events" % (len(calls), checked))
    print("ok: %d events of %d threads within %d ns of the program's CLOCK_MONOTONIC (worst %d ns outside)" %
          (checked, len(calls), TOLERANCE_NS, worst))


if __name__ == "__main__":
    main()
