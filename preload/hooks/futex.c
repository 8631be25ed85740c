// Raw futex calls through syscall(): futex and futex_waitv, recorded as
// LT_PRIM_FUTEX.  The word is read only where memmap.h knows it is mapped.
#define _GNU_SOURCE
#include "hook.h"
#include "../memmap.h"

#include <linux/futex.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>

/* LT_WORD_UNREAD, not 0, for a word on a page not yet known mapped (a heap
 * mutex's first contended wait): 0 would read as a value, and a sleeper on
 * a word of 0 that expected 2 cannot be. */
static inline uint64_t futex_word(const void *p)
{
    if (((uintptr_t)p & 3) || !lt_pages_readable(p, 4))
        return LT_WORD_UNREAD;
    return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
}

/* Results after which the kernel has certainly read the word. */
static inline bool kernel_read_it(long r, int e)
{
    return r >= 0 || e == EAGAIN || e == ETIMEDOUT || e == EINTR || e == EDEADLK || e == ESRCH;
}

enum futex_kind { FK_OTHER, FK_WAIT, FK_WAKE, FK_REQUEUE };

static enum futex_kind futex_kind(int cmd)
{
    switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET:
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2:
    case FUTEX_TRYLOCK_PI:
    case FUTEX_WAIT_REQUEUE_PI:
        return FK_WAIT;
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
    case FUTEX_WAKE_OP:
    case FUTEX_UNLOCK_PI:
        return FK_WAKE;
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE:
    case FUTEX_CMP_REQUEUE_PI:
        return FK_REQUEUE;
    default:
        return FK_OTHER;
    }
}

static long futex_hook(long a1, long a2, long a3, long a4, long a5, long a6)
{
    const void *uaddr = (const void *)a1;
    int op = (int)a2;
    int cmd = op & FUTEX_CMD_MASK;
    enum futex_kind kind = futex_kind(cmd);
    long (*real)(long, ...) = LT_REAL(syscall);
    if (kind == FK_OTHER)
        return real(SYS_futex, a1, a2, a3, a4, a5, a6);
    uint64_t vals = (uint32_t)a3 | (uint64_t)(uint32_t)a6 << 32;
    uint32_t fl = (op & FUTEX_CLOCK_REALTIME) ? LT_FL_REALTIME : 0;
    if (kind == FK_WAIT) {
        if (cmd == FUTEX_TRYLOCK_PI)
            fl |= LT_FL_TRY;
        else if (a4)
            fl |= LT_FL_TIMED;
        // LOCK_PI and LOCK_PI2 time out on CLOCK_REALTIME / CLOCK_MONOTONIC by op.
        if (cmd == FUTEX_LOCK_PI && a4)
            fl |= LT_FL_REALTIME;
        uint32_t st = lt_record(LT_EV_WAIT_BEGIN, LT_PRIM_FUTEX, fl, uaddr, (uint64_t)a5, futex_word(uaddr), vals,
                                0, (uint32_t)op, LT_STACK_HERE);
        long r = real(SYS_futex, a1, a2, a3, a4, a5, a6);
        int e = errno;
        if (kernel_read_it(r, e))
            lt_pages_proven(uaddr, 4);
        lt_record(LT_EV_WAIT_END, LT_PRIM_FUTEX, fl, uaddr, (uint64_t)a5, futex_word(uaddr), vals,
                  r < 0 ? -e : (int32_t)r, (uint32_t)op, st);
        return r;
    }
    long r = real(SYS_futex, a1, a2, a3, a4, a5, a6);
    int e = errno;
    // Private wakes never touch the word; these ops do.
    if ((cmd == FUTEX_CMP_REQUEUE || cmd == FUTEX_CMP_REQUEUE_PI || cmd == FUTEX_UNLOCK_PI) && kernel_read_it(r, e))
        lt_pages_proven(uaddr, 4);
    if (cmd == FUTEX_WAKE_OP && r >= 0 && ((uintptr_t)a5 & 3) == 0)
        lt_pages_proven((const void *)a5, 4);
    // A wake that woke someone found a sleeper whose FUTEX_WAIT had the kernel
    // read this very word: it is mapped (the sleeper may not have run yet to
    // say so itself, and the snapshot is what tells a too-small wake count).
    if (kind == FK_WAKE && r > 0)
        lt_pages_proven(uaddr, 4);
    lt_record(kind == FK_WAKE ? LT_EV_WAKE : LT_EV_REQUEUE, LT_PRIM_FUTEX, fl, uaddr, (uint64_t)a5,
              futex_word(uaddr), vals, r < 0 ? -e : (int32_t)r, (uint32_t)op, LT_STACK_HERE);
    return r;
}

/* futex_waitv: one WAIT_BEGIN / WAIT_END per waiter, addr2 = the array,
 * arg = the waiter's flags with bit 31 set (tells them from futex ops). */
