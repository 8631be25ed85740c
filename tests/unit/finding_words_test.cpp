// The detectors leave every thread, lock, code site and time in their words to
// the presentation layer as a reference, and finding_words names them one way:
// a thread is `thread 101 "alpha"` (or `thread 202` when it has no name)
// wherever a finding mentions it.
#include "built_findings.h"
#include "core/model.h"
#include "core/symbols.h"
#include "findings/findings.h"
#include "present/finding_words.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>

using lt::test::Built;
using lt::test::TraceBuilder;
using lt::test::build;

namespace {

constexpr uint64_t A = 0x5000, B = 0x5040;
// Named so that a name in a detector's own words cannot be a coincidence.
constexpr int32_t kAlpha = 101, kBeta = 303, kNameless = 202;

// alpha holds A and waits for B, beta holds B and waits for A.
void abba(TraceBuilder& b)
{
    uint32_t alpha = b.add_thread(kAlpha, 16, "alpha"), beta = b.add_thread(kBeta, 16, "beta");
    b.add(alpha, 1000, LT_EV_ATTEMPT, LT_PRIM_MUTEX, A, LT_FL_WRITE);
    b.add(alpha, 2000, LT_EV_ACQUIRED, LT_PRIM_MUTEX, A, LT_FL_WRITE);
    b.add(beta, 3000, LT_EV_ATTEMPT, LT_PRIM_MUTEX, B, LT_FL_WRITE);
    b.add(beta, 4000, LT_EV_ACQUIRED, LT_PRIM_MUTEX, B, LT_FL_WRITE);
    b.add(alpha, 5000, LT_EV_ATTEMPT, LT_PRIM_MUTEX, B, LT_FL_WRITE);
    b.add(beta, 6000, LT_EV_ATTEMPT, LT_PRIM_MUTEX, A, LT_FL_WRITE);
}

// A thread without a name unlocks the mutex alpha holds.
void unlock_by_nameless(TraceBuilder& b)
{
    uint32_t alpha = b.add_thread(kAlpha, 16, "alpha"), other = b.add_thread(kNameless, 16, "");
    b.add(alpha, 1000, LT_EV_ATTEMPT, LT_PRIM_MUTEX, A, LT_FL_WRITE);
    b.add(alpha, 2000, LT_EV_ACQUIRED, LT_PRIM_MUTEX, A, LT_FL_WRITE);
    b.add(other, 3000, LT_EV_RELEASE, LT_PRIM_MUTEX, A, LT_FL_WRITE);
    b.add(alpha, 4000, LT_EV_RELEASE, LT_PRIM_MUTEX, A, LT_FL_WRITE);
}

// alpha ends holding A; beta waits for it forever.
void owner_exited(TraceBuilder& b)
{
    uint32_t alpha = b.add_thread(kAlpha, 16, "alpha"), beta = b.add_thread(kBeta, 16, "beta");
    b.add(alpha, 1000, LT_EV_ACQUIRED, LT_PRIM_MUTEX, A, LT_FL_WRITE);
    b.add(alpha, 2000, LT_EV_THREAD_EXIT, LT_PRIM_THREAD, kAlpha);
    b.thread(alpha).state = LT_SLOT_EXITED;
    b.add(beta, 3000, LT_EV_ATTEMPT, LT_PRIM_MUTEX, A, LT_FL_WRITE);
}

const std::vector<std::pair<const char*, std::function<void(TraceBuilder&)>>> kScenarios = {
    {"abba", abba}, {"unlock_by_nameless", unlock_by_nameless}, {"owner_exited", owner_exited}};

// Occurrences of "thread <tid>" not followed by another digit, and how many
// of them go on with `then`.
std::pair<size_t, size_t> mentions(const std::string& s, int32_t tid, const std::string& then)
{
    const std::string at = "thread " + std::to_string(tid);
    size_t n = 0, spelled = 0;
    for (size_t p = s.find(at); p != std::string::npos; p = s.find(at, p + 1)) {
        size_t end = p + at.size();
        if (end < s.size() && isdigit(uint8_t(s[end]))) continue;
        n++;
        if (s.compare(end, then.size(), then) == 0) spelled++;
    }
    return {n, spelled};
}

void expect_no_names_in_words(const lt::Text& t, const std::string& where)
{
    for (const lt::Text::Piece& p : t.pieces) {
        if (p.kind != lt::Text::Piece::Kind::words) continue;
        for (const char* name : {"alpha", "beta"}) EXPECT_EQ(p.words.find(name), std::string::npos) << where << ": " << p.words;
        for (int32_t tid : {kAlpha, kBeta, kNameless})
            EXPECT_EQ(mentions(p.words, tid, "").first, 0u) << where << ": a thread written out: " << p.words;
    }
}

size_t thread_refs(const lt::Text& t)
{
    size_t n = 0;
    for (const lt::Text::Piece& p : t.pieces) n += p.kind == lt::Text::Piece::Kind::thread;
    return n;
}

} // namespace

