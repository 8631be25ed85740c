#!/bin/bash
# Builds glibc's own nptl tests standalone against the system glibc.
#
#   suites/glibc/build.sh WORKDIR [LIST]
#
# Unpacks Debian's glibc-source tarball (only nptl/, sysdeps/pthread/, support/
# and the few internal headers the support harness needs) into WORKDIR/src,
# compiles the support/ harness into WORKDIR/libsupport.a, then every test
# named by LIST (default suites/glibc/tests.txt) into WORKDIR/bin/.  Tests
# built (or found unbuildable) by an earlier call are not compiled again.
# Nothing from glibc is kept in our repository.
#
# Writes:
#   WORKDIR/built.txt        one test name a line, in LIST order
#   WORKDIR/unbuildable.txt  "name: reason" for each test that did not build
#                            (the reason is the compiler's first error line)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mkdir -p "$1" && cd "$1" && pwd)
tarball=$(ls /usr/src/glibc/glibc-*.tar.xz 2>/dev/null | head -1 || true)
if [ -z "$tarball" ]; then
    echo "glibc suite: /usr/src/glibc/glibc-*.tar.xz missing (apt-get install glibc-source)" >&2
    exit 2
fi
ver=$(basename "$tarball" .tar.xz)
src=$work/src/$ver
list=${2:-$here/tests.txt}
stamp=$work/.unpacked-$(stat -c %Y "$tarball")-$(md5sum "$0" | cut -c1-8)
compat=$work/compat
cflags=(-O2 -g -D_GNU_SOURCE -w -I"$src" -I"$src/support" -I"$src/nptl" -I"$src/sysdeps/pthread"
        -I"$compat" -include "$compat/lt-compat.h")
paths=(-DSRCDIR_PATH='"/nonexistent"' -DOBJDIR_PATH="\"$work/bin\"" -DOBJDIR_ELF_LDSO_PATH='"/lib64/ld-linux-x86-64.so.2"'
       -DINSTDIR_PATH='"/"' -DLIBDIR_PATH='"/usr/lib"' -DBINDIR_PATH='"/usr/bin"' -DSBINDIR_PATH='"/usr/sbin"'
       -DSLIBDIR_PATH='"/lib"' -DROOTSBINDIR_PATH='"/sbin"' -DCOMPLOCALEDIR_PATH='"/usr/lib/locale"'
       -DTIMEOUTFACTOR=1)

if [ ! -f "$stamp" ]; then

rm -rf "$work/src" "$work/bin" "$work/compat" "$work/support-obj"
mkdir -p "$work/src" "$work/bin" "$work/compat" "$work/support-obj"
tar -xJf "$tarball" -C "$work/src" \
    "$ver/nptl" "$ver/sysdeps/pthread" "$ver/support" "$ver/test-skeleton.c" \
    "$ver/include/intprops.h" "$ver/include/array_length.h" "$ver/include/libc-diag.h" \
    "$ver/include/scratch_buffer.h" "$ver/sysdeps/x86_64/stackinfo.h" \
    "$ver/malloc/dynarray-skeleton.c" "$ver/malloc/dynarray.h" \
    "$ver/posix/tst-vfork1.c" "$ver/posix/tst-vfork2.c" "$ver/elf/tst-unwind-main.c"

# The harness includes a handful of glibc-internal headers.  The self-contained
# ones are used as they are (from the tarball); for the others we write the
# few lines the harness actually needs.
cp "$src/include/intprops.h" "$src/include/array_length.h" "$src/include/libc-diag.h" \
   "$src/include/scratch_buffer.h" "$src/sysdeps/x86_64/stackinfo.h" "$compat/"
: > "$compat/config.h"
cat > "$compat/lt-compat.h" <<'EOH'
/* Stand-ins for what glibc's internal include/ wrappers provide. */
#include <limits.h>
#define libc_hidden_proto(x)
#define attribute_hidden
EOH
echo 'extern void *__dso_handle __attribute__ ((visibility ("hidden")));' > "$compat/dso_handle.h"
cat > "$compat/allocate_once.h" <<'EOH'
/* Same contract as glibc's internal allocate_once.h: the slow path is the
   GLIBC_PRIVATE function the system libc exports. */
#ifndef LT_ALLOCATE_ONCE_H
#define LT_ALLOCATE_ONCE_H
void *__libc_allocate_once_slow (void **, void *(*) (void *),
                                 void (*) (void *, void *), void *);
