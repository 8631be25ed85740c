#include "life.h"

#include "book.h"
#include "clock.h"
#include "config.h"
#include "env.h"
#include "modules.h"
#include "real.h"
#include "stacks.h"
#include "state.h"
#include "tracefile.h"
#include "watchdog.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool g_exit_known;
static int g_exit_status;
static bool g_once_done;
static bool g_forked_child; /* set in a fork child until its own file exists */

static void before_fork(void);
static void after_fork_parent(void);
static void after_fork_child(void);

static void once_per_process_image(void)
{
    if (g_once_done)
        return;
    g_once_done = true;
    // Registered from the first lock call or our constructor, so before the
    // program's own handlers: the child has its own file before they run.
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
    lt_stacks_setup();
    lt_clock_setup(getenv("LOCKTRACE_CLOCK"));
}

/* The set-up below needs kilobytes of stack (libc's formatted printing,
 * dl_iterate_phdr, libunwind and file set-up), and its first call can come
 * from any thread: a fork child's first lock call may be made on a
 * PTHREAD_STACK_MIN thread that has no room for it.  So it runs on a stack of
 * its own.  Only the thread that moved lt_init_state from NONE to RUNNING
 * ever uses it, so one static stack is enough (fork children get their copy). */
alignas(64) static uint8_t g_init_stack[64 * 1024];

/* Calls fn on the stack whose top is `top`.  The caller's frame pointer stays
 * in %rbp, so a debugger or unwinder walks from fn back onto the thread's own
 * stack; %rbx keeps the thread's %rsp. */
static __attribute__((noinline)) bool call_on_stack(bool (*fn)(void), void *top)
{
    bool r;
    __asm__ volatile("movq %%rsp, %%rbx\n\t"
                     "movq %[top], %%rsp\n\t"
                     "callq *%[fn]\n\t"
                     "movq %%rbx, %%rsp"
                     : "=a"(r)
                     : [fn] "r"(fn), [top] "r"(top)
                     : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc", "xmm0", "xmm1",
                       "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
                       "xmm13", "xmm14", "xmm15");
    return r;
}

static bool init_body(void);
static void write_inherited_table(void);

