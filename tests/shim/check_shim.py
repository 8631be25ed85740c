#!/usr/bin/env python3
"""Smoke tests of liblocktrace.so: run real programs under LD_PRELOAD and check
what they did (return codes, output) and what the shim wrote (independent
reader: ltfile.py).  Usage: check_shim.py --lib L --workload W --transparency T CASE"""
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ltfile  # noqa: E402

EV = {n: i for i, n in enumerate(ltfile.EV_NAMES)}
PRIM = {n: i for i, n in enumerate(ltfile.PRIM_NAMES)}
FL_READ, FL_WRITE, FL_TRY, FL_INTERNAL, FL_NESTED = 0x01, 0x02, 0x04, 0x10, 0x20


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


class Ctx:
    def __init__(self, args, tmp):
        self.args, self.tmp = args, tmp

    def run(self, argv, env=None, preload=True, expect_rc=None):
        e = dict(os.environ)
        for k in list(e):
            if k.startswith("LOCKTRACE_") or k == "LD_PRELOAD":
                del e[k]
        e["LOCKTRACE_OUTPUT"] = os.path.join(self.tmp, "%e.%p.trace")
        if preload:
            e["LD_PRELOAD"] = self.args.lib
        e.update(env or {})
        p = subprocess.run(argv, env=e, cwd=self.tmp, capture_output=True, text=True, timeout=120)
        if expect_rc is not None:
            check(p.returncode == expect_rc,
                  "%s: exit %d, want %d\nstderr: %s" % (argv, p.returncode, expect_rc, p.stderr))
        return p

    def traces(self):
        return sorted(glob.glob(os.path.join(self.tmp, "*.trace")))

    def only_trace(self):
        t = self.traces()
        check(len(t) == 1, "want one trace file, got %s" % t)
        return ltfile.Trace(t[0])


def count(evs, type_name, prim=None, flags=None, addr=None):
    n = 0
    for e in evs:
        if e.type != EV[type_name]:
            continue
        if prim is not None and e.prim != PRIM[prim]:
            continue
        if flags is not None and (e.flags & flags) != flags:
            continue
        if addr is not None and e.addr != addr:
            continue
        n += 1
    return n


def all_events(tr):
    out = {}
    for t in tr.threads:
        evs, torn = tr.events(t)
        check(torn == 0, "thread %d: %d torn records in a trace of a finished process" % (t["tid"], torn))
        out[t["tid"]] = evs
    return out


def check_header(tr, pid=None):
    h = tr.h
    check(tr.mode == 0o600, "trace mode %o, want 600" % tr.mode)
    check(h["version"] == 3 and h["event_size"] == 64 and h["thread_entry_size"] == 128, "header sizes")
    if pid is not None:
        check(h["pid"] == pid, "header pid %d, want %d" % (h["pid"], pid))


# ---------------------------------------------------------------- cases

def case_transparency(c):
    plain = c.run([c.args.transparency], preload=False, expect_rc=0)
    traced = c.run([c.args.transparency], expect_rc=0)
    check(plain.stdout == traced.stdout, "stdout differs under the shim")
    check(traced.stderr == "", "shim wrote to stderr: %r" % traced.stderr)
    tr = c.only_trace()
    check_header(tr)
    all_events(tr)


