// Helpers shared by the files of the live view (live_view.h): /proc files,
// process memory, the address space, stacks, descriptors.  Not for use
// outside core/live_*.cpp.
#pragma once

#include "live_view.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lt::live {

constexpr size_t kMaxThreads = 4096;
constexpr size_t kMaxFrames = 64;

// A small /proc file, or false with errno set.
bool slurp(const std::string& path, std::string* out);
std::string trim(std::string s);
std::string hex(uint64_t v);
// process_vm_readv of [addr, addr + len) of `pid`, all or nothing (errno set).
bool read_mem(int32_t pid, uint64_t addr, void* out, size_t len);

struct Mapping {
    uint64_t lo, hi;
    bool exec;
};
std::vector<Mapping> read_maps(int32_t pid);
// Return addresses found on the stack from `sp` up, at most `max`.
std::vector<uint64_t> scan_stack(int32_t pid, const std::vector<Mapping>& maps, uint64_t sp, size_t max);
// Every thread's stack, from its sp and pc, with `in_malloc`, and the view's
// malloc arenas (live_unwind.cpp).
void unwind_stacks(int32_t pid, LiveView& v);
// The same from the watchdog's copies of the stacks and its `map` lines.
void unwind_copied_stacks(LiveView& v);

// What the descriptors of I/O waits are, with the tables read once per view (live_fds.cpp).
struct Descriptors {
    explicit Descriptors(int32_t pid);
    ~Descriptors();
    Descriptors(const Descriptors&) = delete;
    Descriptors& operator=(const Descriptors&) = delete;
    // Fills t.fds for an I/O wait.
    void describe_io(LiveThread& t);
    // The watchdog's view: the descriptors are the ones it listed
    // (`links`, fd -> target), its I/O waits' fds already in t.fds; says
    // what each of those is.
    Descriptors(int32_t pid, const std::vector<std::pair<int, std::string>>& links);
    void describe_listed(LiveThread& t);

private:
    struct Impl;
    Impl* impl_;
};
bool is_io_call(int64_t nr);

} // namespace lt::live
