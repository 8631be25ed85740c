/*
 * locktrace on-disk trace format, version 3 (the decoder reads versions 1 and 2 too).
 *
 * This header, with probe_classes.h beside it, is all the shim (preload/) and
 * the decoder (decoder/) share.  It is documented for users in
 * man/locktrace-format.5; keep the two in step and bump LT_FORMAT_VERSION on
 * any incompatible change.
 *
 * A trace is one file, written through a MAP_SHARED mapping by the traced
 * process, so that it survives SIGKILL and can be read while the process is
 * still running.  All integers are little-endian (x86-64 native), all offsets
 * are in bytes from the start of the file.
 *
 *   [0, LT_HEADER_SIZE)            struct lt_file_header
 *   thread_table_offset            thread_table_capacity x struct lt_thread
 *   module_table_offset            module_table_capacity x struct lt_module
 *   stack_table_offset             stack_table_capacity  x stack entry
 *                                  (struct lt_stack_entry + stack_depth_max pcs)
 *   order_table_offset             order_table_capacity x struct lt_order_pair
 *   lives_offset                   lives_capacity x struct lt_lock_life
 *   inherited_offset               inherited_capacity x struct lt_inherited_lock
 *   anchors_offset                 anchors_capacity x struct lt_clock_anchor (version 3)
 *   rings ...                      one ring per thread slot, allocated on demand
 *                                  between rings_offset and file_end, each
 *                                  followed by its slot's struct lt_book
 *                                  (lt_thread.book_offset)
 *
 * Concurrency rules (what the reader may rely on):
 *   - Every ring has exactly one writer: its thread (and that thread's signal
 *     handlers, which nest).  A writer reserves record index i by storing
 *     head = i + 1, clears slot.seq, writes the record, and commits it by a
 *     release-store of slot.seq = i + 1.  A record is valid iff its seq equals
 *     its index + 1 both before and after the reader copies it.
 *   - A record reserved but never committed (process killed mid-write) is
 *     "torn"; the reader reports it and goes on.
 *   - Records older than head - capacity were overwritten (flight recorder);
 *     their number is head - capacity.
 *   - Table entries (threads, modules, stacks) become valid when their
 *     `state` word is release-stored to LT_SLOT_READY (threads: LIVE/EXITED).
 *   - The whole-run parts (version 2) outlive the rings: a book per thread
 *     slot (the locks it holds now, totals per lock) written only by its
 *     thread, and the lock-order table shared by all threads.  Each entry
 *     has a word written last that says whether it is complete (see the
 *     structs); an entry caught half-written is torn, never a wrong one.
 */
#ifndef LOCKTRACE_FORMAT_H
#define LOCKTRACE_FORMAT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "LCKTRACE" read as a little-endian u64. */
#define LT_MAGIC UINT64_C(0x45434152544b434c)
#define LT_FORMAT_VERSION 3u
#define LT_FORMAT_VERSION_MIN 1u /* oldest version the decoder reads */
#define LT_HEADER_SIZE 4096u
#define LT_CMDLINE_MAX 2048u
#define LT_PATH_MAX 400u
#define LT_BUILD_ID_MAX 32u
#define LT_THREAD_NAME_MAX 16u
#define LT_MAX_MARKS 32u
#define LT_EXEC_CHAIN_MAX 4u
#define LT_EXEC_PATH_MAX 128u
#define LT_EXEC_ARGS_MAX 56u
/* lt_exec_chain.handover while an image that recorded nothing execs. */
#define LT_EXEC_HANDOVER UINT32_C(0x524e5448) /* "HTNR" */

