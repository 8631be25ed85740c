# LTTng-UST's pthread wrapper as a column of `make bench`, sourced by
# scripts/bench.sh and scripts/bench-real.sh.  The bench starts its own
# session daemon (LTTNG_HOME in the bench's temporary directory), records
# each measured run to a session of its own with the wrapper's events
# (lttng_ust_pthread:*), and reads back how many events the session
# discarded.  Where a root session daemon already runs (Debian's lttng-tools
# starts one as a system service), a second cannot: the bench then uses that
# one and says so.  Nothing here runs when LTTng is missing: lttng_why says why.
#
#   lttng_start DIR          start the daemon (or find the running one); 0 on
#                            success (lttng_ready=1), else lttng_why is set
#   lttng_begin NAME OUTDIR  create, enable the events, start a session
#   lttng_end NAME           stop and destroy it; prints the events it discarded (or "unknown")
#   lttng_count OUTDIR       events a recorded session holds (babeltrace2)
#   lttng_stop               stop the daemon this script started

lttng_pid="" lttng_why="" lttng_preload="" lttng_ready="" lttng_whose=""

# The LD_PRELOAD of a traced program: the pthread wrapper, and LTTng-UST's
# fork helper, which a program that forks (stress-ng) needs to go on tracing
# in its children.
lttng_find_preload() {
    local d
    for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
        [ -f "$d/liblttng-ust-pthread-wrapper.so.1" ] || continue
        echo "$d/liblttng-ust-pthread-wrapper.so.1$([ -f "$d/liblttng-ust-fork.so.1" ] && echo ":$d/liblttng-ust-fork.so.1")"
        return
    done
}

lttng_start() {
    local dir=$1 i
    lttng_preload=$(lttng_find_preload)
    if ! command -v lttng >/dev/null || ! command -v lttng-sessiond >/dev/null; then
        lttng_why="lttng-tools is not installed (scripts/deps/bench-extra.txt)"; return 1
    fi
    [ -n "$lttng_preload" ] || { lttng_why="liblttng-ust-pthread-wrapper.so.1 not found (package liblttng-ust1)"; return 1; }
    export LTTNG_HOME=$dir/lttng-home
    mkdir -p "$LTTNG_HOME"
    if lttng list >/dev/null 2>&1; then
        lttng_ready=1 lttng_whose="the session daemon already running (not started by the bench)"
        return 0
    fi
    lttng-sessiond --no-kernel >"$dir/lttng-sessiond.log" 2>&1 &
    lttng_pid=$!
    for i in $(seq 1 100); do
        lttng list >/dev/null 2>&1 && { lttng_ready=1 lttng_whose="own session daemon (pid $lttng_pid)"; return 0; }
        kill -0 "$lttng_pid" 2>/dev/null || break
        sleep 0.1
    done
    lttng_why="lttng-sessiond did not start: $(tail -1 "$dir/lttng-sessiond.log")"
    lttng_stop
    return 1
}

lttng_begin() {
    local name=$1 out=$2
    lttng create "$name" --output="$out" >/dev/null &&
        lttng enable-event --session="$name" -u 'lttng_ust_pthread:*' >/dev/null &&
        lttng start "$name" >/dev/null
}

lttng_end() {
    local name=$1
    local stopped
    stopped=$(lttng stop "$name" 2>&1)
    # The session's counter; where it holds no count (2^64 - 1, or nothing),
    # the warning `lttng stop` printed (when it is not 2^64 - 1 as well) ("N events were discarded"), else "unknown".
    { lttng list "$name" 2>/dev/null; echo "$stopped" | sed -n 's/^Warning: \([0-9]*\) events were discarded.*/stop \1/p'; } |
        awk '/Discarded events:/ { seen = 1; if ($3 !~ /^[0-9]+$/ || length($3) > 15) bad = 1; else n += $3 }
             $1 == "stop" && length($2) <= 15 { warned = $2 }
             END { print (seen && !bad) ? n : (warned != "") ? warned : "unknown" }'
    lttng destroy "$name" >/dev/null 2>&1
}

lttng_count() { babeltrace2 "$1" 2>/dev/null | wc -l; }

lttng_stop() {
    [ -n "$lttng_pid" ] || return 0
    kill "$lttng_pid" 2>/dev/null
    wait "$lttng_pid" 2>/dev/null
    lttng_pid=""
}

