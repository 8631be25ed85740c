// Call stacks: raw return addresses from libunwind, deduplicated into the
// file's lock-free stack table (open addressing on a hash of the pcs; an
// entry is claimed by CAS on its state word and published READY).
#pragma once
#include "cdecl.h"
#include <stdint.h>

LT_C_BEGIN
/* Once per process image: libunwind caching policy. */
void lt_stacks_setup(void) __attribute__((visibility("hidden")));
/* Unwinds the caller (the shim's own frames dropped) and returns its stack
 * id (index + 1), or 0 if stacks are off or the table is full. */
uint32_t lt_stack_here(void) __attribute__((visibility("hidden")));
LT_C_END
