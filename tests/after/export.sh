#!/bin/bash
# export --format perfetto / html, from a raw trace and from a bundle:
#  - the Perfetto JSON parses, has a named track per thread, hold/wait slices,
#    flow arrows (wake -> woken) for a condvar program, and finding markers;
#  - the HTML page loads in headless Chromium, and the drawn DOM has one track
#    per thread and one entry per finding; #finding=0 highlights evidence.
build=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
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
    python3 "$here/check_export.py" perfetto "$out" "$work/report.json" "$input" || fail "$input: the Perfetto JSON is not what it should be"
    html="$work/$input.html"
    "$lt" export "$src" --format html -o "$html" 2>"$work/export.err" || fail "$input: export html failed"
    grep -q "https\?://[a-z]" <(grep -v 'xmlns\|w3.org' "$html") && fail "$input: the page refers to the network"
    browse --dump-dom "file://$html#finding=0" >"$work/dom.html" || fail "$input: chromium could not load the page"
    python3 "$here/check_export.py" html "$work/dom.html" "$work/report.json" "$input" || fail "$input: the page did not draw what it should"
    echo "ok: $input"
done
browse --screenshot="$work/bank.png" "file://$work/bank.ltb.html#finding=0" >/dev/null || fail "no screenshot"
[ -s "$work/bank.png" ] || fail "empty screenshot"
[ -n "${LT_KEEP_SCREENSHOT:-}" ] && cp "$work/bank.png" "$LT_KEEP_SCREENSHOT"
echo "PASS: Perfetto JSON is valid with tracks, flows and findings; the HTML draws in Chromium"
