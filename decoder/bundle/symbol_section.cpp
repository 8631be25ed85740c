#include "symbol_section.h"

namespace lt::bundle {

using nlohmann::json;

// One entry per address: [pc, function, file, line, module, offset] of the
// function it lies in (what every reader understands), then, when there is
// more to say, its column and the functions inlined at it, innermost first,
// each [function, file, line, column].
std::string encode_symbols(const AddressFrames& frames, const json& data, const std::vector<std::string>& notes)
{
    json entries = json::array();
    for (const auto& [pc, chain] : frames) {
        if (chain.empty()) continue;
        const Frame& f = chain.back();
        if (f.function.empty() && f.module.empty()) continue;
        json e = {pc, f.function, f.file, f.line, f.module, f.offset};
        if (f.column != 0 || chain.size() > 1) {
            json inl = json::array();
            for (size_t i = 0; i + 1 < chain.size(); i++)
                inl.push_back({chain[i].function, chain[i].file, chain[i].line, chain[i].column});
            e.push_back(f.column);
            e.push_back(std::move(inl));
        }
        entries.push_back(std::move(e));
    }
    json j;
    j["frames"] = std::move(entries);
    j["data"] = data;
    j["notes"] = notes;
    return j.dump();
}

void decode_symbols(const json& j, SymbolTable* table)
{
    for (const auto& f : j.at("frames")) {
        Frame fr;
        fr.address = f.at(0).get<uint64_t>();
        fr.function = f.at(1).get<std::string>();
        fr.file = f.at(2).get<std::string>();
        fr.line = f.at(3).get<int>();
        fr.module = f.at(4).get<std::string>();
        fr.offset = f.at(5).get<uint64_t>();
        std::vector<Frame> chain;
        if (f.size() > 7) {  // entries written before inlined frames were kept end at 6
            fr.column = f.at(6).get<int>();
            for (const auto& in : f.at(7)) {
                Frame i = fr;
                i.function = in.at(0).get<std::string>();
                i.file = in.at(1).get<std::string>();
                i.line = in.at(2).get<int>();
                i.column = in.at(3).get<int>();
                i.inlined = true;
                chain.push_back(std::move(i));
            }
        }
        chain.push_back(std::move(fr));
        table->frames[chain.back().address] = std::move(chain);
    }
    for (const auto& [k, v] : j.at("data").items()) table->data[std::stoull(k, nullptr, 16)] = v.get<std::string>();
    // Informational: a bundle without notes is read all the same.
    if (j.contains("notes"))
        for (const auto& n : j.at("notes")) table->notes.push_back(n.get<std::string>());
}

} // namespace lt::bundle
