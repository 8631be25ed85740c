# The real programs' command lines, sourced by tests/real/real_check.sh (which
# traces them and checks the reports) and scripts/bench-real.sh (which times
# them untraced and traced), so that both run the same programs the same way.
# Each *_argv function sets the array real_argv.

# Debian's Python (not one a version manager puts first on PATH).
real_py=/usr/bin/python3
[ -x "$real_py" ] || real_py=$(command -v python3 || echo python3)

# A free TCP port on localhost.
real_free_port() { "$real_py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits up to 5 s until something listens on localhost PORT.
real_wait_port() {
    local i
    for i in $(seq 1 100); do
        "$real_py" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$1" \
            2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# memcached with 4 worker threads on localhost PORT, TCP only.
real_memcached_argv() { real_argv=(memcached -t 4 -p "$1" -U 0 -l 127.0.0.1 -u "$(id -un)"); }

# memcslap's load on localhost PORT: 8 concurrent clients, N operations.
real_memcslap_argv() { real_argv=(memcslap --servers=127.0.0.1:"$1" --concurrency=8 --execute-number="$2"); }

# sysbench's mutex test: 4 threads, 64 mutexes, LOCKS lock/unlock pairs each.
real_sysbench_mutex_argv() { real_argv=(sysbench mutex --threads=4 --mutex-num=64 --mutex-locks="${1:-200000}" run); }
