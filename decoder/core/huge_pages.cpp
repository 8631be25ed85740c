#include "huge_pages.h"

#include <cstdint>
#include <sys/mman.h>

namespace lt {

namespace {
size_t whole_huge_pages(size_t bytes)
{
    return (bytes + kHugePage - 1) & ~(kHugePage - 1);
}
} // namespace

void* huge_map(size_t bytes)
{
    const size_t len = whole_huge_pages(bytes);
    if (len < bytes || len + kHugePage < len) throw std::bad_alloc();
    // Map one huge page more and cut off what lies outside the aligned range.
    void* raw = mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const uintptr_t r = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t a = (r + kHugePage - 1) & ~uintptr_t(kHugePage - 1);
    if (a > r) munmap(raw, a - r);
    const uintptr_t tail = r + len + kHugePage - (a + len);
    if (tail) munmap(reinterpret_cast<void*>(a + len), tail);
    madvise(reinterpret_cast<void*>(a), len, MADV_HUGEPAGE);
    return reinterpret_cast<void*>(a);
}

void huge_unmap(void* p, size_t bytes)
{
    munmap(p, whole_huge_pages(bytes));
}

void advise_huge(void* p, size_t bytes)
{
    const uintptr_t b = (reinterpret_cast<uintptr_t>(p) + kHugePage - 1) & ~uintptr_t(kHugePage - 1);
    const uintptr_t e = (reinterpret_cast<uintptr_t>(p) + bytes) & ~uintptr_t(kHugePage - 1);
    if (e > b) madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE);
}

} // namespace lt
