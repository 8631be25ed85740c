// lt_trace_stats TRACE: reads a locktrace trace's header and tables directly
// (include/locktrace/format.h) and prints what the shim recorded, one
// "key value" a line.  scripts/bench.sh uses it so that a shim which records
// nothing (or drops threads) cannot pass for a fast one, independently of the
// decoder.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

#include "locktrace/format.h"

static int fail(const char *path, const char *why) {
    std::fprintf(stderr, "lt_trace_stats: %s: %s\n", path, why);
    return 1;
}

static bool read_at(int fd, void *buf, size_t n, uint64_t off) {
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, static_cast<char *>(buf) + done, n - done, off + done);
        if (r <= 0) return false;
        done += size_t(r);
    }
    return true;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: lt_trace_stats TRACE\n");
        return 2;
    }
    const char *path = argv[1];
    int fd = open(path, O_RDONLY);
    if (fd < 0) return fail(path, std::strerror(errno));
    struct stat st {};
    fstat(fd, &st);
    const uint64_t size = uint64_t(st.st_size);
    lt_file_header h;
    if (size < sizeof h || !read_at(fd, &h, sizeof h, 0)) return fail(path, "shorter than a header");
    if (h.magic != LT_MAGIC) return fail(path, "not a locktrace trace (bad magic)");
    if (h.version < LT_FORMAT_VERSION_MIN || h.version > LT_FORMAT_VERSION) return fail(path, "unknown format version");
    if (h.event_size != sizeof(lt_event) || h.thread_entry_size != sizeof(lt_thread))
        return fail(path, "unexpected record sizes");
    const uint64_t tcap = h.thread_table_capacity;
    if (tcap > (1u << 20) || h.thread_table_offset > size ||
        tcap * sizeof(lt_thread) > size - h.thread_table_offset)
        return fail(path, "thread table outside the file");

    std::vector<lt_thread> threads(tcap);
    if (tcap && !read_at(fd, threads.data(), tcap * sizeof(lt_thread), h.thread_table_offset))
        return fail(path, "cannot read the thread table");
    uint64_t recorded = 0, kept = 0, live = 0, exited = 0;
    for (const auto &t : threads) {
        if (t.state != LT_SLOT_LIVE && t.state != LT_SLOT_EXITED) continue;
        (t.state == LT_SLOT_LIVE ? live : exited)++;
        recorded += t.head;
        kept += t.head < t.ring_capacity ? t.head : t.ring_capacity;
    }

    uint64_t stacks = 0;
    const uint64_t scap = h.stack_table_capacity, ssize = h.stack_entry_size;
    if (scap && ssize >= sizeof(lt_stack_entry) && h.stack_table_offset <= size &&
        scap <= (size - h.stack_table_offset) / ssize) {
        std::vector<char> table(scap * ssize);
        if (read_at(fd, table.data(), table.size(), h.stack_table_offset))
            for (uint64_t i = 0; i < scap; ++i) {
                lt_stack_entry e;
                std::memcpy(&e, table.data() + i * ssize, sizeof e);
                stacks += e.state == LT_SLOT_READY;
            }
    }
    // The lock-order table: pairs kept, and nested acquisitions that found
    // no room (memcached-like programs with thousands of locks fill it).
    uint64_t pairs = 0;
    const uint64_t ocap = h.order_table_capacity;
    if (ocap && h.order_entry_size == sizeof(lt_order_pair) && h.order_table_offset <= size &&
        ocap <= (size - h.order_table_offset) / sizeof(lt_order_pair)) {
        std::vector<lt_order_pair> order(ocap);
        if (read_at(fd, order.data(), ocap * sizeof(lt_order_pair), h.order_table_offset))
            for (const auto &e : order) pairs += e.key != 0;
    }
    close(fd);

    std::printf("file_bytes %" PRIu64 "\n", size);
    std::printf("disk_bytes %" PRIu64 "\n", uint64_t(st.st_blocks) * 512);
    std::printf("ring_capacity %" PRIu64 "\n", h.ring_capacity);
    std::printf("stack_depth_max %u\n", h.stack_depth_max);
    std::printf("threads_used %u\n", h.threads_used);
    std::printf("threads_live %" PRIu64 "\n", live);
    std::printf("threads_exited %" PRIu64 "\n", exited);
    std::printf("threads_dropped %" PRIu64 "\n", h.threads_dropped);
    std::printf("threads_recycled %" PRIu64 "\n", h.threads_recycled);
    std::printf("events_recorded %" PRIu64 "\n", recorded);
    std::printf("events_kept %" PRIu64 "\n", kept);
    std::printf("events_overwritten %" PRIu64 "\n", recorded - kept);
    std::printf("stacks_stored %" PRIu64 "\n", stacks);
    std::printf("stacks_dropped %" PRIu64 "\n", h.stacks_dropped);
    std::printf("stack_walks %" PRIu64 "\n", h.stack_walks);
    std::printf("order_pairs %" PRIu64 "\n", pairs);
    std::printf("order_capacity %" PRIu64 "\n", ocap);
    std::printf("order_overflow %" PRIu64 "\n", h.order_overflow);
    return 0;
}
