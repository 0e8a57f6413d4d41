// Placement: where a tenant's data lives (docs/placement.md), shared by the
// files of extension/placement/ and by create_tenant and check.
//
// Touches tenancy.server, tenancy.placement, tenancy.registry and, for schema
// tenants, the tenant's schema.  Every function here needs an open
// spi::Connection and runs with the extension owner's rights unless it says
// otherwise.
#pragma once

#include "shared/spi.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace tenancy::placement {

// The three ways a tenant's data can be kept apart.
enum class Isolation { Shared, Schema, Database };

const char *isolation_name(Isolation isolation);
// Reads the isolation argument; anything else is 22023 naming the choices.
Isolation parse_isolation(const std::string &text);

// The documented, collision-free names of a tenant's schema and database.
std::string schema_name_for(int64_t tenant);
std::string database_name_for(int64_t tenant);

// This registry's identity, made on first use.
std::string registry_id();

// The comment that marks a schema as a tenant's (COMMENT ON SCHEMA): it
// travels with the schema through pg_dump, so check and purge can tell a
// tenant's schema from one somebody else made with the same name.
std::string schema_marker(int64_t tenant, const std::string &registry);

// Creates a schema tenant's schema, owned by the session's current role (the
// role that runs the migrations), and marks it as the tenant's.
void create_marked_schema(int64_t tenant, const std::string &schema);

// Applies the registered migrations newer than `after` to a schema tenant,
// as the session's current role, and records the version in its placement.
// Returns the version.
int64_t migrate_as_session_role(int64_t tenant, const std::string &schema, int64_t after);

// Records where a just-registered tenant lives, inside the registering
// transaction: picks a server for a database tenant (or checks the named
// one), and for a schema tenant creates its schema, owned by the session's
// current role, and brings it to the latest migration.  Raises the
// documented errors (TN013 no server, 42704 unknown server, 22023 a server
// named for a tenant that is not a database tenant).
void place_new_tenant(int64_t tenant, const std::string &slug, Isolation isolation,
                      const std::optional<std::string> &server);

// The placement row of a tenant, locked FOR UPDATE when `lock` is true.
// TN001 if the tenant has none (it does not exist).
struct Placement {
    int64_t tenant = 0;
    std::string status; // the tenant's lifecycle status
    std::string slug;
    Isolation isolation = Isolation::Shared;
    std::optional<std::string> server;
    std::optional<std::string> database_name;
    std::optional<std::string> schema_name;
    std::string state;
    int64_t epoch = 0;
    int64_t migrated_version = 0;
};
Placement load(int64_t tenant, bool lock);

// The newest registered migration's version, 0 when there is none.
int64_t latest_migration_version();

} // namespace tenancy::placement
