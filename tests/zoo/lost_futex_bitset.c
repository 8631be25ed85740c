/*
 * Bug: lost-wakeup.  Waiters sleep with FUTEX_WAIT_BITSET, readers on bit 0
 * and writers on bit 1; the wake for readers is sent with the writers' bit,
 * matches no sleeper, and the reader sleeps forever.
 */
#include "zoo.h"

#define READERS_BIT 0x1u
#define WRITERS_BIT 0x2u

static uint32_t gate;
static int reader_tid;

ZOO_FN static void reader_wait(void)
{
    while (__atomic_load_n(&gate, __ATOMIC_ACQUIRE) == 0)
        zoo_futex(&gate, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, NULL, READERS_BIT);
}

ZOO_FN static void wake_readers(void)
{
    __atomic_store_n(&gate, 1, __ATOMIC_RELEASE);
    long n = zoo_futex(&gate, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL,
                       WRITERS_BIT); /* BUG: wrong bitset */
    printf("wake_readers: woke %ld\n", n);
}

ZOO_FN static void *reader(void *arg)
{
    (void)arg;
    printf("reader: waiting on the gate (hangs)\n");
    __atomic_store_n(&reader_tid, zoo_gettid(), __ATOMIC_RELEASE);
    fflush(stdout);
    reader_wait();
    printf("reader: done (unexpected)\n");
    return NULL;
}

int main(void)
{
    pthread_t r = zoo_spawn(reader, NULL);
    zoo_wait_asleep(&reader_tid);
    wake_readers();
    pthread_join(r, NULL);
    return 0;
}
