#!/bin/bash
# `cmake --install` (what `make install` runs) into a temporary DESTDIR: only
# the command, the shim, the man pages and the docs are installed, each where
# it belongs; the installed `locktrace run` finds the installed shim (also
# once the tree is moved), its watchdog runs the installed decoder, --version
# names the release, and every man page renders.
build=$1
version=$2
. "$(dirname "$0")/lib.sh"

prefix=/opt/locktrace
DESTDIR="$work/dest" cmake --install "$build" --prefix "$prefix" >"$work/install.out" 2>"$work/install.err" ||
    fail "cmake --install into DESTDIR=$work/dest failed"
root="$work/dest$prefix"
[ -z "$(ls -A "$work/dest" | grep -vx opt)" ] || fail "something was installed outside DESTDIR/PREFIX: $(ls "$work/dest")"

# Exactly the files a user needs, nothing from tests, benches or the zoo.
required="bin/locktrace libexec/locktrace/liblocktrace.so libexec/locktrace/locktrace
share/man/man1/locktrace.1 share/man/man5/locktrace-format.5 share/man/man5/locktrace-bundle.5
share/man/man7/liblocktrace.7 share/doc/locktrace/README.md"
for f in $required; do
    [ -e "$root/$f" ] || fail "$f is not installed"
done
(cd "$root" && find . ! -type d | sed 's|^\./||' | sort) >"$work/installed.list"
grep -vE '^(bin/locktrace|libexec/locktrace/(liblocktrace\.so|locktrace)|share/man/man[157]/[a-z-]+\.[157]|share/doc/locktrace/(README\.md|docs/[^/]+\.(md|png)))$' \
    "$work/installed.list" >"$work/unexpected.list" && fail "installed but not meant to be: $(tr '\n' ' ' <"$work/unexpected.list")"
[ "$(readlink -f "$root/libexec/locktrace/locktrace")" = "$(readlink -f "$root/bin/locktrace")" ] ||
    fail "libexec/locktrace/locktrace does not lead to bin/locktrace"
[ ! -e "$root/bin/liblocktrace.so" ] || fail "the shim is next to the installed command: the installed lookup would go untested"

check_version "$root/bin/locktrace"
check_hang_found "$root/bin/locktrace" installed

# The shim preloaded by hand: its watchdog finds the installed decoder through
# the link next to the shim.
code=0
(ulimit -c 0; timeout -s KILL 120 env LD_PRELOAD="$root/libexec/locktrace/liblocktrace.so" \
    LOCKTRACE_OUTPUT="$work/by-hand.trace" LOCKTRACE_WATCHDOG=1 LOCKTRACE_WATCHDOG_ACTION=abort "$build/zoo/deadlock_abba_mutex") \
    >"$work/by-hand.out" 2>"$work/by-hand.err" || code=$?
[ "$code" = 134 ] || fail "the hand-preloaded hung program exited $code, not 134 (SIGABRT from the watchdog)"
grep -q "^\[error\] deadlock" "$work/by-hand.trace.report.txt" 2>/dev/null ||
    fail "the watchdog of the hand-preloaded shim wrote no report naming the deadlock"

# A moved tree still finds its shim (nothing in it names the prefix).
mv "$work/dest$prefix" "$work/moved"
check_short_run "$work/moved/bin/locktrace" moved

# A command with no shim where it looks says where it looked.
mkdir "$work/lonely"
cp "$work/moved/bin/locktrace" "$work/lonely/"
code=0
"$work/lonely/locktrace" run -o "$work/lonely.trace" -- true >"$work/lonely.out" 2>"$work/lonely.err" || code=$?
[ "$code" = 127 ] || fail "locktrace run without a shim exited $code, not 127"
grep -q "cannot find the recorder" "$work/lonely.err" || fail "no 'cannot find the recorder' error without a shim"
for place in "$work/lonely/liblocktrace.so" "$work/lonely/../libexec/locktrace/liblocktrace.so"; do
    grep -qF "$place" "$work/lonely.err" || fail "the error does not name $place"
done
[ ! -e "$work/lonely.trace" ] || fail "a trace was written without a shim"

# Every man page renders without a warning, and man finds each by name and section.
for page in man1/locktrace.1 man5/locktrace-format.5 man5/locktrace-bundle.5 man7/liblocktrace.7; do
    name=$(basename "$page")
    MANWIDTH=80 MANPAGER=cat man --warnings -l "$work/moved/share/man/$page" >"$work/$name.out" 2>"$work/$name.err" ||
        fail "man -l $page failed"
    [ ! -s "$work/$name.err" ] || fail "man -l $page warns: $(head -3 "$work/$name.err")"
    grep -q "^NAME" "$work/$name.out" || fail "man -l $page has no NAME section"
    [ "$(wc -l <"$work/$name.out")" -gt 20 ] || fail "man -l $page rendered only $(wc -l <"$work/$name.out") lines"
    section=${name##*.}
    MANWIDTH=80 MANPAGER=cat man -M "$work/moved/share/man" "$section" "${name%.*}" >"$work/$name.byname.out" 2>&1 ||
        fail "man -M PREFIX/share/man $section ${name%.*} does not find the page"
    cmp -s "$work/$name.out" "$work/$name.byname.out" || fail "man by name shows another page than man -l $page"
done
echo "PASS: installed into DESTDIR: only the command, shim, man pages and docs; installed run found its shim (moved too), watchdog ran the installed decoder, man pages render"