/* What kind of object an event is about. */
enum lt_prim {
    LT_PRIM_NONE = 0,
    LT_PRIM_MUTEX = 1,   /* pthread_mutex_t */
    LT_PRIM_RWLOCK = 2,  /* pthread_rwlock_t */
    LT_PRIM_COND = 3,    /* pthread_cond_t */
    LT_PRIM_SEM = 4,     /* sem_t */
    LT_PRIM_FUTEX = 5,   /* a futex word used through syscall(SYS_futex / SYS_futex_waitv) */
    LT_PRIM_PROBE = 6,   /* a lock seen through a Capstone probe (user or built-in) */
    LT_PRIM_THREAD = 7,  /* thread life-cycle, addr = pthread_t */
    LT_PRIM_PROCESS = 8, /* fork, exec, dlopen */
    LT_PRIM_BARRIER = 9, /* pthread_barrier_t */
    LT_PRIM_SPIN = 10,   /* pthread_spinlock_t */
    LT_PRIM_ONCE = 11,   /* pthread_once_t, once_flag */
};

/* What happened.  "Before" events are written before the real call, so a
 * thread that never comes back is still on record; "after" events carry the
 * call's outcome in `result`. */
enum lt_event_type {
    LT_EV_NONE = 0,
    LT_EV_ATTEMPT = 1,       /* before an acquire (lock/rdlock/wrlock/sem_wait/...); flags say mode */
    LT_EV_ACQUIRED = 2,      /* after: the acquire succeeded (result 0, or EOWNERDEAD for robust) */
    LT_EV_FAILED = 3,        /* after: the acquire failed; result = errno (EBUSY from try*, EDEADLK, EINVAL, EAGAIN...) */
    LT_EV_TIMEDOUT = 4,      /* after: a timed acquire or wait gave up (ETIMEDOUT) */
    LT_EV_RELEASE = 5,       /* before an unlock / sem_post; flags READ/WRITE when known;
                                version 2, locks with owners: result = enum lt_release_match */
    LT_EV_RELEASE_FAILED = 6,/* after: the unlock returned an error; result = errno */
    LT_EV_INIT = 7,          /* after init; result = return value */
    LT_EV_DESTROY = 8,       /* before destroy; result filled by a DESTROY_FAILED if it fails */
    LT_EV_DESTROY_FAILED = 9,/* after: destroy returned an error; result = errno (EBUSY) */
    LT_EV_WAIT_BEGIN = 10,   /* before a wait that may sleep: futex wait ops, cond wait (addr2 = mutex) */
    LT_EV_WAIT_END = 11,     /* after the wait returned; result = 0 or errno (ETIMEDOUT, EAGAIN, EINTR, ...);
                                for futex_waitv, result >= 0 is the index of the woken futex */
    LT_EV_WAKE = 12,         /* after a wake-type call: result = number woken (futex), or return code (cond) */
    LT_EV_REQUEUE = 13,      /* after a futex requeue: addr2 = target word, result = woken + requeued */
    LT_EV_CONSISTENT = 14,   /* after pthread_mutex_consistent; result = return value */
    LT_EV_THREAD_START = 15, /* first event of every ring */
    LT_EV_THREAD_EXIT = 16,  /* the thread ended normally (or was cancelled); its key and thread_local destructors' lock calls may follow */
    LT_EV_FORK = 17,         /* in the parent, after fork(); result = child pid */
    LT_EV_EXEC = 18,         /* before execve(); the ring ends here if exec succeeds */
    LT_EV_DLOPEN = 19,       /* after dlopen/dlclose: the module table was refreshed */
    LT_EV_MARK = 20,         /* user / watchdog / snapshot marker; arg = lt_mark_kind */
    LT_EV_TYPE_COUNT
};

/* Event flags. */
enum lt_event_flags {
    LT_FL_READ = 0x01,     /* shared mode (rdlock) */
    LT_FL_WRITE = 0x02,    /* exclusive mode (wrlock, mutex) */
    LT_FL_TRY = 0x04,      /* try variant: never blocks */
    LT_FL_TIMED = 0x08,    /* timed / clock variant */
    LT_FL_INTERNAL = 0x10, /* done by libc on the thread's behalf (cond wait's mutex release/re-take) */
    LT_FL_NESTED = 0x20,   /* written while the thread was already inside the recorder (signal handler) */
    LT_FL_REALTIME = 0x40, /* the timeout is on CLOCK_REALTIME */
    LT_FL_BROADCAST = 0x80 /* cond broadcast (vs signal) */
};

