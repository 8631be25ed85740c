// pthread_cancel of a thread blocked in pthread_cond_wait, with
// LOCKTRACE_LIBC_FUTEX=1: glibc's cancellable futex wait is a patched libc
// site, and the cancellation unwinds from the interrupted syscall with
// _Unwind_ForcedUnwind.  The C++ destructor in the thread's frame and the
// cleanup handler must both run, as they do untraced: prints "ok" (exit 0)
// or what went wrong.
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include <atomic>

namespace {

pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t never = PTHREAD_COND_INITIALIZER;
std::atomic<int> destroyed{0}, cleaned{0}, waiting{0};

struct frame_guard {
    ~frame_guard() { destroyed.fetch_add(1); }
};

void unlock_on_cancel(void *)
{
    cleaned.fetch_add(1);
    pthread_mutex_unlock(&mtx);
}

void *wait_forever(void *)
{
    frame_guard g;
    pthread_mutex_lock(&mtx);
    pthread_cleanup_push(unlock_on_cancel, nullptr);
    waiting = 1;
    for (;;)
        pthread_cond_wait(&never, &mtx);
    pthread_cleanup_pop(1);
    return nullptr;
}

} // namespace

int main()
{
    pthread_t t;
    pthread_create(&t, nullptr, wait_forever, nullptr);
    while (!waiting)
        usleep(1000);
    usleep(100 * 1000); // well inside the kernel wait by now
    pthread_cancel(t);
    void *res = nullptr;
    pthread_join(t, &res);
    bool ok = res == PTHREAD_CANCELED && destroyed == 1 && cleaned == 1;
    if (pthread_mutex_trylock(&mtx) != 0)
        ok = false;
    printf("%s: canceled=%d destructor ran %d, cleanup ran %d\n", ok ? "ok" : "WRONG", res == PTHREAD_CANCELED,
           destroyed.load(), cleaned.load());
    return ok ? 0 : 1;
}
