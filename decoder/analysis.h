// The one way every command reads a trace: open it (a raw trace or a bundle),
// build the model, symbolize, run the detectors.  report, timeline, export,
// snapshot and pack all start here; dump only opens.
#pragma once

#include "core/model.h"
#include "core/symbols.h"
#include "findings/finding.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace lt {

struct Analysis {
    std::unique_ptr<Trace> trace;
    Model model;
    std::unique_ptr<Symbolizer> symbols;
    std::vector<Finding> findings;  // most severe first; empty when not asked for
    // What every thread is doing now (a live trace: read from /proc and the
    // process's memory), or the view stored with the trace or bundle; null
    // when there is none.  model.live points to it.
    std::unique_ptr<LiveView> live;
};

// A bundle (told by its first bytes) through the bundle reader, any other file
// as a raw trace.  Throws TraceError.
// `live_text`: set to the live view a bundle carries (empty if none).
std::unique_ptr<Trace> open_trace(const std::string& path, std::string* live_text = nullptr);

// How the user asked stacks to be read (the Symbolizer's settings).
struct SymbolOptions {
    std::vector<std::string> skip_frames;  // --skip-frames: the program's own lock wrappers
    std::vector<std::string> debug_dirs;   // --debug-dir: more places for separate debug files
};

// What a command wants besides the model and the symbols, and work of its own
// to overlap with them.  When any of the three steps is set, symbolizing and
// the detectors each run on a thread of their own beside the caller's thread
// (pack overlaps them with its compression: pack/pack.cpp says what it gains).
struct AnalysisSteps {
    bool findings = true;  // timeline has no use for them
    SymbolOptions symbols;
    // A live view file to use instead of taking one (report --live-view: the
    // watchdog's, taken inside the process); when it cannot be read, a running
    // process's view is taken as usual.
    std::string live_view_file;
    // On the caller's thread, once the model is built, beside the other two.
    std::function<void(const Trace&, const Model&)> modelled;
    // On the symbols' thread, once the symbolizer is made.
    std::function<void(const Trace&, Symbolizer&)> symbolized;
    // On the detectors' thread, once the findings are found and `symbolized`
    // has returned (the model may still be in use by `modelled`: read it only).
    std::function<void(const Analysis&)> analysed;
};

// Throws TraceError if the trace cannot be read; an exception of a step is
// passed on after every thread has stopped.
Analysis analyse(const std::string& path, const AnalysisSteps& steps = {});

} // namespace lt