/* Version 2: what the releasing thread's held set said of a RELEASE. */
enum lt_release_match {
    LT_RELEASE_HELD = 0,      /* the thread held it */
    LT_RELEASE_UNMATCHED = 1, /* it did not: an unlock of a lock it does not hold */
    LT_RELEASE_UNKNOWN = 2,   /* its held set had overflowed: cannot tell */
};

enum lt_mark_kind { LT_MARK_USER = 0, LT_MARK_WATCHDOG = 1, LT_MARK_SNAPSHOT = 2 };

/*
 * One event: 64 bytes, one cache line.
 *
 * state[] holds a snapshot of the object's own words, read at the moment of
 * the event (before the call for "before" events, after it for "after" ones):
 *   MUTEX:  state[0] = __lock | (u64)__count << 32
 *           state[1] = __owner | (u64)__nusers << 32;   addr2 = __kind
 *   RWLOCK: state[0] = __readers | (u64)__writers << 32
 *           state[1] = __wrphase_futex | (u64)__writers_futex << 32
 *           addr2    = (u32)__cur_writer | (u64)__flags << 32
 *   COND:   state[0] = __wseq, state[1] = __wrefs | (u64)__g1_orig_size << 32 ;
 *           addr2 = the mutex for waits, 0 otherwise
 *   SEM:    state[0] = the 64-bit value word (value | nwaiters << 32)
 *   FUTEX:  state[0] = *uaddr (u32), or LT_WORD_UNREAD when the shim could not
 *           know the page mapped (it never reads where the kernel would answer
 *           EFAULT); state[1] = val | (u64)val3 << 32,
 *           arg = op (with FUTEX_PRIVATE_FLAG / FUTEX_CLOCK_REALTIME), addr2 = uaddr2;
 *           result = the syscall's return value, or -errno.
 *   PROBE:  state[0] = lock word before, state[1] = lock word after, arg = probe id,
 *           addr2 = lock class | word size in bytes << 8 (probe_classes.h)
 *   THREAD: addr = pthread_self(); result = tid.  A join (WAIT_BEGIN/WAIT_END):
 *           addr = the joined pthread_t, arg = clock of a timed join, result = errno.
 *   BARRIER: state[0] = in | (u64)current_round << 32, state[1] = count | (u64)out << 32
 *           (glibc's struct pthread_barrier); arg = the party count (init: as asked);
 *           WAIT_END result = 0 for the serial thread too.
 *   SPIN:   state[0] = the lock word (0 free).
 *   ONCE:   a pthread_once/call_once that had not completed: WAIT_BEGIN before it,
 *           WAIT_END after; state[0] = the control word.
 */
/* A futex event's state[0] when the word was not read (above). */
#define LT_WORD_UNREAD (1ull << 32)

struct lt_event {
    uint64_t seq;      /* commit marker: index + 1; written last */
    uint64_t time_ns;  /* the trace's clock: CLOCK_MONOTONIC ns (see lt_clock_anchor) */
    uint64_t addr;     /* the object */
    uint64_t addr2;    /* second object or primitive-specific word, see above */
    uint64_t state[2]; /* snapshot of the object's words, see above */
    uint32_t stack_id; /* 0 = no stack; else index + 1 into the stack table */
    uint16_t type;     /* enum lt_event_type */
    uint8_t prim;      /* enum lt_prim */
    uint8_t flags;     /* enum lt_event_flags */
    int32_t result;    /* errno / return value / woken count */
    uint32_t arg;      /* primitive-specific (futex op, mark kind, probe id) */
};