def case_threads(c):
    c.run([c.args.workload, "threads", "4", "1000"], expect_rc=7)
    tr = c.only_trace()
    check_header(tr)
    h = tr.h
    check(h["end_monotonic_ns"] >= h["start_monotonic_ns"] > 0, "end of process not stamped")
    check(h["exit_status"] == 7, "exit_status %d, want 7" % h["exit_status"])
    # A ring per thread that used a lock, and the main thread's for its joins.
    check(h["threads_used"] == 5, "threads_used %d, want 5" % h["threads_used"])
    evs = all_events(tr)
    joins = evs[h["pid"]]
    workers = {t["pthread_self"] for t in tr.threads if t["tid"] != h["pid"]}
    check(count(joins, "WAIT_BEGIN", "THREAD") == 4 and count(joins, "WAIT_END", "THREAD") == 4,
          "main joins each worker: a wait begun and ended")
    check({x.addr for x in joins if x.prim == PRIM["THREAD"] and x.name == "WAIT_BEGIN"} == workers,
          "each join names the joined thread's pthread_t")
    mutex = None
    holds = []  # (acquired, released) of the mutex, all threads
    wholds = []
    for t in tr.threads:
        if t["tid"] == h["pid"]:
            continue
        e = evs[t["tid"]]
        check(t["state"] == 3 and t["end_ns"] > 0, "thread %d not EXITED" % t["tid"])
        check(t["name"].startswith("locker-") or t["name"] == "workload", "thread name %r" % t["name"])
        check(e[0].name == "THREAD_START" and e[-1].name == "THREAD_EXIT", "ring must start/end with thread events")
        check(all(a.time <= b.time for a, b in zip(e, e[1:])), "timestamps go backwards in a ring")
        mutexes = {x.addr for x in e if x.prim == PRIM["MUTEX"]}
        check(len(mutexes) == 1, "one mutex expected, saw %d" % len(mutexes))
        mutex = mutexes.pop()
        # An uncontended lock is one ACQUIRED; a contended one ATTEMPT, then ACQUIRED.
        check(count(e, "ACQUIRED", "MUTEX") == 1000 and count(e, "RELEASE", "MUTEX") == 1000
              and count(e, "ATTEMPT", "MUTEX") <= 1000, "mutex counts")
        check(count(e, "ACQUIRED", "RWLOCK", FL_READ) == 1000 and count(e, "ACQUIRED", "RWLOCK", FL_WRITE) == 1000,
              "rwlock acquisition counts")
        pending = {}
        for x in e:
            if x.prim not in (PRIM["MUTEX"], PRIM["RWLOCK"]):
                continue
            if x.name == "ATTEMPT":
                check(x.addr not in pending, "two ATTEMPTs without an outcome")
                pending[x.addr] = x
            elif x.name in ("ACQUIRED", "FAILED", "TIMEDOUT"):
                a = pending.pop(x.addr, None)
                check(a is None or (a.flags == x.flags and a.stack == x.stack), "outcome does not match its ATTEMPT")
        check(count(e, "RELEASE", "RWLOCK", FL_READ) == 1000 and count(e, "RELEASE", "RWLOCK", FL_WRITE) == 1000,
              "rwlock unlock must say READ or WRITE")
        acq = None
        wacq = None
        for x in e:
            if x.prim == PRIM["MUTEX"] and x.name == "ACQUIRED":
                acq = x.time
                # glibc's owner field holds our tid right after the lock
                check((x.s1 & 0xffffffff) == t["tid"], "mutex owner snapshot")
            elif x.prim == PRIM["MUTEX"] and x.name == "RELEASE":
                holds.append((acq, x.time))
            elif x.prim == PRIM["RWLOCK"] and x.name == "ACQUIRED" and x.flags & FL_WRITE:
                wacq = x.time
            elif x.prim == PRIM["RWLOCK"] and x.name == "RELEASE" and x.flags & FL_WRITE:
                wholds.append((wacq, x.time))
            if x.name in ("ATTEMPT", "ACQUIRED", "RELEASE"):
                check(x.stack != 0, "%s without a stack" % x.name)
    # Exclusive holds never overlap by more than the stamps' slack: RELEASE is
    # stamped before the real unlock, ACQUIRED after the real lock, but the TSC
    # read is not fenced, so the CPU may take it a few ns early (and two CPUs'
    # counters may differ by as much).  The decoder puts such hand-overs in the
    # lock's order (decoder/core/handover.h: within 1 us); raw stamps here are
    # ticks or ns, so 1000 of them is at most 1 us.  A real overlap, two threads
    # inside the lock at once, would show as a whole hold or more.
    slack = 1000
    for name, hs in (("mutex", holds), ("rwlock write", wholds)):
        hs.sort()
        for (a1, r1), (a2, r2) in zip(hs, hs[1:]):
            check(r1 <= a2 + slack, "%s holds overlap: [%d,%d] and [%d,%d]" % (name, a1, r1, a2, r2))
    exe = [m for m in tr.modules if m["path"].endswith("/workload")]
    check(len(exe) == 1 and exe[0]["build_id"], "main program missing from the module table: %s" % tr.modules)
    some = next(x for t in tr.threads for x in evs[t["tid"]] if x.name == "ACQUIRED")
    pcs = tr.stack(some.stack)
    check(pcs and exe[0]["lo"] <= pcs[0] < exe[0]["hi"], "innermost frame is not the program's call site")


