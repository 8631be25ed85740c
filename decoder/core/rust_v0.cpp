// Rust's v0 symbol mangling ("_R..."), spelled as rustc's own demangler does
// without the crate disambiguators: "<std::sys::sync::mutex::futex::Mutex>::lock",
// "app::main::{closure#0}".  The grammar is rustc's symbol-mangling RFC 2603.
// The input comes from untrusted binaries: every read is bounds-checked, the
// nesting depth and the output length are limited, and any surprise gives up.
#include "rust_v0.h"

#include <cstdint>

namespace lt {

namespace {

class V0 {
public:
    explicit V0(const std::string& s) : s_(s) {}

    bool symbol(std::string* out)
    {
        if (s_.compare(0, 2, "_R") != 0) return false;
        pos_ = 2;
        if (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') return false; // encoding versions > 0
        if (!path(out, false)) return false;
        // An instantiating crate may follow; it is not shown.
        return true;
    }

private:
    const std::string& s_;
    size_t pos_ = 0;
    int depth_ = 0;
    static constexpr int kMaxDepth = 64;
    static constexpr size_t kMaxOut = 4096;

    bool eat(char c)
    {
        if (pos_ < s_.size() && s_[pos_] == c) {
            pos_++;
            return true;
        }
        return false;
    }
    char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

    // {0-9a-zA-Z} "_": "_" is 0, else the digits' value + 1.
    bool base62(uint64_t* v)
    {
        if (eat('_')) {
            *v = 0;
            return true;
        }
        uint64_t x = 0;
        while (pos_ < s_.size() && s_[pos_] != '_') {
            char c = s_[pos_++];
            uint64_t d;
            if (c >= '0' && c <= '9') d = uint64_t(c - '0');
            else if (c >= 'a' && c <= 'z') d = 10 + uint64_t(c - 'a');
            else if (c >= 'A' && c <= 'Z') d = 36 + uint64_t(c - 'A');
            else return false;
            if (x > (UINT64_MAX - d) / 62) return false;
            x = x * 62 + d;
        }
        if (!eat('_')) return false;
        *v = x + 1;
        return true;
    }
    bool opt_base62(char tag, uint64_t* v)
    {
        *v = 0;
        if (!eat(tag)) return true;
        if (!base62(v)) return false;
        (*v)++;
        return true;
    }
    bool decimal(uint64_t* v)
    {
        if (peek() < '0' || peek() > '9') return false;
        if (peek() == '0') {
            pos_++;
            *v = 0;
            return true;
        }
        uint64_t x = 0;
        while (peek() >= '0' && peek() <= '9') {
            x = x * 10 + uint64_t(s_[pos_++] - '0');
            if (x > s_.size()) return false;
        }
        *v = x;
        return true;
    }
    // [s<base62>] [u] <decimal> [_] <bytes>; punycode ("u") is left encoded.
    bool identifier(std::string* name, uint64_t* dis = nullptr)
    {
        uint64_t d;
        if (!opt_base62('s', &d)) return false;
        if (dis) *dis = d;
        bool puny = eat('u');
        uint64_t len;
        if (!decimal(&len)) return false;
        eat('_');
        if (len > s_.size() - pos_) return false;
        *name = s_.substr(pos_, len);
        pos_ += len;
        if (puny) *name = "punycode{" + *name + "}";
        return true;
    }
    // "B" <base62>: the same production again, from an earlier offset.
    template <class F> bool backref(F&& again)
    {
        const size_t b_at = pos_ - 1; // the "B", already read
        uint64_t at;
        if (!base62(&at) || at + 2 >= b_at) return false; // must point strictly backwards
        const size_t saved = pos_;
        pos_ = size_t(at) + 2;
        bool ok = again();
        pos_ = saved;
        return ok;
    }
    struct Depth {
        int& d;
        explicit Depth(int& x) : d(++x) {}
        ~Depth() { --d; }
    };

    bool path(std::string* out, bool in_type)
    {
        Depth guard(depth_);
        if (depth_ > kMaxDepth || out->size() > kMaxOut) return false;
        char tag = peek();
        pos_++;
        switch (tag) {
        case 'C': {
            std::string name;
            if (!identifier(&name)) return false;
            *out += name;
            return true;
        }
        case 'M': { // <impl-path> <type>: "<Type>"
            uint64_t dis;
            std::string ignored;
            if (!opt_base62('s', &dis) || !path(&ignored, false)) return false;
            *out += "<";
            if (!type(out)) return false;
            *out += ">";
            return true;
        }
        case 'X': { // <impl-path> <type> <trait path>: "<Type as Trait>"
            uint64_t dis;
            std::string ignored;
            if (!opt_base62('s', &dis) || !path(&ignored, false)) return false;
            *out += "<";
            if (!type(out)) return false;
            *out += " as ";
            if (!path(out, true)) return false;
            *out += ">";
            return true;
        }
        case 'Y': { // <type> <trait path>
            *out += "<";
            if (!type(out)) return false;
            *out += " as ";
            if (!path(out, true)) return false;
            *out += ">";
            return true;
        }
        case 'N': {
            char ns = peek();
            pos_++;
            if (!((ns >= 'a' && ns <= 'z') || (ns >= 'A' && ns <= 'Z'))) return false;
            if (!path(out, in_type)) return false;
            uint64_t dis;
            std::string name;
            if (!identifier(&name, &dis)) return false;
            if (ns >= 'a' && ns <= 'z') { // a namespace of the language: a module, type, function...
                *out += "::" + name;
                return true;
            }
            // A closure, a shim or another implementation-made item.
            const std::string kind = ns == 'C' ? "closure" : ns == 'S' ? "shim" : std::string(1, ns);
            *out += "::{" + kind + (name.empty() ? "" : ":" + name) + "#" + std::to_string(dis) + "}";
            return true;
        }
        case 'I': { // <path> {<generic-arg>} "E"
            if (!path(out, in_type)) return false;
            *out += in_type ? "<" : "::<";
            bool first = true;
            while (!eat('E')) {
                if (pos_ >= s_.size()) return false;
                if (!first) *out += ", ";
                first = false;
                if (!generic_arg(out)) return false;
            }
            *out += ">";
            return true;
        }
        case 'B': return backref([&] { return path(out, in_type); });
        default: return false;
        }
    }

    bool generic_arg(std::string* out)
    {
        if (eat('L')) {
            uint64_t lt;
            if (!base62(&lt)) return false;
            *out += "'_";
            return true;
        }
        if (eat('K')) return constant(out);
        return type(out);
    }

    bool constant(std::string* out)
    {
        Depth guard(depth_);
        if (depth_ > kMaxDepth) return false;
        if (eat('p')) {
            *out += "_";
            return true;
        }
        if (eat('B')) return backref([&] { return constant(out); });
        char t = peek();
        pos_++;
        if (!basic_type(t, nullptr)) return false;
        bool neg = eat('n');
        uint64_t v = 0;
        size_t digits = 0;
        while (pos_ < s_.size() && s_[pos_] != '_') {
            char c = s_[pos_++];
            int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? 10 + c - 'a' : -1;
            if (d < 0 || ++digits > 16) return false;
            v = v * 16 + uint64_t(d);
        }
        if (!eat('_')) return false;
        if (t == 'b') *out += v ? "true" : "false";
        else *out += (neg ? "-" : "") + std::to_string(v);
        return true;
    }

    static bool basic_type(char c, std::string* out)
    {
        static const char* const names[26] = {
            "i8", "bool", "char", "f64", "str", "f32", nullptr, "u8", "isize", "usize", nullptr, "i32", "u32",
            "i128", "u128", "_", nullptr, nullptr, "i16", "u16", "()", "...", nullptr, "i64", "u64", "!"};
        if (c < 'a' || c > 'z' || !names[c - 'a']) return false;
        if (out) *out += names[c - 'a'];
        return true;
    }

    bool type(std::string* out)
    {
        Depth guard(depth_);
        if (depth_ > kMaxDepth || out->size() > kMaxOut) return false;
        char t = peek();
        if (basic_type(t, out)) {
            pos_++;
            return true;
        }
        pos_++;
        switch (t) {
        case 'R':
        case 'Q': {
            *out += t == 'R' ? "&" : "&mut ";
            if (peek() == 'L') {
                pos_++;
                uint64_t lt;
                if (!base62(&lt)) return false;
            }
            return type(out);
        }
        case 'P': *out += "*const "; return type(out);
        case 'O': *out += "*mut "; return type(out);
        case 'A':
            *out += "[";
            if (!type(out)) return false;
            *out += "; ";
            if (!constant(out)) return false;
            *out += "]";
            return true;
        case 'S':
            *out += "[";
            if (!type(out)) return false;
            *out += "]";
            return true;
        case 'T': {
            *out += "(";
            size_t n = 0;
            while (!eat('E')) {
                if (pos_ >= s_.size()) return false;
                if (n++) *out += ", ";
                if (!type(out)) return false;
            }
            *out += n == 1 ? ",)" : ")";
            return true;
        }
        case 'F': { // [binder] [U] [K abi] {type} E type
            uint64_t b;
            if (!opt_base62('G', &b)) return false;
            if (eat('U')) *out += "unsafe ";
            if (eat('K')) {
                std::string abi;
                if (eat('C')) abi = "C";
                else if (!identifier(&abi)) return false;
                *out += "extern \"" + abi + "\" ";
            }
            *out += "fn(";
            size_t n = 0;
            while (!eat('E')) {
                if (pos_ >= s_.size()) return false;
                if (n++) *out += ", ";
                if (!type(out)) return false;
            }
            *out += ")";
            if (peek() == 'u') {
                pos_++;
                return true;
            }
            *out += " -> ";
            return type(out);
        }
        case 'D': { // [binder] {path {p name type}} E lifetime
            uint64_t b;
            if (!opt_base62('G', &b)) return false;
            *out += "dyn ";
            size_t n = 0;
            while (!eat('E')) {
                if (pos_ >= s_.size()) return false;
                if (n++) *out += " + ";
                if (!path(out, true)) return false;
                // Associated types join the trait's generic arguments: "FnOnce<(), Output = ()>".
                bool open = false;
                while (eat('p')) {
                    std::string name;
                    if (!identifier(&name)) return false;
                    if (!open && !out->empty() && out->back() == '>') {
                        out->pop_back();
                        *out += ", ";
                    } else {
                        *out += open ? ", " : "<";
                    }
                    open = true;
                    *out += name + " = ";
                    if (!type(out)) return false;
                }
                if (open) *out += ">";
            }
            if (!eat('L')) return false;
            uint64_t lt;
            return base62(&lt);
        }
        case 'B': return backref([&] { return type(out); });
        default:
            pos_--;
            return path(out, true);
        }
    }
};

} // namespace

bool rust_v0(const std::string& mangled, std::string* out)
{
    std::string r;
    V0 v(mangled);
    if (!v.symbol(&r)) return false;
    *out = std::move(r);
    return true;
}

} // namespace lt
