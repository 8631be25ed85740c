#include "trace_reader.h"

#include "handover.h"
#include "huge_pages.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace lt {

namespace {

// Sanity limits: far above anything the shim writes, low enough that a hostile
// header cannot make us allocate or loop without bound.
constexpr uint32_t kMaxStackDepth = 1024;

bool is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

// a + b * c without overflow; false if it overflows.
bool span_end(uint64_t a, uint64_t b, uint64_t c, uint64_t* end)
{
    uint64_t prod;
    if (__builtin_mul_overflow(b, c, &prod)) return false;
    return !__builtin_add_overflow(a, prod, end);
}

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

std::string bounded_string(const char* p, size_t max)
{
    size_t n = strnlen(p, max);
    return std::string(p, n);
}

uint64_t load_acquire(const void* p)
{
    return __atomic_load_n(static_cast<const uint64_t*>(p), __ATOMIC_ACQUIRE);
}

} // namespace

uint64_t Trace::next_serial()
{
    static std::atomic<uint64_t> n{0};
    return ++n;
}

Trace::Trace(const std::string& path) : path_(path)
{
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0)
        throw TraceError(path + ": cannot open: " + strerror(errno));
    struct stat st;
    if (fstat(fd_, &st) != 0) {
        int e = errno;
        ::close(fd_);
        throw TraceError(path + ": cannot stat: " + strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd_);
        throw TraceError(path + ": not a regular file");
    }
    size_ = static_cast<uint64_t>(st.st_size);
    if (size_ < LT_HEADER_SIZE) {
        ::close(fd_);
        throw TraceError(fmt("%s: not a locktrace trace: %llu bytes, shorter than the %u-byte header",
                             path.c_str(), (unsigned long long)size_, LT_HEADER_SIZE));
    }
    void* m = mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd_, 0);
    if (m == MAP_FAILED) {
        int e = errno;
        ::close(fd_);
        throw TraceError(path + ": cannot map: " + strerror(e));
    }
    map_ = static_cast<const uint8_t*>(m);
    try {
        // The writer may still be changing the header: take one copy, check it,
        // and use only the copy from here on.
        memcpy(&hdr_, map_, sizeof hdr_);
        validate_header();
        read_clock();
        read_threads();
        read_modules();
        read_whole_run();
    } catch (...) {
        munmap(const_cast<uint8_t*>(map_), size_);
        ::close(fd_);
        throw;
    }
    stacks_.resize(hdr_.stack_depth_max ? hdr_.stack_table_capacity + 1u : 1u);
    stack_loaded_.assign(stacks_.size(), 0);
}

Trace::Trace(const std::string& name, std::vector<uint8_t> image, std::shared_ptr<const SymbolTable> symbols,
             std::optional<PackedAt> packed)
    : path_(name), image_(std::move(image)), symbols_(std::move(symbols)), packed_(packed.has_value()),
      packed_at_(packed.value_or(PackedAt{}))
{
    load_image();
}

void Trace::load_image()
{
    size_ = image_.size();
    if (size_ < LT_HEADER_SIZE)
        throw TraceError(fmt("%s: not a locktrace trace: %llu bytes, shorter than the %u-byte header", path_.c_str(),
                             (unsigned long long)size_, LT_HEADER_SIZE));
    map_ = image_.data();
    memcpy(&hdr_, map_, sizeof hdr_);
    validate_header();
    read_clock();
    read_threads();
    read_modules();
    read_whole_run();
    stacks_.resize(hdr_.stack_depth_max ? hdr_.stack_table_capacity + 1u : 1u);
    stack_loaded_.assign(stacks_.size(), 0);
}

uint64_t monotonic_now_ns()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

namespace {

// What /proc/PID/stat says of a process: whether it has ended (a zombie:
// killed or exited, not yet reaped by its parent) and when it started, on
// CLOCK_MONOTONIC.  False when it cannot be read (no such process, or /proc
// hides it).
struct ProcStat {
    bool ended = false;
    uint64_t start_monotonic_ns = 0;
};

bool read_proc_stat(int32_t pid, ProcStat* out)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", int(pid));
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return false;
    buf[n] = 0;
    // "pid (comm) S ppid ...": comm may hold spaces and parentheses, so the
    // fields are counted from the last ')'. State is field 3, starttime 22.
    const char* p = strrchr(buf, ')');
    if (!p) return false;
    int field = 2;
    char state = 0;
    unsigned long long start_ticks = 0;
    bool have_start = false;
    for (p = p + 1; *p && !have_start;) {
        while (*p == ' ') ++p;
        if (!*p) break;
        ++field;
        if (field == 3) state = *p;
        if (field == 22) have_start = sscanf(p, "%llu", &start_ticks) == 1;
        while (*p && *p != ' ') ++p;
    }
    if (!have_start) return false;
    out->ended = state == 'Z' || state == 'X' || state == 'x';
    // starttime counts clock ticks since boot on CLOCK_BOOTTIME, which runs
    // ahead of CLOCK_MONOTONIC by the time spent suspended.
    timespec boot, mono;
    clock_gettime(CLOCK_BOOTTIME, &boot);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    const int64_t suspended = (int64_t(boot.tv_sec) - mono.tv_sec) * 1000000000 + (boot.tv_nsec - mono.tv_nsec);
    const long hz = sysconf(_SC_CLK_TCK);
    const uint64_t start_boot = uint64_t(start_ticks) * (1000000000ull / uint64_t(hz > 0 ? hz : 100));
    out->start_monotonic_ns = start_boot > uint64_t(std::max<int64_t>(suspended, 0))
                                  ? start_boot - uint64_t(std::max<int64_t>(suspended, 0))
                                  : 0;
    return true;
}

} // namespace

