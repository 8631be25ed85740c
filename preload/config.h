// Configuration from LOCKTRACE_* environment variables (man/liblocktrace.7).
// A wrong value prints one line on stderr and falls back to the default.
#pragma once
#include "cdecl.h"
#include <stdint.h>

#define LT_DEFAULT_OUTPUT "locktrace.%e.%p.trace"
#define LT_DEFAULT_RING_SIZE 16384u
#define LT_DEFAULT_STACK_DEPTH 8u
#define LT_MAX_STACK_DEPTH 64u
#define LT_DEFAULT_MAX_THREADS 1024u
#define LT_DEFAULT_ORDER_PAIRS 16384u
#define LT_FAMILIES_ALL                                                                                   \
    ((1u << LT_PRIM_MUTEX) | (1u << LT_PRIM_RWLOCK) | (1u << LT_PRIM_COND) | (1u << LT_PRIM_SEM) |       \
     (1u << LT_PRIM_FUTEX) | (1u << LT_PRIM_BARRIER) | (1u << LT_PRIM_SPIN) |     \
     (1u << LT_PRIM_ONCE))
/* Thread and process life-cycle events are recorded whatever the families. */
#define LT_FAMILIES_ALWAYS ((1u << LT_PRIM_THREAD) | (1u << LT_PRIM_PROCESS) | (1u << LT_PRIM_PROBE))

struct lt_config {
    char output[1024];    /* path template */
    uint64_t ring_size;   /* events per thread ring, power of two */
    uint32_t stack_depth; /* 0 = no stacks */
    uint32_t families;    /* bit (1 << enum lt_prim) */
    uint32_t max_threads;
    uint32_t order_pairs; /* lock-order table entries, power of two */
    uint32_t totals_locks; /* entries of each thread's totals table, power of two */
    bool follow_fork;
    bool follow_exec;
    bool sparse;          /* LOCKTRACE_SPARSE: leave trace files sparse (see reserve()) */
    bool keep_empty;      /* LOCKTRACE_KEEP_EMPTY: keep a trace with no lock event at exit */
    bool quiet;
    /* LOCKTRACE_PATH_FD (set by `locktrace run` for the program it starts):
     * the chosen trace path goes there, then it is closed; -1 = none. */
    int path_fd;
};

LT_C_BEGIN
void lt_config_load(struct lt_config *cfg) __attribute__((visibility("hidden")));
/* One line "locktrace: ...\n" on stderr, unless LOCKTRACE_QUIET. */
void lt_warn(const char *fmt, ...) __attribute__((visibility("hidden"), format(printf, 1, 2)));
extern bool lt_quiet __attribute__((visibility("hidden")));
LT_C_END
