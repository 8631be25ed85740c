// make_seed IN OUT [RING [STACKS]]: rewrites a real trace into a small one for
// the fuzz corpus.  The shim's layout is generous (1024 module slots, a 16384
// entry stack table, big rings), so a real trace is hundreds of KiB of mostly
// zeros, which a fuzzer mutates slowly.  This keeps everything the reader
// reads, tightly: tables cut to the entries used, stack ids renumbered, each
// ring cut to its newest RING records (default 32, a power of two) in their
// proper slots, so the result is still a valid trace (with the cut records
// counted as overwritten).  STACKS=0 drops the stack table.
#include "bundle/compact_layout.h"

#include <locktrace/format.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <vector>

int main(int argc, char** argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: make_seed IN OUT [RING [STACKS]]\n");
        return 2;
    }
    uint64_t ring = argc > 3 ? strtoull(argv[3], nullptr, 0) : 32;
    bool keep_stacks = argc > 4 ? atoi(argv[4]) != 0 : true;
    if (!ring || (ring & (ring - 1))) {
        fprintf(stderr, "make_seed: RING must be a power of two\n");
        return 2;
    }
    std::ifstream in(argv[1], std::ios::binary);
    std::vector<uint8_t> f((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    lt_file_header h;
    if (f.size() < LT_HEADER_SIZE) return fprintf(stderr, "make_seed: too short\n"), 1;
    memcpy(&h, f.data(), sizeof h);
    if (h.magic != LT_MAGIC || h.version < LT_FORMAT_VERSION_MIN || h.version > LT_FORMAT_VERSION)
        return fprintf(stderr, "make_seed: not a trace\n"), 1;
    auto at = [&](uint64_t off, uint64_t len) -> const uint8_t* {
        if (off > f.size() || len > f.size() - off) {
            fprintf(stderr, "make_seed: input out of bounds\n");
            exit(1);
        }
        return f.data() + off;
    };
    uint32_t nthreads = h.threads_used, nmodules = h.modules_used;
    std::vector<lt_thread> threads(nthreads);
    for (uint32_t i = 0; i < nthreads; i++)
        memcpy(&threads[i], at(h.thread_table_offset + i * sizeof(lt_thread), sizeof(lt_thread)), sizeof(lt_thread));

    // The newest `ring` records of each ring, and the stacks they use.
    std::map<uint32_t, uint32_t> stack_ids; // old id -> new id
    std::vector<std::vector<lt_event>> rings(nthreads, std::vector<lt_event>(ring));
    for (uint32_t t = 0; t < nthreads; t++) {
        lt_thread& th = threads[t];
        if (th.state != LT_SLOT_LIVE && th.state != LT_SLOT_EXITED) continue;
        uint64_t first = th.head > ring ? th.head - ring : 0;
        uint64_t first_old = th.head > th.ring_capacity ? th.head - th.ring_capacity : 0;
        if (first < first_old) first = first_old;
        for (uint64_t i = first; i < th.head; i++) {
            lt_event e;
            memcpy(&e, at(th.ring_offset + (i & (th.ring_capacity - 1)) * sizeof(lt_event), sizeof e), sizeof e);
            if (e.stack_id && keep_stacks && h.stack_depth_max) {
                auto it = stack_ids.find(e.stack_id);
                if (it == stack_ids.end()) it = stack_ids.emplace(e.stack_id, (uint32_t)stack_ids.size() + 1).first;
                e.stack_id = it->second;
            } else {
                e.stack_id = 0;
            }
            rings[t][i & (ring - 1)] = e;
        }
    }
    uint32_t stack_cap = 1;
    while (stack_cap < stack_ids.size()) stack_cap <<= 1;
    uint32_t depth = keep_stacks ? h.stack_depth_max : 0;

    lt_file_header o = h;
    lt::bundle::CompactLayout layout(o, nthreads, nmodules, stack_cap, depth);
    o.ring_capacity = ring;
    std::vector<uint64_t> ring_off(nthreads);
    for (uint32_t t = 0; t < nthreads; t++) ring_off[t] = layout.add_ring(ring);
    // Version 2: each thread's book after the rings, so the seeds reach the
    // book reader too.
    std::vector<uint64_t> book_off(nthreads, 0);
    for (uint32_t t = 0; t < nthreads; t++)
        if (h.version >= 2 && threads[t].book_offset) book_off[t] = layout.add_book();
    uint64_t end = layout.end();
    std::vector<uint8_t> out(end);
    memcpy(out.data(), &o, sizeof o);
    for (uint32_t t = 0; t < nthreads; t++) {
        lt_thread th = threads[t];
        th.ring_offset = ring_off[t];
        th.ring_capacity = ring;
        if (book_off[t])
            memcpy(out.data() + book_off[t], at(threads[t].book_offset, o.book_size), o.book_size);
        th.book_offset = book_off[t];
        memcpy(out.data() + o.thread_table_offset + t * sizeof(lt_thread), &th, sizeof th);
        memcpy(out.data() + th.ring_offset, rings[t].data(), ring * sizeof(lt_event));
    }
    for (uint32_t m = 0; m < nmodules; m++)
        memcpy(out.data() + o.module_table_offset + m * sizeof(lt_module),
               at(h.module_table_offset + m * sizeof(lt_module), sizeof(lt_module)), sizeof(lt_module));
    if (depth)
        for (auto [old_id, new_id] : stack_ids)
            memcpy(out.data() + o.stack_table_offset + uint64_t(new_id - 1) * o.stack_entry_size,
                   at(h.stack_table_offset + uint64_t(old_id - 1) * h.stack_entry_size, o.stack_entry_size),
                   o.stack_entry_size);
    std::ofstream(argv[2], std::ios::binary).write(reinterpret_cast<const char*>(out.data()), out.size());
    printf("%s: %zu bytes (%u threads, %u modules, %zu stacks, ring %llu)\n", argv[2], out.size(), nthreads, nmodules,
           stack_ids.size(), (unsigned long long)ring);
    return 0;
}
