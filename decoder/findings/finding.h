// A finding: one named problem in a trace, with the evidence that proves it.
// Produced by the detectors (decoder/findings/*.cpp), which state facts only:
// threads, locks, code sites and times in their sentences are references, and
// the presentation layer (present/finding_words.h) names them from the symbols.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lt {

// Words with references in them.  A detector writes a sentence as it reads,
//     thread_ref(t) + " unlocked " + lock_ref(L) + " at " + time_ref(ns) + site_ref(ix, " in ")
// and the presentation layer spells each reference the same way everywhere.
struct Text {
    struct Piece {
        enum class Kind : uint8_t {
            words,    // `words` as they are
            thread,   // a thread, by its index in Model::threads (`value`)
            lock,     // a lock, by its address (`value`) and primitive (`prim`): "mutex 0x55... (accounts)"
            address,  // the same without the primitive's name: "0x55... (accounts)"
            site,     // where event `value` (an index into Model::events) happened in the user's code;
                      // `words` goes before it, and both are left out when the stack is unknown
            time,     // an absolute CLOCK_MONOTONIC time (`value`), written relative to the trace start
            stack_site, // like site, for a stack id (`value`) of the trace's stack table: what outlives
                        // the rings (held sets, lock order, inherited locks) has a stack but no event
            live_call,// where thread tid `value` is now per the live view (Model::live): the library
                      // function its stack is in and the user's code that called it; `words` goes
                      // before it, and both are left out when the stack is unknown
        };
        Kind kind = Kind::words;
        std::string words;
        uint64_t value = 0;
        uint8_t prim = 0;
    };
    std::vector<Piece> pieces;

    Text() = default;
    Text(std::string w)  // NOLINT: words convert implicitly, so sentences read as sentences
    {
        if (!w.empty()) pieces.push_back({Piece::Kind::words, std::move(w), 0, 0});
    }
    Text(const char* w) : Text(std::string(w)) {}  // NOLINT
    explicit Text(Piece p) { pieces.push_back(std::move(p)); }

    Text& operator+=(const Text& t)
    {
        pieces.insert(pieces.end(), t.pieces.begin(), t.pieces.end());
        return *this;
    }
    bool empty() const { return pieces.empty(); }
};

inline Text operator+(Text a, const Text& b) { return a += b; }

struct Evidence {
    uint32_t event_index = UINT32_MAX;  // index into Model::events: the event that proves it
    Text why;                           // what the event proves ("took it here and still holds it"), or empty
    // Evidence without an event (event_index UINT32_MAX): what outlives the
    // rings (a lock-order pair, a held lock) has a thread, a time and a stack.
    int32_t tid = 0;
    uint64_t time_ns = 0;
    uint32_t stack_id = 0;
    std::string what;                   // says what it is ("took mutex 0x... then mutex 0x...")
};

struct Finding {
    enum Severity { error = 0, warning = 1, info = 2 };  // ordered: most severe first

    std::string kind;           // stable: "deadlock", "lost-wakeup", "blocked", ...
    Severity severity = info;
    std::vector<uint64_t> locks;   // addresses
    std::vector<int32_t> threads;  // tids
    Text summary;               // one paragraph, paste-able in a bug report
    std::vector<Evidence> evidence;
};

const char* severity_name(Finding::Severity s);

} // namespace lt
