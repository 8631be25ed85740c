// Stacks of a running process from what /proc gives (sp and pc): the
// modules' CFI through libdw's dwfl_attach_state with our own callbacks
// (memory by process_vm_readv, no ptrace; or the copies of the stacks the
// watchdog took inside the process), then a scan of the stack where CFI
// needs a register /proc does not give.  With the same modules: glibc's
// malloc arenas, and which threads are inside malloc.
#include "live_proc.h"

#include <elfutils/libdwfl.h>

#include <cstdio>
#include <cstring>
#include <map>

namespace lt::live {

namespace {

// Where the unwinder reads memory: the process itself (pid), or the copies
// of its threads' stacks the watchdog took (pid 0).
struct UnwindProcess {
    int32_t pid;
    std::map<pid_t, LiveThread*> threads;

    bool read(uint64_t addr, void* out, size_t len) const
    {
        if (pid > 0) return read_mem(pid, addr, out, len);
        for (const auto& [tid, t] : threads) {
            if (addr < t->mem_sp || addr - t->mem_sp > t->mem.size()) continue;
            if (t->mem.size() - (addr - t->mem_sp) < len) continue;
            memcpy(out, t->mem.data() + (addr - t->mem_sp), len);
            return true;
        }
        return false;
    }
};

pid_t uw_next_thread(Dwfl*, void* arg, void** thread_argp)
{
    auto* p = static_cast<UnwindProcess*>(arg);
    auto it = *thread_argp ? p->threads.upper_bound(static_cast<LiveThread*>(*thread_argp)->tid) : p->threads.begin();
    if (it == p->threads.end()) return 0;
    *thread_argp = it->second;
    return it->first;
}

bool uw_get_thread(Dwfl*, pid_t tid, void* arg, void** thread_argp)
{
    auto* p = static_cast<UnwindProcess*>(arg);
    auto it = p->threads.find(tid);
    if (it == p->threads.end()) return false;
    *thread_argp = it->second;
    return true;
}

bool uw_memory_read(Dwfl*, Dwarf_Addr addr, Dwarf_Word* result, void* arg)
{
    return static_cast<UnwindProcess*>(arg)->read(addr, result, sizeof *result);
}

bool uw_set_initial_registers(Dwfl_Thread* thread, void* thread_arg)
{
    const LiveThread* t = static_cast<const LiveThread*>(thread_arg);
    Dwarf_Word sp = t->sp;
    // x86-64 DWARF register 7 is %rsp; the others are unknown from /proc.
    if (!dwfl_thread_state_registers(thread, 7, 1, &sp)) return false;
    dwfl_thread_state_register_pc(thread, t->pc);
    return true;
}

const Dwfl_Thread_Callbacks kUnwindCallbacks = {uw_next_thread, uw_get_thread, uw_memory_read,
                                                uw_set_initial_registers, nullptr, nullptr};

struct FrameCollector {
    std::vector<uint64_t> pcs;
    uint64_t last_sp = 0;
};

int collect_frame(Dwfl_Frame* f, void* arg)
{
    auto* c = static_cast<FrameCollector*>(arg);
    Dwarf_Addr pc;
    bool activation;
    if (!dwfl_frame_pc(f, &pc, &activation)) return DWARF_CB_ABORT;
    c->pcs.push_back(pc);
    Dwarf_Word sp;
    if (dwfl_frame_reg(f, 7, &sp) == 0) c->last_sp = sp;
    return c->pcs.size() >= kMaxFrames ? DWARF_CB_ABORT : DWARF_CB_OK;
}

// glibc's allocator, whose frames mean a thread may hold an arena's lock.
bool is_malloc_function(const char* name)
{
    static const char* const names[] = {
        "malloc", "__libc_malloc", "_int_malloc", "free", "__libc_free", "_int_free", "calloc", "__libc_calloc",
        "realloc", "__libc_realloc", "_int_realloc", "memalign", "__libc_memalign", "_int_memalign",
        "posix_memalign", "aligned_alloc", "valloc", "pvalloc", "malloc_consolidate", "sysmalloc", "systrim",
        "malloc_trim", "tcache_init", "arena_get2", "reused_arena", "get_free_list", "_int_free_merge_chunk",
        "__malloc_arena_thread_freeres", "__libc_reallocarray",
    };
    for (const char* n : names)
        if (strcmp(n, name) == 0) return true;
    return false;
}

// A frame of the CFI-unwound part of the stack is in malloc.
bool frames_in_malloc(Dwfl* dwfl, const LiveThread& t)
{
    for (size_t i = 0; i < t.unwound && i < t.stack.size(); i++) {
        Dwarf_Addr pc = i ? t.stack[i] - 1 : t.stack[i];  // a return address lies after its call
        Dwfl_Module* mod = dwfl_addrmodule(dwfl, pc);
        const char* name = mod ? dwfl_module_addrname(mod, pc) : nullptr;
        if (name && is_malloc_function(name)) return true;
    }
    return false;
}

// main_arena's address, from libc's symbol table (a local symbol: its debug
// symbols, libc6-dbg on Debian), or 0.
uint64_t find_main_arena(Dwfl* dwfl)
{
    uint64_t found = 0;
    auto each = [](Dwfl_Module* mod, void**, const char* name, Dwarf_Addr, void* arg) -> int {
        const char* base = name ? strrchr(name, '/') : nullptr;
        if (!base || strncmp(base + 1, "libc.so", 7) != 0) return DWARF_CB_OK;
        int n = dwfl_module_getsymtab(mod);
        for (int i = 0; i < n; i++) {
            GElf_Sym sym;
            GElf_Addr addr;
            const char* s = dwfl_module_getsym_info(mod, i, &sym, &addr, nullptr, nullptr, nullptr);
            if (s && GELF_ST_TYPE(sym.st_info) == STT_OBJECT && strcmp(s, "main_arena") == 0) {
                *static_cast<uint64_t*>(arg) = addr;
                return DWARF_CB_ABORT;
            }
        }
        return DWARF_CB_OK;
    };
    dwfl_getmodules(dwfl, each, &found, 0);
    return found;
}

// The arenas after main_arena, by its `next` list (struct malloc_state in
// glibc 2.26 and later on x86-64: `next` at byte 2160; the lock, `mutex`, at
// 0).  Kept only when the list comes back round to main_arena: a glibc laid
// out otherwise gives main_arena alone.
void find_other_arenas(int32_t pid, uint64_t main_arena, std::vector<uint64_t>& out)
{
    constexpr uint64_t kNextOffset = 2160;
    std::vector<uint64_t> found;
    uint64_t a = main_arena;
    for (int i = 0; i < 1024; i++) {
        uint64_t next;
        if (!read_mem(pid, a + kNextOffset, &next, sizeof next) || next == 0 || next % 8) return;
        if (next == main_arena) {
            out.insert(out.end(), found.begin(), found.end());
            return;
        }
        found.push_back(next);
        a = next;
    }
}

void unwind_with(Dwfl* dwfl, bool attached, UnwindProcess& proc)
{
    const std::vector<Mapping> maps = proc.pid > 0 ? read_maps(proc.pid) : std::vector<Mapping>();
    for (auto& [tid, t] : proc.threads) {
        FrameCollector c;
        c.last_sp = t->sp;
        if (attached) dwfl_getthread_frames(dwfl, tid, collect_frame, &c);
        if (c.pcs.size() <= 1 && !t->stack.empty()) continue;  // keep what the view had (the watchdog's scan)
        if (c.pcs.empty()) c.pcs.push_back(t->pc);
        std::vector<uint64_t> scanned = std::move(t->stack);
        t->stack = c.pcs;
        t->unwound = c.pcs.size();
        if (t->stack.size() >= kMaxFrames) continue;
        // CFI stopped (a frame that needs a register /proc does not give, like
        // %rbp of frame-pointer code): go on with a scan above the last frame.
        std::vector<uint64_t> more;
        if (proc.pid > 0) {
            more = scan_stack(proc.pid, maps, c.last_sp, kMaxFrames - t->stack.size());
        } else {
            // The watchdog scanned the whole stack: what it found past the last CFI frame.
            for (size_t k = 1; k < scanned.size(); k++)
                if (scanned[k] == t->stack.back()) {
                    more.assign(scanned.begin() + long(k), scanned.end());
                    break;
                }
        }
        // The scan may start with the last frame's own return address.
        size_t from = !more.empty() && t->stack.size() > 1 && more[0] == t->stack.back() ? 1 : 0;
        for (size_t k = from; k < more.size() && t->stack.size() < kMaxFrames; k++) t->stack.push_back(more[k]);
    }
    for (auto& [tid, t] : proc.threads) t->in_malloc = frames_in_malloc(dwfl, *t);
}

} // namespace

void unwind_stacks(int32_t pid, LiveView& v)
{
    static const Dwfl_Callbacks proc_callbacks = {dwfl_linux_proc_find_elf, dwfl_standard_find_debuginfo, nullptr,
                                                  nullptr};
    UnwindProcess proc{pid, {}};
    for (LiveThread& t : v.threads)
        if (t.sp && t.pc) proc.threads[t.tid] = &t;
    Dwfl* dwfl = dwfl_begin(&proc_callbacks);
    if (!dwfl) return;
    bool reported = dwfl_linux_proc_report(dwfl, pid) == 0 && dwfl_report_end(dwfl, nullptr, nullptr) == 0;
    if (reported && !proc.threads.empty())
        unwind_with(dwfl, dwfl_attach_state(dwfl, nullptr, pid, &kUnwindCallbacks, &proc), proc);
    if (uint64_t main_arena = reported ? find_main_arena(dwfl) : 0) {
        v.malloc_arenas = {main_arena};
        find_other_arenas(pid, main_arena, v.malloc_arenas);
    }
    dwfl_end(dwfl);
}

void unwind_copied_stacks(LiveView& v)
{
    static const Dwfl_Callbacks file_callbacks = {dwfl_linux_proc_find_elf, dwfl_standard_find_debuginfo, nullptr,
                                                  nullptr};
    if (v.maps.empty()) return;
    UnwindProcess proc{0, {}};
    for (LiveThread& t : v.threads)
        if (t.sp && t.pc && !t.mem.empty()) proc.threads[t.tid] = &t;
    std::string text;
    for (const std::string& m : v.maps) text += m + "\n";
    FILE* f = fmemopen(text.data(), text.size(), "r");
    if (!f) return;
    Dwfl* dwfl = dwfl_begin(&file_callbacks);
    bool reported = dwfl && dwfl_linux_proc_maps_report(dwfl, f) == 0 && dwfl_report_end(dwfl, nullptr, nullptr) == 0;
    fclose(f);
    if (reported && !proc.threads.empty())
        unwind_with(dwfl, dwfl_attach_state(dwfl, nullptr, v.pid, &kUnwindCallbacks, &proc), proc);
    if (uint64_t main_arena = reported && v.malloc_arenas.empty() ? find_main_arena(dwfl) : 0)
        v.malloc_arenas = {main_arena};
    if (dwfl) dwfl_end(dwfl);
}

} // namespace lt::live
