// Bug: deadlock through two std::shared_mutex.  publish() takes the index
// exclusively and then reads the catalog; refresh() takes the catalog
// exclusively and then reads the index.  A writer blocks every reader, so the
// two threads wait for each other.
#include <cstdio>
#include <mutex>
#include <pthread.h>
#include <shared_mutex>
#include <thread>

namespace {
std::shared_mutex index_mutex, catalog_mutex;
pthread_barrier_t both_hold_one;

__attribute__((noinline)) void publish()
{
    std::unique_lock<std::shared_mutex> w(index_mutex);
    pthread_barrier_wait(&both_hold_one);
    std::shared_lock<std::shared_mutex> r(catalog_mutex);
}

__attribute__((noinline)) void refresh()
{
    std::unique_lock<std::shared_mutex> w(catalog_mutex);
    pthread_barrier_wait(&both_hold_one);
    std::shared_lock<std::shared_mutex> r(index_mutex);
}
} // namespace

int main()
{
    pthread_barrier_init(&both_hold_one, nullptr, 2);
    std::printf("main: index=%p catalog=%p (hangs)\n", (void *)&index_mutex,
                (void *)&catalog_mutex);
    std::fflush(stdout);
    std::thread a(publish), b(refresh);
    a.join();
    b.join();
}