bool lt_init(void)
{
    int s = __atomic_load_n(&lt_init_state, __ATOMIC_ACQUIRE);
    if (LT_LIKELY(s == LT_INIT_READY))
        return true;
    if (s != LT_INIT_NONE)
        return false;
    if (!__atomic_compare_exchange_n(&lt_init_state, &s, LT_INIT_RUNNING, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return s == LT_INIT_READY;
    // open/read below are cancellation points; a lock call is not one.
    int cancel_state;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
    bool ok = call_on_stack(init_body, g_init_stack + sizeof g_init_stack);
    pthread_setcancelstate(cancel_state, nullptr);
    return ok;
}

/* The process's trace: memory of its own first (slot controls, ring and
 * unwind cache reservations, kept by a fork child), then a new file. */
static bool make_trace(void)
{
    if (!lt_slots_prepare())
        return false;
    if (!lt_g.ring_area) {
        lt_rings_reserve();
        lt_stacks_reserve_caches();
    }
    once_per_process_image();
    if (!lt_trace_create())
        return false;
    lt_g.hdr->clock = lt_clock_kind();
    lt_clock_anchors_reset();
    lt_clock_anchor(true);
    lt_modules_refresh();
    write_inherited_table();
    return lt_trace_publish();
}

static bool init_body(void)
{
    lt_mute_guard mute;
    lt_errno_guard keep_errno;
    // A fork child has its parent's lookups: redoing them cost ~0.2 ms a
    // child (dladdr scans glibc's symbol table, for each hook bound to the
    // next library only when one sits between us and glibc).
    if (!g_forked_child)
        lt_resolve();
    // A fork child comes back here on its first event: it keeps the
    // parent's configuration and control array.
    static bool config_loaded;
    if (!config_loaded) {
        lt_config_load(&lt_g.cfg);
        config_loaded = true;
        if (!lt_g.cfg.follow_exec)
            lt_strip_preload_env();
    }
    bool ok = make_trace();
    if (!ok)
        lt_trace_give_up();
    __atomic_store_n(&lt_families_active, ok ? (lt_g.cfg.families | LT_FAMILIES_ALWAYS) : 0u, __ATOMIC_RELEASE);
    __atomic_store_n(&lt_init_state, ok ? LT_INIT_READY : LT_INIT_OFF, __ATOMIC_RELEASE);
    if (ok && g_forked_child) {
        g_forked_child = false;
        lt_watchdog_after_fork(); // the parent's watchdog thread did not survive fork
    }
    return ok;
}

void lt_note_exit_status(int status)
{
    g_exit_status = status;
    g_exit_known = true;
}

static bool g_handed_over;

bool lt_exec_hand_over(const char *next_argv0)
{
    if (__atomic_load_n(&lt_init_state, __ATOMIC_ACQUIRE) != LT_INIT_READY || lt_strip_exec)
        return false;
    lt_mute_guard mute;
    lt_errno_guard keep_errno;
    if (lt_tls.ctl)
        lt_book_flush(lt_tls.ctl);
    g_handed_over = lt_trace_hand_over(next_argv0);
    return g_handed_over;
}

void lt_exec_failed(void)
{
    if (!g_handed_over)
        return;
    lt_mute_guard mute;
    lt_errno_guard keep_errno;
    g_handed_over = false;
    lt_trace_take_back();
}

void lt_stamp_end(void)
{
    if (__atomic_load_n(&lt_init_state, __ATOMIC_ACQUIRE) != LT_INIT_READY || !g_exit_known)
        return;
    {
        lt_mute_guard mute;
        lt_errno_guard keep_errno;
        if (lt_trace_remove_if_silent())
            return;
    }
    if (lt_tls.ctl)
        lt_book_flush(lt_tls.ctl); // other threads still running lose theirs: their counts are lower bounds
    lt_g.hdr->exit_status = g_exit_status;
    lt_clock_anchor(true);
    __atomic_store_n(&lt_g.hdr->end_monotonic_ns, lt_now(), __ATOMIC_RELEASE);
}

/* Runs late in exit(): after the program's atexit handlers and destructors,
 * so their lock traffic is inside [start, end]. */
__attribute__((destructor)) static void stamp_end_at_exit(void) { lt_stamp_end(); }

/* Locks the threads of the parent held at the moment of fork, from their
 * held sets (struct lt_book): the child holds them too, and nobody in it but
 * the forking thread can ever release them.  Made in the parent before the
 * fork system call (in the child the parent's books are shared with the
 * still running parent, which may already have released them), with the
 * stack that took each (the child's stack table starts empty).  The child
 * writes them into its file's inherited table before publishing it
 * (write_inherited_table), and the recorder writes the forking thread's
 * own as ACQUIRED (LT_FL_INTERNAL) right after its THREAD_START
 * (lt_inherited_locks_take), so the child's history is complete. */
struct parent_lock {
    lt_inherited_lock e;
    uint32_t npc;
    uint64_t pc[LT_MAX_STACK_DEPTH];
};
static const uint32_t k_parent_locks_max = 256;
static parent_lock g_parent[k_parent_locks_max];
static uint32_t g_parent_n;
static uint64_t g_parent_overflow;
static lt_inherited g_inherited[LT_HELD_MAX];
static uint32_t g_inherited_n;
static int g_inherited_tid;

static bool seen_before(uint32_t n, int32_t tid, uint64_t addr)
{
    for (uint32_t k = 0; k < n; ++k)
        if (g_parent[k].e.tid == tid && g_parent[k].e.addr == addr)
            return true;
    return false;
}

static void note_thread_locks(const lt_tctl *c, const lt_thread *slot, bool forker)
{
    const lt_book *b = c->book;
    uint32_t n = __atomic_load_n(&b->held_count, __ATOMIC_ACQUIRE);
    for (uint32_t k = 0; k < n && k < LT_HELD_MAX; ++k) {
        const lt_held *h = &b->held[k];
        uint64_t seq = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
        if (!seq || seq == LT_HELD_BUSY)
            continue;
        lt_held copy = *h;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&h->seq, __ATOMIC_RELAXED) != seq || seen_before(g_parent_n, slot->tid, copy.addr))
            continue;
        if (g_parent_n == k_parent_locks_max) {
            ++g_parent_overflow;
            continue;
        }
        parent_lock &p = g_parent[g_parent_n++];
        p.e = lt_inherited_lock{};
        p.e.addr = copy.addr;
        p.e.time_ns = copy.time_ns;
        p.e.tid = slot->tid;
        p.e.depth = copy.depth;
        p.e.prim = copy.prim;
        p.e.mode = copy.mode;
        p.e.forker = forker;
        p.npc = lt_stack_copy(copy.stack_id, p.pc, LT_MAX_STACK_DEPTH);
    }
}

static void note_held_locks(void)
{
    g_parent_n = 0;
    g_parent_overflow = 0;
    lt_trace &g = lt_g;

    uint32_t used = __atomic_load_n(&g.hdr->threads_used, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < used; ++i) {
        const lt_thread *slot = &g.threads[i];
        uint32_t st = __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE);
        const lt_tctl *c = &g.ctl[i];
        if ((st == LT_SLOT_LIVE || st == LT_SLOT_EXITED) && c->book)
            note_thread_locks(c, slot, c == lt_tls.ctl);
    }
}

