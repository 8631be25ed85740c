// Probe sets (user, parking_lot, libc inline futex calls), their hooks, and
// the placement list.  Placement runs once at start-up; the hooks run on the
// program's threads and follow the recorder's rules (no allocation, no lock,
// no system call of their own).
#include "probes.h"

#include "../recorder.h"
#include "elf_symbols.h"
#include "engine.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <fnmatch.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

using namespace ltp;

enum role {
    ROLE_ACQUIRE,     // ATTEMPT at entry, ACQUIRED at return (or ACQUIRED/TIMEDOUT by bool result)
    ROLE_TRY_ACQUIRE, // ATTEMPT|TRY at entry, ACQUIRED if the return value is non-zero, else FAILED(EBUSY)
    ROLE_RELEASE,     // RELEASE at entry
    ROLE_UNLOCK_WAKE, // WAKE (word at entry / at return) at return: parking_lot slow unlocks
    ROLE_WAIT,        // WAIT_BEGIN at entry, WAIT_END at return (bool: false = timed out)
    ROLE_PARK,        // parking_lot_core::park: WAIT_BEGIN/WAIT_END on the key
    ROLE_UNPARK_ALL,  // parking_lot_core::unpark_all: WAKE, result = threads woken
};

struct probe {
    uint32_t id;
    role what;
    uint8_t flags;       // LT_FL_READ / WRITE
    uint8_t word_size;   // bytes of the lock word at addr (0: none)
    uint8_t cls;         // LT_PROBE_CLASS_*
    bool bool_result;    // ACQUIRE/WAIT: the function returns a bool success
    bool timeout_in_rdx; // parking_lot slow paths: Option<Instant> niche in edx
    bool entry_stack;    // unwind at entry (else at return: keeps the entry hook short)
    site s;
};

struct placement {
    uint32_t id;
    std::string set, name, module, reason;
    uint64_t addr;
    bool placed;
};

std::vector<probe *> g_probes;
// Unwinding costs microseconds: probes inside the races they watch
// (wait_for_readers) unwind at their return only.  LOCKTRACE_PROBES_ENTRY_STACKS
// = 1 unwinds at every entry, 0 at none; unset: per probe.
int g_entry_stacks = -1;
std::vector<placement> g_list;

inline uint64_t read_word(uint64_t addr, unsigned size)
{
    if (addr < 4096 || !size)
        return 0;
    switch (size) {
    case 1: return __atomic_load_n((const uint8_t *)addr, __ATOMIC_RELAXED);
    case 2: return __atomic_load_n((const uint16_t *)addr, __ATOMIC_RELAXED);
    case 4: return __atomic_load_n((const uint32_t *)addr, __ATOMIC_RELAXED);
    default: return __atomic_load_n((const uint64_t *)addr, __ATOMIC_RELAXED);
    }
}

inline uint64_t class_word(const probe *p) { return p->cls | (uint64_t)p->word_size << 8; }

/* ---- function probes --------------------------------------------------- */

uint64_t on_entry(regs *r, site *s, uint64_t sp, uint64_t *extra)
{
    probe *p = static_cast<probe *>(s->user);
    lt_tls.caller = *(const uint64_t *)sp; // the probed function's return address: the stack cache's set
    uint64_t lock = r->rdi;
    uint64_t w = read_word(lock, p->word_size);
    *extra = 0;
    if (!lt_want(LT_PRIM_PROBE))
        return w;
    uint32_t fl = p->flags;
    if (p->timeout_in_rdx && (uint32_t)r->rdx != 1000000000u) // Some(Instant): nanos < 1e9
        fl |= LT_FL_TIMED;
    uint32_t st;
    switch (p->what) {
    case ROLE_ACQUIRE:
        st = lt_record(LT_EV_ATTEMPT, LT_PRIM_PROBE, fl, (void *)lock, class_word(p), w, w, 0, p->id, LT_STACK_HERE);
        break;
    case ROLE_TRY_ACQUIRE:
        st = lt_record(LT_EV_ATTEMPT, LT_PRIM_PROBE, fl | LT_FL_TRY, (void *)lock, class_word(p), w, w, 0, p->id,
                       LT_STACK_HERE);
        break;
    case ROLE_UNLOCK_WAKE:
        st = LT_STACK_HERE; // nothing recorded yet: the WAKE at return unwinds then
        break;
    case ROLE_RELEASE:
        st = lt_record(LT_EV_RELEASE, LT_PRIM_PROBE, fl, (void *)lock, class_word(p), w, w, 0, p->id, LT_STACK_HERE);
        break;
    case ROLE_WAIT:
        st = lt_record(LT_EV_WAIT_BEGIN, LT_PRIM_PROBE, fl, (void *)lock, class_word(p), w, w, 0, p->id,
                       p->entry_stack ? LT_STACK_HERE : LT_STACK_NONE);
        if (!st)
            st = LT_STACK_HERE; // the WAIT_END unwinds instead
        break;
    case ROLE_PARK:
        st = lt_record(LT_EV_WAIT_BEGIN, LT_PRIM_PROBE, fl, (void *)lock, class_word(p), 0, 0, 0, p->id,
                       LT_STACK_HERE);
        break;
    default:
        st = 0;
    }
    *extra = st;
    return w;
}

