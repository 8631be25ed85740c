#include "config.h"

#include <locktrace/format.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

bool lt_quiet;

void lt_warn(const char *fmt, ...)
{
    if (lt_quiet)
        return;
    char line[512];
    int n = snprintf(line, sizeof line, "locktrace: ");
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    // One write(2): no stdio buffering or locking inside someone else's program.
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}

static bool parse_bool(const char *name, bool dflt)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    if (!strcmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on"))
        return true;
    if (!strcmp(v, "0") || !strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "off"))
        return false;
    lt_warn("%s=%s is not a boolean (0/1/yes/no/on/off); using %d", name, v, dflt ? 1 : 0);
    return dflt;
}

/* Unsigned number with an optional K or M (binary) suffix. */
static bool parse_count(const char *v, uint64_t *out)
{
    char *end = nullptr;
    if (*v < '0' || *v > '9')
        return false;
    unsigned long long n = strtoull(v, &end, 10);
    if (end == v)
        return false;
    if (*end == 'k' || *end == 'K') {
        n <<= 10;
        ++end;
    } else if (*end == 'm' || *end == 'M') {
        n <<= 20;
        ++end;
    }
    if (*end)
        return false;
    *out = n;
    return true;
}

static uint64_t parse_number(const char *name, uint64_t dflt, uint64_t lo, uint64_t hi, bool pow2)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    uint64_t n;
    if (!parse_count(v, &n)) {
        lt_warn("%s=%s is not a number; using %llu", name, v, (unsigned long long)dflt);
        return dflt;
    }
    if (n < lo || n > hi) {
        lt_warn("%s=%s is out of range (%llu..%llu); using %llu", name, v, (unsigned long long)lo,
                (unsigned long long)hi, (unsigned long long)dflt);
        return dflt;
    }
    if (pow2 && (n & (n - 1))) {
        lt_warn("%s=%s is not a power of two; using %llu", name, v, (unsigned long long)dflt);
        return dflt;
    }
    return n;
}

static uint32_t parse_families(void)
{
    const char *v = getenv("LOCKTRACE_FAMILIES");
    if (!v || !*v || !strcmp(v, "all"))
        return LT_FAMILIES_ALL;
    static const struct {
        const char *name;
        uint32_t prim;
    } names[] = {{"mutex", LT_PRIM_MUTEX}, {"rwlock", LT_PRIM_RWLOCK}, {"cond", LT_PRIM_COND},
                 {"sem", LT_PRIM_SEM},     {"futex", LT_PRIM_FUTEX}, {"barrier", LT_PRIM_BARRIER},
                 {"spin", LT_PRIM_SPIN},   {"once", LT_PRIM_ONCE}};
    uint32_t bits = 0;
    const char *p = v;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        bool known = len == 0;
        for (auto &n : names)
            if (strlen(n.name) == len && !strncmp(n.name, p, len)) {
                bits |= 1u << n.prim;
                known = true;
            }
        if (!known) {
            lt_warn("LOCKTRACE_FAMILIES=%s: unknown family '%.*s' (known: mutex,rwlock,cond,sem,futex,barrier,spin,once); "
                    "using all",
                    v, (int)len, p);
            return LT_FAMILIES_ALL;
        }
        p += len;
        if (*p == ',')
            ++p;
    }
    return bits;
}

/* Every variable the shim, `locktrace run` or the scripts read.  A LOCKTRACE_*
 * variable not listed here is a typo or a guess (LOCKTRACE_STACKS=0) that would
 * otherwise be ignored in silence. */
static const char *const known_settings[] = {
    "LOCKTRACE_OUTPUT",        "LOCKTRACE_RING_SIZE",       "LOCKTRACE_STACK_DEPTH",
    "LOCKTRACE_MAX_THREADS",   "LOCKTRACE_FAMILIES",        "LOCKTRACE_FOLLOW_FORK",
    "LOCKTRACE_FOLLOW_EXEC",   "LOCKTRACE_SPARSE",          "LOCKTRACE_QUIET",
    "LOCKTRACE_CLOCK",         "LOCKTRACE_WATCHDOG",        "LOCKTRACE_WATCHDOG_ACTION",
    "LOCKTRACE_DECODER",       "LOCKTRACE_PROBES",          "LOCKTRACE_PROBES_BUILTIN",
    "LOCKTRACE_PROBES_VERBOSE", "LOCKTRACE_PROBES_ENTRY_STACKS", "LOCKTRACE_LIBC_FUTEX",
    "LOCKTRACE_PATH_FD",       "LOCKTRACE_PACK_TIMING",     "LOCKTRACE_BUILD",
    "LOCKTRACE_KEEP_EMPTY",    "LOCKTRACE_ORDER_PAIRS",     "LOCKTRACE_TOTALS_LOCKS",
};

