// Healthy: std::mutex, std::shared_mutex, std::condition_variable with a
// predicate, std::scoped_lock over two mutexes (deadlock-free ordering), and
// std::recursive_mutex.  Must produce no error or warning.
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

namespace {
std::shared_mutex table_mutex;
std::mutex a_mutex, b_mutex, q_mutex;
std::recursive_mutex rec_mutex;
std::condition_variable q_cv;
int table[32];
int queue_len;
bool done;

__attribute__((noinline)) void recursive_touch(int depth)
{
    std::lock_guard<std::recursive_mutex> g(rec_mutex);
    if (depth > 0)
        recursive_touch(depth - 1);
}

__attribute__((noinline)) void worker(int id)
{
    for (int i = 0; i < 500; i++) {
        {
            std::shared_lock<std::shared_mutex> r(table_mutex);
            (void)table[(i + id) & 31];
        }
        if (i % 8 == 0) {
            std::unique_lock<std::shared_mutex> w(table_mutex);
            table[i & 31]++;
        }
        if (id % 2)
            std::scoped_lock both(a_mutex, b_mutex);
        else
            std::scoped_lock both(b_mutex, a_mutex);
        recursive_touch(2);
        {
            std::lock_guard<std::mutex> g(q_mutex);
            queue_len++;
        }
        q_cv.notify_one();
    }
}

__attribute__((noinline)) int drain()
{
    int taken = 0;
    std::unique_lock<std::mutex> g(q_mutex);
    for (;;) {
        q_cv.wait(g, [] { return queue_len > 0 || done; });
        if (queue_len == 0 && done)
            return taken;
        taken += queue_len;
        queue_len = 0;
    }
}
} // namespace

int main()
{
    int taken = 0;
    std::thread consumer([&] { taken = drain(); });
    std::vector<std::thread> ws;
    for (int i = 0; i < 4; i++)
        ws.emplace_back(worker, i);
    for (auto &t : ws)
        t.join();
    {
        std::lock_guard<std::mutex> g(q_mutex);
        done = true;
    }
    q_cv.notify_all();
    consumer.join();
    std::printf("healthy_cxx: drained %d\n", taken);
    return taken == 4 * 500 ? 0 : 1;
}
