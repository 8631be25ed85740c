// The verdict on the process as a whole (findings.h: ProcessVerdict): hung
// (some thread can never go on, and a finding says why), idle (threads wait
// for work that nobody owes them, and something can still send it), running,
// or exited; and how sure it is.
#include "common.h"
#include "findings.h"

#include <algorithm>
#include <cstdio>

namespace lt {

namespace {

bool is_stuck_kind(const std::string& k)
{
    return k == "deadlock" || k == "hang" || k == "lost-wakeup" || k == "held-by-nobody" ||
           k == "counter-overflow" || k == "owner-exited" || k == "destroy-while-in-use";
}

// Proof from the recorded state itself, not from the absence of a wake.
bool is_proof_kind(const std::string& k)
{
    return k == "deadlock" || k == "held-by-nobody" || k == "counter-overflow";
}

std::string ms(uint64_t ns)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.1f ms", double(ns) / 1e6);
    return buf;
}

} // namespace

ProcessVerdict judge_process(const Model& m, const std::vector<Finding>& findings)
{
    ProcessVerdict v;
    if (m.trace && m.trace->process_ended()) {
        v.state = "exited";
        v.why = "the process exited normally; threads still asleep then were not needed any more";
        return v;
    }
    const Progress p = progress(m);
    const bool live = judged_at(m) != 0;
    std::vector<int32_t> blocked_tids;
    for (const ThreadState& t : m.threads)
        if (t.status == ThreadStatus::blocked) blocked_tids.push_back(t.tid);
    const Finding* hung_by = nullptr;
    for (const Finding& f : findings) {
        if (f.severity != Finding::error || !is_stuck_kind(f.kind)) continue;
        bool names_blocked = std::any_of(f.threads.begin(), f.threads.end(), [&](int32_t tid) {
            return std::find(blocked_tids.begin(), blocked_tids.end(), tid) != blocked_tids.end();
        });
        if (names_blocked && (!hung_by || (is_proof_kind(f.kind) && !is_proof_kind(hung_by->kind)))) hung_by = &f;
    }
    size_t stuck = std::count(p.stuck.begin(), p.stuck.end(), true);
    if (hung_by) {
        v.state = "hung";
        if (is_proof_kind(hung_by->kind)) {
            v.sure = "certain";
            v.why = "the recorded lock state proves it (" + hung_by->kind + ")";
        } else if (live) {
            v.sure = "likely";
            v.why = std::to_string(stuck) + " thread(s) can never go on by what the trace shows (" + hung_by->kind +
                    "); read live, a wake sent from outside the traced calls (another process, a signal handler) "
                    "cannot be ruled out";
        } else {
            // Killed: the trace ends at its last record, not at the kill.
            // Waits that had already outlasted every finished wait on the
            // same objects are a hang; younger ones may have been cut short.
            uint64_t shortest = UINT64_MAX, normal = 0;
            for (const ThreadState& t : m.threads) {
                if (!p.stuck[t.thread] || t.status != ThreadStatus::blocked) continue;
                shortest = std::min(shortest, m.end_ns - std::min(m.end_ns, t.since_ns));
                normal = std::max(normal, m.locks[t.lock].stats.longest_wait_ns);
            }
            if (shortest != UINT64_MAX && shortest > normal) {
                v.sure = "likely";
                v.why = "the process was killed; its stuck waits had lasted at least " + ms(shortest) +
                        " when the trace ended, longer than any finished wait on the same objects (" + ms(normal) +
                        ")";
            } else {
                v.sure = "unsure";
                v.why = "the process was killed; the trace ends " + ms(shortest == UINT64_MAX ? 0 : shortest) +
                        " after its stuck waits began, while finished waits on the same objects lasted up to " +
                        ms(normal) + ": had it not been killed they may have ended (the trace cannot tell when "
                        "the kill came)";
            }
        }
        return v;
    }
    size_t idle = 0;
    for (const Finding& f : findings)
        if (f.kind == "idle") idle += f.threads.size();
    if (idle > 0) {
        v.state = "idle";
        v.why = std::to_string(idle) + " thread(s) wait for work that no thread owes them, and other threads can "
                "still send it; no thread is stuck";
    } else {
        v.state = "running";
        v.why = blocked_tids.empty() ? "no thread is blocked" : "every blocked thread can still go on";
    }
    if (!live) v.why += std::string(v.why.empty() ? "" : "; ") + "as far as the trace shows before it ended";
    return v;
}

} // namespace lt
