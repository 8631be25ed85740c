// Reading a locktrace trace file (see include/locktrace/format.h and
// man/locktrace-format.5).  The file is untrusted: it may come from a process
// that is still writing it, one that was SIGKILLed mid-record, a truncated copy,
// or plain garbage.  Everything is checked against the real file size before use
// and every problem is a TraceError with a message meant for the user.
#pragma once

#include "clock_map.h"

#include <locktrace/format.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace lt {

class TraceError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One committed record, copied out of the ring and validated, plus the thread
// it came from.  64 bytes so that ten million of them stay cheap.
struct Event {
    uint64_t time_ns;   // CLOCK_MONOTONIC (a TSC stamp mapped through Trace::clock())
    uint64_t addr;
    uint64_t addr2;
    uint64_t state[2];
    uint32_t stack_id;  // 0 = none, else index + 1 into the stack table
    uint16_t type;      // enum lt_event_type
    uint8_t prim;       // enum lt_prim
    uint8_t flags;      // enum lt_event_flags
    int32_t result;
    uint32_t arg;
    uint32_t thread;    // index into Trace::threads()
    int32_t tid;
};
static_assert(sizeof(Event) == 64, "Event stays one cache line");

// What the reader learnt about one thread slot and its ring.
struct ThreadInfo {
    uint32_t slot = 0;          // index in the file's thread table
    int32_t tid = 0;
    uint32_t state = 0;         // LT_SLOT_LIVE or LT_SLOT_EXITED
    uint32_t generation = 0;
    std::string name;
    uint64_t start_ns = 0, end_ns = 0, pthread_self = 0;
    uint64_t ring_offset = 0, ring_capacity = 0;
    uint64_t head = 0;          // records reserved when we read it
    uint64_t first_index = 0;   // max(0, head - capacity): oldest record still there
    uint64_t lost = 0;          // overwritten by the flight recorder (incl. while we read)
    uint64_t torn = 0;          // reserved but never committed (or being written as we read)
    bool last_record_torn = false; // the newest record is torn: killed mid-write, or writing now
    uint64_t cut = 0;           // records whose slots lie beyond the end of a truncated file
    uint64_t decoded = 0;       // committed records read
    uint64_t first_time_ns = 0, last_time_ns = 0; // of the decoded records (0 if none)
    bool exited() const { return state == LT_SLOT_EXITED; }
};

struct Module {
    std::string path;
    uint64_t base = 0, lo = 0, hi = 0, loaded_ns = 0;
    std::vector<uint8_t> build_id;
};

// What outlives the rings (format version 2; all empty for version 1).
// A lock a thread holds now, from its held set.
struct HeldLock {
    uint64_t addr = 0;
    uint64_t time_ns = 0;     // when it was taken
    uint64_t index = 0;       // ring index of the ACQUIRED that took it
    uint32_t stack_id = 0;
    uint16_t depth = 1;       // times taken, not yet released
    uint8_t prim = 0;
    uint8_t mode = 0;         // LT_FL_READ or LT_FL_WRITE
};

// One thread slot's book.
struct ThreadBook {
    bool present = false;     // the slot has a book, whole in the file
    std::vector<HeldLock> held;
    uint32_t held_torn = 0;   // entries caught being written: a lock may be missing
    uint64_t held_overflow = 0;
    uint64_t totals_overflow = 0;
    std::vector<lt_lock_totals> totals;  // the entries in use
};

// A lock-order pair of the whole run, as recorded (complete entries only).
struct OrderPair {
    uint64_t held = 0, taken = 0;
    uint32_t held_life = 0, taken_life = 0;
    uint64_t first_ns = 0, count = 0;
    uint32_t gate = 0;        // lt_order_gate() of the oldest other lock held the first time, 0 = none
    int32_t tid = 0;
    uint8_t held_prim = 0, taken_prim = 0;
    uint8_t held_mode = 0, taken_mode = 0;
    uint32_t held_stack = 0, taken_stack = 0;
};

class HandoverOrder; // handover.h
struct SymbolTable; // symbols.h: symbols carried inside a bundle