static inline void *
allocate_once (void **place, void *(*allocate) (void *),
               void (*deallocate) (void *, void *), void *closure)
{
  void *p = __atomic_load_n (place, __ATOMIC_ACQUIRE);
  return p != NULL ? p : __libc_allocate_once_slow (place, allocate, deallocate, closure);
}
#endif
EOH


# The harness: everything in support/ except its own tests, the container
# programs, and the files only meant to be #included by others.
objs=()
for f in "$src"/support/*.c; do
    b=$(basename "$f" .c)
    case $b in
        tst-*|*-container|test-driver|README-testing|links-dso-program-c|test-run-command) continue ;;
        support_quote_blob_main|support_test_compare_string_main) continue ;;
        # need sysdep.h / kernel socket constants; no nptl test uses them
        support_path_support_time64|support_socket_so_timestamp_time64) continue ;;
    esac
    gcc -c "${cflags[@]}" "${paths[@]}" "$f" -o "$work/support-obj/$b.o"
    objs+=("$work/support-obj/$b.o")
done
ar rcs "$work/libsupport.a" "${objs[@]}"
rm -f "$work"/.unpacked-*
touch "$stamp"
fi  # unpacked and harness built

# The tests.  Each is one .c (or .cc) file in nptl/ or sysdeps/pthread/.
build_one() {
    local name=$1 f="" extra=()
    for d in nptl sysdeps/pthread; do
        for e in c cc; do [ -f "$src/$d/$name.$e" ] && f=$src/$d/$name.$e && break 2; done
    done
    if [ -z "$f" ]; then echo "$name: no source file in nptl/ or sysdeps/pthread/" > "$work/bin/$name.why"; return; fi
    case $name in tst-cancelx*|tst-cleanupx*|tst-oncex*) extra+=(-fexceptions) ;; esac
    case $name in tst-oncey*) extra+=(-fno-exceptions -fno-asynchronous-unwind-tables) ;; esac
    case $name in tst-unwind-thread) extra+=(-funwind-tables) ;; esac
    # A test that dlopens its helper module (tst-atfork2mod.so, ...) finds it
    # through LD_LIBRARY_PATH=bin at run time; tst-join7 is linked to it.
    local mod=${f%.*}mod.c
    if [ -f "$mod" ]; then
        if ! gcc "${cflags[@]}" -fPIC -shared -Wl,-soname,"${name}mod.so" "$mod" \
                -o "$work/bin/${name}mod.so" -lpthread > "$work/bin/${name}mod.log" 2>&1; then
            echo "$name: its module ${name}mod.c did not build" > "$work/bin/$name.why"; return
        fi
        [ "$name" = tst-join7 ] && extra+=("$work/bin/${name}mod.so")
    fi
    local cc=gcc; [ "${f##*.}" = cc ] && cc=g++
    if ! $cc "${cflags[@]}" "${extra[@]}" -rdynamic "$f" -o "$work/bin/$name" "$work/libsupport.a" \
            -lpthread -lrt -ldl > "$work/bin/$name.log" 2>&1; then
        local why
        why=$(grep -m1 -E 'fatal error|error:|undefined reference' "$work/bin/$name.log" | sed "s|$src/||g; s|^[^ ]*: ||" || true)
        echo "$name: ${why:-compiler failed}" > "$work/bin/$name.why"
        rm -f "$work/bin/$name"
    fi
}
export -f build_one
export src work
cflags_s=$(printf '%q ' "${cflags[@]}")
export cflags_s
names=$(sed 's/#.*//' "$list" | tr -s ' \t' '\n' | sed '/^$/d')
todo=$(for n in $names; do [ -e "$work/bin/$n" ] || [ -e "$work/bin/$n.why" ] || echo "$n"; done)
# build_one needs the array; rebuild it inside the subshell from the quoted string.
[ -z "$todo" ] || echo "$todo" | xargs -P "$(nproc)" -I{} bash -c 'eval "cflags=($cflags_s)"; build_one "$1"' _ {}

: > "$work/built.txt"; : > "$work/unbuildable.txt"
for n in $names; do
    if [ -x "$work/bin/$n" ]; then echo "$n" >> "$work/built.txt"
    else cat "$work/bin/$n.why" >> "$work/unbuildable.txt"; fi
done
