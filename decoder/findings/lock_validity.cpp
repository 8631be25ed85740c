#include "lock_validity.h"

#include <climits>
#include <cstdio>

namespace lt {

namespace {

// glibc 2.36 __kind bits: type (0..3), robust 16, prio-inherit 32,
// prio-protect 64, process-shared 128, elision 256 / no-elision 512.
constexpr uint32_t kMutexKindBits = 0x3u | 16u | 32u | 64u | 128u | 256u | 512u;
// pthread_mutex_destroy stores -1 in __kind so that later use is caught.
constexpr uint32_t kMutexKindDestroyed = 0xffffffffu;
// PTHREAD_RWLOCK_PREFER_READER_NP, _PREFER_WRITER_NP, _PREFER_WRITER_NONRECURSIVE_NP.
constexpr uint32_t kRwlockMaxFlags = 2;

bool carries_snapshot(const Event& e)
{
    switch (e.type) {
    case LT_EV_ATTEMPT:
    case LT_EV_ACQUIRED:
    case LT_EV_FAILED:
    case LT_EV_TIMEDOUT:
    case LT_EV_RELEASE:
    case LT_EV_RELEASE_FAILED:
    case LT_EV_DESTROY:
        return true;
    default:
        return false;
    }
}

} // namespace

bool lock_word_implausible(const Event& e)
{
    if (!carries_snapshot(e)) return false;
    switch (e.prim) {
    case LT_PRIM_MUTEX: {
        uint32_t kind = uint32_t(e.addr2);
        return kind == kMutexKindDestroyed || (kind & ~kMutexKindBits) || ((kind & 32u) && (kind & 64u));
    }
    case LT_PRIM_RWLOCK: return uint32_t(e.addr2 >> 32) > kRwlockMaxFlags;
    case LT_PRIM_SEM: return uint32_t(e.state[0]) > uint32_t(INT_MAX);
    default: return false;
    }
}

std::string implausible_lock_word(const Event& e)
{
    if (!lock_word_implausible(e)) return "";
    char buf[200];
    switch (e.prim) {
    case LT_PRIM_MUTEX: {
        uint32_t kind = uint32_t(e.addr2);
        if (kind == kMutexKindDestroyed) {
            snprintf(buf, sizeof buf, "its type word (__kind) reads -1, the value pthread_mutex_destroy leaves behind");
            return buf;
        }
        bool pi_and_pp = (kind & 32u) && (kind & 64u);
        if ((kind & ~kMutexKindBits) || pi_and_pp) {
            snprintf(buf, sizeof buf, "its type word (__kind) reads 0x%08x, with bits no pthread_mutex_init sets", kind);
            return buf;
        }
        return "";
    }
    case LT_PRIM_RWLOCK: {
        uint32_t flags = uint32_t(e.addr2 >> 32);
        if (flags > kRwlockMaxFlags) {
            snprintf(buf, sizeof buf,
                     "its preference word (__flags) reads 0x%08x, where pthread_rwlock_init only writes 0, 1 or 2",
                     flags);
            return buf;
        }
        return "";
    }
    case LT_PRIM_SEM: {
        uint32_t value = uint32_t(e.state[0]);
        if (value > uint32_t(INT_MAX)) {  // SEM_VALUE_MAX
            snprintf(buf, sizeof buf, "its value reads %u, above SEM_VALUE_MAX (%d)", value, INT_MAX);
            return buf;
        }
        return "";
    }
    default:
        return "";
    }
}

} // namespace lt
