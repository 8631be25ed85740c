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

// Symbols of a Rust 1.9x release binary; the expected spellings are binutils'
// c++filt's with the crate hashes left out.
TEST(Demangle, RustV0)
{
    EXPECT_EQ(lt::demangle("_RNvNtNtNtNtCsjrHSEGnQ3l9_3std3sys3pal4unix5futex10futex_wait"),
              "std::sys::pal::unix::futex::futex_wait");
    EXPECT_EQ(lt::demangle("_RNvMNtNtNtNtCsjrHSEGnQ3l9_3std3sys4sync5mutex5futexNtB2_5Mutex14lock_contended"),
              "<std::sys::sync::mutex::futex::Mutex>::lock_contended");
    EXPECT_EQ(lt::demangle("_RINvNtCsgEmfK2I1SDS_4core3ptr13drop_in_placeINtNtCslNYArtu3iFV_5alloc3vec3VecINtNtBL_"
                           "5boxed3BoxDINtNtNtB4_3ops8function6FnOnceuEp6OutputuNtNtB4_6marker4SendEL_EEECsjrHSEGnQ3l9_3std"),
              "core::ptr::drop_in_place::<alloc::vec::Vec<alloc::boxed::Box<dyn core::ops::function::FnOnce<(), "
              "Output = ()> + core::marker::Send>>>");
    EXPECT_EQ(lt::demangle("_RINvMs4_NtCsgY6Mt91CT9J_14rustc_demangle2v0NtB6_7Printer14print_sep_listNvB2_15print_dyn_traitEB8_"),
              "<rustc_demangle::v0::Printer>::print_sep_list::<<rustc_demangle::v0::Printer>::print_dyn_trait>");
}

TEST(Demangle, RustV0MalformedIsLeftAsIs)
{
    for (const char* bad : {"_R", "_RN", "_RNvC", "_RNvCs_3std", "_RB_", "_RBz_", "_RNvCs_3std99toolong",
                            "_RIC3fooIIIIIIIIIIII", "_R0C3foo"})
        EXPECT_EQ(lt::demangle(bad), bad) << bad;
}

TEST(MergedUsrTwin, BothWays)
{
    EXPECT_EQ(lt::merged_usr_twin("/lib/x86_64-linux-gnu/libc.so.6"), "/usr/lib/x86_64-linux-gnu/libc.so.6");
    EXPECT_EQ(lt::merged_usr_twin("/usr/lib/x86_64-linux-gnu/libc.so.6"), "/lib/x86_64-linux-gnu/libc.so.6");
    EXPECT_EQ(lt::merged_usr_twin("/lib64/ld-linux-x86-64.so.2"), "/usr/lib64/ld-linux-x86-64.so.2");
    EXPECT_EQ(lt::merged_usr_twin("/usr/bin/python3"), "/bin/python3");
    EXPECT_EQ(lt::merged_usr_twin("/sbin/init"), "/usr/sbin/init");
}

TEST(MergedUsrTwin, OtherPathsHaveNone)
{
    EXPECT_EQ(lt::merged_usr_twin("/opt/app/libapp.so"), "");
    EXPECT_EQ(lt::merged_usr_twin("/usr/local/lib/libx.so"), "");
    EXPECT_EQ(lt::merged_usr_twin("/library/x.so"), "");
    EXPECT_EQ(lt::merged_usr_twin("/usr/libexec/x"), "");
    EXPECT_EQ(lt::merged_usr_twin("relative/lib/x.so"), "");
}
