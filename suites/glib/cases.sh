# GLib's installed tests (libglib2.0-tests), sourced by suites/run.sh.
# GMutex, GRecMutex, GCond and g_bit_lock use syscall(SYS_futex) directly;
# GRWLock and GThreadPool go through pthread rwlocks, mutexes and condvars.
# Exit code 77 is GTest's "skipped".

glib_prepare() {
    local dir=/usr/share/installed-tests/glib
    if [ ! -d "$dir" ]; then
        echo "glib suite: $dir missing (apt-get install libglib2.0-tests)" >&2; return 1
    fi
    echo "glib: installed tests of $(dpkg-query -W -f='${Package} ${Version}' libglib2.0-tests 2>/dev/null)"
}

glib_cases() {
    local quick=$1 list line name args ex retries
    if [ "$quick" = 1 ]; then list=$LT_SUITES/glib/quick.txt; else list=$LT_SUITES/glib/tests.txt; fi
    while read -r line; do
        [ -n "$line" ] || continue
        name=${line%% *}; args=""; [ "$name" != "$line" ] && args=${line#* }
        # The .test file's Exec line is how GLib itself runs the test (with its arguments).
        ex=$(sed -n 's/^Exec=//p' "/usr/share/installed-tests/glib/$name.test" 2>/dev/null)
        if [ -z "$ex" ]; then echo "MISSING  glib $name (no /usr/share/installed-tests/glib/$name.test)"; continue; fi
        retries=0
        grep -qxF "$name" <(lt_list "$LT_SUITES/glib/timing-sensitive.txt") && retries=2
        # shellcheck disable=SC2086
        lt_case glib "$line" "$retries" 77 -- $ex $args
    done < <(lt_list "$list" lines)
}