// What pack saw of the process when it made a bundle (older bundles: unknown).
struct PackedAt {
    bool known = false;
    bool running = false;       // no normal exit and its pid alive
    uint64_t monotonic_ns = 0;  // CLOCK_MONOTONIC then, the trace's clock
};

// CLOCK_MONOTONIC now: the clock the shim stamps records with.
uint64_t monotonic_now_ns();

class Trace {
public:
    // Maps a raw trace file and validates header and tables.  Throws TraceError.
    // (A bundle is read by the bundle reader, which hands its rebuilt image to
    // the next constructor.)
    explicit Trace(const std::string& path);
    // A raw trace image already in memory (`name` is used in messages), with
    // optional symbols that answer instead of the binaries.  Same validation.
    // `packed`: what pack saw of the process when it made the bundle this
    // image comes from; absent for an image that is not from a bundle.
    Trace(const std::string& name, std::vector<uint8_t> image, std::shared_ptr<const SymbolTable> symbols = {},
          std::optional<PackedAt> packed = std::nullopt);
    // Symbols that came with the trace (a bundle), or null: use the binaries.
    const std::shared_ptr<const SymbolTable>& embedded_symbols() const { return symbols_; }
    ~Trace();
    Trace(const Trace&) = delete;
    Trace& operator=(const Trace&) = delete;

    const std::string& path() const { return path_; }
    // Different for every Trace object of the process, even one built where a
    // destroyed one stood: caches keyed by a Trace's address check it.
    uint64_t serial() const { return serial_; }
    const lt_file_header& header() const { return hdr_; } // a validated private copy, times as CLOCK_MONOTONIC
    uint64_t file_size() const { return size_; }
    // The file is shorter than header().file_end: rings at its end were cut.
    bool file_truncated() const { return size_ < hdr_.file_end; }
    // The process did not reach a normal exit (still running, or killed).
    bool process_ended() const { return hdr_.end_monotonic_ns != 0; }
    // Unpacked from a bundle: a copy taken earlier, maybe on another machine, so
    // the process it names is not this machine's to look at, nor its clock ours.
    bool packed() const { return packed_; }
    // The traced process is running now: no normal exit recorded, not a bundle,
    // and its pid answers, so the trace is read live and still growing.  (A reused
    // pid can fool this; readers use it for wording and the live grace period.)
    bool process_running() const;
    const PackedAt& packed_at() const { return packed_at_; }
    // The moment waits and holds still open are measured to and judged at: now
    // while the process runs; for a bundle of a process that was running, the
    // moment it was packed; 0 when the process had ended (they end with the trace).
    uint64_t open_until_ns() const;

    const std::vector<ThreadInfo>& threads() const { return threads_; }
    const std::vector<Module>& modules() const { return modules_; }
    std::vector<std::string> cmdline() const;

    // The whole-run parts (format version 2): true when the trace has them.
    bool has_whole_run() const { return whole_run_; }
    // Parallel to threads(): each slot's held set and totals.
    const std::vector<ThreadBook>& books() const { return books_; }
    // Entries of each thread's totals table (version 2 and later).
    uint32_t totals_capacity() const { return totals_capacity_; }
    // Complete lock-order pairs; torn ones are counted.
    const std::vector<OrderPair>& order_pairs() const { return order_; }
    uint64_t order_torn() const { return order_torn_; }
    // In a fork child: the locks the parent's threads held at the fork.
    const std::vector<lt_inherited_lock>& inherited() const { return inherited_; }
    std::string exe_path() const;
    // The programs this process ran before this one, each exec'ing the next
    // before taking any lock (a wrapper: taskset, setsid, ...), oldest first.
    struct ExecImage {
        std::string exe_path, args;
    };
    std::vector<ExecImage> exec_chain() const;
    // How many of them there were (exec_chain() keeps the newest few).
    uint32_t exec_chain_length() const { return hdr_.exec_chain.count; }
    // This program exec'd another before taking any lock and left the file for
    // it, which never took it over (it ran untraced).
    bool handed_over() const { return hdr_.exec_chain.handover == LT_EXEC_HANDOVER; }
    std::vector<lt_mark> marks() const;
    // The stamps came from the CPU's time-stamp counter (format version 3):
    // every time this class hands out went through clock() to CLOCK_MONOTONIC.
    bool clock_tsc() const { return clock_tsc_; }
    const ClockMap& clock() const { return clock_; }
    // Anchors found torn (killed mid-write, or being written as we read).
    uint32_t clock_anchors_torn() const { return anchors_torn_; }

