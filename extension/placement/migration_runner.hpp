// Applying tenant migrations: the one routine behind create_tenant (schema
// tenants), migrate_tenant (schema tenants, registry database) and
// apply_migrations (a tenant database).
//
// Runs in the caller's transaction, so a tenant is at its old or its new
// version, never in between; the caller holds the lock that serialises
// migrations of the tenant (its placement row, or the database's claim).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tenancy::migrations {

struct Migration {
    int64_t version = 0;
    std::string name;
    std::string sql;
    std::string checksum;
};

// Replaces the placeholders a migration may use where it must name its own
// schema or tenant: ${tenant_schema} (the schema, quoted as needed) and
// ${tenant_id}.
std::string expand_placeholders(std::string sql, const std::string &schema, int64_t tenant);

// The registered migrations newer than `after`, in version order.  Needs an
// spi::Connection (registry database).
std::vector<Migration> registered_after(int64_t after);

// Applies, in version order, the migrations of `migrations` that the ledger
// (tenancy.applied_migration) does not list for `tenant`, each run as the
// current user in the migration sandbox with search_path set to the tenant's
// schema, and records them in the ledger.  A migration in the ledger with
// another checksum is drift: TN011, nothing applied.  A failing migration
// keeps its error's SQLSTATE and message; the context says which migration
// and tenant.  Returns the tenant's newest applied version.  Needs an
// spi::Connection; the schema must exist.
int64_t apply(int64_t tenant, const std::string &schema, const std::vector<Migration> &migrations);

// Raises TN011 if a migration in the ledger of `tenant` has another checksum
// than the registry's migration of that version (registry database).
void refuse_drift(int64_t tenant);

// The newest version in the ledger for `tenant` (0 for none).
int64_t applied_version(int64_t tenant);

} // namespace tenancy::migrations
