#include "finding_words.h"
#include "live_words.h"
#include "present.h"
#include "user_site.h"

#include <cstdio>

namespace lt {

namespace {

// Where an event happened in the user's code: "transfer (demo_bank.c:52)", or
// "" when its stack is unknown or lies wholly in libraries.
std::string where(const Model& m, Symbolizer& sym, uint64_t ix)
{
    if (ix >= m.events.size()) return "";
    return user_site(sym, m.events[ix].stack_id);
}

// A moment in a finding's words, rounded to the microsecond ("+1.234567s";
// rel_time, used for event times, truncates instead).
std::string moment(const Model& m, uint64_t t_ns)
{
    char buf[32];
    snprintf(buf, sizeof buf, "+%.6fs", m.rel(t_ns) / 1e9);
    return buf;
}

std::string spell(const Model& m, Symbolizer& sym, const Text::Piece& p)
{
    switch (p.kind) {
    case Text::Piece::Kind::words: return p.words;
    case Text::Piece::Kind::thread: return thread_label(m, p.value < m.threads.size() ? uint32_t(p.value) : UINT32_MAX);
    case Text::Piece::Kind::lock: return lock_label(m, sym, p.value, p.prim);
    case Text::Piece::Kind::address: return hex_addr(p.value) + data_words(sym, p.value);
    case Text::Piece::Kind::live_call: {
        std::string w = live_call_words(m, sym, int32_t(uint32_t(p.value)));
        return w.empty() ? w : p.words + w;
    }
    case Text::Piece::Kind::site: {
        std::string w = where(m, sym, p.value);
        return w.empty() ? w : p.words + w;
    }
    case Text::Piece::Kind::time: return moment(m, p.value);
    case Text::Piece::Kind::stack_site: {
        std::string w = p.value <= UINT32_MAX ? user_site(sym, uint32_t(p.value)) : "";
        return w.empty() ? w : p.words + w;
    }
    }
    return "";
}

} // namespace

std::string spell(const Model& m, Symbolizer& sym, const Text& text)
{
    std::string s;
    for (const Text::Piece& p : text.pieces) s += spell(m, sym, p);
    return s;
}

FindingWords finding_words(const Model& m, Symbolizer& sym, const Finding& f)
{
    FindingWords w;
    w.summary = spell(m, sym, f.summary);
    for (const Evidence& e : f.evidence) {
        EvidenceWords ew;
        ew.event_index = e.event_index;
        if (e.event_index < m.events.size()) {
            const Event& ev = m.events[e.event_index];
            ew.thread = ev.tid;
            ew.time_ns = ev.time_ns;
            ew.stack_id = ev.stack_id;
            ew.event = event_words(m, ev);
        } else if (e.tid || e.stack_id) {
            ew.thread = e.tid;
            ew.time_ns = e.time_ns;
            ew.stack_id = e.stack_id;
            ew.event = e.what;
        }
        if (!e.why.empty()) ew.event += ": " + spell(m, sym, e.why);
        w.evidence.push_back(std::move(ew));
    }
    return w;
}

} // namespace lt