/* The return hook needs the lock address too (rdi is gone by then): a
 * per-thread side stack, parallel to the engine's shadow stack, keeps it. */

struct pending {
    uint64_t lock, sp;
};
const unsigned PENDING_MAX = 64;
__thread pending t_pending[PENDING_MAX] __attribute__((tls_model("initial-exec")));
__thread unsigned t_pending_n __attribute__((tls_model("initial-exec")));

uint64_t entry_hook_fn(regs *r, site *s, uint64_t sp, uint64_t *extra)
{
    uint64_t w = on_entry(r, s, sp, extra);
    if (s->on_return) {
        while (t_pending_n && t_pending[t_pending_n - 1].sp <= sp)
            --t_pending_n; // frames left by longjmp
        if (t_pending_n < PENDING_MAX)
            t_pending[t_pending_n++] = {r->rdi, sp};
    }
    return w;
}

void return_hook_fn(regs *r, site *s, uint64_t before, uint64_t stack)
{
    probe *p = static_cast<probe *>(s->user);
    uint64_t sp = (uint64_t)r + sizeof(regs) + 128; // == the entry's sp
    while (t_pending_n && t_pending[t_pending_n - 1].sp < sp)
        --t_pending_n;
    if (!t_pending_n || t_pending[t_pending_n - 1].sp != sp)
        return; // entry not seen (pending stack was full): no event rather than a wrong one
    uint64_t lock = t_pending[--t_pending_n].lock;
    if (!lt_want(LT_PRIM_PROBE))
        return;
    lt_tls.caller = *(const uint64_t *)sp; // as at entry (or the engine's return pad): the stack cache's set
    uint64_t after = read_word(lock, p->word_size);
    uint32_t st = (uint32_t)stack;
    uint32_t fl = p->flags;
    bool ok = (r->rax & 0xff) != 0;
    switch (p->what) {
    case ROLE_ACQUIRE:
        if (!p->bool_result || ok)
            lt_record(LT_EV_ACQUIRED, LT_PRIM_PROBE, fl, (void *)lock, class_word(p), before, after, 0, p->id, st);
        else
            lt_record(LT_EV_TIMEDOUT, LT_PRIM_PROBE, fl | LT_FL_TIMED, (void *)lock, class_word(p), before, after,
                      ETIMEDOUT, p->id, st);
        break;
    case ROLE_TRY_ACQUIRE:
        if (ok)
            lt_record(LT_EV_ACQUIRED, LT_PRIM_PROBE, fl | LT_FL_TRY, (void *)lock, class_word(p), before, after, 0,
                      p->id, st);
        else
            lt_record(LT_EV_FAILED, LT_PRIM_PROBE, fl | LT_FL_TRY, (void *)lock, class_word(p), before, after, EBUSY,
                      p->id, st);
        break;
    case ROLE_UNLOCK_WAKE:
        lt_record(LT_EV_WAKE, LT_PRIM_PROBE, fl, (void *)lock, class_word(p), before, after, -1, p->id, st);
        break;
    case ROLE_WAIT:
        lt_record(LT_EV_WAIT_END, LT_PRIM_PROBE, fl, (void *)lock, class_word(p), before, after,
                  (!p->bool_result || ok) ? 0 : ETIMEDOUT, p->id, st);
        break;
    case ROLE_PARK: {
        // ParkResult: Unparked(token) / Invalid / TimedOut, discriminant in rax
        // (0, 1, 2: declaration order, the token has no niche).  As a wait's
        // result: 0 woken, EAGAIN the validate callback refused to sleep
        // (as a futex whose word changed), ETIMEDOUT.  The key is often the
        // lock's own address, so raw discriminants would read as errnos there.
        uint64_t d = r->rax;
        int32_t res = d == 0 ? 0 : d == 2 ? ETIMEDOUT : EAGAIN;
        lt_record(LT_EV_WAIT_END, LT_PRIM_PROBE, fl, (void *)lock, class_word(p), 0, 0, res, p->id, st);
        break;
    }
    case ROLE_UNPARK_ALL:
        lt_record(LT_EV_WAKE, LT_PRIM_PROBE, fl, (void *)lock, class_word(p), 0, 0, (int32_t)r->rax, p->id,
                  LT_STACK_HERE);
        break;
    default:
        break;
    }
}

bool needs_return(role w) { return w != ROLE_RELEASE; }

std::string module_name(int index, const std::vector<module_info> &mods)
{
    if (index < 0 || (size_t)index >= mods.size())
        return "?";
    return mods[index].path;
}