def case_stacks_off(c):
    c.run([c.args.workload, "threads", "2", "100"], env={"LOCKTRACE_STACK_DEPTH": "0"}, expect_rc=7)
    tr = c.only_trace()
    check(tr.h["stack_depth_max"] == 0 and tr.h["stack_table_capacity"] == 0, "stack table must be empty")
    for evs in all_events(tr).values():
        check(all(e.stack == 0 for e in evs), "stack id with stacks off")


def case_fork(c):
    p = c.run([c.args.workload, "fork"], expect_rc=0)
    child = int(re.search(r"child (\d+)", p.stdout).group(1))
    files = c.traces()
    check(len(files) == 2, "want parent + child traces, got %s" % files)
    trs = {ltfile.Trace(f).h["pid"]: ltfile.Trace(f) for f in files}
    check(child in trs, "no trace with the child's pid")
    kid = trs.pop(child)
    parent = list(trs.values())[0]
    check_header(kid, child)
    check_header(parent)
    check(kid.h["ppid"] == parent.h["pid"], "child's ppid")
    pe = [e for evs in all_events(parent).values() for e in evs]
    ke = [e for evs in all_events(kid).values() for e in evs]
    forks = [e for e in pe if e.name == "FORK"]
    check(len(forks) == 1 and forks[0].result == child, "parent FORK event with the child's pid")
    check(count(pe, "ACQUIRED", "MUTEX") == 20, "parent: 20 acquisitions (child wrote into the parent's file?)")
    check(count(ke, "ACQUIRED", "MUTEX") == 10, "child: 10 acquisitions in its own file")
    check(kid.h["exit_status"] == 3 and kid.h["end_monotonic_ns"] > 0, "child exit status")


def case_exec(c):
    c.run([c.args.workload, "exec"], expect_rc=7)
    files = c.traces()
    check(len(files) == 2, "want a trace before and after exec, got %s" % files)
    trs = [ltfile.Trace(f) for f in files]
    check(trs[0].h["pid"] == trs[1].h["pid"], "exec keeps the pid")
    before = [t for t in trs if t.h["end_monotonic_ns"] == 0]
    after = [t for t in trs if t.h["end_monotonic_ns"] != 0]
    check(len(before) == 1 and len(after) == 1, "only the exec'd image exits")
    be = list(all_events(before[0]).values())[0]
    check(be[-1].name == "EXEC", "the first image's ring ends with EXEC")
    ae = [e for evs in all_events(after[0]).values() for e in evs]
    check(count(ae, "ACQUIRED", "MUTEX") == 5 and after[0].h["exit_status"] == 7, "exec'd image traced itself")


def case_exec_handover(c):
    # A program that execs before taking any lock (a wrapper) hands its file
    # over: one trace, the exec'd program's, which names the wrapper.
    c.run([c.args.workload, "exec-first"], expect_rc=7)
    tr = c.only_trace()
    ev = [e for evs in all_events(tr).values() for e in evs]
    check(count(ev, "ACQUIRED", "MUTEX") == 5 and tr.h["exit_status"] == 7, "the exec'd program traced itself")
    check(count(ev, "EXEC") == 0, "no EXEC event: the wrapper's part was handed over")
    check(tr.handover == 0, "the file is taken over, not left marked")
    check(tr.exec_count == 1 and len(tr.exec_chain) == 1, "one program before this one: %r" % tr.exec_chain)
    exe, args = tr.exec_chain[0]
    check(exe == os.path.realpath(c.args.workload), "the wrapper's executable: %r" % exe)
    check(args.endswith("exec-first"), "the wrapper's arguments: %r" % args)
    # Traces of programs nobody exec'd into have no chain.
    check(os.path.basename(tr.path).startswith(os.path.basename(c.args.workload) + "."), "named by the program")


