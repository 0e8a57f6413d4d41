#include "tenancy/orchestration/crash_points.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

namespace tenancy::orchestration {

void crash_point(std::string_view step) {
    static const char* const wanted = std::getenv("TENANCY_CRASH_AT");
    if (wanted == nullptr)
        return;
    std::string target(wanted);
    long occurrence = 1;
    if (auto colon = target.rfind(':'); colon != std::string::npos) {
        occurrence = std::strtol(target.c_str() + colon + 1, nullptr, 10);
        target.resize(colon);
    }
    if (target != step)
        return;
    static std::mutex mutex;
    static std::map<std::string, long, std::less<>> seen;
    std::lock_guard<std::mutex> lock(mutex);
    if (++seen[target] == occurrence)
        kill(getpid(), SIGKILL);
}

}  // namespace tenancy::orchestration
