/* The program's address space stays its own under the shim.
 *   life_addr_space hole    100 threads are created, then the program unmaps
 *                           8 MiB, then the threads take their first lock (the
 *                           shim maps their rings now): the unmapped range must
 *                           stay unmapped.  Prints how many of its pages are
 *                           mapped (mincore), 0 plain.
 *   life_addr_space limit   lowers RLIMIT_AS to 800 MB after start (as glibc's
 *                           tst-create-detached does), then creates 50 threads
 *                           (8 MiB stacks each) that lock: prints how many
 *                           could be created. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t b;

static void *late_locker(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&b); /* the range is unmapped now */
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    pthread_barrier_wait(&b);
    pthread_barrier_wait(&b); /* alive while main looks */
    return NULL;
}

static void *locker(void *arg)
{
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    return arg;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "hole")) {
        enum { N = 100 };
        pthread_barrier_init(&b, NULL, N + 1);
        pthread_t t[N];
        for (int i = 0; i < N; ++i)
            if (pthread_create(&t[i], NULL, late_locker, NULL) != 0)
                return 2;
        size_t len = 8u << 20;
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED || munmap(p, len) != 0)
            return 2;
        pthread_barrier_wait(&b);
        pthread_barrier_wait(&b);
        int mapped = 0;
        for (size_t off = 0; off < len; off += 4096) {
            unsigned char v;
            if (mincore(p + off, 4096, &v) == 0)
                ++mapped;
        }
        pthread_barrier_wait(&b);
        for (int i = 0; i < N; ++i)
            pthread_join(t[i], NULL);
        printf("pages of the unmapped 8 MiB mapped again after %d threads' first lock: %d\n", N, mapped);
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "limit")) {
        pthread_mutex_lock(&m);
        pthread_mutex_unlock(&m);
        struct rlimit rl = {800u << 20, 800u << 20};
        int r = setrlimit(RLIMIT_AS, &rl);
        enum { N = 50 };
        pthread_t t[N];
        int made = 0;
        for (; made < N; ++made)
            if (pthread_create(&t[made], NULL, locker, NULL) != 0)
                break;
        for (int i = 0; i < made; ++i)
            pthread_join(t[i], NULL);
        printf("setrlimit(RLIMIT_AS, 800 MB) = %d; threads created after it: %d of %d\n", r, made, N);
        return 0;
    }
    fprintf(stderr, "usage: life_addr_space hole|limit\n");
    return 2;
}
