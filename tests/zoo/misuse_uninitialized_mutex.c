/*
 * Bug: invalid-lock (never initialized).  A session is malloc'd and its mutex
 * used without pthread_mutex_init; the memory holds leftovers (filled with
 * 0xa5 here, as a debugging allocator does).  glibc refuses the lock with
 * EINVAL, which the program ignores, so the session is never protected.
 */
#include "zoo.h"

struct session {
    pthread_mutex_t lock; /* BUG: never initialized */
    long requests;
};

ZOO_FN static struct session *open_session(void)
{
    struct session *s = malloc(sizeof *s);
    if (!s) abort();
    memset(s, 0xa5, sizeof *s); /* what was in that memory before */
    s->requests = 0;
    return s;
}

ZOO_FN static void count_request(struct session *s)
{
    pthread_mutex_lock(&s->lock); /* return value ignored */
    s->requests++;
    pthread_mutex_unlock(&s->lock);
}

int main(void)
{
    struct session *s = open_session();
    count_request(s);
    count_request(s);
    printf("main: %ld requests counted without a lock\n", s->requests);
    free(s);
    return 0;
}