/* Edit distance of two short names, with one row on the stack (no allocation:
 * this runs during set-up, possibly inside another library's constructor). */
static size_t name_distance(const char *a, size_t la, const char *b)
{
    size_t lb = strlen(b);
    size_t row[64];
    if (la >= 64 || lb >= 64)
        return 64;
    for (size_t j = 0; j <= lb; ++j)
        row[j] = j;
    for (size_t i = 1; i <= la; ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; ++j) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static void warn_unknown_settings(void)
{
    for (char **e = environ; e && *e; ++e) {
        if (strncmp(*e, "LOCKTRACE_", 10))
            continue;
        const char *eq = strchr(*e, '=');
        size_t len = eq ? (size_t)(eq - *e) : strlen(*e);
        const char *closest = nullptr;
        size_t best = (size_t)-1;
        bool known = false;
        for (const char *k : known_settings) {
            if (strlen(k) == len && !strncmp(k, *e, len)) {
                known = true;
                break;
            }
            // Edits, less a bonus for a shared start: LOCKTRACE_STACKS reads as a
            // guess at LOCKTRACE_STACK_DEPTH, not as LOCKTRACE_SPARSE (fewer edits).
            size_t common = 0;
            while (common < len && k[common] == (*e)[common])
                ++common;
            size_t d = name_distance(*e, len, k) + 2 * (len - common);
            if (d < best) {
                best = d;
                closest = k;
            }
        }
        if (!known)
            lt_warn("%.*s is not a locktrace setting, ignored (closest: %s; see liblocktrace(7))", (int)len, *e,
                    closest);
    }
}

void lt_config_load(lt_config *cfg)
{
    lt_quiet = parse_bool("LOCKTRACE_QUIET", false);
    warn_unknown_settings();
    const char *out = getenv("LOCKTRACE_OUTPUT");
    if (out && *out && strlen(out) < sizeof cfg->output - 32) {
        strcpy(cfg->output, out);
    } else {
        if (out && *out)
            lt_warn("LOCKTRACE_OUTPUT is longer than %zu bytes; using %s", sizeof cfg->output - 32,
                    LT_DEFAULT_OUTPUT);
        strcpy(cfg->output, LT_DEFAULT_OUTPUT);
    }
    cfg->ring_size = parse_number("LOCKTRACE_RING_SIZE", LT_DEFAULT_RING_SIZE, 64, 1u << 26, true);
    cfg->stack_depth = (uint32_t)parse_number("LOCKTRACE_STACK_DEPTH", LT_DEFAULT_STACK_DEPTH, 0, LT_MAX_STACK_DEPTH, false);
    cfg->max_threads = (uint32_t)parse_number("LOCKTRACE_MAX_THREADS", LT_DEFAULT_MAX_THREADS, 1, 1u << 20, false);
    cfg->order_pairs = (uint32_t)parse_number("LOCKTRACE_ORDER_PAIRS", LT_DEFAULT_ORDER_PAIRS, 256, 1u << 24, true);
    cfg->totals_locks =
        (uint32_t)parse_number("LOCKTRACE_TOTALS_LOCKS", LT_TOTALS_DEFAULT, LT_TOTALS_MIN, LT_TOTALS_MAX, true);
    cfg->families = parse_families();
    cfg->follow_fork = parse_bool("LOCKTRACE_FOLLOW_FORK", true);
    cfg->follow_exec = parse_bool("LOCKTRACE_FOLLOW_EXEC", true);
    cfg->sparse = parse_bool("LOCKTRACE_SPARSE", false);
    cfg->keep_empty = parse_bool("LOCKTRACE_KEEP_EMPTY", false);
    cfg->quiet = lt_quiet;
    cfg->path_fd = -1;
    // Meant for this process only: emptied in place (no allocation) so
    // that its children and exec'd images never write to whatever holds
    // that descriptor number by then.
    for (char **e = environ; e && *e; ++e)
        if (!strncmp(*e, "LOCKTRACE_PATH_FD=", 18) && (*e)[18]) {
            uint64_t fd;
            if (parse_count(*e + 18, &fd) && fd < 65536 && fcntl((int)fd, F_GETFD) >= 0)
                cfg->path_fd = (int)fd;
            (*e)[18] = 0;
        }
}
