#include "tenancy/types.hpp"

#include <string>

#include "tenancy/errors.hpp"

namespace tenancy {
namespace {

struct StatusName {
    TenantStatus status;
    std::string_view name;
};

// The spellings used by the status column of tenancy.tenant.
constexpr StatusName kStatusNames[] = {
    {TenantStatus::Active, "active"},
    {TenantStatus::Suspended, "suspended"},
    {TenantStatus::Deleted, "deleted"},
};

}  // namespace

std::string_view to_string(TenantStatus status) noexcept {
    for (const StatusName& s : kStatusNames)
        if (s.status == status)
            return s.name;
    return "unknown";
}

TenantStatus parse_tenant_status(std::string_view text) {
    for (const StatusName& s : kStatusNames)
        if (s.name == text)
            return s.status;
    raise_error(ErrorInfo{"", "unknown tenant status \"" + std::string(text) + "\"", "", ""});
}

}  // namespace tenancy
