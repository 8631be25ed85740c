#!/bin/bash
# check-real.sh [BUILD] [KILLS]: every real-program scenario of
# tests/real/real_check.sh (healthy servers and runtimes read live, idle and
# under load, and SIGKILLed KILLS times each at random moments; a Python
# deadlock), then the zoo's hung programs that stand for real bugs: a Rust
# std ABBA (hang, both user sites) and a C program whose thread waits on a
# condition variable signalled before it waited (lost-wakeup).
# Prints the figures; exits non-zero if any check failed.
set -u
BUILD=$(cd "${1:-build}" && pwd) || { echo "check-real: no build dir ${1:-build}" >&2; exit 2; }
KILLS=${2:-4}
here=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s)
status=0
"$here/tests/real/real_check.sh" --build "$BUILD" --kills "$KILLS" \
    memcached redis sysbench stress-ng python pigz java python-deadlock || status=1
check="$here/tests/findings/check_finding.sh"
"$check" --build "$BUILD" --program lost_cond_signal_early --hangs --kind lost-wakeup --locks done_cv \
    --threads 1 --functions wait_done,notify_done || status=1
if [ -x "$BUILD/zoo/rust_mutex_deadlock" ]; then
    "$check" --build "$BUILD" --program rust_mutex_deadlock --hangs --no-owners --kind hang --threads 2 \
        --functions worker_a,worker_b || status=1
    "$check" --build "$BUILD" --program rust_mutex_deadlock_release --hangs --no-owners --kind hang --threads 2 \
        --functions worker_a,worker_b --sites worker_a:a_then_b,worker_b:b_then_a || status=1
else
    echo "check-real: the Rust zoo is not built (cargo missing?)"; status=1
fi
echo "check-real: $(( $(date +%s) - start )) s on $(nproc) CPU(s), $(uname -srm); status $status"
exit $status
