#include "machine.h"

#include <gnu/libc-version.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace lt::bundle {

nlohmann::json describe_machine()
{
    nlohmann::json j;
    struct utsname u;
    if (uname(&u) == 0) {
        j["kernel"] = std::string(u.sysname) + " " + u.release + " " + u.version;
        j["arch"] = u.machine;
    }
    j["glibc"] = gnu_get_libc_version();
    j["cpus"] = sysconf(_SC_NPROCESSORS_ONLN);
    return j;
}

} // namespace lt::bundle