bool Trace::process_running() const
{
    if (packed_ || process_ended() || hdr_.pid <= 0) return false;
    // A trace that starts after our now was written on another boot or machine:
    // a process with its pid here is not the one traced.
    if (monotonic_now_ns() < hdr_.start_monotonic_ns) return false;
    ProcStat st;
    if (!read_proc_stat(hdr_.pid, &st)) return kill(hdr_.pid, 0) == 0 || errno == EPERM;
    if (st.ended) return false;  // killed (or exited) and not yet reaped
    // The traced process started before its trace did; one that started later
    // only reuses the pid.  The slack covers starttime's clock-tick resolution.
    constexpr uint64_t kSlackNs = 50 * 1000 * 1000;
    return st.start_monotonic_ns <= hdr_.start_monotonic_ns + kSlackNs;
}

uint64_t Trace::open_until_ns() const
{
    if (packed_) return packed_at_.running ? packed_at_.monotonic_ns : 0;
    return process_running() ? monotonic_now_ns() : 0;
}

Trace::~Trace()
{
    if (map_ && image_.empty()) munmap(const_cast<uint8_t*>(map_), size_);
    if (fd_ >= 0) ::close(fd_);
}

void Trace::validate_header()
{
    const char* p = path_.c_str();
    if (hdr_.magic != LT_MAGIC) {
        if (hdr_.magic == __builtin_bswap64(LT_MAGIC))
            throw TraceError(fmt("%s: trace written on a machine of the other byte order", p));
        throw TraceError(fmt("%s: not a locktrace trace (bad magic 0x%016llx)", p, (unsigned long long)hdr_.magic));
    }
    if (hdr_.version < LT_FORMAT_VERSION_MIN || hdr_.version > LT_FORMAT_VERSION)
        throw TraceError(fmt("%s: trace format version %u, this decoder reads versions %u to %u", p, hdr_.version,
                             LT_FORMAT_VERSION_MIN, LT_FORMAT_VERSION));
    if (hdr_.header_size != LT_HEADER_SIZE)
        throw TraceError(fmt("%s: corrupt header: header_size %u, expected %u", p, hdr_.header_size, LT_HEADER_SIZE));
    if (hdr_.event_size != sizeof(lt_event))
        throw TraceError(fmt("%s: corrupt header: event_size %u, expected %zu", p, hdr_.event_size, sizeof(lt_event)));
    if (hdr_.thread_entry_size != sizeof(lt_thread))
        throw TraceError(fmt("%s: corrupt header: thread_entry_size %u, expected %zu", p, hdr_.thread_entry_size,
                             sizeof(lt_thread)));
    if (hdr_.module_entry_size != sizeof(lt_module))
        throw TraceError(fmt("%s: corrupt header: module_entry_size %u, expected %zu", p, hdr_.module_entry_size,
                             sizeof(lt_module)));
    if (hdr_.stack_depth_max > kMaxStackDepth)
        throw TraceError(fmt("%s: corrupt header: stack_depth_max %u (limit %u)", p, hdr_.stack_depth_max,
                             kMaxStackDepth));
    if (hdr_.stack_entry_size != sizeof(lt_stack_entry) + 8u * hdr_.stack_depth_max)
        throw TraceError(fmt("%s: corrupt header: stack_entry_size %u does not match stack_depth_max %u", p,
                             hdr_.stack_entry_size, hdr_.stack_depth_max));
    if (hdr_.threads_used > hdr_.thread_table_capacity)
        throw TraceError(fmt("%s: corrupt header: threads_used %u > thread_table_capacity %u", p, hdr_.threads_used,
                             hdr_.thread_table_capacity));
    if (hdr_.modules_used > hdr_.module_table_capacity)
        throw TraceError(fmt("%s: corrupt header: modules_used %u > module_table_capacity %u", p, hdr_.modules_used,
                             hdr_.module_table_capacity));
    if (hdr_.marks_used > LT_MAX_MARKS)
        throw TraceError(fmt("%s: corrupt header: marks_used %u > %u", p, hdr_.marks_used, LT_MAX_MARKS));
    if (hdr_.cmdline_len > LT_CMDLINE_MAX)
        throw TraceError(fmt("%s: corrupt header: cmdline_len %u > %u", p, hdr_.cmdline_len, LT_CMDLINE_MAX));
    if (hdr_.stack_depth_max && !is_pow2(hdr_.stack_table_capacity))
        throw TraceError(fmt("%s: corrupt header: stack_table_capacity %u is not a power of two", p,
                             hdr_.stack_table_capacity));
    if (hdr_.ring_capacity && !is_pow2(hdr_.ring_capacity))
        throw TraceError(fmt("%s: corrupt header: ring_capacity %llu is not a power of two", p,
                             (unsigned long long)hdr_.ring_capacity));

    // The tables sit between the header and the rings, and must be whole in
    // the file: they are written first, so a file cut inside them is unusable.
    struct Region { const char* name; uint64_t off; uint64_t n; uint64_t size; };
    const Region regions[] = {
        {"thread table", hdr_.thread_table_offset, hdr_.thread_table_capacity, sizeof(lt_thread)},
        {"module table", hdr_.module_table_offset, hdr_.module_table_capacity, sizeof(lt_module)},
        {"stack table", hdr_.stack_table_offset, hdr_.stack_depth_max ? hdr_.stack_table_capacity : 0,
         hdr_.stack_entry_size},
    };
    uint64_t ends[3];
    for (int i = 0; i < 3; i++) {
        const Region& r = regions[i];
        if (r.n == 0) { ends[i] = r.off; continue; }
        if (r.off < LT_HEADER_SIZE || r.off % 8)
            throw TraceError(fmt("%s: corrupt header: %s offset %llu overlaps the header or is misaligned", p, r.name,
                                 (unsigned long long)r.off));
        if (!span_end(r.off, r.n, r.size, &ends[i]))
            throw TraceError(fmt("%s: corrupt header: %s size overflows", p, r.name));
        if (ends[i] > size_)
            throw TraceError(fmt("%s: file truncated inside the %s (ends at %llu, file has %llu bytes)", p, r.name,
                                 (unsigned long long)ends[i], (unsigned long long)size_));
        if (ends[i] > hdr_.rings_offset)
            throw TraceError(fmt("%s: corrupt header: %s runs into the rings (ends at %llu, rings at %llu)", p, r.name,
                                 (unsigned long long)ends[i], (unsigned long long)hdr_.rings_offset));
    }
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++) {
            if (regions[i].n == 0 || regions[j].n == 0) continue;
            if (regions[i].off < ends[j] && regions[j].off < ends[i])
                throw TraceError(fmt("%s: corrupt header: %s and %s overlap", p, regions[i].name, regions[j].name));
        }
    if (hdr_.file_end < hdr_.rings_offset)
        throw TraceError(fmt("%s: corrupt header: file_end %llu before rings_offset %llu", p,
                             (unsigned long long)hdr_.file_end, (unsigned long long)hdr_.rings_offset));
}

