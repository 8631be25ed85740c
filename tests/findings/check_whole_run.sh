#!/bin/bash
# What the report must know however much the rings lost (the trace's held
# sets, totals and inherited locks), on real zoo programs under the real shim
# with the default ring size:
#
#   check_whole_run.sh BUILD_DIR leaked_read_lock|counted_mutex|many_locks|fork_inherited|order_counts|order_table|small_ring
#
# leaked_read_lock  blocked_leaked_read_lock: a read lock leaked, then 10 M
#                   lock calls on the same thread, then a writer blocks.  The
#                   text and --json name the reader thread, mode read, the
#                   function and line that took it and when; no hedge.
# counted_mutex     healthy_counted_mutex: LOCKS and --json say 5000000
#                   acquisitions of the mutex, and no finding.
# fork_inherited    blocked_fork_inherited_lock: the child's report says the
#                   mutex was inherited locked from the parent's loader thread
#                   (its tid) and quotes the line where it took it.
# many_locks        healthy_many_locks: 1000 mutexes taken 100 times each by one
#                   thread.  Every mutex LOCKS counts over the whole run has
#                   exactly 100 acquisitions (at least 200 of them: a thread's
#                   table holds 256); the text notes the calls not counted.
#                   32 more taken 100 times by that thread (its table full)
#                   and 50 by a second: each is 150 over the whole run, or
#                   50 marked "whole run, at least" (never a plain 50).
#                   With LOCKTRACE_TOTALS_LOCKS=2048 (and from its bundle):
#                   all 1032 exact over the whole run, no note.
# order_counts      inversion_counted: users then sessions 45000 times over
#                   three threads, then sessions then users once.  The warning
#                   counts users then sessions exactly (every thread ended;
#                   each adds its repeats to the shared count as it ends).
# order_table       healthy_many_pairs: 2000 pairs under one lock.  The
#                   default table keeps them all (no note); with
#                   LOCKTRACE_ORDER_PAIRS=256 the report says the table was
#                   full and which setting sizes it.
# small_ring        healthy lock-heavy programs with LOCKTRACE_RING_SIZE=64: no
#                   unlock-not-held, unlock-not-owner or owner-exited, not even info.
set -u
. "$(dirname "$0")/../jq_ok.sh"
build=$1 case=$2
lt="$build/locktrace" shim="$build/liblocktrace.so" zoo="$build/zoo"
src="$(dirname "$0")/../zoo"
command -v jq >/dev/null || { echo "FAIL: jq is needed"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/lt-whole-run.XXXXXX")
pids=()
cleanup() {
    for p in ${pids[@]+"${pids[@]}"}; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "FAIL [$case]: $*"
    [ -f "$work/report.txt" ] && { echo "--- report:"; head -60 "$work/report.txt"; }
    exit 1
}
line_of() { grep -n "site: $2\b" "$src/$1" | cut -d: -f1; }

# record TRACE PROG [ENV=VALUE...]: runs zoo program PROG to its end under the
# shim, then writes its report, text and --json, into $work.
record() {
    local trace=$1 prog=$2; shift 2
    env LD_PRELOAD="$shim" LOCKTRACE_OUTPUT="$trace" LOCKTRACE_QUIET=1 "$@" "$zoo/$prog" >"$work/out" 2>&1 ||
        fail "$prog failed: $(cat "$work/out")"
    "$lt" report "$trace" >"$work/report.txt"
    "$lt" report --json "$trace" >"$work/report.json"
}

# Waits until $1 (a trace) stops growing while process $2 lives.
wait_quiet() {
    local last=-1 quiet=0 n
    for _ in $(seq 1 600); do
        sleep 0.2
        kill -0 "$2" 2>/dev/null || fail "the program exited but it should hang"
        n=$("$lt" dump "$1" 2>/dev/null | tail -c 2000 | md5sum)
        if [ "$n" = "$last" ]; then
            quiet=$((quiet + 1))
            [ "$quiet" -ge 3 ] && return 0
        else
            quiet=0
        fi
        last=$n
    done
    fail "the trace never went quiet"
}

case $case in
leaked_read_lock)
    trace="$work/leak.trace"
    LD_PRELOAD="$shim" LOCKTRACE_OUTPUT="$trace" LOCKTRACE_QUIET=1 "$zoo/blocked_leaked_read_lock" >"$work/out" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 600); do grep -q rebuild_table "$work/out" && break; sleep 0.2; done
    grep -q rebuild_table "$work/out" || fail "the writer never started"
    wait_quiet "$trace" "${pids[0]}"
    kill -KILL "${pids[0]}"
    "$lt" report "$trace" >"$work/report.txt"
    "$lt" report --json "$trace" >"$work/report.json"
    line=$(line_of blocked_leaked_read_lock.c leak)
    lost=$(jq '.lost_events' "$work/report.json")
    [ "$lost" -gt 9000000 ] || fail "the ring should have lost millions of events, lost $lost"
    grep -qE "held by thread [0-9]+ \"server\" \(read\) since \+[0-9.]+s, taken at handle_request \(blocked_leaked_read_lock.c:$line\)" \
        "$work/report.txt" || fail "the text does not name the server thread, read mode and handle_request:$line"
    grep -qiE "incomplete|may have taken|before the gap" "$work/report.txt" &&
        fail "the report hedges about the history"
    server=$(jq '[.threads[] | select(.name == "server") | .thread][0]' "$work/report.json")
    jq_ok --argjson t "$server" --arg line "$line" '[.blocked[] | select(.address as $a | true) | .holders[]?
        | select(.thread == $t and .mode == "read" and .since_ns > 0
                 and ([.stack[] | select(.function == "handle_request" and ((.line|tostring) == $line))] | length) > 0)]
        | length == 1' "$work/report.json" >/dev/null ||
        fail "--json does not name thread $server as the reader with handle_request:$line"
    jq_ok '.whole_run.holders_exact == true' "$work/report.json" >/dev/null || fail "--json: holders not exact"
    # A bundle reads the same: one holder, from its held set.
    "$lt" pack "$trace" -o "$work/leak.ltb" >/dev/null 2>"$work/pack.err" || fail "pack: $(cat "$work/pack.err")"
    "$lt" report "$work/leak.ltb" >"$work/packed.txt"
    [ "$(grep -c 'held by thread' "$work/packed.txt")" = 1 ] &&
        grep -qE "held by thread [0-9]+ \"server\" \(read\).*handle_request \(blocked_leaked_read_lock.c:$line\)" \
            "$work/packed.txt" || fail "the bundle does not name the one reader: $(grep 'held by' "$work/packed.txt")"
    ;;
