/*
 * A mutex holder blocked in read() on a socket whose peer waits for that
 * mutex: "worker" takes state_lock and waits for a reply on its end of a
 * socket pair; "replier" must take state_lock before it writes the reply.
 * Hangs for ever.  With the argument "tcp", the two ends are a TCP
 * connection over 127.0.0.1 instead of a unix socket pair.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static int sv[2];
static int worker_tid;

__attribute__((noinline)) static void wait_for_reply(void)
{
    char buf[16];
    pthread_mutex_lock(&state_lock);
    __atomic_store_n(&worker_tid, (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
    ssize_t n = read(sv[0], buf, sizeof buf); /* BUG: waits holding state_lock */
    (void)n;
    pthread_mutex_unlock(&state_lock);
}

static void *worker_main(void *arg)
{
    (void)arg;
    wait_for_reply();
    return NULL;
}

/* Until thread `tid` sleeps in read (state S, system call 0). */
static void wait_in_read(int tid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
    for (;;) {
        FILE *f = fopen(path, "r");
        if (f) {
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            buf[n] = 0;
            if (strncmp(buf, "0 ", 2) == 0) return;
        }
        usleep(1000);
    }
}

__attribute__((noinline)) static void send_reply(void)
{
    pthread_mutex_lock(&state_lock);
    ssize_t n = write(sv[1], "ok", 2);
    (void)n;
    pthread_mutex_unlock(&state_lock);
}

static void *replier_main(void *arg)
{
    (void)arg;
    int t;
    while (!(t = __atomic_load_n(&worker_tid, __ATOMIC_ACQUIRE))) usleep(1000);
    wait_in_read(t);
    send_reply();
    return NULL;
}

/* A connected pair of TCP sockets over the loopback. */
static int tcp_pair(int fds[2])
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &len))
        return -1;
    fds[1] = socket(AF_INET, SOCK_STREAM, 0);
    if (fds[1] < 0 || connect(fds[1], (struct sockaddr *)&a, sizeof a)) return -1;
    fds[0] = accept(l, NULL, NULL);
    close(l);
    return fds[0] < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    int tcp = argc > 1 && strcmp(argv[1], "tcp") == 0;
    if ((tcp ? tcp_pair(sv) : socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) != 0) return 2;
    pthread_t w, r;
    pthread_create(&w, NULL, worker_main, NULL);
    pthread_setname_np(w, "worker");
    pthread_create(&r, NULL, replier_main, NULL);
    pthread_setname_np(r, "replier");
    printf("hangs: worker reads holding state_lock, replier waits for it\n");
    pthread_join(w, NULL);
    pthread_join(r, NULL);
    return 0;
}