void Trace::read_threads()
{
    const char* p = path_.c_str();
    threads_.reserve(hdr_.threads_used);
    for (uint32_t i = 0; i < hdr_.threads_used; i++) {
        const uint8_t* ent = map_ + hdr_.thread_table_offset + uint64_t(i) * sizeof(lt_thread);
        uint32_t state = __atomic_load_n(reinterpret_cast<const uint32_t*>(ent), __ATOMIC_ACQUIRE);
        if (state != LT_SLOT_LIVE && state != LT_SLOT_EXITED)
            continue; // empty, or being set up right now
        lt_thread t;
        memcpy(&t, ent, sizeof t);
        t.state = state;
        ThreadInfo ti;
        ti.slot = i;
        ti.tid = t.tid;
        ti.state = t.state;
        ti.generation = t.generation;
        ti.name = bounded_string(t.name, LT_THREAD_NAME_MAX);
        ti.start_ns = clock_.to_mono(t.start_ns);
        ti.end_ns = clock_.to_mono(t.end_ns);
        ti.pthread_self = t.pthread_self;
        ti.ring_offset = t.ring_offset;
        ti.ring_capacity = t.ring_capacity;
        book_offsets_.push_back(hdr_.version >= 2 ? t.book_offset : 0);
        ti.head = __atomic_load_n(reinterpret_cast<const uint64_t*>(ent + offsetof(lt_thread, head)), __ATOMIC_ACQUIRE);
        // A slot whose ring could not be allocated says so with capacity 0 and
        // no records: the thread ran untraced.
        if (ti.ring_capacity == 0 && ti.head == 0) {
            threads_.push_back(std::move(ti));
            continue;
        }
        if (!is_pow2(ti.ring_capacity))
            throw TraceError(fmt("%s: corrupt thread slot %u (tid %d): ring capacity %llu is not a power of two", p, i,
                                 ti.tid, (unsigned long long)ti.ring_capacity));
        uint64_t end;
        if (!span_end(ti.ring_offset, ti.ring_capacity, sizeof(lt_event), &end))
            throw TraceError(fmt("%s: corrupt thread slot %u (tid %d): ring size overflows", p, i, ti.tid));
        if (ti.ring_offset < hdr_.rings_offset || ti.ring_offset % 8)
            throw TraceError(fmt("%s: corrupt thread slot %u (tid %d): ring offset %llu outside the ring area", p, i,
                                 ti.tid, (unsigned long long)ti.ring_offset));
        // A ring past the end of the file (truncated copy, or allocated after we
        // looked at a live trace) is not an error: its records count as cut.
        ti.first_index = ti.head > ti.ring_capacity ? ti.head - ti.ring_capacity : 0;
        ti.lost = ti.first_index;
        threads_.push_back(std::move(ti));
    }
    // Rings must not overlap: a hostile table could otherwise make two threads
    // share records.
    std::vector<const ThreadInfo*> by_off;
    for (const ThreadInfo& t : threads_)
        if (t.ring_capacity) by_off.push_back(&t);
    std::sort(by_off.begin(), by_off.end(),
              [](const ThreadInfo* a, const ThreadInfo* b) { return a->ring_offset < b->ring_offset; });
    for (size_t k = 1; k < by_off.size(); k++)
        if (by_off[k - 1]->ring_offset + by_off[k - 1]->ring_capacity * sizeof(lt_event) > by_off[k]->ring_offset)
            throw TraceError(fmt("%s: corrupt thread table: rings of slots %u and %u overlap", p, by_off[k - 1]->slot,
                                 by_off[k]->slot));
}

void Trace::read_modules()
{
    for (uint32_t i = 0; i < hdr_.modules_used; i++) {
        const uint8_t* ent = map_ + hdr_.module_table_offset + uint64_t(i) * sizeof(lt_module);
        uint32_t state = __atomic_load_n(reinterpret_cast<const uint32_t*>(ent), __ATOMIC_ACQUIRE);
        if (state != LT_SLOT_READY)
            continue;
        lt_module m;
        memcpy(&m, ent, sizeof m);
        Module mod;
        mod.path = bounded_string(m.path, LT_PATH_MAX);
        mod.base = m.base;
        mod.lo = m.lo;
        mod.hi = m.hi;
        mod.loaded_ns = clock_.to_mono(m.loaded_ns);
        if (m.build_id_len <= LT_BUILD_ID_MAX)
            mod.build_id.assign(m.build_id, m.build_id + m.build_id_len);
        modules_.push_back(std::move(mod));
    }
}