counted_mutex)
    trace="$work/count.trace"
    LD_PRELOAD="$shim" LOCKTRACE_OUTPUT="$trace" LOCKTRACE_QUIET=1 "$zoo/healthy_counted_mutex" >"$work/out" 2>&1 ||
        fail "the program failed: $(cat "$work/out")"
    "$lt" report "$trace" >"$work/report.txt"
    rc=$?
    [ "$rc" = 0 ] || fail "report exit status $rc"
    "$lt" report --json "$trace" >"$work/report.json"
    grep -qE "\(counter_lock\): 5000000 acquisitions, [0-9]+ contended.*\(whole run\)" "$work/report.txt" ||
        fail "LOCKS does not say 5000000 acquisitions of counter_lock"
    jq_ok '[.locks[] | select(.symbol == "counter_lock" and .acquisitions == 5000000
            and .counts_cover == "whole run")] | length == 1' "$work/report.json" >/dev/null ||
        fail "--json does not say 5000000 acquisitions of counter_lock"
    jq_ok '[.findings[] | select(.severity != "info")] | length == 0' "$work/report.json" >/dev/null ||
        fail "findings on a healthy program"
    # A bundle carries the same totals.
    "$lt" pack "$trace" -o "$work/count.ltb" >/dev/null 2>"$work/pack.err" || fail "pack: $(cat "$work/pack.err")"
    "$lt" report --json "$work/count.ltb" >"$work/packed.json"
    jq_ok '[.locks[] | select(.symbol == "counter_lock" and .acquisitions == 5000000)] | length == 1' \
        "$work/packed.json" >/dev/null || fail "the bundle does not carry the whole-run totals"
    ;;