enum lt_slot_state {
    LT_SLOT_EMPTY = 0,
    LT_SLOT_BUSY = 1,   /* being filled in */
    LT_SLOT_READY = 2,  /* module/stack entry complete */
    LT_SLOT_LIVE = 2,   /* thread: running */
    LT_SLOT_EXITED = 3, /* thread: ended (end_ns is set) */
};

/* One per thread that recorded at least one event.  128 bytes. */
struct lt_thread {
    uint32_t state;          /* enum lt_slot_state */
    int32_t tid;
    uint64_t ring_offset;    /* file offset of this thread's ring of lt_event */
    uint64_t ring_capacity;  /* records, a power of two */
    uint64_t head;           /* records reserved so far (next index) */
    uint64_t start_ns;
    uint64_t end_ns;         /* 0 while live */
    uint64_t pthread_self;
    uint32_t generation;     /* how many threads used this slot before (slot reuse) */
    uint32_t flags;          /* reserved, 0 */
    char name[LT_THREAD_NAME_MAX];
    uint64_t book_offset;    /* version 2: file offset of this slot's struct lt_book, 0 = none */
    uint64_t reserved[5];
};

/*
 * Version 2: what outlives the rings.
 *
 * Held set: the locks a thread holds now (mutex, rwlock, spin, probe), one
 * entry per lock, kept by the thread itself on every ACQUIRED and RELEASE
 * (cond waits' internal release and re-take included).  Entries
 * [0, held_count) may be in use; `seq` says which:
 *   0                 free
 *   LT_HELD_BUSY      being written (a thread killed here leaves it torn)
 *   otherwise         complete: the ring index + 1 of the ACQUIRED that took
 *                     it (older than the ring's first record when the ring
 *                     has wrapped since)
 * A lock taken again by its holder (recursive mutex, second rdlock) raises
 * `depth`; each release lowers it, the last one frees the entry.  A lock
 * released out of order frees its entry and the top entry moves into it
 * (written complete before the top one is freed: a reader may see the lock
 * twice, never not at all).  When all LT_HELD_MAX are in use, the lock is
 * not kept and held_overflow counts it.
 */
#define LT_HELD_MAX 64u
#define LT_HELD_BUSY UINT64_MAX
struct lt_held {
    uint64_t seq;      /* see above; written last */
    uint64_t addr;     /* the lock */
    uint64_t time_ns;  /* when it was taken (the first time, if recursive) */
    uint32_t stack_id; /* where it was taken (stack table id), 0 = none */
    uint16_t depth;    /* times taken and not yet released, >= 1 */
    uint8_t prim;      /* enum lt_prim */
    uint8_t mode;      /* LT_FL_READ or LT_FL_WRITE */
};

/* Totals of one lock as seen by one thread, for the whole run (the decoder
 * adds up the threads' entries).  Found by open addressing on the address
 * in the thread's own table (no cache line shared with another thread);
 * `addr` is written last when an entry is claimed, the counters only grow.
 * A wait is the time from the ATTEMPT to the call's outcome; it is
 * contended when the ATTEMPT's snapshot of the lock word showed it taken
 * (write-locked, for a read acquisition). */
#define LT_TOTALS_DEFAULT 256u   /* entries a thread's table has unless LOCKTRACE_TOTALS_LOCKS says */
#define LT_TOTALS_MIN 64u
#define LT_TOTALS_MAX 65536u
struct lt_lock_totals {
    uint64_t addr;               /* 0 = empty */
    uint8_t prim;
    uint8_t reserved0[3];
    uint32_t longest_wait_stack; /* where the longest wait was called from */
    uint32_t longest_hold_stack; /* where the longest hold was taken */
    uint32_t reserved1;
    uint64_t acquired_read;      /* successful acquisitions in shared mode */
    uint64_t acquired_write;     /* ... in exclusive mode (mutex, wrlock, spin, probe) */
    uint64_t contended;          /* acquire calls that found the lock taken */
    uint64_t blocking_calls;     /* acquire calls that may block (not try) */
    uint64_t wait_ns_total;      /* time in the contended ones */
    uint64_t wait_ns_longest;
    uint64_t wait_longest_at_ns; /* when that wait ended */
    uint64_t hold_ns_longest;
    uint64_t hold_longest_at_ns; /* when that hold ended */
    uint64_t timeouts;
    uint64_t try_failures;       /* a try variant found it taken (EBUSY) */
    uint64_t failures;           /* other failed acquisitions (EDEADLK, EINVAL, ...) */
    uint64_t unmatched_releases; /* released while not in the thread's held set */
};