namespace {

// A table of `n` entries of `size` bytes at `off`: whole inside the file and
// clear of the header; false otherwise.
bool table_fits(uint64_t off, uint64_t n, uint64_t size, uint64_t file_size)
{
    uint64_t end;
    return n == 0 || (off >= LT_HEADER_SIZE && off % 8 == 0 && span_end(off, n, size, &end) && end <= file_size);
}

} // namespace

void Trace::read_book(ThreadInfo& ti, uint64_t off, ThreadBook& out)
{
    // A book lies after the tables (in the ring area), whole in the file; one
    // cut off (a truncated copy) or misplaced is left out, not trusted.
    uint64_t end;
    if (off < hdr_.rings_offset || off % 8 || !span_end(off, 1, hdr_.book_size, &end) || end > size_) return;
    if (ti.ring_capacity && off < ti.ring_offset + ti.ring_capacity * sizeof(lt_event) &&
        ti.ring_offset < end)
        return; // overlaps its own ring: corrupt
    const lt_book* b = reinterpret_cast<const lt_book*>(map_ + off);
    out.present = true;
    uint32_t n = std::min<uint32_t>(__atomic_load_n(&b->held_count, __ATOMIC_ACQUIRE), LT_HELD_MAX);
    out.held_overflow = b->held_overflow;
    out.totals_overflow = b->totals_overflow;
    for (uint32_t k = 0; k < n; k++) {
        const lt_held* h = &b->held[k];
        uint64_t seq = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
        if (seq == 0) continue;
        if (seq == LT_HELD_BUSY) { out.held_torn++; continue; }
        lt_held c;
        memcpy(&c, h, sizeof c);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (__atomic_load_n(&h->seq, __ATOMIC_ACQUIRE) != seq) { out.held_torn++; continue; }
        if (c.addr == 0 || c.depth == 0 || (c.mode != LT_FL_READ && c.mode != LT_FL_WRITE)) {
            out.held_torn++;  // not something the shim writes
            continue;
        }
        // An entry moving into a freed one is seen twice for a moment.
        bool dup = false;
        for (const HeldLock& o : out.held)
            if (o.addr == c.addr && o.prim == c.prim && o.index == seq - 1) dup = true;
        if (dup) continue;
        HeldLock hl;
        hl.addr = c.addr;
        hl.time_ns = clock_.to_mono(c.time_ns);
        hl.index = seq - 1;
        hl.stack_id = c.stack_id;
        hl.depth = c.depth;
        hl.prim = c.prim;
        hl.mode = c.mode;
        out.held.push_back(hl);
    }
    for (uint32_t k = 0; k < totals_capacity_; k++) {
        lt_lock_totals t;
        memcpy(&t, &b->totals[k], sizeof t);
        if (!t.addr) continue;
        t.wait_longest_at_ns = clock_.to_mono(t.wait_longest_at_ns);
        t.hold_longest_at_ns = clock_.to_mono(t.hold_longest_at_ns);
        out.totals.push_back(t);
    }
}

void Trace::read_whole_run()
{
    books_.assign(threads_.size(), ThreadBook{});
    if (hdr_.version < 2) return;
    const char* p = path_.c_str();
    totals_capacity_ = lt_book_totals_capacity(hdr_.book_size);
    if (!totals_capacity_)
        throw TraceError(fmt("%s: corrupt header: book_size %u is no book (%zu bytes and a totals table of %u to %u "
                             "entries, a power of two, of %zu bytes each)",
                             p, hdr_.book_size, sizeof(lt_book), LT_TOTALS_MIN, LT_TOTALS_MAX,
                             sizeof(lt_lock_totals)));
    if (hdr_.order_entry_size != sizeof(lt_order_pair))
        throw TraceError(fmt("%s: corrupt header: order_entry_size %u, expected %zu", p, hdr_.order_entry_size,
                             sizeof(lt_order_pair)));
    if ((hdr_.order_table_capacity && !is_pow2(hdr_.order_table_capacity)) ||
        !table_fits(hdr_.order_table_offset, hdr_.order_table_capacity, sizeof(lt_order_pair), size_))
        throw TraceError(fmt("%s: corrupt header: lock-order table (offset %llu, %u entries) outside the file", p,
                             (unsigned long long)hdr_.order_table_offset, hdr_.order_table_capacity));
    if (hdr_.inherited_count > hdr_.inherited_capacity ||
        !table_fits(hdr_.inherited_offset, hdr_.inherited_count, sizeof(lt_inherited_lock), size_))
        throw TraceError(fmt("%s: corrupt header: inherited-lock table (offset %llu, %u of %u entries) outside the file",
                             p, (unsigned long long)hdr_.inherited_offset, hdr_.inherited_count,
                             hdr_.inherited_capacity));
    whole_run_ = true;
    for (size_t i = 0; i < threads_.size(); i++)
        if (i < book_offsets_.size() && book_offsets_[i]) read_book(threads_[i], book_offsets_[i], books_[i]);
    for (uint32_t k = 0; k < hdr_.order_table_capacity; k++) {
        const lt_order_pair* e =
            reinterpret_cast<const lt_order_pair*>(map_ + hdr_.order_table_offset + uint64_t(k) * sizeof(lt_order_pair));
        uint64_t key = __atomic_load_n(&e->key, __ATOMIC_ACQUIRE);
        if (!key) continue;
        lt_order_pair c;
        memcpy(&c, e, sizeof c);
        uint64_t want = (lt_order_hash(c.held, c.taken, c.held_life, c.taken_life, c.held_prim, c.taken_prim) &
                         ~uint64_t(3)) | 3u;
        if (key != want || c.held == 0 || c.taken == 0) { order_torn_++; continue; }
        OrderPair o;
        o.held = c.held;
        o.taken = c.taken;
        o.held_life = c.held_life;
        o.taken_life = c.taken_life;
        o.first_ns = clock_.to_mono(c.first_ns);
        o.count = c.count;
        o.gate = c.gate;
        o.tid = c.tid;
        o.held_prim = c.held_prim;
        o.taken_prim = c.taken_prim;
        o.held_mode = c.modes & 3u;
        o.taken_mode = (c.modes >> 2) & 3u;
        o.held_stack = c.held_stack;
        o.taken_stack = c.taken_stack;
        order_.push_back(o);
    }
    for (uint32_t k = 0; k < hdr_.inherited_count; k++) {
        lt_inherited_lock e;
        memcpy(&e, map_ + hdr_.inherited_offset + uint64_t(k) * sizeof e, sizeof e);
        if (!e.addr || (e.mode != LT_FL_READ && e.mode != LT_FL_WRITE)) continue;
        e.time_ns = clock_.to_mono(e.time_ns);
        inherited_.push_back(e);
    }
}