void place(probe *p, const function_symbol &f, const std::string &set, const std::vector<module_info> &mods)
{
    p->id = (uint32_t)g_list.size() + 1;
    p->s.user = p;
    p->s.id = p->id;
    p->s.on_entry = entry_hook_fn;
    p->s.on_return = needs_return(p->what) ? return_hook_fn : nullptr;
    std::string why;
    bool ok = patch_function(&p->s, f.addr, f.size, &why);
    // A placed probe's note says how its return is caught (engine.h, site::exit_note).
    g_list.push_back({p->id, set, f.demangled.empty() ? f.name : f.demangled, module_name(f.module, mods),
                      ok ? p->s.exit_note : why, f.addr, ok});
    if (ok)
        g_probes.push_back(p);
    else if (!p->s.exits)
        delete p; // (with exits planned, a failure after one exit jump went live leaves p referenced: kept)
}

/* ---- user probes: LOCKTRACE_PROBES="fn=acquire,fn2=release:8" ----------- */

struct user_spec {
    std::string pattern;
    role what;
    uint8_t size;
    bool matched = false;
};

bool parse_user(const char *env, std::vector<user_spec> *out, std::string *err)
{
    std::string s(env);
    size_t pos = 0;
    while (pos <= s.size()) {
        size_t comma = s.find(',', pos);
        std::string item = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        pos = comma == std::string::npos ? s.size() + 1 : comma + 1;
        if (item.empty())
            continue;
        size_t eq = item.find('=');
        if (eq == std::string::npos || eq == 0) {
            *err = "'" + item + "': expected FUNCTION=acquire|try_acquire|release[:BYTES]";
            return false;
        }
        user_spec u;
        u.pattern = item.substr(0, eq);
        std::string r = item.substr(eq + 1);
        u.size = 4;
        size_t colon = r.find(':');
        if (colon != std::string::npos) {
            int n = atoi(r.c_str() + colon + 1);
            if (n != 1 && n != 2 && n != 4 && n != 8) {
                *err = "'" + item + "': the word size must be 1, 2, 4 or 8 bytes";
                return false;
            }
            u.size = (uint8_t)n;
            r.resize(colon);
        }
        if (r == "acquire")
            u.what = ROLE_ACQUIRE;
        else if (r == "try_acquire")
            u.what = ROLE_TRY_ACQUIRE;
        else if (r == "release")
            u.what = ROLE_RELEASE;
        else {
            *err = "'" + item + "': unknown role '" + r + "' (acquire, try_acquire, release)";
            return false;
        }
        out->push_back(u);
    }
    return true;
}

bool user_match(const user_spec &u, const function_symbol &f)
{
    if (u.pattern == f.name || (!f.demangled.empty() && u.pattern == f.demangled))
        return true;
    if (u.pattern.find_first_of("*?[") != std::string::npos)
        return fnmatch(u.pattern.c_str(), f.name.c_str(), 0) == 0 ||
               (!f.demangled.empty() && fnmatch(u.pattern.c_str(), f.demangled.c_str(), 0) == 0);
    return false;
}

void place_user(const char *env, const std::vector<module_info> &mods, int verbose)
{
    std::vector<user_spec> specs;
    std::string err;
    if (!parse_user(env, &specs, &err)) {
        fprintf(stderr, "locktrace: LOCKTRACE_PROBES: %s; user probes off\n", err.c_str());
        return;
    }
    bool any_demangled = false;
    for (const user_spec &u : specs)
        any_demangled |= u.pattern.find("::") != std::string::npos || u.pattern.find_first_of("*?[") != std::string::npos;
    for (size_t mi = 0; mi < mods.size(); ++mi) {
        // libc, libunwind and ourselves are never user lock code.
        if (mods[mi].path.find("liblocktrace") != std::string::npos)
            continue;
        auto fns = module_functions(
            mods[mi], (int)mi,
            [&](const char *name) {
                if (any_demangled && name[0] == '_' && name[1] == 'Z')
                    return true;
                for (const user_spec &u : specs)
                    if (u.pattern == name || fnmatch(u.pattern.c_str(), name, 0) == 0)
                        return true;
                return false;
            },
            any_demangled);
        for (const function_symbol &f : fns)
            for (user_spec &u : specs)
                if (user_match(u, f)) {
                    u.matched = true;
                    probe *p = new probe();
                    p->what = u.what;
                    p->flags = LT_FL_WRITE;
                    p->word_size = u.size;
                    p->cls = LT_PROBE_CLASS_USER;
                    p->bool_result = false;
                    p->timeout_in_rdx = false;
                    p->entry_stack = true;
                    place(p, f, "user", mods);
                    break;
                }
    }
    for (const user_spec &u : specs)
        if (!u.matched) {
            g_list.push_back({0, "user", u.pattern, "", "no function of that name in the executable or its libraries",
                              0, false});
            if (verbose)
                fprintf(stderr, "locktrace: probe %s: no such function\n", u.pattern.c_str());
        }
}

