// Migrating every tenant that is behind, on every server, in parallel
// (docs/placement.md, "Migrations").
//
// Each tenant is migrated in its own transaction where its data lives: a
// schema tenant by tenancy.migrate_tenant in the registry database, a
// database tenant by tenancy.apply_migrations in its database, whose new
// version is then copied into the registry (the registry's copy can lag after
// a crash, never lead; the next run or check puts it right).  A tenant still
// provisioning is provisioned.  A failing tenant is reported and the run goes
// on.  Two runs at once serialise per tenant on a row lock (the placement
// row, or the tenant database's claim), so neither applies a migration
// twice, and since every transaction locks one tenant only, they cannot
// deadlock.
#pragma once

#include <vector>

#include "tenancy/connection.hpp"
#include "tenancy/orchestration/outcome.hpp"

namespace tenancy::orchestration {

struct MigrateOptions {
    // Connections to tenants at once (the run also holds one to the registry).
    int jobs = 1;
    // Only these tenants; empty: every schema and database tenant behind.
    std::vector<TenantId> tenants;
    ProgressCallback progress;
};

class Migrator {
public:
    explicit Migrator(ConnectOptions registry);

    // One outcome per tenant, in tenant order.
    std::vector<TenantOutcome> run(const MigrateOptions& options);

private:
    ConnectOptions registry_;
};

}  // namespace tenancy::orchestration
