/* Preloaded before liblocktrace (tests/life case killed_while_creating): the
 * first fallocate of the process, which is the shim reserving its new trace
 * file's tables, first creates the file named by LIFE_SLOW_MARK and then
 * waits LIFE_SLOW_SECONDS, so that the test can kill the process while its
 * trace is being made. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int fallocate(int fd, int mode, off_t off, off_t len)
{
    static int calls;
    int (*real)(int, int, off_t, off_t) = (int (*)(int, int, off_t, off_t))dlsym(RTLD_NEXT, "fallocate");
    if (calls++ == 0) {
        const char *mark = getenv("LIFE_SLOW_MARK"), *secs = getenv("LIFE_SLOW_SECONDS");
        if (mark)
            close(open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        if (secs)
            sleep((unsigned)atoi(secs));
    }
    return real(fd, mode, off, len);
}
