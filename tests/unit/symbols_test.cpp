#include "core/symbols.h"

#include <gtest/gtest.h>

TEST(Demangle, Cxx)
{
    EXPECT_EQ(lt::demangle("_ZN3foo3barEv"), "foo::bar()");
    EXPECT_EQ(lt::demangle("main"), "main");
    EXPECT_EQ(lt::demangle("_Zgarbage"), "_Zgarbage");
}

TEST(Demangle, RustLegacyHashStripped)
{
    EXPECT_EQ(lt::demangle("_ZN3std4sync5mutex14Mutex$LT$T$GT$4lock17h0123456789abcdefE"),
              "std::sync::mutex::Mutex<T>::lock");
    EXPECT_EQ(lt::demangle("_ZN4core3ptr13drop_in_place17hfedcba9876543210E"), "core::ptr::drop_in_place");
    EXPECT_EQ(lt::demangle("_ZN5hello4main28_$u7b$$u7b$closure$u7d$$u7d$17h0011223344556677E"),
              "hello::main::{{closure}}");
}