/* ---- built-in: parking_lot ---------------------------------------------- */

struct builtin {
    const char *name; // demangled, hash dropped
    role what;
    uint8_t flags;
    uint8_t cls;
    uint8_t size;
    bool bool_result;
    bool timeout_in_rdx;
    bool entry_stack; // wait_for_readers sits inside the race it watches: unwind at its return only
};

// parking_lot's fast paths are inlined into the program and invisible: the
// probes see only slow paths.  So they record no holds (an ACQUIRED without
// its fast-path RELEASE would invent owners): a slow lock is a wait on the
// lock (WAIT_BEGIN .. WAIT_END, result 0 or ETIMEDOUT), a slow unlock a WAKE
// carrying the word before and after.  The decoder reads the word.
const builtin k_parking_lot[] = {
    {"parking_lot::raw_rwlock::RawRwLock::lock_exclusive_slow", ROLE_WAIT, LT_FL_WRITE, LT_PROBE_CLASS_PL_RWLOCK, 8, true, true, true},
    {"parking_lot::raw_rwlock::RawRwLock::lock_shared_slow", ROLE_WAIT, LT_FL_READ, LT_PROBE_CLASS_PL_RWLOCK, 8, true, false, true},
    {"parking_lot::raw_rwlock::RawRwLock::lock_upgradable_slow", ROLE_WAIT, LT_FL_READ, LT_PROBE_CLASS_PL_RWLOCK, 8, true, true, true},
    {"parking_lot::raw_rwlock::RawRwLock::upgrade_slow", ROLE_WAIT, LT_FL_WRITE, LT_PROBE_CLASS_PL_RWLOCK, 8, true, true, true},
    {"parking_lot::raw_rwlock::RawRwLock::wait_for_readers", ROLE_WAIT, LT_FL_WRITE, LT_PROBE_CLASS_PL_RWLOCK, 8, true, true, false},
    {"parking_lot::raw_rwlock::RawRwLock::unlock_exclusive_slow", ROLE_UNLOCK_WAKE, LT_FL_WRITE, LT_PROBE_CLASS_PL_RWLOCK, 8, false, false, true},
    {"parking_lot::raw_rwlock::RawRwLock::unlock_shared_slow", ROLE_UNLOCK_WAKE, LT_FL_READ, LT_PROBE_CLASS_PL_RWLOCK, 8, false, false, true},
    {"parking_lot::raw_rwlock::RawRwLock::unlock_upgradable_slow", ROLE_UNLOCK_WAKE, LT_FL_READ, LT_PROBE_CLASS_PL_RWLOCK, 8, false, false, true},
    {"parking_lot::raw_mutex::RawMutex::lock_slow", ROLE_WAIT, LT_FL_WRITE, LT_PROBE_CLASS_PL_MUTEX, 1, true, true, true},
    {"parking_lot::raw_mutex::RawMutex::unlock_slow", ROLE_UNLOCK_WAKE, LT_FL_WRITE, LT_PROBE_CLASS_PL_MUTEX, 1, false, false, true},
    {"parking_lot_core::parking_lot::park", ROLE_PARK, 0, LT_PROBE_CLASS_PL_PARK, 0, false, false, true},
    {"parking_lot_core::parking_lot::unpark_all", ROLE_UNPARK_ALL, 0, LT_PROBE_CLASS_PL_PARK, 0, false, false, true},
};

// RawMutex's fast paths (lock, try_lock, unlock, ...) are real functions only
// in builds that do not inline (Rust's debug profile).  Probing them records
// holds, so the decoder knows who holds each mutex, but only if *every*
// acquisition and release goes through them: one inlined copy would leave a
// hold without its release (an invented owner) or the reverse.
#define PL_RAW_MUTEX "<parking_lot::raw_mutex::RawMutex as lock_api::mutex::"
const builtin k_pl_mutex_holds[] = {
    {PL_RAW_MUTEX "RawMutex>::lock", ROLE_ACQUIRE, LT_FL_WRITE, LT_PROBE_CLASS_PL_MUTEX, 1, false, false, true},
    {PL_RAW_MUTEX "RawMutex>::try_lock", ROLE_TRY_ACQUIRE, LT_FL_WRITE, LT_PROBE_CLASS_PL_MUTEX, 1, true, false, true},
    {PL_RAW_MUTEX "RawMutex>::unlock", ROLE_RELEASE, LT_FL_WRITE, LT_PROBE_CLASS_PL_MUTEX, 1, false, false, true},
    {PL_RAW_MUTEX "RawMutexFair>::unlock_fair", ROLE_RELEASE, LT_FL_WRITE, LT_PROBE_CLASS_PL_MUTEX, 1, false, false, true},
    {PL_RAW_MUTEX "RawMutexTimed>::try_lock_for", ROLE_ACQUIRE, LT_FL_WRITE | LT_FL_TIMED, LT_PROBE_CLASS_PL_MUTEX, 1, true, false, true},
    {PL_RAW_MUTEX "RawMutexTimed>::try_lock_until", ROLE_ACQUIRE, LT_FL_WRITE | LT_FL_TIMED, LT_PROBE_CLASS_PL_MUTEX, 1, true, false, true},
};

