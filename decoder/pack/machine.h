// A short description of the machine, for the bundle's META section: enough
// to know where a trace came from, nothing private (no environment, no host name).
#pragma once

#include <nlohmann/json.hpp>

namespace lt::bundle {

// {"kernel": "Linux 6.1.0-18-amd64 #1 SMP ...", "arch": "x86_64", "glibc": "2.36", "cpus": 2}
nlohmann::json describe_machine();

} // namespace lt::bundle
