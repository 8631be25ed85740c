// The live view (core/live_view.h) in words: its threads with their system
// calls, words, descriptors and symbolized stacks; the word of a blocked
// thread's lock now; and the names a finding's live references take.
#pragma once

#include "core/live_view.h"
#include "core/model.h"
#include "core/symbols.h"

#include <nlohmann/json.hpp>

#include <string>

namespace lt {

// " (accounts+56)", " (_rtld_global+2312, a lock of the dynamic loader)", or "".
std::string data_words(Symbolizer& sym, uint64_t addr);
// Where thread `tid` is per the live view: "___dlopen, called from
// load_plugins (app.c:31)"; "" when unknown.
std::string live_call_words(const Model& m, Symbolizer& sym, int32_t tid);
// "futex(0x7f.., FUTEX_WAIT_PRIVATE, 2)", "read(5, 0x7ff.., 64)", "running", ...
std::string live_call_text(const LiveThread& t);
// The LIVE VIEW section of the text report (every line ends in "\n").
std::string live_view_section(const Model& m, Symbolizer& sym, const LiveView& v);
// "lock word now: __lock=2, __owner=1234 (read live)" for a blocked
// thread's lock, "" when the view has no word for it.
std::string live_word_line(const Model& m, const Lock& L, const Event& attempt);
nlohmann::json live_view_json(const Model& m, Symbolizer& sym, const LiveView& v);
nlohmann::json live_word_json(const Model& m, const Lock& L);

} // namespace lt
