/*
 * Healthy: a heap-allocated mutex is destroyed and freed, and a new one is
 * allocated at the same address.  The first object was locked after the
 * global lock, the second before it: different locks that merely share an
 * address, so this is not a lock-order inversion.  Must stay clean.
 */
#include "zoo.h"

struct session {
    pthread_mutex_t lock;
    int hits;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

ZOO_FN static void *touch_under_registry(void *arg)
{
    struct session *s = arg;
    ZOO_CHECK(pthread_mutex_lock(&registry_lock));
    ZOO_CHECK(pthread_mutex_lock(&s->lock));
    s->hits++;
    ZOO_CHECK(pthread_mutex_unlock(&s->lock));
    ZOO_CHECK(pthread_mutex_unlock(&registry_lock));
    return NULL;
}

ZOO_FN static void *register_from_session(void *arg)
{
    struct session *s = arg;
    ZOO_CHECK(pthread_mutex_lock(&s->lock));
    ZOO_CHECK(pthread_mutex_lock(&registry_lock));
    s->hits++;
    ZOO_CHECK(pthread_mutex_unlock(&registry_lock));
    ZOO_CHECK(pthread_mutex_unlock(&s->lock));
    return NULL;
}

ZOO_FN static struct session *new_session(void)
{
    struct session *s = malloc(sizeof *s); /* malloc (not calloc) reuses the freed block */
    memset(s, 0, sizeof *s);
    ZOO_CHECK(pthread_mutex_init(&s->lock, NULL));
    return s;
}

ZOO_FN static void end_session(struct session *s)
{
    ZOO_CHECK(pthread_mutex_destroy(&s->lock));
    free(s);
}

int main(void)
{
    struct session *a = new_session();
    pthread_join(zoo_spawn(touch_under_registry, a), NULL);
    void *first = a;
    end_session(a);
    struct session *b = new_session();
    printf("healthy_heap_reuse: second session %s the first one's address\n", (void *)b == first ? "reuses" : "does not reuse");
    pthread_join(zoo_spawn(register_from_session, b), NULL);
    end_session(b);
    return 0;
}
