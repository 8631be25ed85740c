// Pages the shim knows are mapped, so that it can read a futex word the
// program passes without ever faulting where the kernel would answer EFAULT
// (programs, and the kernel's own futex tests, pass unmapped addresses).
//
// A word is read only when its page is known to be mapped: it lies in the
// live part of this thread's stack, or an earlier futex call on that page
// came back with a result that means the kernel itself read the word.  A page
// the program unmaps or makes unreadable leaves the set (the munmap,
// mprotect, mremap and shmdt hooks, and syscall() with those numbers).
// (A page unmapped behind our back, futex words and all, stays "known" until
// evicted: only a use-after-unmap of a futex word can be caught by that.)
#pragma once
#include "cdecl.h"
#include "state.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define LT_SAFE_PAGES 256

LT_C_BEGIN
/* page + 1 per slot, 0 = empty; a direct-mapped cache on a hash of the page. */
extern uint64_t lt_safe_pages[LT_SAFE_PAGES] LT_HIDDEN;
/* Forgets the pages of [a, a + len). */
void lt_pages_forget(uintptr_t a, size_t len) LT_HIDDEN;
void lt_pages_forget_all(void) LT_HIDDEN;
LT_C_END

static inline uint32_t lt_safe_slot(uint64_t page) { return (uint32_t)((page * 0x9e3779b97f4a7c15ull) >> 56); }

static inline bool lt_on_live_stack(uintptr_t a, size_t len)
{
    struct lt_tctl *c = lt_tls.ctl;
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    return c && a >= sp && a + len <= c->stack_hi;
}

static inline bool lt_pages_readable(const void *p, size_t len)
{
    uintptr_t a = (uintptr_t)p;
    if (a < 4096)
        return false;
    if (lt_on_live_stack(a, len))
        return true;
    uint64_t first = a >> 12, last = (a + len - 1) >> 12;
    for (uint64_t pg = first; pg <= last; ++pg)
        if (__atomic_load_n(&lt_safe_pages[lt_safe_slot(pg)], __ATOMIC_RELAXED) != pg + 1)
            return false;
    return true;
}

/* The kernel read [p, p + len): it is mapped. */
static inline void lt_pages_proven(const void *p, size_t len)
{
    uintptr_t a = (uintptr_t)p;
    for (uint64_t pg = a >> 12; pg <= (a + len - 1) >> 12; ++pg)
        __atomic_store_n(&lt_safe_pages[lt_safe_slot(pg)], pg + 1, __ATOMIC_RELAXED);
}

/* What the unmapping calls do to the set, by syscall number (from munmap(),
 * shmdt(), ... or from syscall() itself).  Done before the call: a word
 * forgotten too early only costs a snapshot. */
static inline void lt_pages_forget_for_syscall(long nr, long a1, long a2, long a3)
{
    if (nr == SYS_munmap || nr == SYS_mremap)
        lt_pages_forget((uintptr_t)a1, (size_t)a2);
    else if (nr == SYS_mprotect && !(a3 & PROT_READ))
        lt_pages_forget((uintptr_t)a1, (size_t)a2);
    else if (nr == SYS_shmdt)
        lt_pages_forget_all(); /* the segment's size is not in the call */
}