std::vector<std::string> Trace::cmdline() const
{
    std::vector<std::string> out;
    const char* c = hdr_.cmdline;
    uint32_t n = std::min<uint32_t>(hdr_.cmdline_len, LT_CMDLINE_MAX);
    uint32_t i = 0;
    while (i < n) {
        size_t len = strnlen(c + i, n - i);
        out.emplace_back(c + i, len);
        i += uint32_t(len) + 1;
    }
    return out;
}

std::string Trace::exe_path() const { return bounded_string(hdr_.exe_path, LT_PATH_MAX); }

std::vector<Trace::ExecImage> Trace::exec_chain() const
{
    std::vector<ExecImage> out;
    uint32_t kept = std::min<uint32_t>(hdr_.exec_chain.count, LT_EXEC_CHAIN_MAX);
    for (uint32_t i = 0; i < kept; i++) {
        const lt_exec_image& img = hdr_.exec_chain.images[i];
        out.push_back({bounded_string(img.exe_path, LT_EXEC_PATH_MAX), bounded_string(img.args, LT_EXEC_ARGS_MAX)});
    }
    return out;
}

std::vector<lt_mark> Trace::marks() const
{
    return std::vector<lt_mark>(hdr_.marks, hdr_.marks + std::min<uint32_t>(hdr_.marks_used, LT_MAX_MARKS));
}

void Trace::read_clock()
{
    if (hdr_.version < 3 || hdr_.clock != LT_CLOCK_TSC) return;
    clock_tsc_ = true;
    uint32_t cap = hdr_.anchors_capacity;
    if (cap == 0) return;
    if (!is_pow2(cap) || !table_fits(hdr_.anchors_offset, cap, sizeof(lt_clock_anchor), size_))
        throw TraceError(fmt("%s: corrupt header: clock anchor table (offset %llu, %u entries) outside the file",
                             path_.c_str(), (unsigned long long)hdr_.anchors_offset, cap));
    std::vector<ClockAnchor> anchors;
    uint64_t used = std::min<uint64_t>(hdr_.anchors_head, cap);
    for (uint32_t k = 0; k < used; k++) {
        const lt_clock_anchor* e =
            reinterpret_cast<const lt_clock_anchor*>(map_ + hdr_.anchors_offset + uint64_t(k) * sizeof(lt_clock_anchor));
        uint64_t seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
        lt_clock_anchor c;
        memcpy(&c, e, sizeof c);
        std::atomic_thread_fence(std::memory_order_acquire);
        // Reserved and never finished (killed mid-write, or being written
        // now), or not what the shim writes: torn, left out.
        if (seq == 0 || ((seq - 1) & (cap - 1)) != k || __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE) != seq ||
            c.check != lt_anchor_check(seq, c.stamp_ns, c.mono_ns, c.spread_ns)) {
            anchors_torn_++;
            continue;
        }
        anchors.push_back({c.stamp_ns, c.mono_ns, c.spread_ns});
    }
    clock_.build(std::move(anchors));
    // The header copy's times too (marks are validated later: map them all).
    hdr_.end_monotonic_ns = clock_.to_mono(hdr_.end_monotonic_ns);
    for (lt_mark& m : hdr_.marks) m.time_ns = clock_.to_mono(m.time_ns);
}

const std::vector<uint64_t>& Trace::stack(uint32_t stack_id) const
{
    static const std::vector<uint64_t> empty;
    if (stack_id == 0 || stack_id >= stacks_.size())
        return empty;
    if (stack_loaded_[stack_id])
        return stacks_[stack_id];
    const uint8_t* ent = map_ + hdr_.stack_table_offset + uint64_t(stack_id - 1) * hdr_.stack_entry_size;
    uint32_t state = __atomic_load_n(reinterpret_cast<const uint32_t*>(ent + offsetof(lt_stack_entry, state)),
                                     __ATOMIC_ACQUIRE);
    if (state != LT_SLOT_READY)
        return empty; // not published (yet): do not cache, it may be ready later
    lt_stack_entry se;
    memcpy(&se, ent, sizeof se);
    uint32_t depth = std::min(se.depth, hdr_.stack_depth_max);
    std::vector<uint64_t>& pcs = stacks_[stack_id];
    pcs.resize(depth);
    if (depth) // an empty vector's data() may be null
        memcpy(pcs.data(), ent + sizeof(lt_stack_entry), depth * sizeof(uint64_t));
    stack_loaded_[stack_id] = 1;
    return pcs;
}

