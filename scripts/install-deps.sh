#!/bin/sh
# Installs the Debian packages locktrace needs, listed one a line in
# scripts/deps/*.txt (one list per part of the project; real.txt only when
# asked for by name).  Installs only what
# is missing, so it is cheap to run before every build.
set -eu
here=$(dirname "$0")
# Arguments: the lists to install (e.g. `real` for scripts/deps/real.txt);
# none: every list but real.txt and bench-extra.txt, which only
# `make check-real` and `make bench` need.
if [ $# -gt 0 ]; then
    lists=$(for l in "$@"; do echo "$here/deps/$l.txt"; done)
else
    lists=$(ls "$here"/deps/*.txt | grep -v -E '/(real|bench-extra)\.txt$')
fi
# shellcheck disable=SC2086
want=$(cat $lists | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "locktrace: installing Debian packages:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO=sudo; else
    echo "locktrace: need root to run: apt-get install -y$missing" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine often runs its own apt at boot (unattended-upgrades), and a
# second install may be under way: wait for dpkg's lock instead of failing.
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
# shellcheck disable=SC2086
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing
