# Kernel futex selftests (sourced by suites/run.sh).  They call
# syscall(SYS_futex / SYS_futex_waitv) directly: the shim's syscall() wrapper
# is what they exercise.  Exit code 4 is kselftest's SKIP.

futex_prepare() {
    "$LT_SUITES/futex/build.sh" "$LT_WORK/futex" || return 1
    echo "futex: $(ls "$LT_WORK/futex/bin" | wc -l) programs built from linux-source-6.12"
}

# Every invocation the kernel's own run.sh makes, in its order.
futex_invocations() {
    sed -n 's/^\.\/\(futex_[a-z_]*\) *\$COLOR *\(.*\)$/\1 \2/p' "$LT_WORK/futex/run.sh" | sed 's/ *$//'
}

futex_cases() {
    local quick=$1 line prog args retries ipc_ns=""
    # futex_waitv creates 30 System V shared memory segments a run and never
    # removes them; run where they can, in a private IPC namespace that ends
    # with the test, so repeated runs do not fill the machine's table
    # (kernel.shmmni, 4096) and fail shmget with ENOSPC.
    unshare --ipc true 2>/dev/null && ipc_ns="unshare --ipc"
    while read -r line; do
        [ -n "$line" ] || continue
        if [ "$quick" = 1 ] && ! grep -qxF "$line" <(lt_list "$LT_SUITES/futex/quick.txt"); then continue; fi
        prog=${line%% *}; args=""; [ "$prog" != "$line" ] && args=${line#* }
        retries=0
        grep -qxF "$prog" <(lt_list "$LT_SUITES/futex/timing-sensitive.txt") && retries=3
        # shellcheck disable=SC2086
        lt_case futex "$line" "$retries" 4 -- $ipc_ns "$LT_WORK/futex/bin/$prog" $args
    done < <(futex_invocations)
}