constexpr size_t kRecordPayload = sizeof(lt_event) - offsetof(lt_event, time_ns);
static_assert(offsetof(Event, time_ns) == 0 && offsetof(Event, thread) == kRecordPayload &&
                  offsetof(Event, addr) == offsetof(lt_event, addr) - 8 &&
                  offsetof(Event, addr2) == offsetof(lt_event, addr2) - 8 &&
                  offsetof(Event, state) == offsetof(lt_event, state) - 8 &&
                  offsetof(Event, stack_id) == offsetof(lt_event, stack_id) - 8 &&
                  offsetof(Event, type) == offsetof(lt_event, type) - 8 &&
                  offsetof(Event, prim) == offsetof(lt_event, prim) - 8 &&
                  offsetof(Event, flags) == offsetof(lt_event, flags) - 8 &&
                  offsetof(Event, result) == offsetof(lt_event, result) - 8 &&
                  offsetof(Event, arg) == offsetof(lt_event, arg) - 8,
              "Event starts with lt_event's fields after seq, in the same order");
// The merge takes turns between rings, which the hardware prefetcher follows
// poorly: the first load of each record was a third of the reader's time.
// Asking for the record 8 ahead in the same ring measured best of 0/4/8/16.
constexpr size_t kPrefetchAhead = 8 * sizeof(lt_event);
// Where Event's last 16 bytes begin: result, arg, thread, tid.
constexpr size_t kTailOffset = offsetof(Event, result);
static_assert(kTailOffset == 48 && offsetof(Event, arg) == 52 && offsetof(Event, tid) == 60,
              "Event's tail is result, arg, thread, tid");

// Walks one ring from its oldest record to its newest, copying each committed
// record.  Seqlock-style: seq must equal index + 1 before and after the copy,
// because the writer may be running.
struct Trace::Cursor {
    const uint8_t* ring;      // nullptr if the ring is entirely past the end of the file
    uint64_t mask;
    uint64_t index, end;      // [index, end)
    uint64_t avail_slots;     // slots [0, avail_slots) lie inside the file
    ThreadInfo* ti;
    uint32_t thread;
    int32_t tid;
    uint64_t thread_tid;      // thread and tid as they lie in an Event, little-endian
    const ClockMap* clock;    // stamps to CLOCK_MONOTONIC
    uint32_t clock_hint;
    Event cur;                // the record at `index - 1`, after next() returned true
    std::vector<uint8_t> copy; // a live ring's private copy (copy_live), which `ring` then points into
    // A ring whose process has ended is read with pread() a window at a time
    // (fd >= 0) rather than through the mapping: the kernel copies from the
    // page cache through its own mapping, while touching the file's pages
    // through ours costs a page fault per few pages, and on virtual machines
    // that shadow page tables an exit per page: reading through the mapping
    // cost three times the CPU time of the copy.
    int fd = -1;
    uint64_t file_offset = 0;  // the ring's offset in the file
    uint64_t win_first = 0, win_len = 0;  // ring indices [win_first, win_first + win_len) are in `copy`
    static constexpr uint64_t kWindow = 1024;  // records per pread: 64 KiB, stays in cache

    // Loads the window starting at ring index i (whose slot lies in the file).
    void refill(uint64_t i)
    {
        const uint64_t slot = i & mask;
        const uint64_t n = std::min({kWindow, end - i, mask + 1 - slot, avail_slots - slot});
        if (copy.size() < kWindow * sizeof(lt_event)) copy.resize(kWindow * sizeof(lt_event));
        size_t got = 0, want = n * sizeof(lt_event);
        while (got < want) {
            ssize_t r = pread(fd, copy.data() + got, want - got, off_t(file_offset + slot * sizeof(lt_event) + got));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            got += size_t(r);
        }
        // The file shrank since it was opened: what is missing reads as
        // never committed (seq 0), as a record torn by a kill would.
        memset(copy.data() + got, 0, want - got);
        win_first = i;
        win_len = n;
    }

    // A ring its process may still be writing, copied first from its newest
    // record back to the first one a newer lap has overwritten.  The writer
    // overwrites the oldest records first, so walking oldest-first while it
    // laps loses records in the middle of the history (the walk falls behind
    // the writer, then finds older laps' records still standing past it);
    // newest-first, the copy only misses its oldest records.  Each record
    // keeps its index in a smaller ring of its own, so next() reads the copy
    // as it reads a ring.
    void copy_live()
    {
        if (!ring || avail_slots != mask + 1 || end <= index) return;
        uint64_t n = end - index, slots = 1;
        while (slots < n) slots <<= 1;
        copy.assign(slots * sizeof(lt_event), 0);  // seq 0: not copied (torn)
        const uint64_t copy_mask = slots - 1;
        uint64_t i = end;
        while (i > index) {
            i--;
            const uint8_t* rec = ring + (i & mask) * sizeof(lt_event);
            uint8_t* to = copy.data() + (i & copy_mask) * sizeof(lt_event);
            uint64_t seq1 = load_acquire(rec);
            if (seq1 < i + 1) continue;  // reserved, not committed: next() counts it torn
            if (seq1 == i + 1) {
                memcpy(to, rec, sizeof(lt_event));
                std::atomic_thread_fence(std::memory_order_acquire);
                uint64_t seq2 = load_acquire(rec);
                if (seq2 == i + 1) continue;
                memset(to, 0, sizeof(uint64_t));  // a newer lap began writing it during the copy
            }
            // Overwritten by a newer lap, and so is everything older.
            ti->lost += i + 1 - index;
            index = i + 1;
            break;
        }
        ring = copy.data();
        mask = copy_mask;
        avail_slots = slots;
    }

