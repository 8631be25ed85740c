#!/bin/bash
# Builds the kernel's futex selftests (tools/testing/selftests/futex/functional)
# from Debian's linux-source-6.12 tarball into WORKDIR/bin, and copies their
# run.sh (the list of invocations the kernel runs) to WORKDIR/run.sh.
#   suites/futex/build.sh WORKDIR
set -euo pipefail
work=$(mkdir -p "$1" && cd "$1" && pwd)
tarball=$(ls /usr/src/linux-source-6.12.tar.xz 2>/dev/null || ls /usr/src/linux-source-*.tar.xz 2>/dev/null | tail -1 || true)
if [ -z "$tarball" ]; then
    echo "futex suite: /usr/src/linux-source-*.tar.xz missing (apt-get install linux-source-6.12)" >&2
    exit 2
fi
top=$(basename "$tarball" .tar.xz)
stamp=$work/.built-$(stat -c %Y "$tarball")-$(md5sum "$0" | cut -c1-8)
[ -f "$stamp" ] && exit 0
rm -rf "$work/src" "$work/bin"; mkdir -p "$work/src" "$work/bin"
tar -xJf "$tarball" -C "$work/src" --wildcards "$top/tools/testing/selftests/futex/*" \
    "$top/tools/testing/selftests/kselftest.h"
d=$work/src/$top/tools/testing/selftests/futex
# -include string.h: the tests call basename() without declaring it, which
# truncates the pointer on x86-64 (the kernel's build gets it from its own
# headers); everything else is the kernel Makefile's flags.
for f in "$d"/functional/*.c; do
    gcc -g -O2 -Wall -w -D_GNU_SOURCE -include string.h -pthread -I"$d/include" -I"$d/.." \
        "$f" -o "$work/bin/$(basename "$f" .c)" -lpthread -lrt
done
cp "$d/functional/run.sh" "$work/run.sh"
rm -f "$work"/.built-*; touch "$stamp"
