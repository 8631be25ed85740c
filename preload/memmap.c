#include "memmap.h"

uint64_t lt_safe_pages[LT_SAFE_PAGES];

/* A page unmapped (or made unreadable) by the program must leave the known-
 * readable set, or a later futex call on a stale address (the kernel answers
 * EFAULT) would make the shim fault where the kernel did not. */
void lt_pages_forget(uintptr_t a, size_t len)
{
    if (len == 0)
        return;
    uint64_t first = a >> 12, last = (a + len - 1) >> 12;
    if (last < first)
        last = UINT64_MAX >> 12;
    if (last - first < LT_SAFE_PAGES) {
        for (uint64_t pg = first; pg <= last; ++pg) {
            uint64_t *s = &lt_safe_pages[lt_safe_slot(pg)];
            if (__atomic_load_n(s, __ATOMIC_RELAXED) == pg + 1)
                __atomic_store_n(s, 0, __ATOMIC_RELAXED);
        }
        return;
    }
    for (unsigned i = 0; i < LT_SAFE_PAGES; ++i) {
        uint64_t v = __atomic_load_n(&lt_safe_pages[i], __ATOMIC_RELAXED);
        if (v && v - 1 >= first && v - 1 <= last)
            __atomic_store_n(&lt_safe_pages[i], 0, __ATOMIC_RELAXED);
    }
}

void lt_pages_forget_all(void)
{
    for (unsigned i = 0; i < LT_SAFE_PAGES; ++i)
        __atomic_store_n(&lt_safe_pages[i], 0, __ATOMIC_RELAXED);
}
