// The calls the orchestration makes in a tenant's own database, over a
// Connection to it (the SQL functions are in extension/placement/).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tenancy/client.hpp"
#include "tenancy/connection.hpp"
#include "tenancy/placement.hpp"

namespace tenancy::orchestration::tenant_database {

struct Claim {
    TenantId tenant = 0;
    std::string registry;
    // A move of the tenant: moving, frozen or moved (its source copy),
    // incoming (its target); none for an extension older than 0.9.0.
    std::optional<std::string> move_state;
    std::optional<std::int64_t> move_id;
};

// CREATE EXTENSION IF NOT EXISTS tenancy, tolerating a concurrent creator.
void ensure_extension(Connection& db);

// The database's claim; none if unclaimed or if the extension is missing.
std::optional<Claim> claim_of(Connection& db);

// tenancy.claim_database: true if claimed now.
bool claim(Connection& db, TenantId tenant, const std::string& registry, const std::string& slug);

// tenancy.apply_migrations: applies those not applied yet, returns the version.
std::int64_t apply_migrations(Connection& db, TenantId tenant, const std::string& registry,
                              const std::vector<Migration>& migrations);

// The newest applied version (0 for none) and each applied version's checksum.
std::vector<std::pair<std::int64_t, std::string>> applied(Connection& db, TenantId tenant);

// tenancy.check_tenant_data.
std::vector<CheckProblem> check_data(Connection& db, TenantId tenant, const std::string& registry,
                                     std::int64_t latest_version, const std::string& rules_json, bool repair);

// Relations outside the system's, the extension's and the tenant's schemas:
// a database holding any belongs to somebody else.
std::int64_t foreign_relations(Connection& db, TenantId tenant);

}  // namespace tenancy::orchestration::tenant_database
