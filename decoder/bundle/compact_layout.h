// Where things go in a compact raw trace (include/locktrace/format.h) that is
// rebuilt from parts rather than written by the shim: the thread, module and
// stack tables packed right after the header, each on a 64-byte boundary,
// then the rings back to back.  One layout for the two places that rebuild
// traces: the bundle unpacker (unpack.cpp) and the fuzz seed maker
// (fuzz/make_seed.cpp).  Header-only, needs nothing but format.h.
#pragma once

#include <locktrace/format.h>

#include <cstdint>

namespace lt::bundle {

inline uint64_t align64(uint64_t v) { return (v + 63) & ~uint64_t(63); }

class CompactLayout {
public:
    // Lays out the tables and writes their offsets, capacities (all used) and
    // the stack entry size into `h`; the rings start after them.
    // `order` and `inherited`: entries of the lock-order and inherited-lock
    // tables (format version 2), placed after the stack table.
    CompactLayout(lt_file_header& h, uint32_t threads, uint32_t modules, uint32_t stack_capacity, uint32_t depth,
                  uint32_t order = 0, uint32_t inherited = 0)
        : h_(h)
    {
        h.thread_table_offset = LT_HEADER_SIZE;
        h.thread_table_capacity = threads;
        h.threads_used = threads;
        h.module_table_offset = align64(h.thread_table_offset + uint64_t(threads) * sizeof(lt_thread));
        h.module_table_capacity = modules;
        h.modules_used = modules;
        h.stack_table_offset = align64(h.module_table_offset + uint64_t(modules) * sizeof(lt_module));
        h.stack_depth_max = depth;
        h.stack_entry_size = uint32_t(sizeof(lt_stack_entry) + 8u * depth);
        h.stack_table_capacity = depth ? stack_capacity : 0;
        uint64_t end = align64(h.stack_table_offset + uint64_t(h.stack_table_capacity) * h.stack_entry_size);
        if (h.version >= 2) {
            h.order_table_offset = end;
            h.order_table_capacity = order;
            h.order_entry_size = sizeof(lt_order_pair);
            // Books keep the size they had (their totals tables' size).
            if (!lt_book_totals_capacity(h.book_size)) h.book_size = uint32_t(lt_book_bytes(LT_TOTALS_DEFAULT));
            h.lives_offset = 0;
            h.lives_capacity = 0;
            end = align64(end + uint64_t(order) * sizeof(lt_order_pair));
            h.inherited_offset = end;
            h.inherited_capacity = h.inherited_count = inherited;
            end = align64(end + uint64_t(inherited) * sizeof(lt_inherited_lock));
        }
        h.rings_offset = end;
        h.file_end = h.rings_offset;
    }
    // Places a thread's book after the last ring; returns its offset.
    uint64_t add_book()
    {
        uint64_t off = h_.file_end;
        h_.file_end = align64(off + h_.book_size);
        return off;
    }
    // Places a ring of `capacity` records after the last one; returns its offset.
    uint64_t add_ring(uint64_t capacity)
    {
        uint64_t off = h_.file_end;
        h_.file_end = align64(off + capacity * sizeof(lt_event));
        return off;
    }
    uint64_t end() const { return h_.file_end; }

private:
    lt_file_header& h_;
};

} // namespace lt::bundle
