// libFuzzer target: the bytes are a trace file.  Runs what every command runs
// on a trace: the validating reader (header, tables, rings, stacks, command
// line, marks), the model and every detector.  A TraceError is the expected
// answer to a bad input; anything else escaping (another exception, a signal,
// an ASan/UBSan report, a timeout, unbounded memory) is a bug.
#include "core/model.h"
#include "core/trace_reader.h"
#include "findings/findings.h"

#include <cstddef>
#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    try {
        lt::Trace trace("fuzz-input", std::vector<uint8_t>(data, data + size));
        (void)trace.cmdline();
        (void)trace.exe_path();
        (void)trace.marks();
        lt::Model model = lt::Model::build(trace);
        size_t frames = 0;
        for (const lt::Event& e : model.events) {
            frames += trace.stack(e.stack_id).size();
            (void)lt::describe_event(e);
        }
        for (const lt::Lock& l : model.locks) (void)l.holders_at_end();
        std::vector<lt::Finding> findings = lt::find_all(model);
        (void)frames;
        (void)findings;
    } catch (const lt::TraceError&) {
    }
    return 0;
}
