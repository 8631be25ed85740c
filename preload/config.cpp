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
                 {"sem", LT_PRIM_SEM},     {"futex", LT_PRIM_FUTEX}};
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
            lt_warn("LOCKTRACE_FAMILIES=%s: unknown family '%.*s' (known: mutex,rwlock,cond,sem,futex); using all", v,
                    (int)len, p);
            return LT_FAMILIES_ALL;
        }
        p += len;
        if (*p == ',')
            ++p;
    }
    return bits;
}

void lt_config_load(lt_config *cfg)
{
    lt_quiet = parse_bool("LOCKTRACE_QUIET", false);
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
    cfg->families = parse_families();
    cfg->follow_fork = parse_bool("LOCKTRACE_FOLLOW_FORK", true);
    cfg->follow_exec = parse_bool("LOCKTRACE_FOLLOW_EXEC", true);
    cfg->sparse = parse_bool("LOCKTRACE_SPARSE", false);
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
