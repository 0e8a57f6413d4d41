#include "tenancy/orchestration/outcome.hpp"

#include <algorithm>

namespace tenancy::orchestration {

std::size_t failures(const std::vector<TenantOutcome>& outcomes) {
    return static_cast<std::size_t>(
        std::count_if(outcomes.begin(), outcomes.end(), [](const TenantOutcome& o) { return !o.ok; }));
}

TenantOutcome outcome_for(const TenantLocation& location) {
    TenantOutcome outcome;
    outcome.tenant = location.tenant;
    outcome.isolation = location.isolation;
    outcome.server = location.server;
    outcome.from_version = outcome.to_version = location.migrated_version;
    return outcome;
}

}  // namespace tenancy::orchestration