// Why RawMutex's hold probes cannot be trusted in this module, or "" if they
// can: every direct call or jump to lock_slow / unlock_slow (each inlined copy
// of a fast path contains one) must come from inside a probed fast path.
std::string pl_holds_refusal(const module_info &m, int mi, uint64_t lock_slow, uint64_t unlock_slow,
                             const std::vector<const function_symbol *> &holds, bool condvar)
{
    if (condvar)
        return "parking_lot::Condvar is linked in, and it hands the mutex to a woken waiter without lock()";
    if (!lock_slow || !unlock_slow)
        return "RawMutex::lock_slow / unlock_slow not found, so the call sites cannot be checked";
    auto all = module_functions(m, mi, [](const char *) { return true; }, false);
    for (const function_symbol &f : all) {
        const uint8_t *b = (const uint8_t *)f.addr;
        for (uint64_t i = 0; f.size >= 5 && i + 5 <= f.size; ++i) {
            if (b[i] != 0xe8 && b[i] != 0xe9)
                continue;
            int32_t rel;
            memcpy(&rel, b + i + 1, 4);
            uint64_t t = f.addr + i + 5 + (int64_t)rel;
            if (t != lock_slow && t != unlock_slow)
                continue;
            uint64_t at = f.addr + i;
            bool inside = false;
            for (const function_symbol *h : holds)
                inside |= at >= h->addr && at < h->addr + h->size;
            if (!inside) {
                char where[40];
                snprintf(where, sizeof where, "0x%llx", (unsigned long long)at);
                return "a fast path is inlined: " + std::string(f.name) + " calls " +
                       (t == lock_slow ? "lock_slow" : "unlock_slow") + " at " + where +
                       " (its uncontended lock/unlock would go unseen)";
            }
        }
    }
    return "";
}

probe *builtin_probe(const builtin &b)
{
    probe *p = new probe();
    p->what = b.what;
    p->flags = b.flags;
    p->cls = b.cls;
    p->word_size = b.size;
    p->bool_result = b.bool_result;
    p->timeout_in_rdx = b.timeout_in_rdx;
    p->entry_stack = g_entry_stacks < 0 ? b.entry_stack : g_entry_stacks != 0;
    // parking_lot's functions take and return integers and pointers (locks,
    // Option<Instant>, Duration, tokens, bools): the light register save.
    p->s.scalar_abi = true;
    return p;
}

void place_parking_lot(const std::vector<module_info> &mods)
{
    bool seen[sizeof k_parking_lot / sizeof *k_parking_lot] = {};
    bool any_module = false, any_holds = false, any_lock_slow = false;
    for (size_t mi = 0; mi < mods.size(); ++mi) {
        if (mods[mi].path.find("liblocktrace") != std::string::npos || mods[mi].path.find("/libc.so") != std::string::npos)
            continue;
        auto fns = module_functions(
            mods[mi], (int)mi,
            [](const char *name) {
                return strstr(name, "11parking_lot") || strstr(name, "16parking_lot_core") ||
                       strstr(name, "$LT$parking_lot..raw_mutex..RawMutex$u20$as$u20$lock_api..mutex..");
            },
            true);
        if (!fns.empty())
            any_module = true;
        uint64_t lock_slow = 0, unlock_slow = 0;
        bool condvar = false;
        std::vector<const function_symbol *> holds;
        std::vector<size_t> hold_kind;
        for (const function_symbol &f : fns) {
            if (f.demangled == "parking_lot::raw_mutex::RawMutex::lock_slow")
                lock_slow = f.addr;
            else if (f.demangled == "parking_lot::raw_mutex::RawMutex::unlock_slow")
                unlock_slow = f.addr;
            else if (f.demangled.rfind("parking_lot::condvar::Condvar::", 0) == 0)
                condvar = true;
            for (size_t k = 0; k < sizeof k_pl_mutex_holds / sizeof *k_pl_mutex_holds; ++k)
                if (f.demangled == k_pl_mutex_holds[k].name) {
                    holds.push_back(&f);
                    hold_kind.push_back(k);
                }
            for (size_t k = 0; k < sizeof k_parking_lot / sizeof *k_parking_lot; ++k) {
                const builtin &b = k_parking_lot[k];
                if (f.demangled != b.name)
                    continue;
                seen[k] = true;
                place(builtin_probe(b), f, "parking_lot", mods);
            }
        }
        any_lock_slow |= lock_slow != 0;
        if (holds.empty())
            continue;
        any_holds = true;
        std::string why = pl_holds_refusal(mods[mi], (int)mi, lock_slow, unlock_slow, holds, condvar);
        for (size_t i = 0; i < holds.size(); ++i) {
            if (why.empty())
                place(builtin_probe(k_pl_mutex_holds[hold_kind[i]]), *holds[i], "parking_lot", mods);
            else
                g_list.push_back({0, "parking_lot", holds[i]->demangled, module_name(holds[i]->module, mods),
                                  "holds not recorded: " + why, holds[i]->addr, false});
        }
    }
    if (!any_module)
        return; // no parking_lot in this process: nothing to say
    for (size_t k = 0; k < sizeof k_parking_lot / sizeof *k_parking_lot; ++k)
        if (!seen[k])
            g_list.push_back({0, "parking_lot", k_parking_lot[k].name, "", "not present (inlined into its callers or unused)",
                              0, false});
    if (any_lock_slow && !any_holds)
        g_list.push_back({0, "parking_lot", PL_RAW_MUTEX "RawMutex>::lock, unlock, ...", "",
                          "not present: RawMutex's fast paths are inlined into the program, so holds (owners) are not "
                          "recorded, only slow-path waits and unlocks",
                          0, false});
}