#define LT_WAITV_ARG 0x80000000u
/* The kernel's FUTEX2_VALID_MASK (6.12): size bits and PRIVATE, nothing else;
 * and only 32-bit futexes are implemented. */
#define LT_FUTEX2_SIZE_MASK 0x03u
#define LT_FUTEX2_VALID_MASK (LT_FUTEX2_SIZE_MASK | FUTEX_PRIVATE_FLAG)
#define LT_FUTEX2_SIZE_U32 0x02u

/* The checks the kernel makes before it reads any futex word (syscall entry,
 * futex2_setup_timeout, futex_parse_waitv, get_futex_key's alignment): a call
 * that fails them gets EINVAL/EFAULT without a word being touched, so the
 * shim must not touch one either. */
static bool waitv_call_valid(const struct futex_waitv *w, unsigned long nr, long flags, long timeout, long clk)
{
    if (flags || nr == 0 || nr > FUTEX_WAITV_MAX || !w)
        return false;
    if (timeout && clk != CLOCK_MONOTONIC && clk != CLOCK_REALTIME)
        return false;
    // The array is read (copy_from_user) before anything else: it must be
    // known mapped; 8-aligned so that our own loads of it are plain.
    if (((uintptr_t)w & 7) || !lt_pages_readable(w, nr * sizeof *w))
        return false;
    for (unsigned long i = 0; i < nr; ++i) {
        uint32_t f = w[i].flags;
        if ((f & ~LT_FUTEX2_VALID_MASK) || w[i].__reserved || (f & LT_FUTEX2_SIZE_MASK) != LT_FUTEX2_SIZE_U32 ||
            (w[i].val >> 32) || (w[i].uaddr & 3) || w[i].uaddr < 4096)
            return false;
    }
    return true;
}

static long futex_waitv_hook(long a1, long a2, long a3, long a4, long a5, long a6)
{
    const struct futex_waitv *w = (const struct futex_waitv *)a1;
    unsigned long nr = (unsigned int)a2; /* the kernel takes an unsigned int */
    long (*real)(long, ...) = LT_REAL(syscall);
    if (!waitv_call_valid(w, nr, (unsigned int)a3, a4, (int)a5)) {
        // Not traced: the kernel rejects it, or the array is not known to be
        // mapped.  A call that got as far as sleeping proves the array readable.
        long r = real(SYS_futex_waitv, a1, a2, a3, a4, a5, a6);
        int e = errno;
        if (nr > 0 && nr <= FUTEX_WAITV_MAX && w && (r >= 0 || e == ETIMEDOUT || e == EINTR))
            lt_pages_proven(w, nr * sizeof *w);
        errno = e;
        return r;
    }
    // Copies: another thread may change the array under the call.
    struct futex_waitv v[FUTEX_WAITV_MAX];
    memcpy(v, w, nr * sizeof *w);
    uint32_t fl = a4 ? clock_flags((clockid_t)a5) : 0;
    uint32_t st = LT_STACK_HERE;
    for (unsigned long i = 0; i < nr; ++i)
        st = lt_record(LT_EV_WAIT_BEGIN, LT_PRIM_FUTEX, fl, (const void *)(uintptr_t)v[i].uaddr, (uint64_t)a1,
                       futex_word((const void *)(uintptr_t)v[i].uaddr), v[i].val, 0, LT_WAITV_ARG | v[i].flags, st);
    long r = real(SYS_futex_waitv, a1, a2, a3, a4, a5, a6);
    int e = errno;
    // Only a call that slept had the kernel read (and queue) every word; an
    // early EAGAIN or EFAULT stops at the word that failed, and an index
    // return may come from a wake during setup: then only that word is known.
    bool read_all = e == ETIMEDOUT || e == EINTR;
    for (unsigned long i = 0; i < nr; ++i) {
        const void *u = (const void *)(uintptr_t)v[i].uaddr;
        if (read_all || (r >= 0 && (unsigned long)r == i))
            lt_pages_proven(u, 4);
        lt_record(LT_EV_WAIT_END, LT_PRIM_FUTEX, fl, u, (uint64_t)a1, futex_word(u), v[i].val, r < 0 ? -e : (int32_t)r,
                  LT_WAITV_ARG | v[i].flags, st);
    }
    errno = e;
    return r;
}

/* Rust and others pass 32-bit values through the variadic list: read all six
 * as long, as the kernel does with the registers. */
EXPORT long syscall(long number, ...)
{
    va_list ap;
    va_start(ap, number);
    long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
    long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
    va_end(ap);
    if (LT_LIKELY(number != SYS_futex && number != SYS_futex_waitv) || !lt_want(LT_PRIM_FUTEX)) {
        lt_pages_forget_for_syscall(number, a1, a2, a3);
        return LT_REAL(syscall)(number, a1, a2, a3, a4, a5, a6);
    }
    NOTE_CALLER();
    if (number == SYS_futex)
        return futex_hook(a1, a2, a3, a4, a5, a6);
    return futex_waitv_hook(a1, a2, a3, a4, a5, a6);
}
