// A tenant database's claim: which tenant of which registry it belongs to.
// Shared by tenant_database.cpp and the tenant-data check.  Needs an open
// spi::Connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tenancy::tenant_database {

struct Claim {
    int64_t tenant = 0;
    std::string registry;
    std::string slug;
    // A move of the tenant (docs/placement.md, "Moving a tenant"): moving,
    // frozen or moved for the source copy, incoming for the target.
    std::optional<std::string> move_state;
    std::optional<int64_t> move_id;
};

// This database's claim, row-locked when `lock` is true; none if unclaimed.
std::optional<Claim> read_claim(bool lock);

// The claim, which must name `tenant` of `registry`: TN014 otherwise.
Claim require_claim(int64_t tenant, const std::string &registry, bool lock);

std::string current_database_name();

// The database comment that mirrors a claim (COMMENT ON DATABASE), readable
// from any database of the server.
std::string claim_comment(int64_t tenant, const std::string &registry);

} // namespace tenancy::tenant_database
