#!/usr/bin/env python3
"""Checks of the Capstone probe tests: each subcommand runs a real program
under the real shim (LD_PRELOAD=liblocktrace.so) and checks, in the trace it
wrote, what the probes recorded.  The trace is read by tests/shim/ltfile.py, a
reader independent of the decoder.

  check_probes.py custom  SHIM PROGRAM        custom spin/futex locks
  check_probes.py asm     SHIM PROGRAM        relocation cases + refusals
  check_probes.py xmm     SHIM PROGRAM        xmm0-15 and MXCSR across a parking_lot probe
  check_probes.py futex   SHIM PROGRAM        libc's inline futex calls vs pthread-level records
  check_probes.py cancel  SHIM PROGRAM        pthread_cancel inside a patched condvar wait
"""
import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shim"))
import ltfile  # noqa: E402
from ltfile import check, failures, verdict  # noqa: E402

EV = {n: i for i, n in enumerate(ltfile.EV_NAMES)}
PRIM = {n: i for i, n in enumerate(ltfile.PRIM_NAMES)}
FL_READ, FL_WRITE, FL_TRY, FL_TIMED, FL_INTERNAL = 1, 2, 4, 8, 0x10



def run(shim, argv, env_extra, timeout=120):
    d = tempfile.mkdtemp(prefix="ltprobes.")
    # Traces are megabytes: keep them only when a check failed.
    atexit.register(lambda: failures or shutil.rmtree(d, ignore_errors=True))
    trace = os.path.join(d, "t.trace")
    env = dict(os.environ)
    env.update({"LD_PRELOAD": shim, "LOCKTRACE_OUTPUT": trace, "LOCKTRACE_PROBES_VERBOSE": "1"})
    env.update(env_extra)
    p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    sys.stdout.write(p.stdout)
    sys.stderr.write(p.stderr)
    return p, trace


def all_events(t):
    out = []
    for th in t.threads:
        evs, torn = t.events(th)
        out.append((th, evs))
    return out


_sym_cache = {}


def symbolize(t, pc):
    """Function name of pc in the main executable (addr2line), or None."""
    if pc not in _sym_cache:
        _sym_cache[pc] = _symbolize(t, pc)
    return _sym_cache[pc]


def _symbolize(t, pc):
    for m in t.modules:
        if m["lo"] <= pc < m["hi"] and m["path"] == os.path.realpath(sys.argv[3]):
            r = subprocess.run(["addr2line", "-f", "-e", m["path"], hex(pc - 1 - m["base"])],
                               stdout=subprocess.PIPE, text=True)
            return r.stdout.split("\n")[0]
    return None


def sidecar(trace):
    try:
        with open(trace + ".probes") as f:
            return f.read()
    except OSError:
        return ""


def cmd_custom(shim, prog):
    iters = 800  # x 6 events x 4 threads stays inside one thread's ring (16384)
    probes = "my_spin_lock=acquire,my_spin_unlock=release,my_futex_lock=acquire,my_futex_unlock=release"
    p, trace = run(shim, [prog, str(iters)], {"LOCKTRACE_PROBES": probes})
    check(p.returncode == 0, "program exit status %d (its counters must be exact under the probes)" % p.returncode)
    m = re.search(r"spin=(0x[0-9a-f]+) futex=(0x[0-9a-f]+) threads=(\d+)", p.stdout)
    if not check(m, "program printed its lock addresses"):
        return
    spin, futex, threads = int(m.group(1), 16), int(m.group(2), 16), int(m.group(3))
    for name in ("my_spin_lock", "my_spin_unlock", "my_futex_lock", "my_futex_unlock"):
        check(re.search(r"\d+\tplaced\tuser\t0x[0-9a-f]+\t%s\t" % name, sidecar(trace)),
              "%s listed as placed in %s.probes" % (name, trace))
    t = ltfile.Trace(trace)
    want = threads * iters
    for lock, label in ((spin, "spin"), (futex, "futex")):
        counts = {"ATTEMPT": 0, "ACQUIRED": 0, "RELEASE": 0}
        held_ok = True
        stacks_ok = 0
        stacks_total = 0
        for th, evs in all_events(t):
            holding = False
            for e in evs:
                if e.prim != PRIM["PROBE"] or e.addr != lock:
                    continue
                counts[e.name] = counts.get(e.name, 0) + 1
                if e.name == "ACQUIRED":
                    # The word after the acquisition says locked (1, or 2 for a contended futex lock).
                    held_ok &= e.s1 in (1, 2) and not holding
                    holding = True
                    if e.stack:
                        stacks_total += 1
                        pcs = t.stack(e.stack)
                        if pcs and symbolize(t, pcs[0]) == "worker":
                            stacks_ok += 1
                elif e.name == "RELEASE":
                    held_ok &= e.s0 in (1, 2) and holding
                    holding = False
        print("%s lock 0x%x: %s" % (label, lock, counts))
        for k in ("ATTEMPT", "ACQUIRED", "RELEASE"):
            check(counts[k] == want, "%s lock: %d %s events, want %d" % (label, counts[k], k, want))
        check(held_ok, "%s lock: words recorded say locked after ACQUIRED and before RELEASE, in order" % label)
        check(stacks_total > 0 and stacks_ok == stacks_total,
              "%s lock: %d of %d acquisition stacks start in worker() (the probed function's caller)"
              % (label, stacks_ok, stacks_total))