def case_exec_fails(c):
    # An exec that comes back: the file was handed over for nothing and is
    # this program's own again (same name, not marked, its locks in it).
    c.run([c.args.workload, "exec-fails"], expect_rc=7)
    tr = c.only_trace()
    ev = [e for evs in all_events(tr).values() for e in evs]
    check(count(ev, "ACQUIRED", "MUTEX") == 5 and tr.h["exit_status"] == 7, "its locks are in its own file")
    check(tr.handover == 0 and tr.exec_count == 0, "not marked, no chain")
    check(tr.h["pid"] == int(tr.path.rsplit(".", 2)[-2]), "named with its own pid")


def case_silent(c):
    # A program that takes no lock leaves no trace (a wrapper that forks and
    # waits, /usr/bin/time), unless LOCKTRACE_KEEP_EMPTY=1.
    c.run(["/bin/true"], expect_rc=0)
    check(c.traces() == [], "a program that took no lock left %s" % c.traces())
    c.run(["/bin/true"], env={"LOCKTRACE_KEEP_EMPTY": "1"}, expect_rc=0)
    check(len(c.traces()) == 1, "LOCKTRACE_KEEP_EMPTY=1 keeps it: %s" % c.traces())


def case_config_errors(c):
    env = {"LOCKTRACE_RING_SIZE": "abc", "LOCKTRACE_STACK_DEPTH": "lots", "LOCKTRACE_FAMILIES": "mutex,bogus",
           "LOCKTRACE_MAX_THREADS": "0", "LOCKTRACE_ORDER_PAIRS": "1000", "LOCKTRACE_TOTALS_LOCKS": "100000"}
    p = c.run([c.args.workload, "threads", "1", "10"], env=env, expect_rc=7)
    lines = p.stderr.splitlines()
    check("locktrace: LOCKTRACE_RING_SIZE=abc is not a number; using 16384" in lines, "ring size message: %r" % p.stderr)
    check(any(l.startswith("locktrace: LOCKTRACE_STACK_DEPTH=lots") for l in lines), "stack depth message")
    check(any(l.startswith("locktrace: LOCKTRACE_FAMILIES=mutex,bogus") for l in lines), "families message")
    check(any(l.startswith("locktrace: LOCKTRACE_MAX_THREADS=0") for l in lines), "max threads message")
    check(any(l.startswith("locktrace: LOCKTRACE_ORDER_PAIRS=1000") and "16384" in l for l in lines),
          "order pairs message: %r" % p.stderr)
    check(any(l.startswith("locktrace: LOCKTRACE_TOTALS_LOCKS=100000") and "256" in l for l in lines),
          "totals locks message: %r" % p.stderr)
    check(len(lines) == 6, "one line per wrong value: %r" % p.stderr)
    tr = c.only_trace()
    check(tr.h["ring_capacity"] == 16384 and tr.h["stack_depth_max"] == 8, "defaults used")
    p = c.run([c.args.workload, "threads", "1", "10"], env={"LOCKTRACE_RING_SIZE": "1000", "LOCKTRACE_QUIET": "1"},
              expect_rc=7)
    check(p.stderr == "", "LOCKTRACE_QUIET must silence warnings")
    # A setting the shim does not know is named, with the closest one it knows.
    p = c.run([c.args.workload, "threads", "1", "10"], env={"LOCKTRACE_STACKS": "0", "LOCKTRACE_RINGSIZE": "64"},
              expect_rc=7)
    lines = p.stderr.splitlines()
    check("locktrace: LOCKTRACE_STACKS is not a locktrace setting, ignored (closest: LOCKTRACE_STACK_DEPTH; "
          "see liblocktrace(7))" in lines, "unknown setting message: %r" % p.stderr)
    check(any(l.startswith("locktrace: LOCKTRACE_RINGSIZE is not a locktrace setting") and
              "closest: LOCKTRACE_RING_SIZE;" in l for l in lines), "ring size guess: %r" % p.stderr)
    check(len(lines) == 2, "one line per unknown setting: %r" % p.stderr)


