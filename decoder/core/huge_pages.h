// Memory for the model's big arrays in huge pages.
//
// A trace of ten million events fills close to a gigabyte of fresh memory
// (events, per-lock event lists, holds).  Every page the process touches for
// the first time costs a page fault and, on virtual machines that shadow the
// guest's page tables, an exit to the hypervisor: filling the same megabytes
// in 4 KiB pages measured 40 times slower than in 2 MiB pages.  The kernel
// gives huge pages only where the program asks (THP "madvise" mode) and only
// for whole 2 MiB-aligned ranges, which malloc's big blocks seldom are, so
// arrays of 2 MiB and more get mappings of their own, aligned and advised.
// Smaller ones come from operator new as usual: a small trace uses no more
// memory than before.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

namespace lt {

// From this size on an array gets a huge-page mapping of its own.
constexpr size_t kHugePage = size_t(2) << 20;

// `bytes` (at least kHugePage) rounded up to whole huge pages, 2 MiB-aligned
// and advised for huge pages; throws std::bad_alloc when the system has no
// room.  Pages are only backed once touched.
void* huge_map(size_t bytes);
void huge_unmap(void* p, size_t bytes);
// Asks for huge pages in the 2 MiB-aligned part of [p, p + bytes) (memory the
// caller got elsewhere); does nothing for a smaller range.
void advise_huge(void* p, size_t bytes);

template <class T> struct HugePageAllocator {
    using value_type = T;
    HugePageAllocator() = default;
    template <class U> HugePageAllocator(const HugePageAllocator<U>&) {}
    T* allocate(size_t n)
    {
        if (n > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
        const size_t bytes = n * sizeof(T);
        if (bytes >= kHugePage) return static_cast<T*>(huge_map(bytes));
        return static_cast<T*>(::operator new(bytes));
    }
    void deallocate(T* p, size_t n)
    {
        const size_t bytes = n * sizeof(T);
        if (bytes >= kHugePage) huge_unmap(p, bytes);
        else ::operator delete(p);
    }
    template <class U> bool operator==(const HugePageAllocator<U>&) const { return true; }
};

// A vector that may grow to millions of elements.
template <class T> using BigVector = std::vector<T, HugePageAllocator<T>>;

} // namespace lt