many_locks)
    trace="$work/many.trace"
    LD_PRELOAD="$shim" LOCKTRACE_OUTPUT="$trace" LOCKTRACE_QUIET=1 "$zoo/healthy_many_locks" >"$work/out" 2>&1 ||
        fail "the program failed: $(cat "$work/out")"
    base=$(sed -n 's/^many 0x\([0-9a-f]*\) size \([0-9]*\)$/\1/p' "$work/out")
    size=$(sed -n 's/^many 0x\([0-9a-f]*\) size \([0-9]*\)$/\2/p' "$work/out")
    [ -n "$base" ] && [ -n "$size" ] || fail "no address in the program's output: $(cat "$work/out")"
    "$lt" report "$trace" >"$work/report.txt" || fail "report exit status $?"
    "$lt" report --json "$trace" >"$work/report.json"
    lo=$((16#$base)) hi=$((16#$base + size))
    jq --argjson lo "$lo" --argjson hi "$hi" '[.locks[] | (.address | ltrimstr("0x") | explode
        | reduce .[] as $c (0; . * 16 + (if $c >= 97 then $c - 87 else $c - 48 end))) as $a
        | select($a >= $lo and $a < $hi and .counts_cover == "whole run")]' "$work/report.json" >"$work/counted.json"
    counted=$(jq 'length' "$work/counted.json")
    wrong=$(jq '[.[] | select(.acquisitions != 100)] | length' "$work/counted.json")
    [ "$counted" -ge 200 ] && [ "$counted" -le 256 ] ||
        fail "$counted of the 1000 mutexes counted over the whole run (the table holds 256)"
    [ "$wrong" = 0 ] || fail "$wrong mutexes counted over the whole run with other than 100 acquisitions"
    grep -qE "note: [0-9]+ lock call\(s\) by 1 thread \([0-9]+\) on locks beyond its totals table \(256 locks a thread; LOCKTRACE_TOTALS_LOCKS sets it\) are not counted in LOCKS" \
        "$work/report.txt" || fail "the text does not say that calls were not counted"
    grep -q "some threads' totals did not fit: see the notes" "$work/report.txt" ||
        fail "the history line does not say that some totals did not fit"
    # The 32 late mutexes: exact where the first thread had room, else a lower bound.
    late=$(sed -n 's/^late 0x\([0-9a-f]*\) size \([0-9]*\)$/\1 \2/p' "$work/out")
    [ -n "$late" ] || fail "no late address in the program's output: $(cat "$work/out")"
    lo=$((16#${late% *})) hi=$((16#${late% *} + ${late#* }))
    jq --argjson lo "$lo" --argjson hi "$hi" '[.locks[] | (.address | ltrimstr("0x") | explode
        | reduce .[] as $c (0; . * 16 + (if $c >= 97 then $c - 87 else $c - 48 end))) as $a
        | select($a >= $lo and $a < $hi)]' "$work/report.json" >"$work/late.json"
    [ "$(jq 'length' "$work/late.json")" = 32 ] || fail "$(jq 'length' "$work/late.json") of the 32 late mutexes in LOCKS"
    bad=$(jq -c '[.[] | select(.counts_cover != "recorded events")
        | select((.counts_cover == "whole run" and .acquisitions == 150) or
                 (.counts_cover == "whole run, at least" and .acquisitions == 50 and .threads_not_counted == 1) | not)
        | {address, counts_cover, acquisitions, threads_not_counted}]' "$work/late.json")
    [ "$bad" = "[]" ] || fail "late mutexes counted wrong: $bad"
    lower=$(jq '[.[] | select(.counts_cover == "whole run, at least")] | length' "$work/late.json")
    [ "$lower" -ge 1 ] || fail "no late mutex was left out of the full table: the case tests nothing"
    grep -qE "50 acquisitions, 0 contended \(whole run, at least: 1 thread could not count it, see the notes\)" \
        "$work/report.txt" || "$lt" report --all-locks "$trace" |
        grep -qE "50 acquisitions, 0 contended \(whole run, at least: 1 thread could not count it, see the notes\)" ||
        fail "the text does not mark a lower-bound count"
    jq_ok '[.findings[] | select(.severity != "info")] | length == 0' "$work/report.json" >/dev/null ||
        fail "findings on a healthy program"
    # With room for every lock (LOCKTRACE_TOTALS_LOCKS), every count is exact
    # and whole-run, no note; a bundle keeps the bigger tables.
    trace="$work/many2k.trace"
    LD_PRELOAD="$shim" LOCKTRACE_OUTPUT="$trace" LOCKTRACE_QUIET=1 LOCKTRACE_TOTALS_LOCKS=2048 \
        "$zoo/healthy_many_locks" >"$work/out2" 2>&1 || fail "the program failed with 2048 totals: $(cat "$work/out2")"
    "$lt" pack "$trace" -o "$work/many2k.ltb" >/dev/null 2>"$work/pack.err" || fail "pack: $(cat "$work/pack.err")"
    for t in "$trace" "$work/many2k.ltb"; do
        "$lt" report "$t" >"$work/report2.txt" || fail "report exit status $? ($t)"
        ! grep -q "totals table" "$work/report2.txt" || fail "a totals note with room for every lock ($t)"
        "$lt" report --json "$t" >"$work/report2.json"
        for spec in "many 100 1000" "late 150 32"; do
            set -- $spec
            r=$(sed -n "s/^$1 0x\([0-9a-f]*\) size \([0-9]*\)\$/\1 \2/p" "$work/out2")
            lo=$((16#${r% *})) hi=$((16#${r% *} + ${r#* }))
            n=$(jq --argjson lo "$lo" --argjson hi "$hi" --argjson want "$2" '[.locks[] | (.address | ltrimstr("0x")
                | explode | reduce .[] as $c (0; . * 16 + (if $c >= 97 then $c - 87 else $c - 48 end))) as $a
                | select($a >= $lo and $a < $hi and .counts_cover == "whole run" and .acquisitions == $want)]
                | length' "$work/report2.json")
            [ "$n" = "$3" ] || fail "$n of the $3 $1 mutexes counted $2 times over the whole run with 2048 totals ($t)"
        done
    done
    echo "many_locks: $counted of 1000 mutexes counted exactly; $lower of 32 late ones a lower bound (50), the rest exact (150); with LOCKTRACE_TOTALS_LOCKS=2048 all 1032 exact, also from a bundle"
    ;;
fork_inherited)
    LD_PRELOAD="$shim" LOCKTRACE_OUTPUT="$work/f.%p.trace" LOCKTRACE_QUIET=1 "$zoo/blocked_fork_inherited_lock" \
        >"$work/out" 2>&1 &
    pids+=($!)
    parent=$!
    for _ in $(seq 1 600); do grep -q "^child" "$work/out" && break; sleep 0.2; done
    child=$(sed -n 's/^child \([0-9]*\):.*/\1/p' "$work/out")
    [ -n "$child" ] || fail "the child never started"
    pids+=("$child")
    wait_quiet "$work/f.$child.trace" "$child"
    "$lt" report --json "$work/f.$parent.trace" >"$work/parent.json"
    loader=$(jq '[.threads[] | select(.name == "loader") | .thread][0]' "$work/parent.json")
    [ "$loader" != null ] || fail "no loader thread in the parent's trace"
    "$lt" report "$work/f.$child.trace" >"$work/report.txt"
    "$lt" report --json "$work/f.$child.trace" >"$work/report.json"
    line=$(line_of blocked_fork_inherited_lock.c loader_takes)
    jq_ok --arg t "$loader" --arg line "$line" '[.findings[] | select(.severity == "error")
        | select(.summary | test("inherited locked from its parent") and test("thread " + $t + " ")
                 and test("loader\\(?[^()]*\\)? \\(blocked_fork_inherited_lock.c:" + $line + "\\)")
                 and test("nobody in this process can ever release it"))] | length == 1' \
        "$work/report.json" >/dev/null ||
        fail "the child's report does not name the parent's loader thread $loader and loader:$line"
    grep -q "stray store" "$work/report.txt" && fail "the child's report blames a stray store"
    jq_ok --argjson t "$loader" '[.blocked[].holders[]? | select(.thread == $t and .inherited_from_parent == true
        and ([.stack[] | select(.function == "loader")] | length) > 0)] | length == 1' "$work/report.json" \
        >/dev/null || fail "--json does not list the parent's loader thread as the holder"
    ;;
