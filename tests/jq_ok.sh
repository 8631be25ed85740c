# jq_ok ARGS... FILE: `jq -e ARGS... FILE` that also fails when FILE is missing
# or empty.  jq 1.6 (Debian 12) exits 0 with -e when its input holds no value
# at all, so a report that printed nothing would pass every check piped into
# `jq -e`.  FILE must be the last argument.
jq_ok() {
    local file="${!#}"
    if [ ! -s "$file" ]; then
        echo "jq_ok: $file is missing or empty" >&2
        return 1
    fi
    jq -e "$@"
}