def case_unwritable(c):
    p = c.run([c.args.workload, "threads", "2", "10"], env={"LOCKTRACE_OUTPUT": "/nonexistent/dir/%p.trace"},
              expect_rc=7)
    lines = p.stderr.splitlines()
    check(len(lines) == 1 and lines[0].startswith("locktrace: cannot create /nonexistent/dir/"),
          "one-line warning: %r" % p.stderr)


def case_ring(c):
    c.run([c.args.workload, "threads", "1", "1000"], env={"LOCKTRACE_RING_SIZE": "64"}, expect_rc=7)
    tr = c.only_trace()
    t = [t for t in tr.threads if t["tid"] != tr.h["pid"]][0]
    check(tr.h["ring_capacity"] == 64 and t["ring_capacity"] == 64, "ring capacity")
    evs, torn = tr.events(t)
    # One thread alone never waits: each of its 3000 acquisitions is one ACQUIRED
    # (no ATTEMPT), each unlock one RELEASE, plus THREAD_START and THREAD_EXIT.
    check(t["head"] == 6002 and len(evs) == 64 and torn == 0,
          "flight recorder keeps the last 64 of 6002 (head %d)" % t["head"])
    check(evs[-1].name == "THREAD_EXIT", "newest record is THREAD_EXIT")


def case_families(c):
    c.run([c.args.workload, "threads", "2", "50"], env={"LOCKTRACE_FAMILIES": "rwlock"}, expect_rc=7)
    tr = c.only_trace()
    ev = [e for evs in all_events(tr).values() for e in evs]
    check(not any(e.prim == PRIM["MUTEX"] for e in ev), "mutex traced although LOCKTRACE_FAMILIES=rwlock")
    check(count(ev, "ACQUIRED", "RWLOCK") == 200, "rwlock events")


def case_recycle(c):
    c.run([c.args.workload, "sequential", "20"], env={"LOCKTRACE_MAX_THREADS": "4"}, expect_rc=0)
    tr = c.only_trace()
    h = tr.h
    # One slot for the main thread's joins; 3 shared by the 20 workers, one
    # after the other.
    check(h["threads_used"] == 4, "slots used %d" % h["threads_used"])
    check(h["threads_recycled"] == 17 and h["threads_dropped"] == 0,
          "recycled %d dropped %d" % (h["threads_recycled"], h["threads_dropped"]))
    check(sum(t["generation"] for t in tr.threads) == 17, "generations")
    for t, evs in zip(tr.threads, all_events(tr).values()):
        if t["tid"] != h["pid"]:
            check(evs[0].name == "THREAD_START" and count(evs, "ACQUIRED", "MUTEX") == 1, "recycled ring holds one thread")


def case_futex(c):
    c.run([c.args.workload, "futex"], expect_rc=0)
    tr = c.only_trace()
    ev = [e for evs in all_events(tr).values() for e in evs if e.prim == PRIM["FUTEX"]]
    begins = [e for e in ev if e.name == "WAIT_BEGIN"]
    ends = [e for e in ev if e.name == "WAIT_END"]
    wakes = [e for e in ev if e.name == "WAKE"]
    check(len(begins) >= 1 and len(begins) == len(ends), "futex waits recorded in pairs")
    check(all(e.result in (0, -11) for e in ends), "WAIT_END result 0 or -EAGAIN: %s" % [e.result for e in ends])
    check(len(wakes) == 1 and wakes[0].result in (0, 1) and wakes[0].arg == 0x81, "one private WAKE")
    check(all(e.addr == wakes[0].addr for e in begins), "same futex word")


