/*
 * Bug: counter-overflow.  A fixed-size name buffer sits just before a glibc
 * rwlock in the same struct; set_name() clears "the whole name" with a length
 * that is 4 bytes too long and fills the rwlock's reader word with ones: a
 * saturated reader count with the write-phase and write-locked bits set.  The
 * next reader waits forever for a writer that does not exist.
 */
#include "zoo.h"

struct session {
    char name[16];
    pthread_rwlock_t lock;
    int hits;
};

static struct session sess = {.lock = PTHREAD_RWLOCK_INITIALIZER};

ZOO_FN static void set_name(struct session *s)
{
    /* BUG: 20 > sizeof s->name; the last 4 bytes land on lock.__readers. */
    char *p = s->name;
    memset(p, 0xff, 20);
    s->name[15] = 0;
}

ZOO_FN static void *reader(void *arg)
{
    struct session *s = arg;
    int rc = pthread_rwlock_rdlock(&s->lock);
    printf("reader: rdlock returned %s\n", rc ? strerror(rc) : "0");
    if (rc == 0)
        pthread_rwlock_unlock(&s->lock);
    return NULL;
}

ZOO_FN static void *writer(void *arg)
{
    struct session *s = arg;
    printf("writer: taking the write lock (hangs)\n");
    fflush(stdout);
    ZOO_CHECK(pthread_rwlock_wrlock(&s->lock));
    s->hits++;
    pthread_rwlock_unlock(&s->lock);
    printf("writer: done (unexpected)\n");
    return NULL;
}

int main(void)
{
    pthread_join(zoo_spawn(reader, &sess), NULL); /* healthy use first */
    set_name(&sess);
    pthread_t r = zoo_spawn(reader, &sess); /* hangs */
    zoo_sleep_ms(50);
    pthread_t w = zoo_spawn(writer, &sess); /* hangs too */
    pthread_join(r, NULL);
    pthread_join(w, NULL);
    return 0;
}