order_counts)
    trace="$work/counted.trace"
    record "$trace" inversion_counted
    jq_ok '[.findings[] | select(.kind == "lock-order-inversion")
        | select(.summary | test("users_lock\\).*then mutex [0-9a-fx]+ \\(sessions_lock\\)[^,]*\\(45000 times in this order\\)")
                 and (test("at least") | not))] | length == 1' "$work/report.json" >/dev/null ||
        fail "the warning does not count users then sessions exactly 45000 times"
    # A bundle says the same.
    "$lt" pack "$trace" -o "$work/counted.ltb" >/dev/null 2>"$work/pack.err" || fail "pack: $(cat "$work/pack.err")"
    "$lt" report "$work/counted.ltb" >"$work/packed.txt"
    grep -q "(45000 times in this order)" "$work/packed.txt" || fail "the bundle does not count 45000"
    ;;
order_table)
    record "$work/pairs.trace" healthy_many_pairs
    grep -q "lock-order table was full" "$work/report.txt" && fail "2000 pairs filled the default table"
    jq_ok '[.findings[] | select(.severity != "info")] | length == 0' "$work/report.json" >/dev/null ||
        fail "findings on a healthy program"
    record "$work/small.trace" healthy_many_pairs LOCKTRACE_ORDER_PAIRS=256
    grep -qE "note: the lock-order table was full: [0-9]+ order pair\(s\) not kept.*LOCKTRACE_ORDER_PAIRS sets its size" \
        "$work/report.txt" || fail "the text does not say the 256-pair table was full and how to size it"
    jq_ok '.whole_run.order_pairs <= 256 and .whole_run.order_overflow > 0' \
        "$work/report.json" >/dev/null || fail "--json does not give the pairs kept and not kept"
    jq_ok '[.findings[] | select(.severity != "info")] | length == 0' "$work/report.json" >/dev/null ||
        fail "findings on a healthy program with a full order table"
    ;;
small_ring)
    # Healthy lock-heavy programs with a 64-record ring: releases whose
    # acquisitions the ring lost are matched by the held sets, so no misuse
    # finding at any severity (info included).
    for p in healthy_rwlock healthy_prodcons healthy_cxx healthy_counted_mutex; do
        trace="$work/$p.trace"
        LD_PRELOAD="$shim" LOCKTRACE_OUTPUT="$trace" LOCKTRACE_QUIET=1 LOCKTRACE_RING_SIZE=64 "$zoo/$p" \
            >"$work/out" 2>&1 || fail "$p failed: $(head -5 "$work/out")"
        "$lt" report --json "$trace" >"$work/report.json"
        bad=$(jq -r '[.findings[] | select(.kind | test("unlock-not-held|unlock-not-owner|owner-exited"))
            | "\(.severity) \(.kind): \(.summary)"] | join("\n")' "$work/report.json")
        [ -z "$bad" ] || fail "$p with a 64-record ring: $bad"
        jq_ok '.lost_events > 0' "$work/report.json" >/dev/null || fail "$p: the ring did not wrap"
    done
    ;;
*) echo "check_whole_run: unknown case $case" >&2; exit 2 ;;
esac
echo "ok [$case]"
