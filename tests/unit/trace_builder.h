// Test-only: builds synthetic trace files from the structs of format.h, so the
// reader and the model can be tested on exact, hand-made histories (and on
// hand-made corruption).
#pragma once

#include <locktrace/format.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

namespace lt::test {

class TraceBuilder {
public:
    static constexpr uint32_t kThreadCap = 8, kModuleCap = 4, kStackCap = 16, kDepth = 4;
    static constexpr uint64_t kThreadTable = LT_HEADER_SIZE;
    static constexpr uint64_t kModuleTable = kThreadTable + kThreadCap * sizeof(lt_thread);
    static constexpr uint64_t kStackEntry = sizeof(lt_stack_entry) + 8 * kDepth;
    static constexpr uint64_t kStackTable = kModuleTable + kModuleCap * sizeof(lt_module);
    static constexpr uint64_t kRings = 16384;

    TraceBuilder()
    {
        buf_.assign(kRings, 0);
        lt_file_header& h = hdr();
        h.magic = LT_MAGIC;
        h.version = 1; // version 1: no whole-run parts (the reader must keep reading these)
        h.header_size = LT_HEADER_SIZE;
        h.event_size = sizeof(lt_event);
        h.thread_entry_size = sizeof(lt_thread);
        h.module_entry_size = sizeof(lt_module);
        h.stack_entry_size = kStackEntry;
        h.pid = 4242;
        h.start_monotonic_ns = 1000000;
        h.thread_table_offset = kThreadTable;
        h.thread_table_capacity = kThreadCap;
        h.module_table_offset = kModuleTable;
        h.module_table_capacity = kModuleCap;
        h.stack_table_offset = kStackTable;
        h.stack_table_capacity = kStackCap;
        h.stack_depth_max = kDepth;
        h.rings_offset = kRings;
        h.file_end = kRings;
        h.ring_capacity = 16;
        static const char argv[] = "prog\0--flag";
        memcpy(h.cmdline, argv, sizeof argv);
        h.cmdline_len = sizeof argv;
    }

    lt_file_header& hdr() { return *reinterpret_cast<lt_file_header*>(buf_.data()); }
    lt_thread& thread(uint32_t slot) { return *reinterpret_cast<lt_thread*>(&buf_[kThreadTable + slot * sizeof(lt_thread)]); }

    // Adds a live thread with a ring of `capacity` records; returns its slot.
    uint32_t add_thread(int32_t tid, uint64_t capacity = 16, const char* name = "worker")
    {
        uint32_t slot = hdr().threads_used++;
        uint64_t off = hdr().file_end;
        buf_.resize(off + capacity * sizeof(lt_event), 0);
        hdr().file_end = buf_.size();
        lt_thread& t = thread(slot);
        t.state = LT_SLOT_LIVE;
        t.tid = tid;
        t.ring_offset = off;
        t.ring_capacity = capacity;
        t.head = 0;
        t.start_ns = hdr().start_monotonic_ns;
        snprintf(t.name, sizeof t.name, "%s", name);
        return slot;
    }

    // Appends a committed event to a thread's ring (overwriting the oldest when full).
    lt_event& add(uint32_t slot, uint64_t time_ns, uint16_t type, uint8_t prim, uint64_t addr, uint8_t flags = 0,
                  int32_t result = 0, uint32_t stack_id = 0)
    {
        lt_thread& t = thread(slot);
        uint64_t i = t.head++;
        lt_event& e = slot_event(slot, i);
        memset(&e, 0, sizeof e);
        e.seq = i + 1;
        e.time_ns = hdr().start_monotonic_ns + time_ns;
        e.type = type;
        e.prim = prim;
        e.addr = addr;
        e.flags = flags;
        e.result = result;
        e.stack_id = stack_id;
        return e;
    }

    // Reserves a record and leaves it uncommitted (seq 0), as a killed writer would.
    void add_torn(uint32_t slot)
    {
        lt_thread& t = thread(slot);
        uint64_t i = t.head++;
        lt_event& e = slot_event(slot, i);
        memset(&e, 0, sizeof e);
        e.type = LT_EV_ATTEMPT;  // half written
    }

    lt_event& slot_event(uint32_t slot, uint64_t index)
    {
        lt_thread& t = thread(slot);
        return *reinterpret_cast<lt_event*>(&buf_[t.ring_offset + (index & (t.ring_capacity - 1)) * sizeof(lt_event)]);
    }

    uint32_t add_stack(std::vector<uint64_t> pcs)
    {
        uint32_t id = ++stacks_;
        uint8_t* ent = &buf_[kStackTable + (id - 1) * kStackEntry];
        lt_stack_entry se{};
        se.hash = id;
        se.state = LT_SLOT_READY;
        se.depth = uint32_t(pcs.size());
        memcpy(ent, &se, sizeof se);
        memcpy(ent + sizeof se, pcs.data(), pcs.size() * 8);
        return id;
    }