def cmd_asm(shim, prog):
    probes = ("rip_counter_add=acquire,lea_table=acquire,jcc_first=try_acquire,call_first=acquire,"
              "tail_double=acquire,too_short=release,loop_into=acquire")
    p, trace = run(shim, [prog], {"LOCKTRACE_PROBES": probes})
    check(p.returncode == 0 and "ok" in p.stdout, "relocated functions still compute the right values")
    for fn in ("rip_counter_add", "lea_table", "jcc_first", "call_first", "tail_double"):
        check(re.search(r"probe \d+ placed user %s\b" % fn, p.stderr), "%s placed" % fn)
    # Returns are caught at the ret instructions (a RIP-relative store moved
    # with rip_counter_add's, two rets in jcc_first), or, for a tail call, by
    # swapping the return address.
    for fn, how in (("rip_counter_add", "at 1 ret instruction"), ("lea_table", "at 1 ret instruction"),
                    ("jcc_first", "at 2 ret instructions"), ("call_first", "at 1 ret instruction"),
                    ("tail_double", r"by swapping the return address \(tail call \(jmp 0x[0-9a-f]+\)")):
        check(re.search(r"placed user %s \(return caught %s" % (fn, how), p.stderr), "%s: return caught %s" % (fn, how))
    check(re.search(r"REFUSED user too_short: function too short: control leaves \('ret'\) after 1 bytes",
                    p.stderr), "too_short refused with its reason")
    check(re.search(r"REFUSED user loop_into: the jne at 0x[0-9a-f]+ \(\+0x[0-9a-f]+\) jumps to 0x[0-9a-f]+, "
                    r"inside the bytes the probe would overwrite", p.stderr), "loop_into refused with its reason")
    side = sidecar(trace)
    check(re.search(r"\trefused\tuser\t0x[0-9a-f]+\ttoo_short\t.*function too short", side),
          "the refusal is in the .probes placement list")
    m = re.search(r"arg=(0x[0-9a-f]+)", p.stdout)
    if not check(m, "program printed its lock address"):
        return
    lock = int(m.group(1), 16)
    t = ltfile.Trace(trace)
    n = {"ATTEMPT": 0, "ACQUIRED": 0, "FAILED": 0}
    for th, evs in all_events(t):
        for e in evs:
            if e.prim == PRIM["PROBE"] and e.addr == lock:
                n[e.name] = n.get(e.name, 0) + 1
                check(e.s0 == 0x1234, "lock word read through the first argument (0x%x)" % e.s0)
    print("events on 0x%x: %s" % (lock, n))
    # 10 rip_counter_add + 8 lea_table + 2 jcc_first + 1 call_first + 1 tail_double
    check(n["ATTEMPT"] == 22, "22 ATTEMPT events (got %d)" % n["ATTEMPT"])
    # jcc_first is a try_acquire: returns non-zero (100 and 42) -> ACQUIRED
    check(n["ACQUIRED"] == 22, "22 ACQUIRED events (got %d)" % n["ACQUIRED"])


def cmd_xmm(shim, prog):
    p, trace = run(shim, [prog], {})
    check(p.returncode == 0 and "ok" in p.stdout, "xmm0-15 and MXCSR kept across the parking_lot probe")
    check(re.search(r"probe \d+ placed parking_lot parking_lot::raw_rwlock::RawRwLock::unlock_shared_slow\b", p.stderr),
          "the built-in unlock_shared_slow probe placed on the program's function of that name")
    m = re.search(r"word=(0x[0-9a-f]+)", p.stdout)
    if not check(m, "program printed its lock word's address"):
        return
    word = int(m.group(1), 16)
    t = ltfile.Trace(trace)
    wakes = sum(1 for th, evs in all_events(t) for e in evs
                if e.prim == PRIM["PROBE"] and e.name == "WAKE" and e.addr == word and e.s0 == 0x8 and e.s1 == 0x8)
    check(wakes == 3, "3 parking_lot WAKE events on the word, 0x8 before and after (got %d)" % wakes)