/* One per thread slot, right after its ring.  A recycled slot keeps its
 * totals (they are per lock, not per thread) and starts an empty held set.
 * Every book of a file has the header's book_size bytes: the totals table
 * has lt_book_totals_capacity(book_size) entries, a power of two. */
struct lt_book {
    uint32_t held_count;         /* entries [0, held_count) may be in use */
    uint32_t reserved0;
    uint64_t held_overflow;      /* acquisitions not kept: the held set was full */
    uint64_t totals_overflow;    /* events of locks not counted: the totals table was full */
    uint64_t reserved[5];
    struct lt_held held[LT_HELD_MAX];
    struct lt_lock_totals totals[]; /* see lt_book_totals_capacity */
};

static inline uint64_t lt_book_bytes(uint32_t totals_capacity)
{
    return sizeof(struct lt_book) + (uint64_t)totals_capacity * sizeof(struct lt_lock_totals);
}

/* Entries of each book's totals table in a file whose header says
 * book_size; 0 if no valid table has that size. */
static inline uint32_t lt_book_totals_capacity(uint64_t book_size)
{
    if (book_size < lt_book_bytes(LT_TOTALS_MIN) || book_size > lt_book_bytes(LT_TOTALS_MAX) ||
        (book_size - sizeof(struct lt_book)) % sizeof(struct lt_lock_totals))
        return 0;
    uint64_t n = (book_size - sizeof(struct lt_book)) / sizeof(struct lt_lock_totals);
    return (n & (n - 1)) ? 0 : (uint32_t)n;
}

/* Lock order: the first time any thread takes lock `taken` while it holds
 * `held`.  Shared by all threads: an entry is claimed by a CAS of `key` from
 * 0 to (h & ~3) | 2, filled, and completed by storing (h & ~3) | 3, where h
 * is lt_order_hash() of its fields.  A key that does not match its fields
 * is a torn entry.  The life of each lock (struct lt_lock_life) keeps a lock
 * destroyed and made again, or freed and its memory used for another lock,
 * from being the same node of the graph. */
struct lt_order_pair {
    uint64_t key;
    uint64_t held, taken;        /* the two locks */
    uint32_t held_life, taken_life;
    uint64_t first_ns;           /* when this order was first taken */
    uint32_t count;              /* times taken in this order (saturates; each thread adds its repeats
                                    every 4096 and as it ends: a lower bound while it runs) */
    uint32_t gate;               /* the first time: lt_order_gate() of the oldest other lock the
                                    thread held, 0 = none (a common gate makes an inversion harmless) */
    int32_t tid;                 /* the thread that took it first */
    uint8_t held_prim, taken_prim;
    uint8_t modes;               /* held mode | taken mode << 2 (LT_FL_READ / LT_FL_WRITE) */
    uint8_t reserved;
    uint32_t held_stack, taken_stack; /* where each was taken */
};

static inline uint64_t lt_order_hash(uint64_t held, uint64_t taken, uint32_t held_life, uint32_t taken_life,
                                     uint8_t held_prim, uint8_t taken_prim)
{
    uint64_t h = held * UINT64_C(0x9e3779b97f4a7c15);
    h ^= (taken + ((uint64_t)held_life << 32 | taken_life)) * UINT64_C(0xc2b2ae3d27d4eb4f);
    h ^= ((uint64_t)held_prim << 8 | taken_prim) * UINT64_C(0x165667b19e3779f9);
    h ^= h >> 29;
    return h;
}

