// Bug: deadlock.  Two std::mutex taken in opposite orders (through
// std::lock_guard) by move_left() and move_right(); a barrier forces the cycle.
#include <cstdio>
#include <mutex>
#include <pthread.h>
#include <thread>

namespace {
std::mutex left_mutex, right_mutex;
pthread_barrier_t both_hold_one;

__attribute__((noinline)) void move_left()
{
    std::lock_guard<std::mutex> r(right_mutex);
    pthread_barrier_wait(&both_hold_one);
    std::lock_guard<std::mutex> l(left_mutex);
}

__attribute__((noinline)) void move_right()
{
    std::lock_guard<std::mutex> l(left_mutex);
    pthread_barrier_wait(&both_hold_one);
    std::lock_guard<std::mutex> r(right_mutex);
}
} // namespace

int main()
{
    pthread_barrier_init(&both_hold_one, nullptr, 2);
    std::printf("main: left=%p right=%p (hangs)\n", (void *)&left_mutex, (void *)&right_mutex);
    std::fflush(stdout);
    std::thread a(move_left), b(move_right);
    a.join();
    b.join();
}