    // Format version 2: the whole-run parts.  A lock-order table of
    // kOrderCap entries and an inherited-lock table of kInheritedCap after
    // the stack table; books are added per thread (add_book).
    static constexpr uint32_t kOrderCap = 16, kInheritedCap = 4;
    static constexpr uint64_t kOrderTable = 8192;
    static constexpr uint64_t kInheritedTable = kOrderTable + kOrderCap * sizeof(lt_order_pair);
    void make_v2()
    {
        lt_file_header& h = hdr();
        h.version = 2;
        h.book_size = uint32_t(lt_book_bytes(LT_TOTALS_DEFAULT));
        h.order_entry_size = sizeof(lt_order_pair);
        h.order_table_offset = kOrderTable;
        h.order_table_capacity = kOrderCap;
        h.inherited_offset = kInheritedTable;
        h.inherited_capacity = kInheritedCap;
    }
    // Gives thread `slot` a book at the end of the file.
    lt_book& add_book(uint32_t slot)
    {
        uint64_t off = hdr().file_end;
        buf_.resize(off + hdr().book_size, 0);
        hdr().file_end = buf_.size();
        thread(slot).book_offset = off;
        return book(slot);
    }
    lt_book& book(uint32_t slot) { return *reinterpret_cast<lt_book*>(&buf_[thread(slot).book_offset]); }
    // A complete held-set entry taken by ring record `index`.
    void hold(uint32_t slot, uint64_t addr, uint64_t index, uint64_t time_ns, uint8_t mode = LT_FL_WRITE,
              uint8_t prim = LT_PRIM_MUTEX, uint32_t stack_id = 0)
    {
        lt_book& b = book(slot);
        lt_held& e = b.held[b.held_count++];
        e.seq = index + 1;
        e.addr = addr;
        e.time_ns = hdr().start_monotonic_ns + time_ns;
        e.stack_id = stack_id;
        e.depth = 1;
        e.prim = prim;
        e.mode = mode;
    }
    lt_order_pair& order(uint32_t k)
    {
        return *reinterpret_cast<lt_order_pair*>(&buf_[kOrderTable + k * sizeof(lt_order_pair)]);
    }
    // A complete lock-order pair in entry k.
    void add_pair(uint32_t k, uint64_t held, uint64_t taken, int32_t tid, uint64_t time_ns)
    {
        lt_order_pair& e = order(k);
        memset(&e, 0, sizeof e);
        e.held = held;
        e.taken = taken;
        e.held_prim = e.taken_prim = LT_PRIM_MUTEX;
        e.modes = LT_FL_WRITE | LT_FL_WRITE << 2;
        e.tid = tid;
        e.count = 1;
        e.first_ns = hdr().start_monotonic_ns + time_ns;
        e.key = (lt_order_hash(held, taken, 0, 0, LT_PRIM_MUTEX, LT_PRIM_MUTEX) & ~uint64_t(3)) | 3u;
    }

    // Format version 3: unfenced stamps, and the clock.  With `tsc`, the
    // stamps are TSC-derived and a table of kAnchorCap anchors follows the
    // inherited-lock table (add_anchor).
    static constexpr uint32_t kAnchorCap = 16;
    static constexpr uint64_t kAnchorTable = kInheritedTable + kInheritedCap * sizeof(lt_inherited_lock);
    void make_v3(bool tsc)
    {
        make_v2();
        lt_file_header& h = hdr();
        h.version = 3;
        h.clock = tsc ? LT_CLOCK_TSC : LT_CLOCK_MONOTONIC;
        h.anchors_offset = tsc ? kAnchorTable : 0;
        h.anchors_capacity = tsc ? kAnchorCap : 0;
    }
    lt_clock_anchor& anchor(uint32_t k)
    {
        return *reinterpret_cast<lt_clock_anchor*>(&buf_[kAnchorTable + k * sizeof(lt_clock_anchor)]);
    }
    // A complete anchor: stamp and CLOCK_MONOTONIC, both from the trace's start.
    lt_clock_anchor& add_anchor(uint64_t stamp_ns, uint64_t mono_ns, uint32_t spread_ns = 50)
    {
        uint64_t i = hdr().anchors_head++;
        lt_clock_anchor& a = anchor(uint32_t(i % kAnchorCap));
        a.seq = i + 1;
        a.stamp_ns = hdr().start_monotonic_ns + stamp_ns;
        a.mono_ns = hdr().start_monotonic_ns + mono_ns;
        a.spread_ns = spread_ns;
        a.check = lt_anchor_check(a.seq, a.stamp_ns, a.mono_ns, a.spread_ns);
        return a;
    }

    std::vector<uint8_t>& bytes() { return buf_; }

    // Writes the trace (its first `limit` bytes if given) to a fresh temp file.
    std::string write(size_t limit = SIZE_MAX)
    {
        char path[] = "/tmp/lt_unit_XXXXXX";
        int fd = mkstemp(path);
        size_t n = std::min(limit, buf_.size());
        if (fd < 0 || ::write(fd, buf_.data(), n) != ssize_t(n)) abort();
        close(fd);
        files_.push_back(path);
        return path;
    }

    ~TraceBuilder()
    {
        for (const std::string& f : files_) unlink(f.c_str());
    }

private:
    std::vector<uint8_t> buf_;
    uint32_t stacks_ = 0;
    std::vector<std::string> files_;
};

} // namespace lt::test