/* ---- libc's inline futex calls ------------------------------------------ */

struct futex_site {
    site s;
};

enum fkind { FK_OTHER, FK_WAIT, FK_WAKE, FK_REQUEUE };

fkind futex_kind(int cmd)
{
    switch (cmd) {
    case FUTEX_WAIT: case FUTEX_WAIT_BITSET: case FUTEX_LOCK_PI: case FUTEX_LOCK_PI2: case FUTEX_TRYLOCK_PI:
    case FUTEX_WAIT_REQUEUE_PI:
        return FK_WAIT;
    case FUTEX_WAKE: case FUTEX_WAKE_BITSET: case FUTEX_WAKE_OP: case FUTEX_UNLOCK_PI:
        return FK_WAKE;
    case FUTEX_REQUEUE: case FUTEX_CMP_REQUEUE: case FUTEX_CMP_REQUEUE_PI:
        return FK_REQUEUE;
    default:
        return FK_OTHER;
    }
}

inline uint64_t futex_word(uint64_t a) { return (a < 4096 || (a & 3)) ? 0 : __atomic_load_n((const uint32_t *)a, __ATOMIC_RELAXED); }

inline uint32_t futex_flags(int op, uint64_t timeout)
{
    uint32_t fl = LT_FL_INTERNAL;
    if (op & FUTEX_CLOCK_REALTIME)
        fl |= LT_FL_REALTIME;
    int cmd = op & FUTEX_CMD_MASK;
    if (cmd == FUTEX_TRYLOCK_PI)
        fl |= LT_FL_TRY;
    else if (futex_kind(cmd) == FK_WAIT && timeout)
        fl |= LT_FL_TIMED;
    return fl;
}

// A wait's WAIT_END reuses its WAIT_BEGIN's stack.  The key is the saved
// registers' address, the same before and after one syscall: a signal
// handler's futex call in between has another one and leaves the after-event
// of the interrupted call without a stack rather than with a wrong one.
struct futex_stack_memo {
    uint64_t key;
    uint32_t id;
};
__thread futex_stack_memo t_futex_stack __attribute__((tls_model("initial-exec")));

void futex_before(regs *r, site *)
{
    if (r->rax != 202 || !lt_want(LT_PRIM_FUTEX)) // eax is the syscall number at this point
        return;
    int op = (int)r->rsi;
    if (futex_kind(op & FUTEX_CMD_MASK) != FK_WAIT)
        return;
    uint64_t vals = (uint32_t)r->rdx | (uint64_t)(uint32_t)r->r9 << 32;
    // The stack walk goes through ltp_syscall_pad's CFI into the libc
    // function that made the call, and on to the program's code.
    uint32_t st = lt_record(LT_EV_WAIT_BEGIN, LT_PRIM_FUTEX, futex_flags(op, r->r10), (void *)r->rdi, r->r8,
                            futex_word(r->rdi), vals, 0, (uint32_t)op, LT_STACK_HERE);
    t_futex_stack = {(uint64_t)r, st};
}