def case_dlopen(c):
    plugin = os.path.join(os.path.dirname(c.args.workload), "libshim_plugin.so")
    c.run([c.args.workload, "dlopen", plugin], expect_rc=0)
    tr = c.only_trace()
    mods = [m for m in tr.modules if m["path"] == os.path.realpath(plugin)]
    check(len(mods) == 1, "plugin not in the module table (once): %s" % [m["path"] for m in tr.modules])
    paths = [m["path"] for m in tr.modules]
    check(len(paths) == len(set(paths)), "duplicate modules: %s" % paths)
    ev = [e for evs in all_events(tr).values() for e in evs]
    check(count(ev, "DLOPEN") >= 1, "no DLOPEN record")
    inits = [e for e in ev if e.name == "ACQUIRED" and e.prim == PRIM["MUTEX"] and tr.stack(e.stack)
             and mods[0]["lo"] <= tr.stack(e.stack)[0] < mods[0]["hi"]]
    check(len(inits) == 1, "the plugin constructor's lock, with a stack inside the plugin")


def case_signals(c):
    c.run([c.args.workload, "signals"], expect_rc=0)
    tr = c.only_trace()
    evs = all_events(tr)
    nested = sum(1 for e in sum(evs.values(), []) if e.flags & FL_NESTED)
    check(all(e.stack == 0 for e in sum(evs.values(), []) if e.flags & FL_NESTED), "nested records have no stack")
    print("signals: %d nested records" % nested)


def case_keys(c):
    """The unwinder takes none of the program's pthread keys: with stacks on,
    the program can create exactly as many as with stacks off."""
    def keys(env, preload=True):
        p = c.run([c.args.workload, "keys"], env=env, preload=preload, expect_rc=0)
        m = re.search(r"keys (\d+)", p.stdout)
        check(m, "no key count in %r" % p.stdout)
        return int(m.group(1))
    plain = keys({}, preload=False)
    off = keys({"LOCKTRACE_STACK_DEPTH": "0"})
    for t in c.traces():
        os.unlink(t)
    on = keys({})
    tr = c.only_trace()
    ev = [e for evs in all_events(tr).values() for e in evs if e.prim == PRIM["MUTEX"]]
    check(ev and all(tr.stack(e.stack) for e in ev), "mutex events without a stack under default settings")
    check(on == off, "stacks take pthread keys: %d keys left with stacks, %d without" % (on, off))
    print("keys: plain %d, traced without stacks %d, with stacks %d" % (plain, off, on))


def case_positions(c):
    """Lock calls from more stack positions than the shim's stack cache holds:
    every walk after the first few goes through libunwind's fast trace, and
    must give the same call chain as the first ones did (cursor API): one
    stack per thread for the one call chain, and none missing."""
    n = 300
    c.run([c.args.workload, "positions", str(n)], expect_rc=0)
    tr = c.only_trace()
    evs = all_events(tr)
    by_thread = {}
    for t, es in evs.items():
        acq = [e for e in es if e.prim == PRIM["MUTEX"] and e.type == EV["ACQUIRED"]]
        if len(acq) >= n:
            by_thread[t] = acq
    check(len(by_thread) == 2, "two threads with %d acquisitions each, got %s" % (n, {t: len(a) for t, a in by_thread.items()}))
    for t, acq in by_thread.items():
        ids = {e.stack for e in acq}
        check(0 not in ids, "thread %s: acquisitions without a stack" % t)
        check(len(ids) == 1, "thread %s: one call chain, %d different stacks %s" % (t, len(ids), sorted(ids)[:5]))
        pcs = tr.stack(next(iter(ids)))
        check(len(pcs) >= 3, "thread %s: stack too short: %s" % (t, pcs))
    print("positions: %d acquisitions per thread from %d stack positions, one stack each" % (n, n))