/* In the child, once its file exists (before it is published). */
static void write_inherited_table(void)
{
    lt_file_header *h = lt_g.hdr;
    lt_inherited_lock *table = (lt_inherited_lock *)((uint8_t *)h + h->inherited_offset);
    uint32_t n = 0;
    g_inherited_n = 0;
    for (uint32_t k = 0; k < g_parent_n; ++k) {
        parent_lock &p = g_parent[k];
        p.e.stack_id = lt_stack_intern(p.pc, p.npc);
        if (p.e.forker && g_inherited_n < LT_HELD_MAX)
            g_inherited[g_inherited_n++] = {p.e.addr, p.e.prim, p.e.mode, p.e.depth, p.e.stack_id};
        if (n < h->inherited_capacity)
            table[n++] = p.e;
        else
            ++g_parent_overflow;
    }
    h->inherited_count = n;

    h->inherited_overflow = g_parent_overflow;
    g_parent_n = 0;
}

uint32_t lt_inherited_locks_take(const lt_inherited **list)
{
    if (!g_inherited_n || g_inherited_tid != (int)gettid())
        return 0;
    uint32_t n = g_inherited_n;
    g_inherited_n = 0;
    *list = g_inherited;
    return n;
}

/* The list of held locks is made in the parent before the fork system call:
 * in the child the parent's ring is shared with the still running parent,
 * which may already have released them.  Our fork hook makes it before the
 * real fork and mutes the thread through the atfork handlers (the program's
 * and its libraries': jemalloc locks every arena in its prepare handler and
 * unlocks them in the child's): their lock traffic, seen in one process and
 * not the other, would read as locks held by nobody.  A fork libc makes
 * internally comes here through our prepare handler only.  g_inherited_owner
 * (the forking thread's tid) keeps two threads forking at once apart: the
 * second one's child simply inherits no list. */
static int g_inherited_owner;
static __thread uint8_t t_in_fork_hook __attribute__((tls_model("initial-exec")));
/* This thread made the list (it may have recorded nothing yet: no slot). */
static __thread uint8_t t_made_list __attribute__((tls_model("initial-exec")));

static void take_held_locks(void)
{
    int me = (int)gettid(), none = 0;
    if (!__atomic_compare_exchange_n(&g_inherited_owner, &none, me, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
    g_parent_n = 0;
    t_made_list = 1;
    if (__atomic_load_n(&lt_init_state, __ATOMIC_ACQUIRE) == LT_INIT_READY)
        note_held_locks();
}

static void drop_held_locks(void)
{
    int me = (int)gettid();
    t_made_list = 0;
    __atomic_compare_exchange_n(&g_inherited_owner, &me, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static void before_fork(void)
{
    if (!t_in_fork_hook)
        take_held_locks();
}

static void after_fork_parent(void)
{
    if (!t_in_fork_hook)
        drop_held_locks();
}

/* In the child of fork: only the forking thread survives.  Drop every mapping
 * of the parent's file (it must never see a write from us) and start a fresh
 * file for the new pid. */
static void after_fork_child(void)
{
    if (__atomic_load_n(&lt_init_state, __ATOMIC_ACQUIRE) != LT_INIT_READY) {
        // Fork while another thread was initialising: that thread is gone.
        if (__atomic_load_n(&lt_init_state, __ATOMIC_ACQUIRE) == LT_INIT_RUNNING) {
            __atomic_store_n(&lt_families_active, 0u, __ATOMIC_RELEASE);
            __atomic_store_n(&lt_init_state, LT_INIT_OFF, __ATOMIC_RELEASE);
        }
        return;
    }
    lt_mute_guard mute;
    lt_errno_guard keep_errno;
    lt_trace &g = lt_g;
    // The list made before the fork is ours if this thread made it.
    if (t_made_list)
        g_inherited_tid = (int)gettid();
    else
        g_parent_n = 0;
    t_made_list = 0;
    g_inherited_n = 0;
    g_inherited_owner = 0;
    lt_trace_drop_after_fork();
    lt_stacks_after_fork();
    lt_tls.ctl = nullptr;
    lt_tls.depth = 0;
    lt_tls.off = 0;
    lt_modules_reset_after_fork();
    if (!g.cfg.follow_fork) {
        lt_strip_exec = true;
        lt_strip_preload_env();
        __atomic_store_n(&lt_families_active, 0u, __ATOMIC_RELEASE);
        __atomic_store_n(&lt_init_state, LT_INIT_OFF, __ATOMIC_RELEASE);
        return;
    }
    g_forked_child = true;
    // The child's own file is created by its first event (lt_init), so a
    // child that only execs or exits leaves no empty trace behind.
    __atomic_store_n(&lt_families_active, ~0u, __ATOMIC_RELEASE);
    __atomic_store_n(&lt_init_state, LT_INIT_NONE, __ATOMIC_RELEASE);
}

void lt_fork_prepare(void)
{
    // The child's first event must not allocate (another thread may hold
    // malloc's lock at a _Fork): learn this thread's stack now.
    lt_thread_stack_prepare();
    take_held_locks();
    t_in_fork_hook = 1;
    ++lt_tls.mute;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

void lt_fork_done(bool child)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    --lt_tls.mute;
    t_in_fork_hook = 0;
    if (!child)
        drop_held_locks();
}

void lt_fork_child(void) { after_fork_child(); }