void futex_after(regs *r, site *)
{
    // rax now holds the result; the arguments are intact (the kernel keeps them).
    if (!lt_want(LT_PRIM_FUTEX))
        return;
    int op = (int)r->rsi;
    fkind k = futex_kind(op & FUTEX_CMD_MASK);
    if (k == FK_OTHER)
        return;
    uint64_t vals = (uint32_t)r->rdx | (uint64_t)(uint32_t)r->r9 << 32;
    int32_t res = (int32_t)(int64_t)r->rax; // result or -errno, as the format wants
    lt_event_type t = k == FK_WAIT ? LT_EV_WAIT_END : k == FK_WAKE ? LT_EV_WAKE : LT_EV_REQUEUE;
    uint32_t st = LT_STACK_HERE;
    if (k == FK_WAIT) {
        st = t_futex_stack.key == (uint64_t)r && t_futex_stack.id ? t_futex_stack.id : LT_STACK_NONE;
        t_futex_stack = {0, 0};
    }
    lt_record(t, LT_PRIM_FUTEX, futex_flags(op, r->r10), (void *)r->rdi, r->r8, futex_word(r->rdi), vals, res,
              (uint32_t)op, st);
}

// Is `mov` an instruction boundary?  Decodes each function from its start
// (without detail: fast), resuming where the previous site of the same
// function left off (sites come in address order).
struct boundary_walk {
    csh fast;
    cs_insn *fin;
    uint64_t fn = 0, addr = 0;
    const uint8_t *code = nullptr;
    size_t left = 0;

    bool at(uint64_t mov, uint64_t fn_lo, uint64_t fn_hi)
    {
        if (fn_lo != fn || mov < addr) {
            fn = fn_lo;
            code = (const uint8_t *)fn_lo;
            left = fn_hi - fn_lo;
            addr = fn_lo;
        }
        while (left && addr <= mov) {
            if (!cs_disasm_iter(fast, &code, &left, &addr, fin)) {
                left = 0;
                return false;
            }
            if (fin->address == mov)
                return true;
        }
        return false;
    }
};

// Walks forward from the mov to the syscall; stops at anything that writes
// eax or branches.  False if the mov itself does not decode; *sys = 0 if no
// syscall follows in straight-line code.
bool syscall_after_mov(csh cs, cs_insn *in, uint64_t mov, uint64_t fn_hi, uint64_t *sys)
{
    const uint8_t *code = (const uint8_t *)mov;
    size_t left = fn_hi - mov;
    uint64_t addr = mov;
    *sys = 0;
    if (!cs_disasm_iter(cs, &code, &left, &addr, in)) // the mov itself
        return false;
    for (int k = 0; k < 8 && left; ++k) {
        if (!cs_disasm_iter(cs, &code, &left, &addr, in))
            break;
        if (in->id == X86_INS_SYSCALL) {
            *sys = in->address;
            break;
        }
        cs_regs rr, rw;
        uint8_t nr = 0, nw = 0;
        bool bad = cs_regs_access(cs, in, rr, &nr, rw, &nw) != CS_ERR_OK;
        for (uint8_t q = 0; q < nw && !bad; ++q)
            bad = rw[q] == X86_REG_EAX || rw[q] == X86_REG_RAX || rw[q] == X86_REG_AX || rw[q] == X86_REG_AL;
        for (uint8_t g = 0; g < in->detail->groups_count && !bad; ++g)
            bad = in->detail->groups[g] == CS_GRP_JUMP || in->detail->groups[g] == CS_GRP_CALL ||
                  in->detail->groups[g] == CS_GRP_RET;
        if (bad)
            break;
    }
    return true;
}

// One libc futex site: placed (or refused) and listed.
void place_futex_site(const module_info *libc, uint64_t fn_lo, uint64_t fn_hi, uint64_t mov, uint64_t sys,
                      int verbose)
{
    char label[64];
    snprintf(label, sizeof label, "libc+0x%llx", (unsigned long long)(mov - libc->base));
    if (!sys) {
        if (verbose > 1)
            g_list.push_back({0, "libc-futex", label, libc->path, "no syscall in straight-line code after mov $202,%eax", mov, false});
        return;
    }
    futex_site *fs = new futex_site();
    fs->s.before_syscall = futex_before;
    fs->s.after_syscall = futex_after;
    fs->s.user = fs;
    uint32_t id = (uint32_t)g_list.size() + 1;
    fs->s.id = id;
    std::string err;
    bool ok = patch_syscall(&fs->s, fn_lo, fn_hi, mov, sys, &err);
    // Placed sites say where the syscall runs when it is not in libc's own code.
    std::string note = !ok ? err : fs->s.after_tramp ? std::string() : "syscall runs in the trampoline: " + fs->s.split_note;
    g_list.push_back({id, "libc-futex", label, libc->path, note, mov, ok});
    if (!ok && !fs->s.split_broken)
        delete fs;
}

