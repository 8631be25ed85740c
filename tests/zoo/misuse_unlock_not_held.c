/*
 * Bug: unlock-not-held.  close_file() unlocks the file mutex on its error
 * path although it never locked it (a normal mutex: glibc does not notice).
 */
#include "zoo.h"

static pthread_mutex_t file_lock = PTHREAD_MUTEX_INITIALIZER;

ZOO_FN static int close_file(int fd)
{
    if (fd < 0) {
        pthread_mutex_unlock(&file_lock); /* BUG: not locked here */
        return -1;
    }
    ZOO_CHECK(pthread_mutex_lock(&file_lock));
    pthread_mutex_unlock(&file_lock);
    return 0;
}

int main(void)
{
    close_file(3);
    close_file(-1);
    printf("main: finished\n");
    return 0;
}