static inline uint32_t lt_order_gate(uint64_t addr)
{
    uint64_t h = addr * UINT64_C(0x9e3779b97f4a7c15);
    uint32_t g = (uint32_t)(h >> 32);
    return g ? g : 1u;
}

/* The life of a lock address: bumped by every init and destroy of a lock
 * there; an address never initialised nor destroyed has life 0 and no
 * entry.  `addr` is claimed by CAS. */
struct lt_lock_life {
    uint64_t addr;
    uint32_t life;
    uint32_t reserved;
};

/* In a fork child: a lock some thread of the parent held at the fork. */
struct lt_inherited_lock {
    uint64_t addr;
    uint64_t time_ns;   /* when the parent's thread took it */
    int32_t tid;        /* that thread, in the parent */
    uint32_t stack_id;  /* where it took it, in this file's stack table */
    uint16_t depth;
    uint8_t prim;
    uint8_t mode;       /* LT_FL_READ or LT_FL_WRITE */
    uint8_t forker;     /* 1: the thread that forked (it lives on in the child) */
    uint8_t reserved[3];
};

/*
 * Version 3: the trace's clock.  Every time in the file (records, threads,
 * books, marks, module load times, end_monotonic_ns) is in the shim's stamp
 * clock (lt_file_header.clock):
 *   LT_CLOCK_MONOTONIC  clock_gettime(CLOCK_MONOTONIC) itself;
 *   LT_CLOCK_TSC        the CPU's invariant time-stamp counter, turned into
 *                       ns by one linear scale calibrated against
 *                       CLOCK_MONOTONIC when the process image started.
 * The stamps of "after" events (ACQUIRED, WAIT_END, ...) are not fenced
 * behind the call: a lock's ACQUIRED may be stamped up to a microsecond
 * before the previous owner's RELEASE; the decoder puts them in the order
 * the lock allows.
 * Anchors pair a stamp with CLOCK_MONOTONIC read at the same moment; the
 * shim writes them off the hot path (file creation, thread start and end,
 * before a wait, ring wrap, fork, exit, watchdog), at least
 * max(1 ms, age of the trace / 1024) apart.  The decoder maps stamps to
 * CLOCK_MONOTONIC by linear interpolation between anchors, and reports
 * anchors that no single rate explains (a TSC jump, a VM migration).
 * The table is a ring: entry k holds anchor index i with i % capacity == k;
 * `seq` = i + 1, written last (release); anchors_head counts anchors
 * reserved.  An entry whose seq or check does not match is torn.
 */
enum lt_clock_kind { LT_CLOCK_MONOTONIC = 0, LT_CLOCK_TSC = 1 };
struct lt_clock_anchor {
    uint64_t seq;       /* index + 1; written last */
    uint64_t stamp_ns;  /* the stamp clock at the moment of the reading */
    uint64_t mono_ns;   /* CLOCK_MONOTONIC */
    uint32_t spread_ns; /* how far apart the stamps around the reading were: its uncertainty */
    uint32_t check;     /* lt_anchor_check() of the fields above */
};

static inline uint32_t lt_anchor_check(uint64_t seq, uint64_t stamp_ns, uint64_t mono_ns, uint32_t spread_ns)
{
    uint64_t h = (seq ^ UINT64_C(0x9e3779b97f4a7c15)) * UINT64_C(0xc2b2ae3d27d4eb4f);
    h ^= stamp_ns * UINT64_C(0x165667b19e3779f9);
    h ^= (mono_ns + spread_ns) * UINT64_C(0x27d4eb2f165667c5);
    h ^= h >> 31;
    return (uint32_t)(h ^ (h >> 32));
}

