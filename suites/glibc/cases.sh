# glibc nptl tests (sourced by suites/run.sh).
# Exit code 77 is the support harness's UNSUPPORTED.

glibc_prepare() {
    local list=$LT_SUITES/glibc/tests.txt
    [ "$1" = 1 ] && list=$LT_SUITES/glibc/quick.txt
    "$LT_SUITES/glibc/build.sh" "$LT_WORK/glibc" "$list" || return 1
    local n
    n=$(wc -l < "$LT_WORK/glibc/unbuildable.txt")
    echo "glibc: $(wc -l < "$LT_WORK/glibc/built.txt") tests built; $n listed in $(basename "$list") cannot be built standalone:"
    sed 's/^/  not built: /' "$LT_WORK/glibc/unbuildable.txt"
}

# glibc runs each test from its source directory; a few (tst-cancel4/5 and
# their x variants) open "Makefile" there as a handy regular file to read.
glibc_dir_hook() { cp "$LT_WORK/glibc/src/"glibc-*/sysdeps/pthread/Makefile "$1/Makefile"; }

glibc_cases() {
    LT_DIR_HOOK=glibc_dir_hook
    local quick=$1 names t retries
    # The harness scales its own per-test timeout (20 s) by this; the shim's
    # stacks make a few lock-heavy loops slower, and the machine is shared.
    export TIMEOUTFACTOR=${TIMEOUTFACTOR:-5}
    # Helper modules (tst-atfork2mod.so, ...) live beside the tests.
    local saved_llp=${LD_LIBRARY_PATH-}
    export LD_LIBRARY_PATH=$LT_WORK/glibc/bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    if [ "$quick" = 1 ]; then names=$(lt_list "$LT_SUITES/glibc/quick.txt")
    else names=$(cat "$LT_WORK/glibc/built.txt"); fi
    for t in $names; do
        if [ ! -x "$LT_WORK/glibc/bin/$t" ]; then
            echo "NOT BUILT glibc $t (see the list above)"; continue
        fi
        retries=0
        grep -qx "$t" <(lt_list "$LT_SUITES/glibc/timing-sensitive.txt") && retries=2
        lt_case glibc "$t" "$retries" 77 -- "$LT_WORK/glibc/bin/$t"
    done
    LT_DIR_HOOK=""
    if [ -n "$saved_llp" ]; then LD_LIBRARY_PATH=$saved_llp; else unset LD_LIBRARY_PATH; fi
}
