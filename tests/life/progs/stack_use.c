/* How much stack a thread's first lock calls take, measured by painting the
 * thread's stack and looking for the deepest byte that changed.  Run in a
 * fresh fork child, so that under the shim this first call also creates the
 * child's trace file (the deepest path a PTHREAD_STACK_MIN thread must
 * fit), and in the parent again, where only the thread's own set-up is
 * left.  Prints "child N" and "parent N" (bytes); exits 0 if all ran.
 *   life_stack_use */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define STACK_BYTES (256 * 1024)
#define PAINT 0xa5

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void *first_locks(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&m);
    return NULL;
}

/* Bytes of the painted stack the thread touched (stacks grow down). */
static long measure(void)
{
    uint8_t *stack = mmap(NULL, STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED)
        return -1;
    memset(stack, PAINT, STACK_BYTES);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstack(&a, stack, STACK_BYTES);
    pthread_t t;
    if (pthread_create(&t, &a, first_locks, NULL) != 0)
        return -1;
    pthread_join(t, NULL);
    pthread_attr_destroy(&a);
    long lowest = 0;
    while (lowest < STACK_BYTES && stack[lowest] == PAINT)
        ++lowest;
    munmap(stack, STACK_BYTES);
    return STACK_BYTES - lowest;
}

int main(void)
{
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        long used = measure();
        printf("child %ld\n", used);
        fflush(stdout);
        _exit(used > 0 ? 0 : 1);
    }
    int st;
    if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return 1;
    long used = measure();
    printf("parent %ld\n", used);
    return used > 0 ? 0 : 1;
}
