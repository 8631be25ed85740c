#!/usr/bin/env python3
"""Integration checks: run real programs under `locktrace run` (the real shim)
and compare `dump`, `report --json` and `timeline --json` with what the program
did.  One scenario per invocation; exit status non-zero with a message on failure.
"""
import argparse
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


class Env:
    def __init__(self, a):
        self.lt = a.locktrace
        self.progs = a.progs
        self.work = a.work
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)

    def prog(self, name):
        return os.path.join(self.progs, name)

    def trace(self, name):
        return os.path.join(self.work, name + ".trace")

    def run(self, *args, check_rc=None):
        p = subprocess.run([self.lt, *args], capture_output=True, text=True, timeout=60)
        if check_rc is not None and p.returncode not in check_rc:
            raise Fail("locktrace %s: exit %d, expected %s\nstdout: %s\nstderr: %s"
                       % (" ".join(args), p.returncode, check_rc, p.stdout[-2000:], p.stderr[-2000:]))
        return p

    def report(self, trace, rc=(0, 1)):
        p = self.run("report", trace, "--json", check_rc=rc)
        return json.loads(p.stdout)

    def timeline(self, trace, *extra):
        p = self.run("timeline", trace, "--json", *extra, check_rc=(0,))
        return json.loads(p.stdout)

    def start(self, trace, *cmd):
        return subprocess.Popen([self.lt, "run", "-o", trace, "--", *cmd],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def lock_by_symbol(rep, sym, prim=None):
    found = [l for l in rep["locks"] if l["symbol"] == sym and (prim is None or l["primitive"] == prim)]
    check(len(found) == 1, "expected one lock named %s (%s), got %s" % (sym, prim, [l["address"] for l in found]))
    return found[0]


def functions(stack):
    return [f["function"] or "" for f in stack]


def check_mutual_exclusion(tl, address):
    """No two write holds (or a write and a read hold) of one lock overlap."""
    locks = [l for l in tl["locks"] if l["address"] == address]
    check(locks, "timeline has no lock %s" % address)
    for l in locks:
        for seg in l["ownership"]:
            modes = [h["mode"] for h in seg["holders"]]
            if "write" in modes:
                check(len(modes) == 1, "lock %s held by %s at once at +%dns" % (address, seg["holders"], seg["begin_ns"]))


def wait_until(what, fn, timeout=30.0):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            r = fn()
            if r:
                return r
        except Fail as e:
            last = e
        time.sleep(0.1)
    raise Fail("timed out waiting for %s (%s)" % (what, last))


def kill_traced(rep, runner):
    """SIGKILL the traced program (not `locktrace run`), then check run's status."""
    os.kill(rep["pid"], signal.SIGKILL)
    out, err = runner.communicate(timeout=30)
    check(runner.returncode == 128 + signal.SIGKILL,
          "locktrace run should exit 137 after SIGKILL of the program, got %d (%s)" % (runner.returncode, err))
    check("killed by signal 9" in err, "locktrace run should say the program was killed: %r" % err)


class Traced:
    """A program running under `locktrace run`, for a `with` block: killed on
    the way out if the scenario did not end it, so a failed check never
    leaves it behind."""

    def __init__(self, env, trace, *cmd):
        self.env, self.trace = env, trace
        self.runner = env.start(trace, *cmd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.runner.poll() is None:
            # SIGTERM: `locktrace run` forwards it to the program (a SIGKILL
            # would end only the runner and leave the hung program behind).
            self.runner.terminate()
            try:
                self.runner.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                self.runner.kill()
                self.runner.communicate()
        return False

    def report_when(self, what, pred):
        """The first live report for which pred(report) holds (polled)."""
        def ready():
            if not os.path.exists(self.trace):
                return None
            rep = self.env.report(self.trace)
            return rep if pred(rep) else None
        return wait_until(what, ready)

    def kill(self, rep):
        kill_traced(rep, self.runner)


# ---------------------------------------------------------------- scenarios

def counts(env):
    threads, iters = 4, 1000
    t = env.trace("counts")
    p = subprocess.run([env.lt, "run", "-o", t, "--", env.prog("counts"), str(threads), str(iters)],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "counts exited %d: %s" % (p.returncode, p.stderr))
    check(p.stdout.strip() == str(threads * iters), "program output %r" % p.stdout)
    check("trace written to " + t in p.stderr, "run should say where the trace is: %r" % p.stderr)
    rep = env.report(t, rc=(0,))
    check(rep["process_exited"] and rep["exit_status"] == 0, "process exit not recorded")
    check(rep["lost_events"] == 0 and rep["history_complete"], "no event should be lost")
    check(rep["blocked"] == [], "nothing blocked at exit: %s" % rep["blocked"])
    check([f for f in rep["findings"] if f["severity"] != "info"] == [],
          "healthy program has findings: %s" % [f["kind"] for f in rep["findings"]])
    m = lock_by_symbol(rep, "counts_mutex", "mutex")
    check(m["acquisitions"] == threads * iters, "mutex acquisitions %d != %d" % (m["acquisitions"], threads * iters))
    check(m["releases"] == threads * iters, "mutex releases %d" % m["releases"])
    check(m["holders_at_end"] == [], "mutex still held at exit per the model")
    rw = lock_by_symbol(rep, "counts_rwlock", "rwlock")
    writes = threads * ((iters + 9) // 10)
    check(rw["read_acquisitions"] == threads * iters, "rdlocks %d" % rw["read_acquisitions"])
    check(rw["acquisitions"] == threads * iters + writes, "rwlock acquisitions %d" % rw["acquisitions"])
    check(rw["unmatched_releases"] == 0 and m["unmatched_releases"] == 0, "unmatched releases")
    workers = [th for th in rep["threads"] if th["events"] > 10]
    check(len(workers) == threads, "expected %d worker threads, got %s" % (threads, rep["threads"]))
    # Raw events agree with the model.
    d = env.run("dump", t, "--no-header", check_rc=(0,)).stdout.splitlines()
    acq = [l for l in d if l.split()[2] == "acquired" and l.split()[5] == m["address"]]
    check(len(acq) == threads * iters, "dump shows %d mutex acquisitions" % len(acq))
    tl = env.timeline(t)
    check_mutual_exclusion(tl, m["address"])
    check_mutual_exclusion(tl, rw["address"])
    holds = [l for l in tl["locks"] if l["address"] == m["address"]][0]["holds"]
    check(len(holds) == threads * iters and all(h["end_ns"] is not None for h in holds), "timeline holds")
    # --thread filters to one thread's intervals.
    tid = workers[0]["thread"]
    one = env.timeline(t, "--lock", m["address"], "--thread", str(tid))
    check(len(one["locks"]) == 1 and all(h["thread"] == tid for h in one["locks"][0]["holds"]) and
          len(one["locks"][0]["holds"]) == iters, "timeline --thread %d" % tid)
    # A thread name that is not UTF-8 (the file is untrusted) still gives valid JSON.
    import struct
    data = bytearray(open(t, "rb").read())
    table = struct.unpack_from("<Q", data, 72)[0]  # lt_file_header.thread_table_offset
    data[table + 64:table + 68] = b"\xff\xfe\xc3\x28"  # lt_thread.name of slot 0
    bad = os.path.join(env.work, "badname.trace")
    open(bad, "wb").write(bytes(data))
    rep = env.report(bad)
    check(len(rep["threads"]) == len(json.loads(env.run("report", t, "--json").stdout)["threads"]),
          "report of a trace with a non-UTF-8 thread name")
    env.timeline(bad)


def condvar(env):
    t = env.trace("condvar")
    p = subprocess.run([env.lt, "run", "-o", t, "--", env.prog("condvar_pingpong"), "200"],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "condvar_pingpong exited %d: %s" % (p.returncode, p.stderr))
    rep = env.report(t, rc=(0,))
    m = lock_by_symbol(rep, "token_mutex", "mutex")
    check(m["holders_at_end"] == [], "no phantom owner after cond waits: %s" % m["holders_at_end"])
    check(m["unmatched_releases"] == 0, "cond wait's internal release must match a hold")
    check(m["acquisitions"] >= 400, "each player locks 200 times: %d" % m["acquisitions"])
    c = lock_by_symbol(rep, "token_cond", "cond")
    check(c["wakes"] == 400, "400 signals expected, got %d" % c["wakes"])
    check(rep["blocked"] == [], "nothing blocked: %s" % rep["blocked"])
    check_mutual_exclusion(env.timeline(t), m["address"])


def parse_duration(text):
    """Seconds from the report's duration format (123ns, 4.5us, 6.7ms, 8.90s)."""
    m = re.fullmatch(r"([0-9.]+)(ns|us|ms|s)", text)
    check(m is not None, "not a duration: %r" % text)
    return float(m.group(1)) * {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]


def duration_text(ns):
    """A duration as the text report prints it (the JSON gives nanoseconds)."""
    if ns < 1000:
        return "%dns" % ns
    if ns < 1000000:
        return "%.1fus" % (ns / 1e3)
    if ns < 1000000000:
        return "%.1fms" % (ns / 1e6)
    return "%.2fs" % (ns / 1e9)


def open_stretches(text, holder, until):
    """The report's blocked threads' lock waits (not joins) and `holder`'s open hold,
    in seconds, as measured `until` ("so far; the process is still running" or
    "when packed; the process was still running then"); the hold is None when the
    report lacks it."""
    word, _, running = until.partition("; ")
    waited = [parse_duration(w) for w in
              re.findall(r"\(for (\S+) %s\)\n  on (?!thread )" % re.escape(until), text)]
    held = re.search(r"longest hold (\S+) %s \(still held\) by thread %d " % (re.escape(word), holder), text)
    return waited, held and parse_duration(held.group(1))


def lock_waits(rep):
    """The report's blocked threads that wait for a lock: not the ones in a join
    (the programs' main threads join the hung workers)."""
    return [b for b in rep["blocked"] if b["primitive"] != "thread"]


def hang_mutex_live(env):
    t = env.trace("hang_mutex")
    with Traced(env, t, env.prog("hang_mutex")) as run:
        rep = run.report_when("two threads blocked on accounts_lock", lambda r: len(lock_waits(r)) == 2)
        check(not rep["process_exited"] and rep["process_running"], "the process is still running")
        lock = lock_by_symbol(rep, "accounts_lock", "mutex")
        holder_tids = {h["thread"] for h in lock["holders_at_end"]}
        check(len(holder_tids) == 1, "one holder expected: %s" % lock["holders_at_end"])
        blocked_tids = set()
        for b in lock_waits(rep):
            check(b["primitive"] == "mutex" and b["address"] == lock["address"] and b["symbol"] == "accounts_lock",
                  "blocked on the wrong object: %s" % b)
            check("wait_for_accounts" in functions(b["stack"]), "blocked stack: %s" % functions(b["stack"]))
            check(len(b["holders"]) == 1 and b["holders"][0]["thread"] in holder_tids, "holder: %s" % b["holders"])
            check("hold_forever" in functions(b["holders"][0]["stack"]),
                  "holder stack: %s" % functions(b["holders"][0]["stack"]))
            blocked_tids.add(b["thread"])
        check(len(blocked_tids) == 2 and not (blocked_tids & holder_tids), "distinct waiters and holder")
        holder = next(iter(holder_tids))
        # The JSON measures open stretches as the text does: to now.  The hold
        # began before the waits it causes, so it has lasted at least as long.
        longest = lock["longest_hold"]
        check(all("waited_ns" in b for b in lock_waits(rep)), "JSON: each blocked thread says how long it waited")
        check(longest["still_held"] and longest["thread"] == holder and
              longest["ns"] >= max(b["waited_ns"] for b in lock_waits(rep)),
              "JSON: the open hold is measured to now, like the waits: %s, %s" % (longest, lock_waits(rep)))
        text = env.run("report", t, check_rc=(0, 1)).stdout
        # The two waiters, and main in its join of the first one.
        check("BLOCKED THREADS: 3" in text and "held by thread %d" % holder in text,
              "text report lists the holder:\n" + text)
        check(re.search(r'held by thread %d "[^"]*" since' % holder, text) is not None,
              "a mutex holder is shown without a read/write mode:\n" + text)
        # The open hold counts until now, like the waits it causes: at least as long as
        # the longest "blocked ... so far" (taken in the same report, after the hold began).
        waited, held = open_stretches(text, holder, "so far; the process is still running")
        check(len(waited) == 2 and held is not None and held >= max(waited),
              "the still-open hold of accounts_lock is measured to now (%s vs waits %s):\n%s" % (held, waited, text))
        tl = env.timeline(t, "--lock", lock["address"])
        segs = tl["locks"][0]["ownership"]
        check(segs and segs[-1]["end_ns"] is None and segs[-1]["holders"][0]["thread"] in holder_tids,
              "timeline: last ownership segment still open, held by the holder: %s" % segs[-1:])
        waits = [w for w in tl["locks"][0]["waits"] if w["outcome"] == "still waiting"]
        check({w["thread"] for w in waits} == blocked_tids, "timeline waits: %s" % waits)
        # A bundle packed now is a copy: read while the process still runs (on this
        # machine, with the same pid alive), it must not pass for a live read.
        bundle = os.path.join(env.work, "hang_mutex.ltb")
        env.run("pack", t, "-o", bundle, check_rc=(0, 1))
        packed = env.report(bundle)
        check(not packed["process_running"] and not packed["process_exited"] and packed["running_when_packed"] is True,
              "a bundle is never read live, and says the process was running when packed")
        text = env.run("report", bundle, check_rc=(0, 1)).stdout
        waited, held = open_stretches(text, holder, "when packed; the process was still running then")
        check("still running when it was packed" in text and "so far" not in text and len(waited) == 2 and
              held is not None and held >= max(waited),
              "a bundle's report measures open waits and holds to the moment it was packed:\n" + text)
        # Text and JSON are one report: the same waits and open hold, to the same moment.
        longest = lock_by_symbol(packed, "accounts_lock", "mutex")["longest_hold"]
        check(longest["still_held"] and longest["thread"] == holder and
              "longest hold %s when packed (still held) by thread %d " % (duration_text(longest["ns"]), holder) in text,
              "JSON and text give the same open hold: %s\n%s" % (longest, text))
        for b in lock_waits(packed):
            check("(for %s when packed;" % duration_text(b["waited_ns"]) in text,
                  "JSON and text give the same wait for thread %d: %d ns\n%s" % (b["thread"], b["waited_ns"], text))
        # Packed again (a bundle is a trace to pack), it keeps the first packing's moment.
        env.run("pack", bundle, "-o", bundle + ".again", check_rc=(0, 1))
        again = env.run("report", bundle + ".again", check_rc=(0, 1)).stdout
        check(re.findall(r"\(for \S+ when packed;", again) == re.findall(r"\(for \S+ when packed;", text),
              "a bundle packed again measures to the first packing:\n" + again)
        text = env.run("timeline", t, "--lock", lock["address"], check_rc=(0,)).stdout
        check(re.search(r"\(still, [^)]*so far\)  held by thread %d " % holder, text) and "write" not in text,
              "text timeline: the mutex's open stretch is 'held by' its holder, no read/write mode:\n" + text)
        run.kill(rep)
        dead = env.report(t)
        check({b["thread"] for b in lock_waits(dead)} == blocked_tids, "after SIGKILL the same threads are blocked")
        check(not dead["process_exited"] and not dead["process_running"], "killed process has no normal exit")
        text = env.run("report", t, check_rc=(0, 1)).stdout
        check(re.search(r"longest hold \S+ or more \(still held when the trace ended\) by thread %d " % holder, text),
              "after SIGKILL the open hold is measured to the end of the trace:\n" + text)
        env.run("pack", t, "-o", bundle + ".dead", check_rc=(0, 1))
        packed = env.report(bundle + ".dead")
        text = env.run("report", bundle + ".dead", check_rc=(0, 1)).stdout
        check(packed["running_when_packed"] is False and "killed, or crashed) before it was packed" in text and
              "when packed" not in text and " or more (still held when the trace ended)" in text,
              "a bundle packed after SIGKILL measures to its last event:\n" + text)


def hang_rwlock_live(env):
    t = env.trace("hang_rwlock")
    with Traced(env, t, env.prog("hang_rwlock")) as run:
        rep = run.report_when("the writer blocked", lambda r: len(lock_waits(r)) == 1)
        b = lock_waits(rep)[0]
        check(b["primitive"] == "rwlock" and b["symbol"] == "table_lock", "writer blocked on table_lock: %s" % b)
        check("write_table" in functions(b["stack"]), "writer stack %s" % functions(b["stack"]))
        check(len(b["holders"]) == 2 and all(h["mode"] == "read" for h in b["holders"]),
              "two readers hold it: %s" % b["holders"])
        check(all("read_and_sleep" in functions(h["stack"]) for h in b["holders"]), "reader stacks")
        tl = env.timeline(t, "--lock", b["address"])
        last = tl["locks"][0]["ownership"][-1]
        check(last["end_ns"] is None and sorted(h["mode"] for h in last["holders"]) == ["read", "read"],
              "timeline: readers as a set at the end: %s" % last)
        text = env.run("timeline", t, "--lock", b["address"], check_rc=(0,)).stdout
        check("read by {" in text, "text timeline shows the reader set:\n" + text)
        run.kill(rep)


def killed_midway(env):
    t = env.trace("killed")
    with Traced(env, t, env.prog("counts"), "2", "0") as run:  # loops until killed
        # Only that the rings wrapped: a live copy of a ring that wraps every
        # millisecond keeps few whole records, so counting them here would
        # test the machine's speed; the dead trace below is read in full.
        rep = run.report_when("the ring to wrap", lambda r: r["lost_events"] > 0)
        run.kill(rep)
        dead = env.report(t)
        check(dead["events"] > 0, "events decoded after SIGKILL")
        check(dead["lost_events"] > 0 and not dead["history_complete"],
              "a wrapped ring must make the history incomplete")
        check(all(th["status"] != "exited" for th in dead["threads"] if th["events"] > 100),
              "workers were killed, not exited: %s" % dead["threads"])
        text = env.run("report", t, check_rc=(0, 1)).stdout
        # The rings' window and what covers the whole run instead.
        check("events of the last" in text and "lost to ring overwrite" in text and
              "held locks, lock order and totals cover the whole run" in text,
              "text report states the gap:\n" + text[:2000])
        check(not [f for f in dead["findings"] if f["severity"] != "info"],
              "a killed healthy program got findings: %s" % [f["summary"] for f in dead["findings"]])
        m = lock_by_symbol(dead, "counts_mutex", "mutex")
        check_mutual_exclusion(env.timeline(t), m["address"])
        p = env.run("dump", t, check_rc=(0,))
        check(len(p.stdout.splitlines()) > 1000, "dump lists the events")
        # A copy cut in the middle of the rings still decodes, and says so.
        cut = os.path.join(env.work, "cut.trace")
        size = os.path.getsize(t)
        with open(t, "rb") as src, open(cut, "wb") as dst:
            dst.write(src.read(size - size // 3))
        text = env.run("report", cut, check_rc=(0, 1)).stdout
        check("truncated" in text, "truncated copy must be reported as such:\n" + text[:2000])


def timeouts(env):
    t = env.trace("timeouts")
    p = subprocess.run([env.lt, "run", "-o", t, "--", env.prog("timeouts")], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and p.stdout.strip() == "0", "timeouts program: %d %r" % (p.returncode, p.stdout))
    rep = env.report(t, rc=(0,))
    for sym, prim in (("timed_mutex", "mutex"), ("timed_rwlock", "rwlock")):
        l = lock_by_symbol(rep, sym, prim)
        check(l["timeouts"] == 2, "%s: 2 timeouts expected, got %d" % (sym, l["timeouts"]))
        check(l["acquisitions"] == 2, "%s: 2 acquisitions expected, got %d" % (sym, l["acquisitions"]))
        tl = env.timeline(t, "--lock", l["address"])
        waits = [w for lk in tl["locks"] if lk["primitive"] == prim for w in lk["waits"]]
        outcomes = [w["outcome"] for w in waits]
        check(outcomes.count("timed out") == 2, "%s: timeline outcomes %s" % (sym, outcomes))
        timed = [w for w in waits if w["outcome"] == "timed out"]
        check(len({w["thread"] for w in timed}) == 1 and all(w["end_ns"] > w["begin_ns"] for w in timed),
              "%s: timed-out waits belong to one thread and have a length" % sym)
        holds = [h for lk in tl["locks"] if lk["primitive"] == prim for h in lk["holds"]]
        check(len(holds) == 2 and holds[0]["thread"] != timed[0]["thread"] and holds[1]["thread"] == timed[0]["thread"],
              "%s: held first by the holder, then by the impatient thread: %s" % (sym, holds))
        check(holds[1]["begin_ns"] >= holds[0]["end_ns"], "%s: the second hold starts after the first ends" % sym)
    text = env.run("timeline", t, check_rc=(0,)).stdout
    check(text.count("-> timed out") == 4, "text timeline shows 4 timed-out waits:\n" + text)


def hang_futex_live(env):
    t = env.trace("hang_futex")
    with Traced(env, t, env.prog("hang_futex")) as run:
        rep = run.report_when("two futex waiters", lambda r: len(lock_waits(r)) == 2)
        for b in lock_waits(rep):
            check(b["primitive"] == "futex" and b["symbol"] == "ready_event", "blocked on the futex word: %s" % b)
            check(b["holders"] is None, "a futex word has no owner: %s" % b["holders"])
            check(b["wakes_since"] == 0, "no wake came: %s" % b)
            check("wait_event" in functions(b["stack"]), "waiter stack %s" % functions(b["stack"]))
        l = lock_by_symbol(rep, "ready_event", "futex")
        check(l["holders_at_end"] is None and l["acquisitions"] == 0, "no invented acquisition: %s" % l)
        text = env.run("report", t, check_rc=(0, 1)).stdout
        check("futex words have no recorded owner; 0 wake call(s)" in text, "text report:\n" + text)
        run.kill(rep)


def malformed(env):
    cases = {
        "empty.trace": b"",
        "text.trace": b"hello, this is not a trace\n" * 400,
        "zeros.trace": b"\0" * 8192,
        "badversion.trace": b"LCKTRACE" + (99).to_bytes(4, "little") + b"\0" * 8180,
    }
    for name, data in cases.items():
        path = os.path.join(env.work, name)
        with open(path, "wb") as f:
            f.write(data)
        for cmd in (["report", path], ["report", path, "--json"], ["dump", path], ["timeline", path]):
            p = env.run(*cmd)
            check(p.returncode == 2, "%s: exit %d, expected 2" % (" ".join(cmd), p.returncode))
            lines = p.stderr.strip().splitlines()
            check(len(lines) == 1 and lines[0].startswith("locktrace: "), "one clear error line: %r" % p.stderr)
            check(p.stdout == "", "nothing on stdout for a bad trace")
    p = env.run("report", os.path.join(env.work, "missing.trace"))
    check(p.returncode == 2 and "cannot open" in p.stderr, "missing file: %r" % p.stderr)
    p = env.run("report", env.work)
    check(p.returncode == 2, "a directory is not a trace")
    p = env.run("timeline", os.path.join(env.work, "zeros.trace"), "--lock", "zz")
    check(p.returncode == 2, "bad --lock value")
    # A wrong command line: exit 2 with a message, never CLI11's own 105-109 (which
    # `run` users could take for the traced program's status) and never a crash.
    zeros = os.path.join(env.work, "zeros.trace")
    for cmd in ([], ["frobnicate"], ["report"], ["report", "--bogus", zeros], ["export", zeros, "--format", "xml"],
                ["--bogus"], ["run"]):
        p = env.run(*cmd)
        check(p.returncode == 2 and p.stdout == "" and p.stderr.strip() != "",
              "locktrace %s: exit %d, stderr %r (usage error: exit 2, a message)" % (" ".join(cmd), p.returncode, p.stderr))
    p = env.run("frobnicate")
    check("unknown command 'frobnicate'" in p.stderr and "report" in p.stderr, "unknown command named: %r" % p.stderr)
    p = env.run("--help")
    check(p.returncode == 0 and "Usage: locktrace" in p.stdout, "--help: exit %d" % p.returncode)


def not_running(env):
    """A killed process that its parent has not reaped yet (a zombie) is not
    running, and neither is a later process that reuses the traced pid."""
    t = env.trace("zombie")
    shim = os.path.join(os.path.dirname(os.path.abspath(env.lt)), "liblocktrace.so")
    penv = dict(os.environ, LD_PRELOAD=shim, LOCKTRACE_OUTPUT=t, LOCKTRACE_QUIET="1")
    # Started directly, not through `locktrace run`, so that nobody reaps it.
    proc = subprocess.Popen([env.prog("hang_mutex")], env=penv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def hung():
            if not os.path.exists(t):
                return None
            rep = env.report(t)
            return rep if len(lock_waits(rep)) == 2 else None
        rep = wait_until("two threads blocked", hung)
        check(rep["process_running"], "the hung process reads as running")
        os.kill(proc.pid, signal.SIGKILL)
        wait_until("the process to become a zombie",
                   lambda: open("/proc/%d/stat" % proc.pid).read().rsplit(")", 1)[1].split()[0] == "Z")
        dead = env.report(t)
        check(not dead["process_running"], "a zombie is not running")
        text = env.run("report", t, check_rc=(0, 1)).stdout
        check("did not exit normally" in text and "still running" not in text,
              "a zombie's report says it was killed:\n" + text[:1500])
    finally:
        proc.kill()
        proc.wait()
    # The same trace with the pid of a process that started after it: that
    # process only reuses the number.  With the pid of one that started before
    # the trace (this script), the check still says running.
    with open(t, "rb") as f:
        image = bytearray(f.read())
    later = subprocess.Popen(["sleep", "60"])
    try:
        for pid, running, what in ((later.pid, False, "a process that started after the trace"),
                                   (os.getpid(), True, "a process that started before the trace")):
            struct.pack_into("<i", image, 32, pid)  # lt_file_header.pid
            copy = env.trace("pid-%d" % pid)
            with open(copy, "wb") as f:
                f.write(image)
            check(env.report(copy)["process_running"] == running,
                  "pid of %s: process_running should be %s" % (what, running))
    finally:
        later.kill()
        later.wait()


SCENARIOS = {f.__name__: f for f in (counts, condvar, timeouts, hang_mutex_live, hang_rwlock_live, hang_futex_live,
                                     killed_midway, malformed, not_running)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    ap.add_argument("--locktrace", required=True)
    ap.add_argument("--progs", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    env = Env(a)
    try:
        SCENARIOS[a.scenario](env)
    except Fail as e:
        print("FAIL %s: %s" % (a.scenario, e))
        return 1
    print("ok %s" % a.scenario)
    return 0


if __name__ == "__main__":
    sys.exit(main())