// `mov $202,%eax` followed, in straight-line code that leaves eax alone, by
// `syscall`: glibc's INTERNAL_SYSCALL(futex, ...) pattern.
void place_libc_futex(const std::vector<module_info> &mods, int verbose)
{
    const module_info *libc = nullptr;
    for (size_t i = 0; i < mods.size(); ++i)
        if (mods[i].path.find("/libc.so") != std::string::npos)
            libc = &mods[i];
    if (!libc || !libc->text_lo)
        return;
    std::string why;
    if (!engine_init(&why))
        return;
    csh cs;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
        return;
    cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
    cs_insn *in = cs_malloc(cs);
    boundary_walk walk;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &walk.fast) != CS_ERR_OK) {
        cs_free(in, 1);
        cs_close(&cs);
        return;
    }
    walk.fin = cs_malloc(walk.fast);
    static const uint8_t pat[5] = {0xb8, 0xca, 0x00, 0x00, 0x00};
    const uint8_t *text = (const uint8_t *)libc->text_lo;
    size_t n = libc->text_hi - libc->text_lo;
    for (size_t i = 0; i + 7 <= n; ++i) {
        const uint8_t *hit = (const uint8_t *)memchr(text + i, 0xb8, n - i - 6);
        if (!hit)
            break;
        i = (size_t)(hit - text);
        if (memcmp(hit, pat, 5) != 0)
            continue;
        uint64_t mov = (uint64_t)hit, fn_lo, fn_hi, sys;
        if (!function_bounds(*libc, mov, &fn_lo, &fn_hi) || !walk.at(mov, fn_lo, fn_hi) ||
            !syscall_after_mov(cs, in, mov, fn_hi, &sys))
            continue;
        place_futex_site(libc, fn_lo, fn_hi, mov, sys, verbose);
        if (sys)
            i = (size_t)(sys + 1 - libc->text_lo);
    }
    cs_free(in, 1);
    cs_free(walk.fin, 1);
    cs_close(&cs);
    cs_close(&walk.fast);
}

int env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    long x = strtol(v, &end, 10);
    if (*end) {
        fprintf(stderr, "locktrace: %s=%s: not a number, using %d\n", name, v, dflt);
        return dflt;
    }
    return (int)x;
}

uint64_t cpu_ns()
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t now_ns()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

} // namespace

extern "C" void lt_probes_init(const char *trace_path)
{
    static bool done;
    if (done)
        return;
    done = true;
    lt_mute_guard mute; // our own libc calls are not the program's
    int verbose = env_int("LOCKTRACE_PROBES_VERBOSE", 0);
    int builtin = env_int("LOCKTRACE_PROBES_BUILTIN", 1);
    int libc_futex = env_int("LOCKTRACE_LIBC_FUTEX", 0);
    g_entry_stacks = env_int("LOCKTRACE_PROBES_ENTRY_STACKS", -1);
    const char *user = getenv("LOCKTRACE_PROBES");
    uint64_t t0 = now_ns(), c0 = cpu_ns();
    std::string why;
    if (!engine_init(&why)) {
        fprintf(stderr, "locktrace: probes off: %s\n", why.c_str());
        return;
    }
    std::vector<module_info> mods = loaded_modules();
    if (user && *user)
        place_user(user, mods, verbose);
    if (builtin)
        place_parking_lot(mods);
    uint64_t t1 = now_ns();
    if (libc_futex)
        place_libc_futex(mods, verbose);
    uint64_t t2 = now_ns(), c2 = cpu_ns();

    unsigned placed = 0, refused = 0;
    for (const placement &p : g_list)
        (p.placed ? placed : refused)++;
    char summary[256];
    snprintf(summary, sizeof summary,
             "probes: %u placed, %u refused; functions %.2f ms, libc futex sites %s %.2f ms (wall); %.2f ms CPU; "
             "trampolines %llu KiB",
             placed, refused, (t1 - t0) / 1e6, libc_futex ? "on" : "off", (t2 - t1) / 1e6, (c2 - c0) / 1e6,
             (unsigned long long)(trampoline_bytes() / 1024));
    FILE *side = nullptr;
    if (trace_path && *trace_path && !g_list.empty()) {
        std::string path = std::string(trace_path) + ".probes";
        side = fopen(path.c_str(), "we");
    }
    if (side)
        fprintf(side, "# locktrace probe placement\n# %s\n# id\tstatus\tset\taddress\tfunction\tmodule\treason\n", summary);
    for (const placement &p : g_list) {
        if (side)
            fprintf(side, "%u\t%s\t%s\t0x%llx\t%s\t%s\t%s\n", p.id, p.placed ? "placed" : "refused", p.set.c_str(),
                    (unsigned long long)p.addr, p.name.c_str(), p.module.c_str(), p.reason.c_str());
        if (verbose && (verbose > 1 || p.set != "libc-futex" || !p.placed))
            fprintf(stderr, "locktrace: probe %u %s %s %s%s%s%s\n", p.id, p.placed ? "placed" : "REFUSED", p.set.c_str(),
                    p.name.c_str(), p.reason.empty() ? "" : p.placed ? " (" : ": ", p.reason.c_str(),
                    p.placed && !p.reason.empty() ? ")" : "");
    }
    if (side)
        fclose(side);
    if (verbose)
        fprintf(stderr, "locktrace: %s\n", summary);
}
