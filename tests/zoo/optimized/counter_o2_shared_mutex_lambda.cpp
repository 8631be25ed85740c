// Bug: counter-overflow, in an optimized build (-O2, no frame pointers).
// A lambda run by a std::thread releases the table's read lock and then calls
// finish_request(), which releases it again: each request leaves the glibc
// rwlock under the std::shared_mutex one reader lower.  After two, the count
// has wrapped and the writer waits forever for readers that do not exist.
// finish_request() is small and inlined into the lambda: the report must
// still name it, with the line of its unlock_shared().
#include <cstdio>
#include <mutex>
#include <shared_mutex>
#include <thread>

static std::shared_mutex table_mutex;
static int table[16];

static void finish_request(int key)
{
    table[key & 15]++;
    table_mutex.unlock_shared(); // site: extra_unlock
}

int main()
{
    int sum = 0;
    std::thread server([&sum] {
        for (int key = 1; key <= 2; key++) {
            table_mutex.lock_shared();
            sum += table[key];
            table_mutex.unlock_shared();
            finish_request(key); // site: inlined_call
        }
    });
    server.join();
    std::printf("main: served two requests (%d)\n", sum);
    std::fflush(stdout);
    std::thread writer([] {
        std::printf("writer: taking the write lock (hangs: the reader count wrapped)\n");
        std::fflush(stdout);
        std::lock_guard<std::shared_mutex> g(table_mutex);
        table[0]++;
    });
    writer.join();
}
