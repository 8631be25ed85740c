// Bug: deadlock, in an optimized build (-O2, no frame pointers).  transfer()
// takes two std::lock_guard<std::mutex>, the source account's first; two
// tellers transfer in opposite directions and a barrier forces the cycle.
// The std::mutex and std::lock_guard code is inlined into transfer(): the
// report must still name transfer() with the line of each lock_guard.
#include <cstdio>
#include <mutex>
#include <pthread.h>
#include <thread>

struct Account {
    std::mutex m;
    long balance = 100;
};

static Account accounts[2];
static pthread_barrier_t both_hold_one;

__attribute__((noinline)) void transfer(Account& from, Account& to, long amount)
{
    std::lock_guard<std::mutex> source(from.m); // site: source_lock
    pthread_barrier_wait(&both_hold_one);
    std::lock_guard<std::mutex> target(to.m); // site: target_lock
    from.balance -= amount;
    to.balance += amount;
}

int main()
{
    pthread_barrier_init(&both_hold_one, nullptr, 2);
    std::printf("main: two tellers transfer in opposite directions (hangs)\n");
    std::fflush(stdout);
    std::thread a([] { transfer(accounts[0], accounts[1], 10); });
    std::thread b([] { transfer(accounts[1], accounts[0], 20); });
    a.join();
    b.join();
}