    // Reads every ring and returns all committed events merged by time (each
    // thread's own order is kept).  Fills the per-thread lost/torn/cut counts.
    // No allocation per event: the output is reserved once.
    std::vector<Event> read_events();
    // The same, streamed: `sink` gets the merged events in small batches and
    // nothing is kept (dump, and anything that does not need random access).
    void scan(const std::function<void(const Event*, size_t)>& sink);
    // The same, pulled: see EventReader.
    friend class EventReader;

    // The return addresses of a stack (innermost first); empty for id 0, an id
    // out of range, or an entry that is not READY.  Cheap to call repeatedly.
    const std::vector<uint64_t>& stack(uint32_t stack_id) const;

    // Totals after read_events().
    uint64_t total_lost() const;
    uint64_t total_torn() const;
    uint64_t total_cut() const;

private:
    void validate_header();
    void read_clock();
    void read_threads();
    void read_modules();
    void read_whole_run();
    void read_book(ThreadInfo& ti, uint64_t book_offset, ThreadBook& out);
    struct Cursor;
    uint64_t prepare_read();

    std::string path_;
    uint64_t serial_ = next_serial();
    static uint64_t next_serial();
    int fd_ = -1;
    const uint8_t* map_ = nullptr;
    uint64_t size_ = 0;
    lt_file_header hdr_{};
    std::vector<ThreadInfo> threads_;
    std::vector<Module> modules_;
    bool whole_run_ = false;
    std::vector<uint64_t> book_offsets_;  // parallel to threads_, 0 = none
    std::vector<ThreadBook> books_;
    uint32_t totals_capacity_ = 0;
    std::vector<OrderPair> order_;
    uint64_t order_torn_ = 0;
    std::vector<lt_inherited_lock> inherited_;
    ClockMap clock_;
    bool clock_tsc_ = false;
    uint32_t anchors_torn_ = 0;
    std::vector<uint8_t> image_;  // in-memory trace (map_ points into it), empty when mapped
    std::shared_ptr<const SymbolTable> symbols_;
    bool packed_ = false;
    PackedAt packed_at_;
    void load_image();            // validates image_ as a raw trace
    mutable std::vector<std::vector<uint64_t>> stacks_;  // cache, by stack id
    mutable std::vector<uint8_t> stack_loaded_;
};

// Reads a trace's events merged by time a batch at a time, so that a caller
// can work on each batch while it is still in cache instead of reading a
// whole 64-byte-per-event array back from memory (Model::build).  Construct
// it only after the Trace (it resets the per-thread lost/torn/cut counts,
// which are final once read() has returned 0).  One at a time per Trace.
class EventReader {
public:
    explicit EventReader(Trace& trace);
    ~EventReader();
    EventReader(const EventReader&) = delete;
    EventReader& operator=(const EventReader&) = delete;

    // At least as many events as will be read.
    uint64_t upper_bound() const { return upper_bound_; }
    // Reserves room in `out` for every event still to come (asking for huge
    // pages when it is big), so that read() never reallocates it; `extra`
    // more for events the caller adds itself.
    void reserve(std::vector<Event>& out, size_t extra = 0) const;
    // Appends up to `max` of the next events to `out`; 0 at the end.
    size_t read(std::vector<Event>& out, size_t max);

private:
    template <class Emit> size_t merge(size_t max, Emit emit);
    std::vector<Trace::Cursor> cursors_;
    std::vector<Trace::Cursor*> heap_;   // cursors with a record, earliest at the front
    uint64_t upper_bound_ = 0;
    std::unique_ptr<HandoverOrder> handover_;  // null: stamps need no re-ordering
    std::vector<Event> open_;                  // merged, may still be re-ordered
    friend class Trace;
};

// Names for printing.
const char* event_type_name(uint16_t type);
const char* prim_name(uint8_t prim);
std::string flags_string(uint8_t flags);

} // namespace lt
