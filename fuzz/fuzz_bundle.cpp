// libFuzzer target: the bytes are a bundle (`locktrace pack` output).  The
// unpacker decompresses and checks it, rebuilds a raw trace in memory, and
// that trace goes through the reader, the model and every detector, with the
// bundle's own symbols.  TraceError is the expected answer to a bad input;
// the rest (crash, sanitizer report, timeout, unbounded memory) is a bug.
#include "bundle/unpack.h"
#include "core/model.h"
#include "core/trace_reader.h"
#include "findings/findings.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace {
int g_fd = -1;
}

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    g_fd = memfd_create("fuzz-bundle", MFD_CLOEXEC);
    if (g_fd < 0) { perror("memfd_create"); abort(); }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (ftruncate(g_fd, 0) != 0) abort();
    size_t done = 0;
    while (done < size) {
        ssize_t w = pwrite(g_fd, data + done, size - done, off_t(done));
        if (w <= 0) abort();
        done += size_t(w);
    }
    lseek(g_fd, 0, SEEK_SET);
    try {
        std::vector<uint8_t> image;
        std::shared_ptr<const lt::SymbolTable> symbols;
        if (!lt::bundle::unpack("fuzz-bundle", g_fd, &image, &symbols)) return 0;
        lt::Trace trace("fuzz-bundle", std::move(image), symbols);
        lt::Model model = lt::Model::build(trace);
        for (const lt::Event& e : model.events) (void)trace.stack(e.stack_id);
        (void)lt::find_all(model);
    } catch (const lt::TraceError&) {
    }
    return 0;
}
