// Rust's v0 symbol mangling ("_RNvCs..._5crate4main" -> "crate::main").
#pragma once

#include <string>

namespace lt {

// False (and *out untouched) if `mangled` is not a v0 symbol this understands.
bool rust_v0(const std::string& mangled, std::string* out);

} // namespace lt
