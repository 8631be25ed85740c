// Bug: lock-order-inversion with std::mutex that did not hang this run:
// deposit() locks ledger then audit_log, rotate_log() locks audit_log then
// ledger.  The threads run one after the other, so the program exits 0.
#include <cstdio>
#include <mutex>
#include <thread>

namespace {
std::mutex ledger_mutex, audit_mutex;
long ledger, audit_lines;

__attribute__((noinline)) void deposit()
{
    std::lock_guard<std::mutex> l(ledger_mutex);
    std::lock_guard<std::mutex> a(audit_mutex);
    ledger += 10;
    audit_lines++;
}

__attribute__((noinline)) void rotate_log()
{
    std::lock_guard<std::mutex> a(audit_mutex);
    std::lock_guard<std::mutex> l(ledger_mutex);
    audit_lines = 0;
}
} // namespace

int main()
{
    std::thread(deposit).join();
    std::thread(rotate_log).join();
    std::printf("inversion_cxx_mutex: ledger %ld, finished without hanging\n", ledger);
    return 0;
}
