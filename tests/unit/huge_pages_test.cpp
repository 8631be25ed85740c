// The model's big arrays (core/huge_pages.h): from 2 MiB on, a mapping of
// their own, aligned to and advised for huge pages; smaller ones as usual.
#include "core/huge_pages.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

namespace {

// The VmFlags of the mapping of this process that holds `p` ("" if none).
std::string vm_flags_at(const void* p)
{
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    std::ifstream smaps("/proc/self/smaps");
    std::string line;
    bool inside = false;
    while (std::getline(smaps, line)) {
        unsigned long lo, hi;
        if (sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(':') > line.find(' ')) {
            inside = a >= lo && a < hi;
            continue;
        }
        if (inside && line.rfind("VmFlags:", 0) == 0) return line;
    }
    return "";
}

bool thp_configured()
{
    return std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled").good();
}

} // namespace

TEST(HugePages, BigArraysAreAlignedAndAdvised)
{
    lt::BigVector<uint32_t> v;
    v.reserve(lt::kHugePage / sizeof(uint32_t) + 1);  // just over 2 MiB: two huge pages
    ASSERT_EQ(reinterpret_cast<uintptr_t>(v.data()) % lt::kHugePage, 0u);
    if (thp_configured()) {
        EXPECT_NE(vm_flags_at(v.data()).find(" hg"), std::string::npos) << vm_flags_at(v.data());
    }
}

TEST(HugePages, SmallArraysComeFromTheHeapAsUsual)
{
    lt::BigVector<uint32_t> v(1000, 7);
    if (thp_configured()) {
        EXPECT_EQ(vm_flags_at(v.data()).find(" hg"), std::string::npos) << vm_flags_at(v.data());
    }
    EXPECT_EQ(v[999], 7u);
}

TEST(HugePages, GrowingAcrossTheThresholdKeepsEveryElement)
{
    lt::BigVector<uint64_t> v;
    const size_t n = 3 * lt::kHugePage / sizeof(uint64_t);  // doubles from the heap into mappings
    for (size_t i = 0; i < n; i++) v.push_back(i * 2654435761u);
    ASSERT_EQ(v.size(), n);
    for (size_t i = 0; i < n; i += 4093) ASSERT_EQ(v[i], i * 2654435761u);
    EXPECT_EQ(v.back(), (n - 1) * 2654435761u);
    v.clear();
    v.shrink_to_fit();  // back below the threshold: unmapped
    EXPECT_EQ(v.capacity(), 0u);
}

TEST(HugePages, AnImpossibleSizeIsABadAllocNotACrash)
{
    lt::HugePageAllocator<uint64_t> a;
    EXPECT_THROW(a.allocate(SIZE_MAX / 4), std::bad_alloc);
    EXPECT_THROW(a.allocate(size_t(1) << 60), std::bad_alloc);  // no room for 8 EiB
}
