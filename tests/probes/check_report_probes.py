#!/usr/bin/env python3
"""`locktrace report` lists the probes of the `.probes` placement list.

  check_report_probes.py LOCKTRACE SHIM PROGRAM(probes_asm_cases)

Runs the program under the real shim with one probe that is placed
(rip_counter_add) and one that is refused (too_short: control leaves after 1
byte), then checks the text report and --json against the sidecar the shim
wrote.  Then damages the sidecar (junk, over-long and truncated lines) and checks
the report still runs, keeps the good lines and notes the bad ones."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shim"))
from ltfile import check, failures  # noqa: E402


def report(locktrace, trace, *extra):
    p = subprocess.run([locktrace, "report", trace, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=120)
    sys.stderr.write(p.stderr)
    return p


def main():
    locktrace, shim, prog = sys.argv[1:4]
    d = tempfile.mkdtemp(prefix="ltrepprobes.")
    trace = os.path.join(d, "t.trace")
    env = dict(os.environ, LD_PRELOAD=shim, LOCKTRACE_OUTPUT=trace,
               LOCKTRACE_PROBES="rip_counter_add=acquire,too_short=release")
    p = subprocess.run([prog], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    check(p.returncode == 0 and "ok" in p.stdout, "program ran correctly under the shim")
    check(os.path.exists(trace + ".probes"), "the shim wrote the .probes sidecar")

    t = report(locktrace, trace)
    print(t.stdout)
    check(t.returncode in (0, 1), "text report ran (exit %d)" % t.returncode)
    check(re.search(r"^PROBES: 1 placed, 1 refused", t.stdout, re.M), "PROBES section with the counts")
    check(re.search(r"^  placed: rip_counter_add$", t.stdout, re.M), "the placed probe is listed")
    check(re.search(r"^  refused: too_short \(user, 0x[0-9a-f]+ in \S+\): function too short: "
                    r"control leaves \('ret'\) after 1 bytes", t.stdout, re.M),
          "the refused probe is listed with its reason")
    check(t.stdout.find("PROBES:") < t.stdout.find("FINDINGS:"), "PROBES comes after the header, before FINDINGS")

    j = report(locktrace, trace, "--json")
    try:
        doc = json.loads(j.stdout)
    except ValueError as e:
        check(False, "--json output parses (%s)" % e)
        doc = {}
    pr = {x.get("function"): x for x in (doc.get("probes") or [])}
    check(set(pr) == {"rip_counter_add", "too_short"}, "--json probes lists both (%s)" % sorted(pr))
    if "rip_counter_add" in pr:
        a = pr["rip_counter_add"]
        check(a["status"] == "placed" and a["set"] == "user" and a["reason"] == "return caught at 1 ret instruction"
              and re.fullmatch(r"0x[0-9a-f]+", a["address"]) and a["module"].endswith("probes_asm_cases"),
              "placed probe's JSON fields (%s)" % a)
    if "too_short" in pr:
        r = pr["too_short"]
        check(r["status"] == "refused" and "function too short" in (r["reason"] or "")
              and isinstance(r["id"], int), "refused probe's JSON fields (%s)" % r)

    # Untrusted sidecar: junk must be skipped with a note, never a crash.
    with open(trace + ".probes", "a") as f:
        f.write("not a probe line\n")
        f.write("7\tmaybe\tuser\t0x10\tf\tm\tr\n")
        f.write("8\trefused\tuser\tzz\tf\tm\tr\n")
        f.write("9\trefused\tuser\t0x10\t" + "x" * 10000 + "\tm\tr\n")
        f.write("\t\t\t\t\t\t\t\t\n")
        f.write("10\trefused\tuser\t0x20\tbad\x1b[2Jname\tm\tr")  # no final newline, escape bytes
    t = report(locktrace, trace)
    check(t.returncode in (0, 1), "text report with a damaged sidecar ran (exit %d)" % t.returncode)
    check(re.search(r"^PROBES: 1 placed, 2 refused", t.stdout, re.M), "good lines still counted")
    check(re.search(r"note: 5 malformed line\(s\) in the probe list ignored", t.stdout),
          "malformed lines noted (%s)" % re.findall(r".*malformed.*", t.stdout))
    check("\x1b" not in t.stdout and "bad?[2Jname" in t.stdout, "control bytes in names neutralised")
    j = report(locktrace, trace, "--json")
    check(j.returncode in (0, 1) and len(json.loads(j.stdout).get("probes") or []) == 3,
          "--json with a damaged sidecar")

    # No sidecar: no PROBES section, probes is null.
    os.unlink(trace + ".probes")
    t = report(locktrace, trace)
    check("PROBES:" not in t.stdout, "no PROBES section without a sidecar")
    j = report(locktrace, trace, "--json")
    check(json.loads(j.stdout).get("probes", 0) is None, "--json probes is null without a sidecar")

    if failures:
        print("%d check(s) failed; trace kept in %s" % (len(failures), d))
        return 1
    shutil.rmtree(d, ignore_errors=True)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
