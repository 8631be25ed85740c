/*
 * Bug: invalid-lock.  The connection's mutex is destroyed by close_conn() and
 * then used by a late send_data(); glibc marks destroyed mutexes and the lock
 * fails with EINVAL, which send_data() ignores.
 */
#include "zoo.h"

struct conn {
    pthread_mutex_t lock;
    int bytes;
};

static struct conn conn;

ZOO_FN static void close_conn(struct conn *c)
{
    ZOO_CHECK(pthread_mutex_destroy(&c->lock));
}

ZOO_FN static void send_data(struct conn *c, int n)
{
    int rc = pthread_mutex_lock(&c->lock); /* BUG: destroyed */
    printf("send_data: lock returned %s\n", rc ? strerror(rc) : "0");
    c->bytes += n;
    if (rc == 0)
        pthread_mutex_unlock(&c->lock);
}

int main(void)
{
    ZOO_CHECK(pthread_mutex_init(&conn.lock, NULL));
    send_data(&conn, 1);
    close_conn(&conn);
    send_data(&conn, 2);
    return 0;
}
