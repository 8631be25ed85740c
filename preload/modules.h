// The module table: every loaded object (path, load bias, address range,
// GNU build-id), so the decoder can symbolise stack pcs after the process is gone.
#pragma once
#include "cdecl.h"
#include <stdint.h>

LT_C_BEGIN
/* Adds objects not yet in the table; returns how many were added. */
uint32_t lt_modules_refresh(void) __attribute__((visibility("hidden")));
/* True if pc lies in a module already in the table. */
bool lt_modules_cover(uint64_t pc) __attribute__((visibility("hidden")));
/* The shim's own code range, to drop its frames from stacks. */
extern uint64_t lt_self_lo __attribute__((visibility("hidden")));
extern uint64_t lt_self_hi __attribute__((visibility("hidden")));
/* Set by dlopen/dlclose: refresh at the next opportunity. */
extern uint32_t lt_modules_stale __attribute__((visibility("hidden")));
void lt_modules_reset_after_fork(void) __attribute__((visibility("hidden")));
LT_C_END
