/*
 * Bug: lost-wakeup.  The waiter sleeps with FUTEX_WAIT (process-shared key)
 * and the waker uses FUTEX_WAKE_PRIVATE: the kernel hashes the two
 * differently, the wake finds nobody, and the waiter sleeps forever.
 */
#include "zoo.h"

static uint32_t door;
static int guest_tid;

ZOO_FN static void wait_door_open(void)
{
    while (__atomic_load_n(&door, __ATOMIC_ACQUIRE) == 0)
        syscall(SYS_futex, &door, FUTEX_WAIT, 0, NULL, NULL, 0); /* shared */
}

ZOO_FN static void open_door(void)
{
    __atomic_store_n(&door, 1, __ATOMIC_RELEASE);
    long n = syscall(SYS_futex, &door, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0); /* BUG */
    printf("open_door: woke %ld\n", n);
}

ZOO_FN static void *guest(void *arg)
{
    (void)arg;
    printf("guest: waiting at the door (hangs)\n");
    __atomic_store_n(&guest_tid, zoo_gettid(), __ATOMIC_RELEASE);
    fflush(stdout);
    wait_door_open();
    printf("guest: done (unexpected)\n");
    return NULL;
}

int main(void)
{
    pthread_t g = zoo_spawn(guest, NULL);
    zoo_wait_asleep(&guest_tid);
    open_door();
    pthread_join(g, NULL);
    return 0;
}
