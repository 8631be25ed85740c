// Stacks of a running process from what /proc gives (sp and pc): the
// modules' CFI through libdw's dwfl_attach_state with our own callbacks
// (memory by process_vm_readv, no ptrace), then a scan of the stack where CFI
// needs a register /proc does not give.
#include "live_proc.h"

#include <elfutils/libdwfl.h>

#include <map>

namespace lt::live {

namespace {

struct UnwindProcess {
    int32_t pid;
    std::map<pid_t, LiveThread*> threads;
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
    return read_mem(static_cast<UnwindProcess*>(arg)->pid, addr, result, sizeof *result);
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

} // namespace

void unwind_stacks(int32_t pid, std::vector<LiveThread>& threads)
{
    std::vector<Mapping> maps = read_maps(pid);
    static const Dwfl_Callbacks proc_callbacks = {dwfl_linux_proc_find_elf, dwfl_standard_find_debuginfo, nullptr,
                                                  nullptr};
    UnwindProcess proc{pid, {}};
    for (LiveThread& t : threads)
        if (t.sp && t.pc) proc.threads[t.tid] = &t;
    if (proc.threads.empty()) return;
    Dwfl* dwfl = dwfl_begin(&proc_callbacks);
    bool attached = dwfl && dwfl_linux_proc_report(dwfl, pid) == 0 && dwfl_report_end(dwfl, nullptr, nullptr) == 0 &&
                    dwfl_attach_state(dwfl, nullptr, pid, &kUnwindCallbacks, &proc);
    for (auto& [tid, t] : proc.threads) {
        FrameCollector c;
        c.last_sp = t->sp;
        if (attached) dwfl_getthread_frames(dwfl, tid, collect_frame, &c);
        if (c.pcs.empty()) c.pcs.push_back(t->pc);
        t->stack = c.pcs;
        t->unwound = c.pcs.size();
        if (t->stack.size() >= kMaxFrames) continue;
        // CFI stopped (a frame that needs a register /proc does not give, like
        // %rbp of frame-pointer code): go on by scanning above the last frame.
        std::vector<uint64_t> more = scan_stack(pid, maps, c.last_sp, kMaxFrames - t->stack.size());
        // The scan starts at the last frame's sp, where its own return address may lie.
        size_t from = 0;
        if (!more.empty() && t->stack.size() > 1 && more[0] == t->stack.back()) from = 1;
        t->stack.insert(t->stack.end(), more.begin() + long(from), more.end());
    }
    if (dwfl) dwfl_end(dwfl);
}

} // namespace lt::live