TEST(FindingWords, DetectorsReferToThreadsInsteadOfNamingThem)
{
    for (const auto& [label, make] : kScenarios) {
        TraceBuilder b;
        make(b);
        Built r = build(b);
        ASSERT_FALSE(r.findings.empty()) << label;
        for (const lt::Finding& f : r.findings) {
            const std::string where = std::string(label) + " " + f.kind;
            expect_no_names_in_words(f.summary, where);
            for (const lt::Evidence& e : f.evidence) expect_no_names_in_words(e.why, where + " evidence");
            // Each of these findings is about threads: they are there, as references.
            EXPECT_GE(thread_refs(f.summary), 1u) << where;
        }
    }
}

TEST(FindingWords, EveryThreadIsSpelledOneWay)
{
    for (const auto& [label, make] : kScenarios) {
        TraceBuilder b;
        make(b);
        Built r = build(b);
        lt::Symbolizer sym(*r.trace);
        size_t named_mentions = 0;
        for (const lt::Finding& f : r.findings) {
            const lt::FindingWords w = lt::finding_words(r.model, sym, f);
            // The summary and what each piece of evidence proves (the event's
            // own description before it is the core's, "thread 101 exited").
            std::string all = w.summary;
            for (size_t i = 0; i < w.evidence.size(); i++) {
                const std::string said = lt::describe_event(r.model.events[f.evidence[i].event_index]);
                ASSERT_EQ(w.evidence[i].event.rfind(said, 0), 0u) << w.evidence[i].event;
                all += "\n" + w.evidence[i].event.substr(said.size());
            }
            const std::string where = std::string(label) + " " + f.kind + ": " + all;
            for (auto [tid, name] : {std::pair{kAlpha, "alpha"}, std::pair{kBeta, "beta"}}) {
                auto [n, spelled] = mentions(all, tid, std::string(" \"") + name + "\"");
                EXPECT_EQ(n, spelled) << where;
                named_mentions += n;
                EXPECT_EQ(all.find(std::string("(") + name + ")"), std::string::npos) << where;
            }
            auto [n, spelled_quoted] = mentions(all, kNameless, " \"");
            EXPECT_EQ(spelled_quoted, 0u) << where;
            EXPECT_EQ(mentions(all, kNameless, " (").second, 0u) << where;
            if (label == std::string("unlock_by_nameless") && f.kind == "unlock-not-owner") {
                EXPECT_GE(n, 1u) << where;
            }
        }
        EXPECT_GE(named_mentions, 1u) << label;
    }
}

TEST(FindingWords, ReferencesAreSpelledInPlace)
{
    TraceBuilder b;
    abba(b);
    Built r = build(b);
    lt::Symbolizer sym(*r.trace);
    const lt::Finding* deadlock = nullptr;
    for (const lt::Finding& f : r.findings)
        if (f.kind == "deadlock") deadlock = &f;
    ASSERT_NE(deadlock, nullptr);
    const lt::FindingWords w = lt::finding_words(r.model, sym, *deadlock);
    // No stack was recorded: the sites are left out with the " in " before them.
    EXPECT_EQ(w.summary,
              "Deadlock between 2 threads: thread 101 \"alpha\" waits for mutex 0x5040, held by thread 303 \"beta\" "
              "since +0.000004s; thread 303 \"beta\" waits for mutex 0x5000, held by thread 101 \"alpha\" since "
              "+0.000002s. None of them can go on, so none will release what the others wait for.");
    ASSERT_EQ(w.evidence.size(), deadlock->evidence.size());
    for (size_t i = 0; i < w.evidence.size(); i++) {
        // Thread, time and stack come from the event the detector pointed at.
        const lt::Event& e = r.model.events[deadlock->evidence[i].event_index];
        EXPECT_EQ(w.evidence[i].thread, e.tid);
        EXPECT_EQ(w.evidence[i].time_ns, e.time_ns);
        EXPECT_EQ(w.evidence[i].stack_id, e.stack_id);
        EXPECT_EQ(w.evidence[i].event.rfind(lt::describe_event(e) + ": thread ", 0), 0u) << w.evidence[i].event;
    }
}
