// Check and repair of tenants that live apart (schema and database tenants):
// their schema exists and is theirs, they are at the latest migration, the
// registry's record of their progress matches their ledger, and the rows
// that tenancy.require_tenant_row rules ask for exist.  Repairs never delete.
//
// tenancy.check runs check_placements in the registry database (schema
// tenants, and the states of database tenants); the client runs
// tenancy.check_tenant_data in each tenant database, which uses
// check_tenant_schema.  Every function needs an open spi::Connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tenancy::tenant_check {

// One row of tenancy.check / tenancy.check_tenant_data.
struct Problem {
    std::optional<int64_t> tenant;
    std::string problem;
    std::string object;
    std::string detail;
    bool repaired = false;
};

// A tenancy.require_tenant_row rule.
struct Rule {
    int64_t id = 0;
    std::string table;         // unqualified, as registered
    std::string template_json; // a JSON object of column values
};

// The registered rules (registry database).
std::vector<Rule> registered_rules();

// Checks the tenant's schema in this database against the latest migration
// version and the rules; with repair, inserts missing rows.  Migrations are
// applied by the caller (their SQL is in the registry).
void check_tenant_schema(int64_t tenant, const std::string &schema, int64_t latest_version,
                         const std::vector<Rule> &rules, bool repair, std::vector<Problem> &problems);

// The registry database's part of tenancy.check: every schema tenant (and
// its repair: schema, migrations, progress, rows), database tenants stuck in
// provisioning or purging, and schemas named like a tenant's that no tenant
// owns.
void check_placements(bool repair, std::vector<Problem> &problems);

} // namespace tenancy::tenant_check