    // Advances to the next committed record; false at the end of the ring.
    bool next()
    {
        while (index < end) {
            uint64_t i = index++;
            uint64_t slot = i & mask;
            if (slot >= avail_slots) {
                // The rest of this lap lies past the end of the file: skip it
                // in one step (the capacity is untrusted and may be huge).
                uint64_t skip = std::min(end - i, mask + 1 - slot);
                ti->cut += skip;
                index = i + skip;
                continue;
            }
            const uint8_t* rec;
            if (fd >= 0) {
                if (i - win_first >= win_len) refill(i);
                rec = copy.data() + (i - win_first) * sizeof(lt_event);
            } else {
                rec = ring + slot * sizeof(lt_event);
            }
            __builtin_prefetch(rec + kPrefetchAhead);  // harmless past the ring or the file
            uint64_t seq1 = load_acquire(rec);
            if (seq1 != i + 1) { classify(i, seq1); continue; }
            // Event begins with lt_event's fields after seq, in the same
            // order (checked above): copied straight into place.  Its last
            // 16 bytes (result, arg, thread, tid) go in one store: `cur` is
            // copied out 16 bytes at a time right after, and a load spanning
            // several smaller stores cannot be forwarded from them (that
            // stall was most of the reader's time).
            const uint8_t* payload = rec + offsetof(lt_event, time_ns);
            memcpy(&cur, payload, kTailOffset);
            uint64_t result_arg;
            memcpy(&result_arg, payload + kTailOffset, sizeof result_arg);
            std::atomic_thread_fence(std::memory_order_acquire);
            uint64_t seq2 = load_acquire(rec);
            if (seq2 != i + 1) { classify(i, seq2); continue; }
#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            _mm_storeu_si128(reinterpret_cast<__m128i*>(reinterpret_cast<uint8_t*>(&cur) + kTailOffset),
                             _mm_set_epi64x(int64_t(thread_tid), int64_t(result_arg)));
#else
            memcpy(reinterpret_cast<uint8_t*>(&cur) + kTailOffset, &result_arg, sizeof result_arg);
            cur.thread = thread;
            cur.tid = tid;
#endif
            if (!clock->identity()) cur.time_ns = clock->to_mono(cur.time_ns, clock_hint);
            ti->decoded++;
            if (!ti->first_time_ns) ti->first_time_ns = cur.time_ns;
            ti->last_time_ns = cur.time_ns;
            return true;
        }
        return false;
    }

    void classify(uint64_t i, uint64_t seq)
    {
        if (seq > i + 1) {
            ti->lost++;           // overwritten by a newer lap while we were reading
        } else {
            ti->torn++;           // reserved, not (yet) committed
            if (i + 1 == end) ti->last_record_torn = true;
        }
    }
};

std::vector<Event> Trace::read_events()
{
    std::vector<Event> out;
    EventReader r(*this);
    r.reserve(out);
    while (r.read(out, SIZE_MAX)) {}
    return out;
}

void Trace::scan(const std::function<void(const Event*, size_t)>& sink)
{
    // Events go out in batches through a small buffer that stays in cache.
    constexpr size_t kBatch = 1024;
    EventReader r(*this);
    std::vector<Event> buf;
    buf.reserve(kBatch);
    while (r.read(buf, kBatch)) {
        sink(buf.data(), buf.size());
        buf.clear();
    }
}

uint64_t Trace::prepare_read()
{
    uint64_t total = 0;
    for (ThreadInfo& ti : threads_) {
        ti.lost = ti.first_index;
        ti.torn = ti.cut = ti.decoded = 0;
        ti.last_record_torn = false;
        ti.first_time_ns = ti.last_time_ns = 0;
        uint64_t avail = ti.ring_offset >= size_ ? 0
                         : std::min<uint64_t>(ti.ring_capacity, (size_ - ti.ring_offset) / sizeof(lt_event));
        // head is untrusted: at most one ring's worth is read, and never more
        // than the file could hold.
        total += std::min<uint64_t>(ti.head - ti.first_index, avail);
    }
    return total;
}

namespace {

// Heap order for the k-way merge: ties and per-thread disorder keep each
// ring's order.
struct Later {
    template <class C> bool operator()(const C* a, const C* b) const
    {
        if (a->cur.time_ns != b->cur.time_ns) return a->cur.time_ns > b->cur.time_ns;
        return a->thread > b->thread;
    }
};

} // namespace

