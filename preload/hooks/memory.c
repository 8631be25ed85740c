// Unmapping hooks: munmap, mprotect, mremap and shmdt tell the known-mapped
// pages (memmap.h) what the program gives up before the call.
#define _GNU_SOURCE
#include "hook.h"
#include "../memmap.h"

#include <stdarg.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>

/* These are plain system-call wrappers in glibc (no cancellation point, errno
 * from the return value): made the same way here, so no lookup is needed. */
static long raw_syscall(long nr, long a1, long a2, long a3, long a4, long a5)
{
    long r;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "0"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    if (r < 0 && r > -4096) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

EXPORT int munmap(void *a, size_t len)
{
    lt_pages_forget_for_syscall(SYS_munmap, (long)a, (long)len, 0);
    return (int)raw_syscall(SYS_munmap, (long)a, (long)len, 0, 0, 0);
}

EXPORT int mprotect(void *a, size_t len, int prot)
{
    lt_pages_forget_for_syscall(SYS_mprotect, (long)a, (long)len, prot);
    return (int)raw_syscall(SYS_mprotect, (long)a, (long)len, prot, 0, 0);
}

EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
    void *target = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        target = va_arg(ap, void *);
        va_end(ap);
    }
    lt_pages_forget_for_syscall(SYS_mremap, (long)old, (long)old_len, 0);
    if (target)
        lt_pages_forget((uintptr_t)target, new_len);
    return (void *)raw_syscall(SYS_mremap, (long)old, (long)old_len, (long)new_len, flags, (long)target);
}

EXPORT int shmdt(const void *a)
{
    lt_pages_forget_for_syscall(SYS_shmdt, (long)a, 0, 0);
    return (int)raw_syscall(SYS_shmdt, (long)a, 0, 0, 0, 0);
}
