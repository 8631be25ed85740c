#include "analysis.h"

#include "bundle/unpack.h"
#include "findings/findings.h"

#include <exception>
#include <fcntl.h>
#include <future>
#include <thread>
#include <unistd.h>

namespace lt {

std::unique_ptr<Trace> open_trace(const std::string& path, std::string* live_text)
{
    if (live_text) live_text->clear();
    uint8_t lead[8] = {};
    bool bundle = false;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        bundle = pread(fd, lead, sizeof lead, 0) == ssize_t(sizeof lead) && bundle::is_bundle_lead(lead);
        ::close(fd);
    }
    // A file that cannot be opened or read goes to the raw reader, which says why.
    if (bundle) return bundle::read_bundle(path, live_text);
    return std::make_unique<Trace>(path);
}

namespace {

// The live view that goes with the model: taken now when the process runs
// (and stored next to the trace, so that it outlives the process), else the
// one the bundle or the trace's `.live` file keeps, if no event came after it.
void attach_live_view(Analysis& a, const std::string& bundle_live, const std::string& given)
{
    const Trace& t = *a.trace;
    auto v = std::make_unique<LiveView>();
    std::string why;
    if (!given.empty() && load_live_view(given, v.get())) {
        // as given (the watchdog's own view of its process)
    } else if (t.packed()) {
        if (bundle_live.empty() || !parse_live_view(bundle_live, v.get(), &why)) return;
    } else if (t.process_running()) {
        std::vector<uint64_t> words;
        for (const ThreadState& th : a.model.threads) {
            if (th.status != ThreadStatus::blocked) continue;
            words.push_back(th.lock_addr);
            if (th.sleeps_in_lock != SIZE_MAX && a.model.locks[th.sleeps_in_lock].addr != th.lock_addr)
                words.push_back(a.model.locks[th.sleeps_in_lock].addr);
        }
        *v = take_live_view(t.header().pid, words);
        save_live_view(*v, live_view_path(t.path()), &why);  // best effort: a read-only directory keeps none
    } else if (!load_live_view(live_view_path(t.path()), v.get())) {
        return;
    }
    if (v->pid != t.header().pid || v->taken_ns < a.model.end_ns) return;  // another process, or history after it
    a.live = std::move(v);
    a.model.live = a.live.get();
}

// Reads every stack once, so that the threads of an overlapped analysis only
// read the trace's stack cache, never fill it.
void warm_stacks(const Trace& trace)
{
    const lt_file_header& h = trace.header();
    const uint32_t ids = h.stack_depth_max ? h.stack_table_capacity : 0;
    for (uint32_t id = 1; id <= ids; id++) (void)trace.stack(id);
}

void overlapped(Analysis& a, const AnalysisSteps& steps, const std::string& bundle_live)
{
    warm_stacks(*a.trace);
    std::promise<bool> model_built;   // false: the model could not be built
    std::promise<void> symbols_made;
    std::exception_ptr sym_error, find_error;
    std::thread sym_thread([&] {
        try {
            a.symbols = std::make_unique<Symbolizer>(*a.trace, steps.symbols.debug_dirs);
            a.symbols->set_skip_frames(steps.symbols.skip_frames);
            if (steps.symbolized) steps.symbolized(*a.trace, *a.symbols);
            symbols_made.set_value(); // only now: a Symbolizer is used by one thread at a time
        } catch (...) {
            sym_error = std::current_exception();
            try { symbols_made.set_value(); } catch (const std::future_error&) {} // already set
        }
    });
    std::thread find_thread([&, built = model_built.get_future(), made = symbols_made.get_future()]() mutable {
        try {
            if (!built.get()) return;
            if (steps.findings) a.findings = find_all(a.model);
            made.get();
            if (steps.analysed && a.symbols) steps.analysed(a);
        } catch (...) {
            find_error = std::current_exception();
        }
    });
    std::exception_ptr main_error;
    try {
        a.model = Model::build(*a.trace);
        attach_live_view(a, bundle_live, steps.live_view_file);
        model_built.set_value(true);
        if (steps.modelled) steps.modelled(*a.trace, a.model);
    } catch (...) {
        main_error = std::current_exception();
        try { model_built.set_value(false); } catch (const std::future_error&) {} // already set
    }
    sym_thread.join();
    find_thread.join();
    for (const std::exception_ptr& e : {main_error, sym_error, find_error})
        if (e) std::rethrow_exception(e);
}

} // namespace

Analysis analyse(const std::string& path, const AnalysisSteps& steps)
{
    Analysis a;
    std::string bundle_live;
    a.trace = open_trace(path, &bundle_live);
    if (steps.modelled || steps.symbolized || steps.analysed) {
        overlapped(a, steps, bundle_live);
        return a;
    }
    a.model = Model::build(*a.trace);
    attach_live_view(a, bundle_live, steps.live_view_file);
    a.symbols = std::make_unique<Symbolizer>(*a.trace, steps.symbols.debug_dirs);
    a.symbols->set_skip_frames(steps.symbols.skip_frames);
    if (steps.findings) a.findings = find_all(a.model);
    return a;
}

} // namespace lt
