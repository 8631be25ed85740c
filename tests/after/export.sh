#!/bin/bash
# export --format perfetto / html, from a raw trace and from a bundle:
#  - the Perfetto JSON parses, has a named track per thread, hold/wait slices,
#    flow arrows (wake -> woken) for a condvar program, and finding markers;
#  - the HTML page loads in headless Chromium, and the drawn DOM has one track
#    per thread and one entry per finding; #finding=0 highlights evidence.
build=$1
. "$(dirname "$0")/lib.sh"
chromium=$(command -v chromium || command -v chromium-browser) || fail "chromium is needed (scripts/deps/after.txt)"

# Chromium as root in a container: no sandbox, no GPU, nothing from the network.
browse() {
    local profile
    profile=$(mktemp -d "$work/profile.XXXXXX")
    timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync --user-data-dir="$profile" --window-size=1400,700 "$@" 2>/dev/null
}

# A hung program with wakes before the hang (condvar signals), and the bank.
start_traced prodcons "$build/zoo/healthy_prodcons"
wait "$pid" || fail "healthy_prodcons failed"
start_traced bank "$build/zoo/demo_bank" LOCKTRACE_WATCHDOG=1
wait_for 60 grep -qs "BLOCKED THREADS" "$work/bank.err" || fail "demo_bank did not hang"
kill -KILL "$pid"
"$lt" pack "$work/bank.trace" -o "$work/bank.ltb" >/dev/null 2>&1 || fail "pack failed"

for input in prodcons.trace bank.trace bank.ltb; do
    src="$work/$input"
    out="$work/$input.json"
    "$lt" export "$src" --format perfetto -o "$out" 2>"$work/export.err" || fail "$input: export perfetto failed"
    "$lt" report --json "$src" >"$work/report.json" 2>/dev/null
    python3 - "$out" "$work/report.json" "$input" <<'PY' || fail "$input: the Perfetto JSON is not what it should be"
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
rep = json.load(open(sys.argv[2]))
name = sys.argv[3]
ok = True
def need(cond, msg):
    global ok
    if not cond:
        print(name + ":", msg); ok = False
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
sys.exit(0 if ok else 1)
PY
    html="$work/$input.html"
    "$lt" export "$src" --format html -o "$html" 2>"$work/export.err" || fail "$input: export html failed"
    grep -q "https\?://[a-z]" <(grep -v 'xmlns\|w3.org' "$html") && fail "$input: the page refers to the network"
    browse --dump-dom "file://$html#finding=0" >"$work/dom.html" || fail "$input: chromium could not load the page"
    python3 - "$work/dom.html" "$work/report.json" "$input" <<'PY' || fail "$input: the page did not draw what it should"
import json, re, sys
dom = open(sys.argv[1]).read()
rep = json.load(open(sys.argv[2]))
name = sys.argv[3]
ok = True
def need(cond, msg):
    global ok
    if not cond:
        print(name + ":", msg); ok = False
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
sys.exit(0 if ok else 1)
PY
    echo "ok: $input"
done
browse --screenshot="$work/bank.png" "file://$work/bank.ltb.html#finding=0" >/dev/null || fail "no screenshot"
[ -s "$work/bank.png" ] || fail "empty screenshot"
[ -n "${LT_KEEP_SCREENSHOT:-}" ] && cp "$work/bank.png" "$LT_KEEP_SCREENSHOT"
echo "PASS: Perfetto JSON is valid with tracks, flows and findings; the HTML draws in Chromium"