EventReader::EventReader(Trace& trace)
{
    upper_bound_ = trace.prepare_read();
    const bool live = trace.process_running();  // its rings may be lapping while we read
    cursors_.reserve(trace.threads_.size());
    for (uint32_t t = 0; t < trace.threads_.size(); t++) {
        ThreadInfo& ti = trace.threads_[t];
        Trace::Cursor c{};
        c.mask = ti.ring_capacity - 1;
        c.index = ti.first_index;
        c.end = ti.head;
        c.ti = &ti;
        c.thread = t;
        c.tid = ti.tid;
        c.thread_tid = uint64_t(uint32_t(ti.tid)) << 32 | t;
        c.clock = &trace.clock_;
        if (ti.ring_offset >= trace.size_ || ti.ring_capacity == 0) {
            c.ring = nullptr;
            c.avail_slots = 0;
        } else {
            c.ring = trace.map_ + ti.ring_offset;
            c.avail_slots = std::min<uint64_t>(ti.ring_capacity, (trace.size_ - ti.ring_offset) / sizeof(lt_event));
            // Read front to back once: let the kernel map ahead.
            uintptr_t b = reinterpret_cast<uintptr_t>(c.ring) & ~uintptr_t(4095);
            uintptr_t e = reinterpret_cast<uintptr_t>(c.ring) + c.avail_slots * sizeof(lt_event);
            if (live) {
                c.copy_live();
            } else if (trace.fd_ >= 0) {
                c.fd = trace.fd_;
                c.file_offset = ti.ring_offset;
                posix_fadvise(trace.fd_, off_t(ti.ring_offset), off_t(e - reinterpret_cast<uintptr_t>(c.ring)),
                              POSIX_FADV_WILLNEED);
            } else {
                madvise(reinterpret_cast<void*>(b), e - b, MADV_WILLNEED);
            }
        }
        cursors_.push_back(std::move(c));
    }
    for (Trace::Cursor& c : cursors_)
        if (c.next()) heap_.push_back(&c);
    std::make_heap(heap_.begin(), heap_.end(), Later{});
    // Unfenced stamps (format version 3) from more than one thread: a lock's
    // hand-over may be stamped out of order (handover.h).
    if (trace.hdr_.version >= 3 && heap_.size() > 1) handover_ = std::make_unique<HandoverOrder>();
}

EventReader::~EventReader() = default;

void EventReader::reserve(std::vector<Event>& out, size_t extra) const
{
    size_t total = out.size() + upper_bound_ + extra;
    out.reserve(total);
    // Millions of events: ask for huge pages so that filling the output costs
    // a page fault per 2 MiB instead of per 4 KiB (huge_pages.h).
    if (total * sizeof(Event) >= 4 * kHugePage) advise_huge(out.data(), total * sizeof(Event));
}

size_t EventReader::read(std::vector<Event>& out, size_t max)
{
    if (!handover_) return merge(max, [&out](const Event& e) { out.push_back(e); });
    // The newest events stay open (handover.h) until the rings' next stamps
    // are past the tolerance: they are held back for the next call.
    const size_t base = out.size();
    out.insert(out.end(), open_.begin(), open_.end());
    open_.clear();
    HandoverOrder& h = *handover_;
    for (;;) {
        const size_t have = out.size() - base;
        merge(have < max ? max - have : 1, [&](const Event& e) {
            out.push_back(e);
            h.pushed(out, base);
        });
        if (heap_.empty()) return out.size() - base;
        const uint64_t next = heap_.front()->cur.time_ns;
        size_t cut = out.size();
        while (cut > base && out[cut - 1].time_ns + HandoverOrder::kToleranceNs >= next) cut--;
        if (cut > base) {
            open_.assign(out.begin() + long(cut), out.end());
            out.resize(cut);
            return cut - base;
        }
    }
}

template <class Emit> size_t EventReader::merge(size_t max, Emit emit)
{
    Later later;
    size_t n = 0;
    while (n < max && !heap_.empty()) {
        std::pop_heap(heap_.begin(), heap_.end(), later);
        Trace::Cursor* c = heap_.back();
        // Drain this ring while it stays ahead of every other one: with few
        // threads and long runs this avoids a heap operation per event.
        for (;;) {
            emit(c->cur);
            n++;
            if (!c->next()) { heap_.pop_back(); break; }
            if (n == max || (heap_.size() > 1 && later(c, heap_.front()))) {
                std::push_heap(heap_.begin(), heap_.end(), later);
                break;
            }
        }
    }
    return n;
}

uint64_t Trace::total_lost() const
{
    uint64_t n = 0;
    for (const auto& t : threads_) n += t.lost;
    return n;
}
uint64_t Trace::total_torn() const
{
    uint64_t n = 0;
    for (const auto& t : threads_) n += t.torn;
    return n;
}
uint64_t Trace::total_cut() const
{
    uint64_t n = 0;
    for (const auto& t : threads_) n += t.cut;
    return n;
}

const char* event_type_name(uint16_t type)
{
    static const char* const names[] = {
        "none",     "attempt",    "acquired",   "failed",    "timedout",     "release",    "release_failed",
        "init",     "destroy",    "destroy_failed", "wait_begin", "wait_end", "wake",     "requeue",
        "consistent", "thread_start", "thread_exit", "fork",   "exec",         "dlopen",     "mark",
    };
    static_assert(sizeof(names) / sizeof(names[0]) == LT_EV_TYPE_COUNT, "one name per event type");
    return type < LT_EV_TYPE_COUNT ? names[type] : "unknown";
}

const char* prim_name(uint8_t prim)
{
    static const char* const names[] = {"none", "mutex", "rwlock", "cond", "sem", "futex", "probe", "thread", "process", "barrier", "spin", "once"};
    return prim < sizeof(names) / sizeof(names[0]) ? names[prim] : "unknown";
}

std::string flags_string(uint8_t flags)
{
    static const char* const names[] = {"read", "write", "try", "timed", "internal", "nested", "realtime", "broadcast"};
    std::string s;
    for (int b = 0; b < 8; b++)
        if (flags & (1u << b)) {
            if (!s.empty()) s += '|';
            s += names[b];
        }
    return s.empty() ? "-" : s;
}

} // namespace lt
