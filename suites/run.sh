#!/bin/bash
# Third-party test suites, each test run twice: plain and under liblocktrace.so
# (default settings: stacks on), results compared.  See suites/README.md.
#
#   suites/run.sh BUILD_DIR [--quick] [--suite glibc,futex,glib] [--match REGEX]
#
# BUILD_DIR must hold liblocktrace.so; build/locktrace is used to check that
# each traced run's trace decodes with no `error` finding (skipped, and said
# so, when it is not built).  Scratch files go to BUILD_DIR/suites/.
# Exit status: 0 when every test gave the same result in both modes (and its
# traces decoded cleanly), 1 otherwise, 2 on a setup problem.
set -uo pipefail
LT_SUITES=$(cd "$(dirname "$0")" && pwd)
. "$LT_SUITES/lib.sh"

usage() { sed -n '5,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
LT_BUILD=$(cd "$1" 2>/dev/null && pwd) || { echo "suites: no build dir $1" >&2; exit 2; }
shift
quick=0; only="glibc,futex,glib"; match=""
while [ $# -gt 0 ]; do
    case $1 in
        --quick) quick=1 ;;
        --suite) only=$2; shift ;;
        --match) match=$2; shift ;;
        *) usage ;;
    esac
    shift
done

LT_LIB=$LT_BUILD/liblocktrace.so
if [ ! -f "$LT_LIB" ]; then echo "suites: $LT_LIB not built" >&2; exit 2; fi
LT_DECODER=""
[ -x "$LT_BUILD/locktrace" ] && LT_DECODER=$LT_BUILD/locktrace
LT_WORK=$LT_BUILD/suites
mkdir -p "$LT_WORK"
export LT_BUILD LT_LIB LT_DECODER LT_WORK LT_SUITES

# --match narrows every suite to the tests whose name matches REGEX.
LT_MATCH=$match

echo "locktrace transparency suites: $([ $quick = 1 ] && echo 'quick subset' || echo 'full')"
echo "  shim:    $LT_LIB (default settings, stacks on)"
if [ -n "$LT_DECODER" ]; then
    echo "  traces:  each passing traced run's traces must give \`locktrace report\` exit 0 (no error finding)"
else
    echo "  traces:  NOT CHECKED: $LT_BUILD/locktrace is not built"
fi
echo "  columns: verdict suite test plain-result traced-result trace-check plain-ms traced-ms"

start=$(date +%s)
IFS=, read -r -a suites <<< "$only"
setup_failed=0
for s in "${suites[@]}"; do
    if [ ! -f "$LT_SUITES/$s/cases.sh" ]; then echo "suites: unknown suite $s" >&2; exit 2; fi
    . "$LT_SUITES/$s/cases.sh"
    echo
    echo "=== $s"
    if ! "${s}_prepare" "$quick"; then
        echo "SETUP FAILED: $s (see the message above)"; setup_failed=1; continue
    fi
    lt_suites+=("$s")
    "${s}_cases" "$quick"
done

echo
echo "=== summary ($(( $(date +%s) - start )) s)"
tp=0; tf=0; tt=0; ttf=0; same=0; diff=0
for s in "${lt_suites[@]}"; do
    lt_suite_summary "$s"
    tp=$((tp + ${lt_n[$s.plain.pass]:-0})); tf=$((tf + ${lt_n[$s.plain.fail]:-0}))
    tt=$((tt + ${lt_n[$s.traced.pass]:-0})); ttf=$((ttf + ${lt_n[$s.traced.fail]:-0}))
    same=$((same + ${lt_n[$s.same]:-0})); diff=$((diff + ${lt_n[$s.diff]:-0}))
done
echo "overall  plain : $tp passed, $tf failed"
echo "overall  traced: $tt passed, $ttf failed"
if [ ${#lt_diff_lines[@]} -gt 0 ]; then
    echo "not transparent (plain and traced differ, or the trace has an error finding):"
    printf '  %s\n' "${lt_diff_lines[@]}"
fi
known=0
for s in "${lt_suites[@]}"; do known=$((known + ${lt_n[$s.known]:-0})); done
if [ ${#lt_known_lines[@]} -gt 0 ]; then
    echo "KNOWN OPEN SHIM BUGS ($known tests differ for a reason listed in suites/*/known-differences.txt; not counted below):"
    printf '  %s\n' "${lt_known_lines[@]}"
fi
[ -z "$LT_DECODER" ] && echo "WARNING: traces were not decoded ($LT_BUILD/locktrace not built)"
echo "transparency: same result in both modes for $same tests, different for $diff"
# The closing line (read by CI): tests with the same result plain and traced
# count as passed, the others as failed.
echo "$same passed, $((diff + setup_failed)) failed"
[ "$diff" -eq 0 ] && [ "$setup_failed" -eq 0 ]
