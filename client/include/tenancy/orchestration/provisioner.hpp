// Provisioning database tenants: the steps that cannot run in the
// registering transaction, each idempotent, so a run killed at any moment is
// finished by the next one (docs/placement.md, "Provisioning").
//
//  1. CREATE DATABASE tenant_<id> on the tenant's server, unless it exists;
//  2. CREATE EXTENSION tenancy in it;
//  3. claim it for the tenant (tenancy.claim_database): refused if it is
//     another tenant's or another registry's, or holds other relations;
//  4. apply every registered migration (tenancy.apply_migrations);
//  5. insert the rows tenancy.require_tenant_row rules ask for;
//  6. mark the placement ready (tenancy.placement_ready).
// Routing hands out a tenant only after step 6.
#pragma once

#include <vector>

#include "tenancy/connection.hpp"
#include "tenancy/orchestration/outcome.hpp"

namespace tenancy::orchestration {

class Provisioner {
public:
    explicit Provisioner(ConnectOptions registry);

    // Finishes one tenant and returns its migration version; a no-op for a
    // tenant that is ready or not a database tenant.  Throws on failure.
    std::int64_t provision(TenantId tenant);

    // Finishes every database tenant that is not ready, at most `jobs` at
    // once; a failing tenant does not stop the others.
    std::vector<TenantOutcome> provision_all(int jobs, const ProgressCallback& progress = {});

private:
    ConnectOptions registry_;
};

}  // namespace tenancy::orchestration