def cmd_futex(shim, prog):
    # Rings big enough for every event: the per-thread consistency check below
    # needs each thread's whole history (a ping-pong thread records ~36 events
    # a round, the default ring of 16384 would overwrite the first ones).
    p, trace = run(shim, [prog, "500"], {"LOCKTRACE_LIBC_FUTEX": "1", "LOCKTRACE_RING_SIZE": "262144"})
    check(p.returncode == 0 and "ok" in p.stdout, "program ran correctly with libc futex sites patched")
    lost = sum(max(0, th["head"] - th["ring_capacity"]) for th in ltfile.Trace(trace).threads)
    check(lost == 0, "no event lost to ring overwrite (%d lost)" % lost)
    m = re.search(r"probes: (\d+) placed", p.stderr)
    check(m and int(m.group(1)) > 10, "libc futex sites placed (%s)" % (m.group(1) if m else "none"))
    m = re.search(r"mutex=(0x[0-9a-f]+) cond=(0x[0-9a-f]+) hot=(0x[0-9a-f]+)", p.stdout)
    if not check(m, "program printed its addresses"):
        return
    mutex, cond, hot = (int(m.group(i), 16) for i in (1, 2, 3))
    t = ltfile.Trace(trace)
    internal = 0
    bad = []
    for th, evs in all_events(t):
        state = {}  # mutex addr -> "trying" | "holding" | None ; cond -> "waiting"
        in_cond = None
        last_release = set()
        for e in evs:
            if e.prim == PRIM["MUTEX"]:
                if e.name == "ATTEMPT":
                    state[e.addr] = "trying"
                elif e.name == "ACQUIRED":
                    state[e.addr] = "holding"
                elif e.name == "RELEASE":
                    state[e.addr] = "released"
            elif e.prim == PRIM["COND"]:
                if e.name == "WAIT_BEGIN":
                    in_cond = e.addr
                elif e.name == "WAIT_END":
                    in_cond = None
            elif e.prim == PRIM["FUTEX"] and e.flags & FL_INTERNAL:
                internal += 1
                a = e.addr
                if a in (mutex, hot):
                    # Mutex word (offset 0 of pthread_mutex_t): waits while trying to
                    # lock (or re-locking inside a cond wait), wakes after unlocking.
                    if e.name in ("WAIT_BEGIN", "WAIT_END"):
                        ok = state.get(a) == "trying" or (in_cond is not None and a == mutex)
                    else:
                        ok = state.get(a) == "released" or (in_cond is not None and a == mutex)
                    if not ok:
                        bad.append("thread %d: internal %s on mutex 0x%x while %s" % (th["tid"], e.name, a, state.get(a)))
                elif cond <= a < cond + 48:
                    # Condvar words: waits only inside pthread_cond_wait; wakes inside signal.
                    if e.name in ("WAIT_BEGIN", "WAIT_END") and in_cond != cond:
                        bad.append("thread %d: internal %s on cond word 0x%x outside a cond wait" % (th["tid"], e.name, a))
    # Kernel-level waits on the contended mutex carry the stack of the thread
    # that blocked, unwound through the trampoline into hammer().
    hot_waits = [e for th, evs in all_events(t) for e in evs
                 if e.prim == PRIM["FUTEX"] and e.flags & FL_INTERNAL and e.addr == hot and e.name == "WAIT_BEGIN"]
    reach = [e for e in hot_waits if any(symbolize(t, pc) == "hammer" for pc in t.stack(e.stack))]
    print("internal futex waits on hot: %d, with a stack reaching hammer: %d" % (len(hot_waits), len(reach)))
    check(not hot_waits or len(reach) == len(hot_waits),
          "every kernel-level wait on the contended mutex has a stack reaching hammer()")
    print("internal futex events: %d, inconsistent: %d" % (internal, len(bad)))
    for b in bad[:10]:
        print("  " + b)
    check(internal > 0, "glibc's internal futex calls appear as LT_FL_INTERNAL futex events")
    check(not bad, "every internal futex event fits the pthread-level history of its thread")


def cmd_cancel(shim, prog):
    p, trace = run(shim, [prog], {"LOCKTRACE_LIBC_FUTEX": "1"})
    check(p.returncode == 0 and p.stdout.startswith("ok:"),
          "a thread cancelled inside pthread_cond_wait ran its C++ destructor and cleanup handler")
    m = re.search(r"probes: (\d+) placed", p.stderr)
    check(m and int(m.group(1)) > 10, "libc futex sites placed (%s)" % (m.group(1) if m else "none"))
    t = ltfile.Trace(trace)
    waits = [e for th, evs in all_events(t) for e in evs
             if e.prim == PRIM["FUTEX"] and e.flags & FL_INTERNAL and e.name == "WAIT_BEGIN"]
    check(waits, "the condvar's kernel wait went through a patched libc site (%d internal waits)" % len(waits))


if __name__ == "__main__":
    cmds = {"custom": cmd_custom, "asm": cmd_asm, "futex": cmd_futex, "cancel": cmd_cancel, "xmm": cmd_xmm}
    if len(sys.argv) != 4 or sys.argv[1] not in cmds:
        print(__doc__)
        sys.exit(2)
    cmds[sys.argv[1]](sys.argv[2], sys.argv[3])
    sys.exit(verdict(sys.argv[1]))
