/* The shim's work at a thread's first lock call allocates nothing: that call
 * may come from a signal handler that interrupted malloc, or in the child of
 * a _Fork made while another thread held malloc's lock.  This program counts
 * the allocations its own threads make (malloc, calloc, realloc, the aligned
 * ones) from just before to just after each thread's first lock and unlock:
 * the main thread, a pthread_create thread, and the child of a _Fork from a
 * thread that had locked nothing.  Prints the counts; exits 1 if one is not 0.
 *   life_first_event_malloc */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static __thread int counting;
static __thread long allocations;

void *malloc(size_t n) { allocations += counting; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { allocations += counting; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { allocations += counting; return __libc_realloc(p, n); }
void *memalign(size_t al, size_t n) { allocations += counting; return __libc_memalign(al, n); }
void *aligned_alloc(size_t al, size_t n) { allocations += counting; return __libc_memalign(al, n); }
int posix_memalign(void **out, size_t al, size_t n)
{
    allocations += counting;
    void *p = __libc_memalign(al, n);
    if (!p) return 12;
    *out = p;
    return 0;
}
void free(void *p) { __libc_free(p); }

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

/* Allocations made by this thread's first lock and unlock. */
static long first_lock(void)
{
    allocations = 0;
    counting = 1;
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    counting = 0;
    return allocations;
}

static void *thread_main(void *arg)
{
    *(long *)arg = first_lock();
    return NULL;
}

static void *forker_main(void *arg)
{
    int fd[2];
    if (pipe(fd) != 0) return NULL;
    pid_t pid = _Fork();
    if (pid == 0) {
        long n = first_lock();
        (void)!write(fd[1], &n, sizeof n);
        _exit(0);
    }
    long n = -1;
    (void)!read(fd[0], &n, sizeof n);
    waitpid(pid, NULL, 0);
    *(long *)arg = n;
    return NULL;
}

int main(void)
{
    long in_main = first_lock(), in_thread = -1, in_child = -1;
    pthread_t t;
    pthread_create(&t, NULL, thread_main, &in_thread);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, forker_main, &in_child);
    pthread_join(t, NULL);
    printf("allocations at the first lock: main %ld, thread %ld, _Fork child %ld\n", in_main, in_thread, in_child);
    return in_main == 0 && in_thread == 0 && in_child == 0 ? 0 : 1;
}
