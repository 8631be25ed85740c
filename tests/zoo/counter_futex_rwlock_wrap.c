/*
 * Bug: counter-overflow in a hand-rolled futex reader-writer lock.  The lock
 * word counts readers; a writer waits until it drops to zero.  One error path
 * releases a read lock it never took, so the count wraps from 0 to
 * 0xffffffff and the writer sleeps on a count that will never reach zero.
 */
#include "zoo.h"

static uint32_t readers; /* number of readers inside */
static uint32_t writer_flag; /* 1 while the (single) writer wants or holds it */

ZOO_FN static void read_unlock(void)
{
    if (__atomic_sub_fetch(&readers, 1, __ATOMIC_RELEASE) == 0)
        zoo_futex_wake(&readers, INT_MAX);
}

ZOO_FN static void read_lock(void)
{
    for (;;) {
        while (__atomic_load_n(&writer_flag, __ATOMIC_ACQUIRE))
            zoo_futex_wait(&writer_flag, 1);
        __atomic_fetch_add(&readers, 1, __ATOMIC_SEQ_CST);
        if (!__atomic_load_n(&writer_flag, __ATOMIC_SEQ_CST))
            return;
        read_unlock(); /* a writer came in between: let it go first */
    }
}

ZOO_FN static void write_lock(void)
{
    __atomic_store_n(&writer_flag, 1, __ATOMIC_SEQ_CST);
    uint32_t n;
    while ((n = __atomic_load_n(&readers, __ATOMIC_ACQUIRE)) != 0)
        zoo_futex_wait(&readers, n);
}

ZOO_FN static void write_unlock(void)
{
    __atomic_store_n(&writer_flag, 0, __ATOMIC_RELEASE);
    zoo_futex_wake(&writer_flag, INT_MAX);
}

ZOO_FN static int parse_config(int ok)
{
    if (!ok) {
        read_unlock(); /* BUG: error path releases a lock it never took */
        return -1;
    }
    read_lock();
    read_unlock();
    return 0;
}

ZOO_FN static void *reader_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++) {
        read_lock();
        zoo_sleep_ms(20);
        read_unlock();
    }
    return NULL;
}

ZOO_FN static void *writer_thread(void *arg)
{
    (void)arg;
    printf("writer_thread: waiting for readers to leave (hangs: count is %u)\n",
           __atomic_load_n(&readers, __ATOMIC_RELAXED));
    fflush(stdout);
    write_lock();
    printf("writer_thread: done (unexpected)\n");
    return NULL;
}

int main(void)
{
    /* A healthy phase in which a writer really waits for a reader, so the
     * word is seen in the kernel with ordinary small counts. */
    pthread_t r = zoo_spawn(reader_thread, NULL);
    zoo_sleep_ms(5);
    write_lock();
    write_unlock();
    pthread_join(r, NULL);
    parse_config(1);
    parse_config(0);
    pthread_join(zoo_spawn(writer_thread, NULL), NULL);
    return 0;
}
