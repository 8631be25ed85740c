#include "common.h"

#include <cinttypes>
#include <cstdio>

namespace lt {
namespace fx {

std::string hex(uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return buf;
}

Text thread_ref(uint32_t thread) { return Text({Text::Piece::Kind::thread, "", thread, 0}); }

Text thread_ref_tid(const Model& m, int32_t tid)
{
    const ThreadState* t = m.thread_by_tid(tid);
    return t ? thread_ref(t->thread) : Text("thread " + std::to_string(tid));
}

Text lock_ref(const Lock& l) { return Text({Text::Piece::Kind::lock, "", l.addr, l.prim}); }

Text address_ref(const Lock& l) { return Text({Text::Piece::Kind::address, "", l.addr, l.prim}); }

Text site_ref(EventIx ix, std::string before) { return Text({Text::Piece::Kind::site, std::move(before), ix, 0}); }

Text stack_site_ref(uint32_t stack_id, std::string before)
{
    return Text({Text::Piece::Kind::stack_site, std::move(before), stack_id, 0});
}

Text time_ref(uint64_t t_ns) { return Text({Text::Piece::Kind::time, "", t_ns, 0}); }

Evidence make_evidence(EventIx ix, Text why)
{
    Evidence e;
    e.event_index = ix;
    e.why = std::move(why);
    return e;
}

std::string history_gap_note(const Model& m)
{
    if (m.history_complete) return "";
    uint64_t lost = m.trace ? m.trace->total_lost() : 0;
    std::string s = " Caution: the trace is incomplete";
    if (lost) s += " (" + std::to_string(lost) + " events were overwritten in the ring)";
    s += "; acquisitions before the gap are unknown, so this rests only on what was recorded.";
    return s;
}

std::vector<uint32_t> threads_with_gap_after(const Model& m, uint64_t t)
{
    std::vector<uint32_t> out;
    if (!m.trace) return out;
    const auto& info = m.trace->threads();
    for (uint32_t i = 0; i < info.size() && i < m.threads.size(); i++)
        if ((info[i].lost || info[i].cut) && info[i].first_time_ns > t) out.push_back(i);
    return out;
}

Text gap_after_note(const std::vector<uint32_t>& threads, const std::string& what)
{
    if (threads.empty()) return Text();
    Text names;
    for (uint32_t t : threads) names += (names.empty() ? "" : ", ") + thread_ref(t);
    return " Caution: the ring of " + names + " overwrote events from that time, so " + what +
           " may be among the events that are gone; this is what the recorded part shows, not a certainty.";
}

bool futex_is_wait(const Event& e)
{
    uint32_t c = futex_cmd(e);
    return c == 0 /*WAIT*/ || c == 9 /*WAIT_BITSET*/;
}

bool futex_is_wake(const Event& e)
{
    uint32_t c = futex_cmd(e);
    return c == 1 /*WAKE*/ || c == 10 /*WAKE_BITSET*/;
}

uint32_t futex_bitset(const Event& e)
{
    uint32_t c = futex_cmd(e);
    if (c == 9 || c == 10) return uint32_t(e.state[1] >> 32);  // val3
    return 0xffffffffu;
}

bool futex_wait_looks_wrapped(const Model& m, const Lock& word, const Event& wait)
{
    auto negative = [](uint32_t v) { return v >= 0xffff0000u; };
    if (!negative(futex_val(wait))) return false;
    bool saw_small = false;
    for (EventIx ix : word.events) {
        const Event& e = m.events[ix];
        if (e.prim != LT_PRIM_FUTEX) continue;
        uint32_t vals[2] = {uint32_t(e.state[0]), futex_is_wait(e) ? futex_val(e) : uint32_t(e.state[0])};
        for (uint32_t v : vals) {
            if (negative(v)) continue;
            if (v >= 0x10000u) return false;  // the word carries flags or big values: not a plain count
            saw_small = true;
        }
    }
    return saw_small;
}

} // namespace fx
} // namespace lt
