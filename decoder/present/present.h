// Formatting shared by the commands: times, addresses, stacks, lock names.
#pragma once

#include "core/model.h"
#include "core/symbols.h"
#include "findings/finding.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace lt {

std::string hex_addr(uint64_t a);
// "+1.234567s" relative to the model's start.
std::string rel_time(const Model& m, uint64_t t);
// "1.234ms", "2.5s", "830ns".
std::string duration(uint64_t ns);
// "thread 1234 \"worker\"".
std::string thread_label(const Model& m, uint32_t thread);
std::string thread_label_tid(const Model& m, int32_t tid);
// describe_event's line, with a joined thread named by its tid and name (the
// record holds its pthread_t) when the trace knows it.
std::string event_words(const Model& m, const Event& e);
// "rwlock 0x55d0c0a8e040 (accounts_lock)".
std::string lock_label(const Model& m, Symbolizer& sym, uint64_t addr, uint8_t prim);
// Where stretches still open (waits, holds) end, and the word that says so:
// now while the process runs (" so far"), the moment of packing in a bundle of
// a running process (" when packed"), else the trace's last event (" or more").
struct OpenEnd {
    uint64_t ns;
    const char* word;
    bool running;  // the first two: the process was running then
};
OpenEnd open_end(const Model& m, const Trace& t);
// Whether a hold's read/write mode is worth showing: only for locks with readers
// (a mutex holder is just its holder).
bool has_readers(const Lock& L);
// Indented "#0 function (file.c:12)" lines; "(no stack recorded)" if none.
std::string format_stack(Symbolizer& sym, uint32_t stack_id, const std::string& indent, size_t max_frames = 12);
nlohmann::json stack_json(Symbolizer& sym, uint32_t stack_id);
// The findings as `report --json` lists them (the schema in locktrace(1));
// pack stores the same array in a bundle.
nlohmann::json findings_json(const Model& m, Symbolizer& sym, const std::vector<Finding>& findings);
// The same with their words already made (one per finding).
struct FindingWords;
nlohmann::json findings_json(const Model& m, Symbolizer& sym, const std::vector<Finding>& findings,
                             const std::vector<FindingWords>& words);
// Parses "0x1234" / "1234" (hex with prefix, decimal otherwise); false on junk.
bool parse_address(const std::string& s, uint64_t* out);

} // namespace lt
