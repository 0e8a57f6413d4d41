// Erasing a soft-deleted tenant completely (docs/placement.md, "Erasure").
//
// Shared and schema tenants are erased by tenancy.purge_tenant alone, in one
// transaction.  A database tenant takes three recorded steps, since DROP
// DATABASE runs in no transaction and on another server:
//  1. tenancy.begin_purge: routing and migration stop;
//  2. DROP DATABASE on its server (WITH (FORCE): sessions are ended), only
//     after reading the database's claim: a database that belongs to another
//     tenant or registry, or holds other relations, is never dropped;
//  3. tenancy.database_dropped;
//  4. the copies that finished moves of the tenant kept are dropped too
//     (Mover::drop_kept_source), then tenancy.purge_tenant.
// Each step may be repeated, so a purge killed anywhere is finished by
// running it again; purging a tenant already purged returns its record.
#pragma once

#include <string>

#include "tenancy/connection.hpp"
#include "tenancy/types.hpp"

namespace tenancy::orchestration {

class Purger {
public:
    explicit Purger(ConnectOptions registry);

    // The erasure record (JSON text).  InvalidTransition (TN004) unless the
    // tenant is soft-deleted; DatabaseNotTenants (TN014) for a database that
    // is not the tenant's.
    std::string purge(TenantId tenant);

private:
    ConnectOptions registry_;
};

}  // namespace tenancy::orchestration
