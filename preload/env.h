// The environment our children inherit: LD_PRELOAD without liblocktrace, for
// LOCKTRACE_FOLLOW_EXEC=0 and untraced fork children.
#pragma once
#include "cdecl.h"

#include <stddef.h>

LT_C_BEGIN
/* This process's own LD_PRELOAD loses liblocktrace, in place (never longer,
 * no allocation): what libc starts by itself (system, popen, posix_spawn
 * called inside libc) uses the environment as it is and never goes through
 * our exec hooks. */
void lt_strip_preload_env(void) LT_HIDDEN;
/* Copies env into out (up to cap-1 entries + NULL) with our library removed
 * from LD_PRELOAD; the rewritten value goes into buf.  Returns out. */
char *const *lt_env_without_us(char *const *env, char **out, size_t cap, char *buf, size_t bufcap) LT_HIDDEN;
LT_C_END
