// libFuzzer target: the bytes are a bundle (`locktrace pack` output).  The
// unpacker decompresses and checks it, rebuilds a raw trace in memory, and
// that trace goes through the reader, the model and every detector, with the
// bundle's own symbols.  TraceError is the expected answer to a bad input;
// the rest (crash, sanitizer report, timeout, unbounded memory) is a bug.
//
// A mutated bundle almost never gets past zstd (block structure, content
// checksum), so the sections behind it would go untested.  An input that does
// not start like a bundle is therefore taken as a decompressed payload (what
// `zstd -dc FILE.ltb` prints) and wrapped here into a well-formed bundle:
// the mutations then land on the section headers, tables, columns and JSON.
#include "bundle/bundle_format.h"
#include "bundle/unpack.h"
#include "core/model.h"
#include "core/trace_reader.h"
#include "findings/findings.h"
#include "fuzz_input.h"

#include <zstd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {
lt::fuzz::InputFile* g_input;
std::vector<uint8_t> g_wrapped;

// preamble frame + one zstd frame (with its content size) holding `payload`.
const std::vector<uint8_t>& wrap_payload(const uint8_t* payload, size_t size)
{
    using namespace lt::bundle;
    Preamble pre{};
    memcpy(pre.magic, kMagic, sizeof pre.magic);
    pre.version = kVersion;
    pre.payload_size = size;
    uint32_t frame_hdr[2] = {kSkippableMagic, uint32_t(sizeof pre)};
    g_wrapped.resize(kPreambleFrameSize + ZSTD_compressBound(size));
    memcpy(g_wrapped.data(), frame_hdr, sizeof frame_hdr);
    memcpy(g_wrapped.data() + sizeof frame_hdr, &pre, sizeof pre);
    size_t z = ZSTD_compress(g_wrapped.data() + kPreambleFrameSize, g_wrapped.size() - kPreambleFrameSize, payload,
                             size, 1);
    if (ZSTD_isError(z)) abort();
    g_wrapped.resize(kPreambleFrameSize + z);
    return g_wrapped;
}
} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    g_input = new lt::fuzz::InputFile("fuzz-bundle");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    uint32_t lead = 0;
    if (size >= 4) memcpy(&lead, data, 4);
    if (lead == lt::bundle::kSkippableMagic) {
        g_input->set(data, size);
    } else {
        const std::vector<uint8_t>& b = wrap_payload(data, size);
        g_input->set(b.data(), b.size());
    }
    try {
        std::unique_ptr<lt::Trace> trace = lt::bundle::read_bundle(g_input->path());
        lt::Model model = lt::Model::build(*trace);
        for (const lt::Event& e : model.events) (void)trace->stack(e.stack_id);
        (void)lt::find_all(model);
    } catch (const lt::TraceError&) {
    }
    return 0;
}