def case_sites(c):
    """One function taking one mutex from 12 lines in turn, called from 4 stack
    depths: each of the 48 lock and 48 unlock chains keeps its own stack, and
    the per-thread stack cache answers all but the first call of each (it once
    put every call site of one hook at one stack depth in one 4-way set, and
    walked on every call past the fourth)."""
    rounds = 150  # 96 records a round: all of them fit the default ring
    p = c.run([c.args.workload, "sites", str(rounds)], expect_rc=0)
    mutex = int(re.search(r"sites mutex (0x[0-9a-f]+)", p.stdout).group(1), 16)
    tr = c.only_trace()
    evs = [e for es in all_events(tr).values() for e in es if e.addr == mutex]
    acq = [e for e in evs if e.name == "ACQUIRED"]
    rel = [e for e in evs if e.name == "RELEASE"]
    check(len(acq) == 48 * rounds and len(rel) == 48 * rounds, "%d and %d of %d acquisitions and releases"
          % (len(acq), len(rel), 48 * rounds))
    for name, es in (("acquisitions", acq), ("releases", rel)):
        ids = {}
        for e in es:
            ids[e.stack] = ids.get(e.stack, 0) + 1
        check(0 not in ids, "%s without a stack" % name)
        check(len(ids) == 48 and set(ids.values()) == {rounds},
              "%s: want 48 stacks of %d calls each, got %s" % (name, rounds, sorted(ids.values())))
        check(len({tr.stack(i)[0] for i in ids}) == 12, "%s: the stacks do not start at 12 call sites" % name)
    walks = tr.stack_walks
    # One walk per call chain, plus a few: thread start, the first calls.
    check(0 < walks <= 96 + 16, "%d stack walks for 96 call chains (%d calls)" % (walks, 96 * rounds))
    print("sites: 96 call chains x %d calls, %d stack walks" % (rounds, walks))


def case_longjmp(c):
    """A signal handler that siglongjmps out of the recorder must not leave the
    thread marked as inside it: later events are ordinary (not NESTED, with a
    stack), and none is lost."""
    p = c.run([c.args.workload, "longjmp"], expect_rc=0)
    m = re.search(r"jumps (\d+) cv_after (0x[0-9a-f]+)", p.stdout)
    check(m, "no summary in %r" % p.stdout)
    jumps, cv = int(m.group(1)), int(m.group(2), 16)
    tr = c.only_trace()
    # (a jump out of the middle of a record leaves it torn: that one is lost)
    main = [tr.events(t)[0] for t in tr.threads if t["tid"] == tr.h["pid"]][0]
    after = [e for e in main if e.addr == cv and e.name == "WAKE"]
    nested = sum(1 for e in after if e.flags & FL_NESTED)
    nostack = sum(1 for e in after if not tr.stack(e.stack))
    check(len(after) == 1000, "%d of the 1000 signals after the jumps recorded" % len(after))
    check(nested == 0 and nostack == 0, "after %d jumps: %d later events NESTED, %d without a stack"
          % (jumps, nested, nostack))
    print("longjmp: %d jumps, the 1000 later events ordinary" % jumps)


def case_decoder(c):
    if not c.args.decoder or not os.path.exists(c.args.decoder):
        print("decoder not built; skipping")
        return
    c.run([c.args.workload, "threads", "2", "100"], expect_rc=7)
    path = c.traces()[0]
    p = subprocess.run([c.args.decoder, "dump", path], capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, "locktrace dump failed: %s" % p.stderr)
    acquired = sum(1 for l in p.stdout.splitlines() if re.search(r"\bACQUIRED\b", l, re.I))
    check(acquired == 2 * 300, "dump shows %d ACQUIRED lines, want 600" % acquired)


CASES = {k[5:]: v for k, v in globals().items() if k.startswith("case_")}

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--workload", required=True)
    ap.add_argument("--transparency", required=True)
    ap.add_argument("--decoder")
    ap.add_argument("case", choices=sorted(CASES))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ltshim.") as tmp:
        try:
            CASES[a.case](Ctx(a, tmp))
        except Failure as f:
            print("FAIL %s: %s" % (a.case, f))
            sys.exit(1)
    print("ok %s" % a.case)
