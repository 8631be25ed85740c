/* Futex calls on addresses the kernel rejects (unmapped, NULL, misaligned):
 * the kernel answers EFAULT / EINVAL, and so must the traced program: the
 * tracer may not touch the word itself first.
 *   life_futex_fault */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#ifndef FUTEX_32
#define FUTEX_32 2
struct futex_waitv { uint64_t val, uaddr; uint32_t flags, __reserved; };
#endif

static void show(const char *what, long r)
{
    printf("%-34s -> %ld %s\n", what, r, r < 0 ? strerror(errno) : "");
}

int main(void)
{
    /* An address that was mapped and no longer is. */
    long page = sysconf(_SC_PAGESIZE);
    char *gone = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(gone, page);
    struct timespec ts = {0, 1000};
    show("FUTEX_WAIT unmapped", syscall(SYS_futex, gone, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0));
    show("FUTEX_WAKE unmapped", syscall(SYS_futex, gone, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
    show("FUTEX_WAIT misaligned", syscall(SYS_futex, (char *)&ts + 1, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0));
    show("FUTEX_CMP_REQUEUE to unmapped", syscall(SYS_futex, &ts, FUTEX_CMP_REQUEUE_PRIVATE, 1, 1, gone, 0));
    struct futex_waitv w[2];
    memset(w, 0, sizeof w);
    uint32_t word = 0;
    w[0].uaddr = (uintptr_t)&word; w[0].val = 1; w[0].flags = FUTEX_32;
    w[1].uaddr = (uintptr_t)gone;  w[1].val = 0; w[1].flags = FUTEX_32;
    show("futex_waitv one unmapped", syscall(SYS_futex_waitv, w, 2, 0, NULL, 0));
    w[1].uaddr = 0;
    show("futex_waitv one NULL", syscall(SYS_futex_waitv, w, 2, 0, NULL, 0));
    show("futex_waitv array unmapped", syscall(SYS_futex_waitv, gone, 1, 0, NULL, 0));
    return 0;
}