/* One per loaded object (executable, shared libraries), recorded at start and
 * after each dlopen.  512 bytes. */
struct lt_module {
    uint32_t state;        /* enum lt_slot_state */
    uint32_t build_id_len; /* 0 if the object has no NT_GNU_BUILD_ID */
    uint64_t base;         /* load bias (dl_phdr_info.dlpi_addr) */
    uint64_t lo, hi;       /* address range covered by its PT_LOAD segments */
    uint64_t loaded_ns;    /* when it was first seen */
    uint8_t build_id[LT_BUILD_ID_MAX];
    char path[LT_PATH_MAX]; /* absolute path; for the main executable, its real path */
    uint64_t reserved[5];
};

/* Stack table entry: the header below, followed by stack_depth_max uint64_t
 * return addresses (depth of them valid, innermost first). */
struct lt_stack_entry {
    uint64_t hash;   /* of the pcs; 0 never used */
    uint32_t state;  /* enum lt_slot_state */
    uint32_t depth;
    /* uint64_t pc[stack_depth_max]; */
};

struct lt_mark {
    uint64_t time_ns;
    uint32_t kind;   /* enum lt_mark_kind */
    int32_t tid;     /* thread that asked, 0 = watchdog */
};

/* An earlier program of the same process: one that exec'd before taking any
 * lock and handed its trace file over to the next (a wrapper such as
 * taskset, setsid, nice, env).  184 bytes. */
struct lt_exec_image {
    char exe_path[LT_EXEC_PATH_MAX]; /* real path of its executable, cut to fit, NUL-terminated */
    char args[LT_EXEC_ARGS_MAX];     /* its argv joined by spaces, cut to fit, NUL-terminated */
};

/* The exec chain that led to this program.  744 bytes, in the header's
 * padding: all zero in a trace of a program no other one exec'd into. */
struct lt_exec_chain {
    uint32_t handover; /* LT_EXEC_HANDOVER: this program exec'd before taking any lock and
                          handed the file to the next one; if that one did not take it over
                          (it runs untraced), the file stays with this mark. 0 otherwise */
    uint32_t count;    /* programs this process ran before this one; images[] holds the
                          newest min(count, LT_EXEC_CHAIN_MAX) of them, oldest first */
    struct lt_exec_image images[LT_EXEC_CHAIN_MAX];
};

/* The first LT_HEADER_SIZE bytes of the file. */
struct lt_file_header {
    uint64_t magic;              /* LT_MAGIC */
    uint32_t version;            /* LT_FORMAT_VERSION */
    uint32_t header_size;        /* LT_HEADER_SIZE */
    uint32_t event_size;         /* sizeof(struct lt_event) */
    uint32_t thread_entry_size;  /* sizeof(struct lt_thread) */
    uint32_t module_entry_size;  /* sizeof(struct lt_module) */
    uint32_t stack_entry_size;   /* sizeof(lt_stack_entry) + 8 * stack_depth_max */

    int32_t pid;
    int32_t ppid;
    uint64_t start_monotonic_ns; /* CLOCK_MONOTONIC at start */
    uint64_t start_realtime_ns;  /* CLOCK_REALTIME at the same moment */
    uint64_t end_monotonic_ns;   /* set at normal process exit; 0 = still running or killed */
    int32_t exit_status;         /* as passed to exit(), valid when end_monotonic_ns != 0 */
    uint32_t families;           /* bit (1 << enum lt_prim) for each traced family */

    uint64_t thread_table_offset;
    uint32_t thread_table_capacity;
    uint32_t threads_used;       /* slots handed out so far (<= capacity) */
    uint64_t module_table_offset;
    uint32_t module_table_capacity;
    uint32_t modules_used;
    uint64_t stack_table_offset;
    uint32_t stack_table_capacity; /* entries, a power of two */
    uint32_t stack_depth_max;      /* 0 = stacks off */
    uint64_t rings_offset;
    uint64_t file_end;             /* bytes in use (rings allocated up to here) */
    uint64_t ring_capacity;        /* records per ring for new threads */

