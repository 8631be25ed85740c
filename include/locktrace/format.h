/*
 * locktrace on-disk trace format, version 1.
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
 *   rings ...                      one ring per thread slot, allocated on demand
 *                                  between rings_offset and file_end
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
 */
#ifndef LOCKTRACE_FORMAT_H
#define LOCKTRACE_FORMAT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "LCKTRACE" read as a little-endian u64. */
#define LT_MAGIC UINT64_C(0x45434152544b434c)
#define LT_FORMAT_VERSION 1u
#define LT_HEADER_SIZE 4096u
#define LT_CMDLINE_MAX 2048u
#define LT_PATH_MAX 400u
#define LT_BUILD_ID_MAX 32u
#define LT_THREAD_NAME_MAX 16u
#define LT_MAX_MARKS 32u

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
    LT_EV_RELEASE = 5,       /* before an unlock / sem_post; flags READ/WRITE when known */
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
    uint64_t time_ns;  /* CLOCK_MONOTONIC */
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
    uint64_t reserved[6];
};

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
};

#ifdef __cplusplus
}
static_assert(sizeof(struct lt_event) == 64, "lt_event is one cache line");
static_assert(sizeof(struct lt_thread) == 128, "lt_thread size is part of the format");
static_assert(sizeof(struct lt_module) == 512, "lt_module size is part of the format");
static_assert(sizeof(struct lt_stack_entry) == 16, "lt_stack_entry size is part of the format");
static_assert(sizeof(struct lt_file_header) <= LT_HEADER_SIZE, "header fits its page");
#endif

#endif /* LOCKTRACE_FORMAT_H */
