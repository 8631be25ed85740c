// The user's site of a stack (present/user_site.h): which frames count as
// libraries, and the first frame past them.
#include "present/user_site.h"

#include <gtest/gtest.h>

namespace {

lt::Frame frame(const std::string& function, const std::string& file, const std::string& module = "/srv/app/bank",
                bool inlined = false)
{
    lt::Frame f;
    f.function = function;
    f.file = file;
    f.line = 7;
    f.module = module;
    f.inlined = inlined;
    return f;
}

TEST(UserSite, LibraryFrames)
{
    using lt::is_library_frame;
    // C++ standard library headers inlined into the program.
    EXPECT_TRUE(is_library_frame(frame("__gthread_mutex_lock", "/usr/include/x86_64-linux-gnu/c++/12/bits/gthr-default.h")));
    EXPECT_TRUE(is_library_frame(frame("std::mutex::lock()", "/usr/include/c++/12/bits/std_mutex.h", "/srv/app/bank", true)));
    // The C library, by its build tree and by its module.
    EXPECT_TRUE(is_library_frame(frame("___pthread_mutex_lock", "./nptl/pthread_mutex_lock.c", "/usr/lib/x86_64-linux-gnu/libc.so.6")));
    EXPECT_TRUE(is_library_frame(frame("lock_it", "/build/glibc/lock.c", "/lib/x86_64-linux-gnu/libc.so.6")));
    // Rust's standard library, wherever its sources were when it was built.
    EXPECT_TRUE(is_library_frame(frame("std::sys::sync::mutex::futex::Mutex::lock", "/rustc/90b35a6/library/std/src/sys/sync/mutex/futex.rs")));
    EXPECT_TRUE(is_library_frame(frame("poisoned_lock", "library/std/src/sync/poison/mutex.rs")));
    // Lock libraries.
    EXPECT_TRUE(is_library_frame(frame("parking_lot::raw_mutex::RawMutex::lock_slow", "/home/u/.cargo/registry/src/index.crates.io-6f17d22bba15001f/parking_lot-0.12.3/src/raw_mutex.rs")));
    EXPECT_TRUE(is_library_frame(frame("lock_api::mutex::Mutex<R,T>::lock", "/home/u/.cargo/registry/src/x/lock_api-0.4.12/src/mutex.rs")));
    EXPECT_TRUE(is_library_frame(frame("absl::Mutex::Lock()", "/src/abseil-cpp/absl/synchronization/mutex.cc")));
    EXPECT_TRUE(is_library_frame(frame("folly::SharedMutexImpl<false>::lock()", "/src/folly/folly/SharedMutex.h")));
    EXPECT_TRUE(is_library_frame(frame("g_mutex_lock", "../glib/gthread-posix.c", "/usr/lib/x86_64-linux-gnu/libglib-2.0.so.0")));
    // locktrace's own recorder.
    EXPECT_TRUE(is_library_frame(frame("lt_hook", "/src/locktrace/preload/hooks.c", "/usr/lib/liblocktrace.so")));
    // Nothing known of it, not even its module.
    EXPECT_TRUE(is_library_frame(frame("", "", "")));
    // A stripped library's frame: its module says whose it is.
    EXPECT_TRUE(is_library_frame(frame("", "", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6")));
    EXPECT_TRUE(is_library_frame(frame("pthread_mutex_lock", "", "/usr/lib/x86_64-linux-gnu/libc.so.6")));
    // A stripped program's own frames: a name from its symbol table only,
    // or not even that (quoted as bank+0x1234).
    EXPECT_FALSE(is_library_frame(frame("transfer", "")));
    EXPECT_FALSE(is_library_frame(frame("", "")));
    // Rust's standard library linked into a stripped program, by its names.
    EXPECT_TRUE(is_library_frame(frame("std::sys::sync::mutex::futex::Mutex::lock_contended", "")));
    // The program's own code, inlined or not.
    EXPECT_FALSE(is_library_frame(frame("transfer(Account&, Account&, long)", "/srv/app/src/bank.cpp")));
    EXPECT_FALSE(is_library_frame(frame("finish_request", "/srv/app/src/server.cpp", "/srv/app/bank", true)));
    EXPECT_FALSE(is_library_frame(frame("s02::post_entry", "/srv/app/src/main.rs")));
}

TEST(UserSite, SkipPatternsMatchFunctionFileOrModule)
{
    using lt::is_library_frame;
    const lt::Frame f = frame("app::locks::Guarded<T>::lock()", "/srv/app/src/locks/guarded.h", "/srv/app/libapplocks.so");
    EXPECT_FALSE(is_library_frame(f, {"transfer", "*.rs"}));
    EXPECT_TRUE(is_library_frame(f, {"app::locks::*"}));          // function
    EXPECT_TRUE(is_library_frame(f, {"guarded.h"}));              // file, by its base name
    EXPECT_TRUE(is_library_frame(f, {"/srv/app/src/locks/*"}));   // file, whole path
    EXPECT_TRUE(is_library_frame(f, {"libapplocks*"}));           // module
}

TEST(UserSite, FirstFramePastTheLibraries)
{
    const std::vector<lt::Frame> stack = {
        frame("__gthread_mutex_lock", "/usr/include/x86_64-linux-gnu/c++/12/bits/gthr-default.h", "/srv/app/bank", true),
        frame("std::lock_guard<std::mutex>::lock_guard(std::mutex&)", "/usr/include/c++/12/bits/std_mutex.h",
              "/srv/app/bank", true),
        frame("lock_account(Account&)", "/srv/app/src/account.h", "/srv/app/bank", true),
        frame("transfer(Account&, Account&, long)", "/srv/app/src/bank.cpp"),
        frame("start_thread", "./nptl/pthread_create.c", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
    };
    ASSERT_NE(lt::user_frame(stack), nullptr);
    EXPECT_EQ(lt::user_frame(stack)->function, "lock_account(Account&)");
    ASSERT_NE(lt::user_frame(stack, {"lock_account*"}), nullptr);
    EXPECT_EQ(lt::user_frame(stack, {"lock_account*"})->function, "transfer(Account&, Account&, long)");
    EXPECT_EQ(lt::user_frame(stack, {"*.cpp", "*.h"}), nullptr);
    EXPECT_EQ(lt::user_frame({}), nullptr);
}

TEST(UserSite, StrippedProgramQuotedByModuleAndOffset)
{
    lt::Frame own = frame("", "");
    own.offset = 0x1234;
    const std::vector<lt::Frame> stack = {
        frame("pthread_mutex_lock", "", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
        own,
        frame("start_thread", "", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
    };
    ASSERT_NE(lt::user_frame(stack), nullptr);
    EXPECT_EQ(lt::user_frame(stack)->to_string(), "bank+0x1234");
}

} // namespace
