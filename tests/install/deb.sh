#!/bin/bash
# The Debian package (what `make deb` builds): its control fields and
# contents; then, as root with dpkg and no locktrace already on the system,
# `dpkg -i` it, use the installed command (--version, a run, a hang found),
# `dpkg -r` it and check that every file it listed is gone.  Without root,
# dpkg or a clean system: exit 77 (skipped) after the checks of the package.
build=$1
version=$2
. "$(dirname "$0")/lib.sh"

command -v dpkg-deb >/dev/null || { echo "SKIP: no dpkg-deb"; exit 77; }
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/pkg" >"$work/cpack.out" 2>"$work/cpack.err" ||
    fail "cpack -G DEB failed"
arch=$(dpkg --print-architecture)
deb="$work/pkg/locktrace_${version}_$arch.deb"
[ -f "$deb" ] || fail "no $deb (cpack made: $(ls "$work/pkg"))"

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = locktrace ] || fail "Package is '$(field Package)'"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', not $version"
[ "$(field Section)" = devel ] || fail "Section is '$(field Section)', not devel"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
[ -n "$(field Description)" ] || fail "no Description"
# Depends computed by dpkg-shlibdeps from what the binaries link.
for lib in libc6 libdw1 libzstd1 libunwind8; do
    field Depends | grep -q "\b$lib\b" || fail "Depends does not name $lib: $(field Depends)"
done
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/contents.list"
for f in /usr/bin/locktrace /usr/libexec/locktrace/liblocktrace.so /usr/libexec/locktrace/locktrace \
    /usr/share/man/man1/locktrace.1 /usr/share/man/man7/liblocktrace.7; do
    grep -qx "$f" "$work/contents.list" || fail "the package does not hold $f"
done
grep -E "zoo|bench|test" "$work/contents.list" >"$work/unexpected.list" &&
    fail "the package holds test programs: $(tr '\n' ' ' <"$work/unexpected.list")"

skip() { echo "SKIP: the package is built and well-formed; not installed because $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "this is not root"
command -v dpkg >/dev/null || skip "there is no dpkg"
dpkg-query -W -f='${Status}' locktrace 2>/dev/null | grep -q "ok installed" &&
    skip "a locktrace package is already installed"
for f in /usr/bin/locktrace /usr/libexec/locktrace; do
    [ ! -e "$f" ] || skip "$f already exists (a locktrace not from a package)"
done

# What exists before, so that removal is checked against it (shared
# directories like /usr/bin stay).
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|; s|/$||' | grep -v '^\.\?$' >"$work/paths.list"
while read -r p; do [ -e "$p" ] || [ -L "$p" ] || echo "$p"; done <"$work/paths.list" >"$work/new.list"
trap 'dpkg -r locktrace >/dev/null 2>&1; cleanup' EXIT  # a failure below leaves no package behind
dpkg -i "$deb" >"$work/dpkg-i.out" 2>"$work/dpkg-i.err" || fail "dpkg -i $deb failed"
dpkg -L locktrace >"$work/listed.list" || fail "dpkg -L locktrace failed after install"

check_version /usr/bin/locktrace
check_short_run /usr/bin/locktrace deb-short
check_hang_found /usr/bin/locktrace deb-hang

dpkg -r locktrace >"$work/dpkg-r.out" 2>"$work/dpkg-r.err" || fail "dpkg -r locktrace failed"
trap cleanup EXIT
# No maintainer scripts and no conffiles, so dpkg forgets the package
# entirely (no 'config-files' state waiting for a purge).
status=$(dpkg-query -W -f='${Status}' locktrace 2>/dev/null)
[ -z "$status" ] || [[ "$status" == *not-installed ]] || fail "dpkg still knows locktrace after dpkg -r: $status"
ls /var/lib/dpkg/info/locktrace.* >/dev/null 2>&1 && fail "dpkg -r left $(ls /var/lib/dpkg/info/locktrace.*)"
left=""
while read -r p; do
    if [ -e "$p" ] || [ -L "$p" ]; then
        grep -qxF "$p" "$work/new.list" && left="$left $p"
    fi
done <"$work/listed.list"
[ -z "$left" ] || fail "dpkg -r left behind:$left"
# The package added something new (else the check above proves nothing).
[ -s "$work/new.list" ] || fail "every path of the package existed before it was installed"
echo "PASS: $(basename "$deb") installed with dpkg -i, ran (version, a run, a hang found), and dpkg -r removed all $(wc -l <"$work/new.list") paths it added"
