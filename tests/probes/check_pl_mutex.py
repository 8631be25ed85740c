#!/usr/bin/env python3
"""Acceptance: parking_lot::Mutex (RawMutex, parking_lot 0.12.1) under the shim.

  check_pl_mutex.py BUILD_DIR [debug | healthy-release | healthy-debug | condvar]

Runs BUILD_DIR/probes/pl_mutex_deadlock under BUILD_DIR/liblocktrace.so with
the built-in parking_lot probes (on by default).  The program (see its source)
parks a thread and unlocks through unlock_slow, lets a try_lock_for time out,
then deadlocks two threads on two mutexes taken in opposite orders.  Checks:
  - the .probes list says RawMutex::lock_slow and unlock_slow were placed;
  - the raw events (read with tests/shim/ltfile.py, not the decoder):
      waiter: lock_slow WAIT_BEGIN / WAIT_END(0) on LEFT;
      main: unlock_slow WAKE on LEFT with the word LOCKED|PARKED before and
            PARKED cleared after;
      impatient: a TIMED lock_slow on RIGHT ending in ETIMEDOUT;
      worker_a / worker_b: lock_slow WAIT_BEGIN on RIGHT / LEFT, never ended;
  - `locktrace report --json`, read live and again after SIGKILL: an error
    `hang` naming both mutexes (by symbol) and both workers, the word decoded
    (LOCKED | PARKED), evidence stacks reaching worker_a and worker_b, no owner
    invented for either mutex (no `deadlock` with holders, no holders listed);
  - the text report's PROBES section lists the RawMutex probes as placed and
    the absent RwLock ones as refused, with the reason.

With `debug` the program is the same source built unoptimised
(pl_mutex_deadlock_debug): RawMutex's fast paths (lock, unlock, try_lock_for)
are functions there, the shim checks that no copy of them is inlined and
probes them, so holds are on record.  Then the report must name a `deadlock`
with owners: each worker holds the mutex the other one waits for, taken in
worker_a / worker_b; and the warm-up must leave no invented or missing hold
(no unlock-not-held, nothing held by the exited threads).

With `healthy-release` / `healthy-debug` the program runs --healthy (four
threads contending for both mutexes in one order, with timed attempts) and
must exit 0 with no error or warning in the report.

With `condvar` the program is pl_condvar_ping, unoptimised, which uses
parking_lot's Condvar: the fast-path hold probes must all be refused with a
reason naming the Condvar, and the report must be clean.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shim"))
import ltfile  # noqa: E402
from ltfile import check, failures, keep_if_failed, verdict  # noqa: E402

LOCKED, PARKED = 1, 2
FL_WRITE, FL_TIMED = 2, 8  # include/locktrace/format.h LT_FL_*
ETIMEDOUT = 110



def check_report(decoder, trace, left, right, tids, label):
    r = subprocess.run([decoder, "report", "--json", trace], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=120)
    check(r.returncode == 1, "%s: report exit status %d (1 = error findings)" % (label, r.returncode))
    try:
        rep = json.loads(r.stdout)
    except ValueError:
        check(False, "%s: report --json is JSON (stderr: %s)" % (label, r.stderr[:300]))
        return
    syms = {int(l["address"], 16): l.get("symbol") or "" for l in rep["locks"]}
    check(syms.get(left, "").endswith("LEFT") and syms.get(right, "").endswith("RIGHT"),
          "%s: the lock table names the statics LEFT and RIGHT (%r, %r)" % (label, syms.get(left), syms.get(right)))
    hangs = [f for f in rep["findings"] if f["kind"] == "hang" and f["severity"] == "error"
             and {left, right} <= {int(a, 16) for a in f["locks"]}]
    if not check(hangs, "%s: an error `hang` names both parking_lot mutexes; findings: %s"
                 % (label, [(f["severity"], f["kind"], f["locks"]) for f in rep["findings"]])):
        return
    f = hangs[0]
    check(sorted(f["threads"]) == sorted(tids), "%s: it names exactly worker_a and worker_b (%s, want %s)"
          % (label, f["threads"], sorted(tids)))
    check("LOCKED | PARKED" in f["summary"], "%s: the summary decodes the word (LOCKED | PARKED)" % label)
    funcs = [fr.get("function") or "" for ev in f["evidence"] for fr in ev.get("stack", [])]
    for fn in ("worker_a", "worker_b"):
        check(any(fn in x for x in funcs), "%s: evidence stacks reach %s" % (label, fn))
    for t in tids:
        check(any(ev["thread"] == t for ev in f["evidence"]), "%s: thread %d has evidence of its own" % (label, t))
    check(not any(fr["kind"] == "deadlock" for fr in rep["findings"]),
          "%s: no `deadlock` finding (it would need owners the trace cannot have)" % label)
    held = [l for l in rep["locks"] if int(l["address"], 16) in (left, right) and l.get("holders_at_end")]
    check(not held, "%s: no holder invented for LEFT/RIGHT" % label)
    check(not any(b.get("holders") for b in rep.get("blocked", [])), "%s: no blocked thread lists a holder" % label)
    # The workers sleep on parking_lot_core's futex inside lock_slow, whose
    # return is caught at its ret (the return address is left alone): the
    # stacks recorded there unwind through lock_slow into the worker.
    for t, fn in zip(tids, ("worker_a", "worker_b")):
        b = [x for x in rep.get("blocked", []) if x.get("thread") == t]
        fns = [fr.get("function") or "" for fr in (b[0].get("stack", []) if b else [])]
        check(any("lock_slow" in x for x in fns) and any(fn in x for x in fns),
              "%s: %s's innermost sleep has a whole stack, lock_slow -> %s (%s)" % (label, fn, fn, fns))


def check_report_debug(decoder, trace, left, right, tids, label):
    r = subprocess.run([decoder, "report", "--json", trace], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=120)
    try:
        rep = json.loads(r.stdout)
    except ValueError:
        check(False, "%s: report --json is JSON (stderr: %s)" % (label, r.stderr[:300]))
        return
    kinds = [(f["severity"], f["kind"]) for f in rep["findings"]]
    print("%s: findings %s" % (label, kinds))
    dl = [f for f in rep["findings"] if f["kind"] == "deadlock" and f["severity"] == "error"
          and {left, right} <= {int(a, 16) for a in f["locks"]}]
    if not check(dl, "%s: an error `deadlock` names both parking_lot mutexes" % label):
        return
    f = dl[0]
    check(sorted(f["threads"]) == sorted(tids), "%s: between worker_a and worker_b (%s)" % (label, f["threads"]))
    check("held by" in f["summary"] and "LOCKED | PARKED" in f["summary"],
          "%s: the summary names the holders and decodes the word" % label)
    funcs = [fr.get("function") or "" for ev in f["evidence"] for fr in ev.get("stack", [])]
    for fn in ("worker_a", "worker_b"):
        check(any(fn in x for x in funcs), "%s: evidence stacks reach %s" % (label, fn))
    holders = {int(l["address"], 16): l.get("holders_at_end") for l in rep["locks"]}
    print("%s: holders at end: LEFT %s, RIGHT %s" % (label, holders.get(left), holders.get(right)))
    check([h["thread"] for h in holders.get(left) or []] == [tids[0]] and
          [h["thread"] for h in holders.get(right) or []] == [tids[1]],
          "%s: LEFT is held by worker_a (%s) and RIGHT by worker_b (%s), as the program took them"
          % (label, tids[0], tids[1]))
    check(not any(k in ("unlock-not-held", "unlock-not-owner", "owner-exited", "hang") for _, k in kinds),
          "%s: no finding from a missing or invented hold (unlock-not-held, owner-exited, hang)" % label)


def healthy(build, debug):
    """The --healthy run: exits 0, and `locktrace report` finds nothing wrong.
    On a loaded machine the threads can happen to run one after another and
    never meet in a slow path (3 such runs in a row were seen while the whole
    suite ran); such a run proves nothing, so it is run again (up to 8 times,
    under a second each) until some wait is on record."""
    for attempt in range(8):
        failures_before = len(failures)
        waits = healthy_once(build, debug)
        if waits > 0 or len(failures) > failures_before:
            break
        print("no slow-path wait in this run (the threads never met): running again")
    check(waits > 0, "the contention reached the slow paths (%d waits recorded)" % waits)
    return verdict("parking_lot mutex, healthy %s build" % ("debug" if debug else "release"))


def healthy_once(build, debug):
    prog = os.path.join(build, "probes", "pl_mutex_deadlock_debug" if debug else "pl_mutex_deadlock")
    d = tempfile.mkdtemp(prefix="ltplh.")
    trace = os.path.join(d, "plh.trace")
    env = dict(os.environ, LD_PRELOAD=os.path.join(build, "liblocktrace.so"), LOCKTRACE_OUTPUT=trace,
               LOCKTRACE_PROBES_VERBOSE="1")
    p = subprocess.run([prog, "--healthy"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=150)
    print(p.stdout.strip())
    print("\n".join(l for l in p.stderr.splitlines() if "placed" in l and "raw_mutex" in l))
    check(p.returncode == 0 and "healthy: left=" in p.stdout, "the contended program ran correctly under the shim")
    m = re.search(r"healthy: left=(\d+) right=(\d+)", p.stdout)
    check(m and int(m.group(2)) > 0 and int(m.group(1)) >= int(m.group(2)), "its counters add up")
    if debug:
        check("placed parking_lot <parking_lot::raw_mutex::RawMutex as lock_api::mutex::RawMutex>::lock" in p.stderr,
              "hold probes placed (unoptimised build)")
    r = subprocess.run([os.path.join(build, "locktrace"), "report", "--json", trace], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    try:
        rep = json.loads(r.stdout)
    except ValueError:
        check(False, "report --json is JSON (stderr: %s)" % r.stderr[:300])
        rep = {"findings": [], "locks": []}
    bad = ["%s %s: %s" % (f["severity"], f["kind"], f["summary"][:300]) for f in rep["findings"]
           if f["severity"] in ("error", "warning")]
    check(not bad, "no error or warning finding for a correct program: %s" % bad)
    check(r.returncode == 0, "report exit status %d, want 0" % r.returncode)
    waits = sum(l.get("waits", 0) for l in rep["locks"] if l.get("primitive") == "probe")
    acq = sum(l.get("acquisitions", 0) for l in rep["locks"] if l.get("primitive") == "probe")
    print("probe locks: %d waits, %d acquisitions" % (waits, acq))
    if debug:
        check(acq > 1000, "holds recorded through the fast-path probes (%d acquisitions)" % acq)
    keep_if_failed(d)
    return waits


def condvar(build):
    """pl_condvar_ping_debug: the hold probes are refused because of Condvar, and the report is clean."""
    prog = os.path.join(build, "probes", "pl_condvar_ping_debug")
    d = tempfile.mkdtemp(prefix="ltplc.")
    trace = os.path.join(d, "plc.trace")
    env = dict(os.environ, LD_PRELOAD=os.path.join(build, "liblocktrace.so"), LOCKTRACE_OUTPUT=trace)
    p = subprocess.run([prog], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=150)
    print(p.stdout.strip())
    check(p.returncode == 0 and "ok" in p.stdout, "the ping-pong ran correctly under the shim")
    with open(trace + ".probes") as f:
        side = f.read()
    lines = [l for l in side.splitlines() if "<parking_lot::raw_mutex::RawMutex as lock_api::mutex::" in l]
    for l in lines:
        print("  " + l)
    check(lines and all("\trefused\t" in l and "Condvar" in l for l in lines),
          "every RawMutex fast-path probe is refused, naming the Condvar")
    r = subprocess.run([os.path.join(build, "locktrace"), "report", "--json", trace], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    rep = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {"findings": []}
    bad = ["%s %s" % (f["severity"], f["kind"]) for f in rep["findings"] if f["severity"] in ("error", "warning")]
    check(not bad and r.returncode == 0, "no error or warning finding (%s), report exit %d" % (bad, r.returncode))
    keep_if_failed(d)
    return verdict("parking_lot Condvar, unoptimised")


def main():
    build = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else ""
    if mode.startswith("healthy-"):
        return healthy(build, mode == "healthy-debug")
    if mode == "condvar":
        return condvar(build)
    debug = mode == "debug"
    prog = os.path.join(build, "probes", "pl_mutex_deadlock_debug" if debug else "pl_mutex_deadlock")
    shim = os.path.join(build, "liblocktrace.so")
    decoder = os.path.join(build, "locktrace")
    d = tempfile.mkdtemp(prefix="ltplm.")
    trace = os.path.join(d, "plm.trace")
    env = dict(os.environ, LD_PRELOAD=shim, LOCKTRACE_OUTPUT=trace, LOCKTRACE_QUIET="1")
    out = open(os.path.join(d, "out.txt"), "w+")
    p = subprocess.Popen([prog], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        text = ""
        for _ in range(600):  # the program deadlocks within a fraction of a second; allow a loaded machine
            out.flush()
            with open(out.name) as f:
                text = f.read()
            if "DEADLOCK" in text or p.poll() is not None:
                break
            time.sleep(0.1)
        print(text.strip())
        if not check("DEADLOCK" in text and p.poll() is None, "the program deadlocked and is still running"):
            return 1
        m = re.search(r"left=(0x[0-9a-f]+) right=(0x[0-9a-f]+)", text)
        left, right = int(m.group(1), 16), int(m.group(2), 16)
        check("timed out" in text, "try_lock_for on a held mutex timed out")

        with open(trace + ".probes") as f:
            side = f.read()
        for fn in ("lock_slow", "unlock_slow"):
            check(re.search(r"\tplaced\tparking_lot\t0x[0-9a-f]+\tparking_lot::raw_mutex::RawMutex::%s\t" % fn, side),
                  "probe placed on RawMutex::%s" % fn)
        fast = r"\t%s\tparking_lot\t0x[0-9a-f]+\t<parking_lot::raw_mutex::RawMutex as lock_api::mutex::RawMutex>::%s\t"
        if debug:
            for fn in ("lock", "unlock"):
                check(re.search(fast % ("placed", fn), side), "hold probe placed on the fast path %s" % fn)
        else:
            check(not re.search(fast % ("placed", r"\w+"), side) and
                  "fast paths are inlined into the program, so holds (owners) are not recorded" in side,
                  "no hold probe in the optimised build, and the placement list says why")

        time.sleep(0.5)  # past the report's grace period for waits that just began
        t = ltfile.Trace(trace)
        by_name = {}
        evs = []
        for th in t.threads:
            by_name[th["name"]] = th["tid"]
            for e in t.events(th)[0]:
                if e.prim == 6 and e.addr in (left, right):
                    evs.append((e.time, th["name"], e))
        evs.sort(key=lambda x: x[0])
        for tm, name, e in evs:
            print("  %-10s %-10s %s s0=%#x s1=%#x flags=%#x result=%d class=%#x" % (
                name, e.name, "LEFT " if e.addr == left else "RIGHT", e.s0, e.s1, e.flags, e.result, e.addr2))
        check(all(e.addr2 == 0x103 for _, _, e in evs if e.addr2 & 0xff != 4),
              "every RawMutex probe event says RawMutex, 1-byte word (addr2 0x103)")
        evs = [x for x in evs if x[2].addr2 == 0x103]  # parking_lot_core::park (class 4) is probed in debug builds

        def find(name, ev, addr, pred=lambda e: True):
            return [e for _, n, e in evs if n == name and e.name == ev and e.addr == addr and pred(e)]

        check(find("waiter", "WAIT_BEGIN", left, lambda e: e.s0 & LOCKED) and
              find("waiter", "WAIT_END", left, lambda e: e.result == 0),
              "waiter: lock_slow on LEFT (held), then returned with the lock")
        wake = [e for _, n, e in evs if e.name == "WAKE" and e.addr == left]
        check(wake and wake[0].s0 == LOCKED | PARKED and not wake[0].s1 & PARKED,
              "main: unlock_slow on LEFT, word LOCKED|PARKED before, PARKED cleared after (%s)"
              % ["%#x -> %#x" % (e.s0, e.s1) for e in wake])
        check(find("impatient", "WAIT_BEGIN", right, lambda e: e.flags & FL_TIMED) and
              find("impatient", "WAIT_END", right, lambda e: e.result == ETIMEDOUT),
              "impatient: try_lock_for's timed lock_slow on RIGHT ended in ETIMEDOUT")
        for name, addr in (("worker_a", right), ("worker_b", left)):
            check(find(name, "WAIT_BEGIN", addr, lambda e: e.s0 & LOCKED and e.flags & FL_WRITE)
                  and not find(name, "WAIT_END", addr),
                  "%s: lock_slow on %s (word LOCKED), never returned" % (name, "RIGHT" if addr == right else "LEFT"))

        tids = [by_name.get("worker_a"), by_name.get("worker_b")]
        if debug:
            check_report_debug(decoder, trace, left, right, tids, "live")
            p.send_signal(signal.SIGKILL)
            p.wait()
            check_report_debug(decoder, trace, left, right, tids, "killed")
            return verdict("parking_lot mutex acceptance (debug build)")
        check_report(decoder, trace, left, right, tids, "live")

        r = subprocess.run([decoder, "report", trace], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=120)
        probes = r.stdout[r.stdout.find("PROBES"):r.stdout.find("FINDINGS")]
        print(probes)
        check(re.search(r"placed: .*parking_lot::raw_mutex::RawMutex::lock_slow", probes) and
              "RawMutex::unlock_slow" in probes, "text report: PROBES lists the RawMutex probes as placed")
        check(re.search(r"refused: parking_lot::raw_rwlock::RawRwLock::\w+ .*: not present", probes),
              "text report: PROBES lists the absent RwLock probes as refused, with the reason")

        p.send_signal(signal.SIGKILL)
        p.wait()
        check_report(decoder, trace, left, right, tids, "killed")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        keep_if_failed(d)
    return verdict("parking_lot mutex acceptance")


if __name__ == "__main__":
    sys.exit(main())