    uint64_t threads_dropped;      /* threads that could not get a slot or ring: not traced */
    uint64_t threads_recycled;     /* exited threads whose slot was reused (their events are gone) */
    uint64_t stacks_dropped;       /* stacks not stored because the table was full */
    uint64_t modules_dropped;

    uint32_t marks_used;
    uint32_t reserved0;
    struct lt_mark marks[LT_MAX_MARKS];

    char exe_path[LT_PATH_MAX];
    /* argv, each argument NUL-terminated, back to back; cmdline_len bytes used */
    uint32_t cmdline_len;
    uint32_t reserved1;
    char cmdline[LT_CMDLINE_MAX];

    /* Version 2 (all 0 in version 1). */
    uint32_t book_size;             /* lt_book_bytes(totals entries), the same for every book */
    uint32_t order_entry_size;      /* sizeof(struct lt_order_pair) */
    uint64_t order_table_offset;
    uint32_t order_table_capacity;  /* entries, a power of two */
    uint32_t lives_capacity;        /* entries, a power of two */
    uint64_t lives_offset;
    uint64_t order_overflow;        /* pairs not kept: no free entry near their hash */
    uint64_t lives_overflow;        /* lock lives not kept: their locks may share graph nodes */
    uint64_t inherited_offset;
    uint32_t inherited_capacity;
    uint32_t inherited_count;       /* entries in use; written before the file is published */
    uint64_t inherited_overflow;    /* locks held in the parent at fork that did not fit */
    /* Version 3 (all 0 before). */
    uint64_t anchors_offset;        /* struct lt_clock_anchor table */
    uint32_t anchors_capacity;      /* entries, a power of two */
    uint32_t clock;                 /* enum lt_clock_kind: what the stamps are */
    uint64_t anchors_head;          /* anchors reserved so far */
    /* Call stacks unwound (per-thread stack cache misses); 0 in older files.
     * Records with a stack minus this is how often the cache answered. */
    uint64_t stack_walks;
    uint8_t reserved2[72];         /* 0 */
    struct lt_exec_chain exec_chain; /* at byte 3328 */
};

#ifdef __cplusplus
}
static_assert(sizeof(struct lt_event) == 64, "lt_event is one cache line");
static_assert(sizeof(struct lt_thread) == 128, "lt_thread size is part of the format");
static_assert(sizeof(struct lt_module) == 512, "lt_module size is part of the format");
static_assert(sizeof(struct lt_stack_entry) == 16, "lt_stack_entry size is part of the format");
static_assert(sizeof(struct lt_file_header) <= LT_HEADER_SIZE, "header fits its page");
static_assert(sizeof(struct lt_held) == 32, "lt_held size is part of the format");
static_assert(sizeof(struct lt_lock_totals) == 128, "lt_lock_totals size is part of the format");
static_assert(sizeof(struct lt_book) == 2112, "lt_book's size before its totals is part of the format");
static_assert(sizeof(struct lt_order_pair) == 64, "lt_order_pair size is part of the format");
static_assert(sizeof(struct lt_lock_life) == 16, "lt_lock_life size is part of the format");
static_assert(sizeof(struct lt_inherited_lock) == 32, "lt_inherited_lock size is part of the format");
static_assert(sizeof(struct lt_clock_anchor) == 32, "lt_clock_anchor size is part of the format");
static_assert(sizeof(struct lt_exec_chain) == 744, "lt_exec_chain size is part of the format");
static_assert(__builtin_offsetof(struct lt_file_header, exec_chain) == 3328, "exec_chain sits at byte 3328");
static_assert(__builtin_offsetof(struct lt_file_header, stack_walks) == 3248, "stack_walks sits at byte 3248");
#endif

#endif /* LOCKTRACE_FORMAT_H */
