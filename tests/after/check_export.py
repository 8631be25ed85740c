#!/usr/bin/env python3
"""check_export.py perfetto|html OUTPUT REPORT_JSON NAME: checks an export
(the Perfetto JSON, or the DOM Chromium drew from the HTML page) against the
`report --json` of the same input.  Prints what is wrong; exit 1 if anything is."""
import json
import re
import sys

ok = True


def need(cond, msg):
    global ok
    if not cond:
        print(name + ":", msg)
        ok = False


def perfetto(ev, rep):
    tids = {t["thread"] for t in rep["threads"] if t["events"]}
    named = {e["tid"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
    need(tids <= named, "threads without a named track: %s" % (tids - named))
    x = [e for e in ev if e["ph"] == "X" and e.get("cat") in ("hold", "wait")]
    need(any(e["cat"] == "hold" for e in x), "no hold slices")
    need(all(e["dur"] >= 0 and e["ts"] >= 0 for e in x), "negative times")
    for b in rep["blocked"]:
        need(any(e["cat"] == "wait" and e["tid"] == b["thread"] and "open" in e["args"] for e in x),
             "blocked thread %d has no open wait slice" % b["thread"])
    findings = [e for e in ev if e["ph"] == "i" and e.get("cat") == "finding"]
    need(len(findings) == len(rep["findings"]), "%d finding markers for %d findings" % (len(findings), len(rep["findings"])))
    if name.startswith("prodcons"):
        s = {e["id"] for e in ev if e["ph"] == "s"}
        f = {e["id"] for e in ev if e["ph"] == "f"}
        need(len(s) > 0 and s == f, "condvar program: no matched flow (wake -> woken) events")
        need(all(e["bp"] == "e" for e in ev if e["ph"] == "f"), "flow ends not bound to the enclosing slice")
    if name.startswith("bank"):
        need(any(e["ph"] == "i" and e["name"] == "mark: watchdog" for e in ev), "no watchdog mark")


def html(dom, rep):
    tracks = re.findall(r'<g class="track" data-tid="(\d+)"', dom)
    need(len(tracks) == len(rep["threads"]), "%d tracks drawn for %d threads" % (len(tracks), len(rep["threads"])))
    need({int(t) for t in tracks} == {t["thread"] for t in rep["threads"]}, "tracks are not the report's threads")
    items = re.findall(r'<li class="finding sev-(\w+)', dom)
    need(len(items) == len(rep["findings"]), "%d findings listed for %d" % (len(items), len(rep["findings"])))
    need(len(re.findall(r'<rect class="(?:hold|wait)', dom)) > 0, "no hold/wait rectangles drawn")
    if rep["findings"]:
        need('class="finding sev-%s selected"' % rep["findings"][0]["severity"] in dom, "#finding=0 did not select the first finding")
        if any(e["time_ns"] for e in rep["findings"][0]["evidence"]):
            need('<circle class="evidence"' in dom, "the selected finding's evidence is not highlighted")
    if rep["blocked"]:
        need('class="wait open' in dom, "the still-waiting threads are not drawn as open waits")


kind, out, report, name = sys.argv[1:5]
rep = json.load(open(report))
if kind == "perfetto":
    perfetto(json.load(open(out))["traceEvents"], rep)
else:
    html(open(out).read(), rep)
sys.exit(0 if ok else 1)
