#!/usr/bin/env python3
"""Stacks through the libc futex trampolines (LOCKTRACE_LIBC_FUTEX=1).

  check_libc_futex_stacks.py LOCKTRACE SHIM PROGRAM

PROGRAM is libc_futex_blocked: a worker blocks for good in pthread_mutex_lock
on a mutex main holds, and main blocks in pthread_join.  Both sleep in glibc's
own inline futex calls, which the libc futex probes route through a
trampoline.  Checks, on the live trace and again after SIGKILL:
  - the raw trace (tests/shim/ltfile.py) has an internal (LT_FL_INTERNAL)
    futex WAIT_BEGIN on the mutex word, with a stack;
  - `locktrace report --json` shows the worker blocked on that word with a
    symbolized stack that starts in libc (the function that made the futex
    call), and goes on through pthread_mutex_lock into wait_for_gate and
    stuck_worker, the program's functions; main's join wait reaches main.
  - the .probes list: most libc futex sites keep their syscall in libc's own
    code (placed with no note);
  - gdb attached to the hung process (when gdb is installed and may attach):
    the blocked worker sleeps at a libc address with its whole backtrace,
    down to wait_for_gate, not in anonymous trampoline memory.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import shutil

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shim"))
import ltfile  # noqa: E402
from ltfile import check, keep_if_failed, verdict  # noqa: E402

FL_INTERNAL = 0x10



def check_report(decoder, trace, gate, label):
    r = subprocess.run([decoder, "report", "--json", trace], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=120)
    try:
        rep = json.loads(r.stdout)
    except ValueError:
        check(False, "%s: report --json is JSON (exit %d, stderr %s)" % (label, r.returncode, r.stderr[:300]))
        return
    blocked = rep.get("blocked", [])
    for b in blocked:
        print("  blocked thread %s on %s: %s" % (b.get("thread"), b.get("address"),
                                                 " <- ".join(f.get("function") or "?" for f in b.get("stack", []))))
    on_gate = [b for b in blocked if int(b["address"], 16) == gate]
    if not check(on_gate, "%s: a thread is reported blocked on the mutex word 0x%x" % (label, gate)):
        return
    funcs = [f.get("function") or "" for f in on_gate[0].get("stack", [])]
    mods = [f.get("module") or "" for f in on_gate[0].get("stack", [])]
    check(funcs and "libc.so" in mods[0], "%s: its stack starts in libc, where the futex call is (%s in %s)"
          % (label, funcs[:1], mods[:1]))
    for fn in ("pthread_mutex_lock", "wait_for_gate", "stuck_worker"):
        check(any(fn in f for f in funcs), "%s: the stack reaches %s (%s)" % (label, fn, funcs))
    joins = [b for b in blocked if any("join" in (f.get("function") or "") for f in b.get("stack", []))]
    check(joins and any((f.get("function") or "") == "main" for f in joins[0]["stack"]),
          "%s: main's wait inside pthread_join has a stack that reaches main" % label)


def main():
    decoder, shim, prog = sys.argv[1:4]
    d = tempfile.mkdtemp(prefix="ltlfs.")
    trace = os.path.join(d, "b.trace")
    env = dict(os.environ, LD_PRELOAD=shim, LOCKTRACE_OUTPUT=trace, LOCKTRACE_LIBC_FUTEX="1", LOCKTRACE_QUIET="1")
    out_path = os.path.join(d, "out.txt")
    with open(out_path, "w") as out:
        p = subprocess.Popen([prog], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        text = ""
        for _ in range(300):
            with open(out_path) as f:
                text = f.read()
            if "BLOCKED" in text or p.poll() is not None:
                break
            time.sleep(0.1)
        print(text.strip())
        if not check("BLOCKED" in text and p.poll() is None, "the worker blocked and the program still runs"):
            return 1
        gate = int(re.search(r"gate=(0x[0-9a-f]+)", text).group(1), 16)
        time.sleep(0.5)  # past the report's grace period for waits that just began

        t = ltfile.Trace(trace)
        waits = [e for th in t.threads for e in t.events(th)[0]
                 if e.prim == 5 and e.addr == gate and e.name == "WAIT_BEGIN" and e.flags & FL_INTERNAL]
        check(waits, "an internal futex WAIT_BEGIN on the mutex word is recorded")
        check(waits and all(t.stack(e.stack) for e in waits), "it has a stack")

        check_report(decoder, trace, gate, "live")

        with open(trace + ".probes") as f:
            sites = [l.split("\t") for l in f if "\tlibc-futex\t" in l]
        split = [x for x in sites if x[1] == "placed" and x[6].strip() == ""]
        print("libc futex sites: %d placed, %d with the syscall left in libc" %
              (sum(x[1] == "placed" for x in sites), len(split)))
        check(sites and len(split) * 2 > len(sites), "most libc futex sites keep the syscall in libc's code")

        gdb = shutil.which("gdb")
        if gdb:
            g = subprocess.run([gdb, "-p", str(p.pid), "-batch", "-nx", "-ex", "thread apply all bt"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
            bt = g.stdout
            if "ptrace: Operation not permitted" in bt or "Could not attach" in bt:
                print("gdb may not attach here: debugger backtrace not checked")
            else:
                threads = re.split(r"\nThread ", bt)
                worker = [th for th in threads if "wait_for_gate" in th]
                check(worker, "gdb: a thread's backtrace reaches wait_for_gate")
                if worker:
                    frame0 = re.search(r"^#0 +(.*)$", worker[0], re.M)
                    print("gdb: worker #0: %s" % (frame0.group(1) if frame0 else "?"))
                    check(frame0 and not frame0.group(1).startswith("0x") and "??" not in frame0.group(1),
                          "gdb: the worker sleeps in a named libc function, not in trampoline memory")
                    check("stuck_worker" in worker[0], "gdb: the worker's backtrace goes on to stuck_worker")
        else:
            print("gdb not installed: debugger backtrace not checked")
        p.send_signal(signal.SIGKILL)
        p.wait()
        check_report(decoder, trace, gate, "killed")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        keep_if_failed(d)
    return verdict("libc futex stacks")


if __name__ == "__main__":
    sys.exit(main())
