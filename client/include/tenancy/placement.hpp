// Values of the placement capability (docs/placement.md): servers, where a
// tenant lives, migrations.  The Client methods that return them are thin
// SQL calls; the work that spans transactions and servers (provisioning,
// migrating, routing, purging, checking) is in tenancy/orchestration/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tenancy/types.hpp"

namespace tenancy {

// How a tenant's data is kept apart from other tenants'.
enum class Isolation {
    Shared,    // rows in protected shared tables (tenancy.protect)
    Schema,    // schema tenant_<id> in the registry database
    Database,  // database tenant_<id> on a registered server
};

std::string_view to_string(Isolation isolation) noexcept;
// Throws tenancy::Error (22023) for anything else.
Isolation parse_isolation(std::string_view text);

// Arguments of tenancy.add_server.
struct ServerSpec {
    std::string name;
    std::string conninfo;  // "" = the registry's own server; never a password
    bool accepting = true;
    std::optional<int> capacity;  // most tenants; unset = no limit
};

// One row of tenancy.servers.
struct ServerInfo {
    std::string name;
    std::string conninfo;
    bool accepting = true;
    std::optional<int> capacity;
    std::int64_t tenants = 0;
    std::int64_t provisioning = 0;
    std::int64_t ready = 0;
    std::int64_t purging = 0;
    std::optional<std::int64_t> free;  // unset when there is no limit
};

// One row of tenancy.tenant_location(s).
struct TenantLocation {
    TenantId tenant = 0;
    TenantStatus status = TenantStatus::Active;
    Isolation isolation = Isolation::Shared;
    std::optional<std::string> server;
    // A libpq conninfo for the tenant's database.  When on_registry_server
    // is true it has no host/port/user: apply it over the registry
    // connection's own parameters (orchestration/endpoints.hpp does).
    std::string conninfo;
    std::optional<std::string> database;
    std::optional<std::string> schema;
    std::string state;  // provisioning, ready, purging, dropped
    std::int64_t epoch = 0;
    std::int64_t migrated_version = 0;
    std::int64_t latest_version = 0;
    std::optional<std::string> registry;  // this registry's id
    bool on_registry_server = true;

    bool ready() const noexcept { return state == "ready"; }
};

// A registered migration.
struct Migration {
    std::int64_t version = 0;
    std::string name;
    std::string sql;
    std::string checksum;  // hex SHA-256 of sql
};

// One row of tenancy.pending_migrations().
struct PendingMigration {
    TenantId tenant = 0;
    Isolation isolation = Isolation::Schema;
    std::optional<std::string> server;
    std::string state;
    std::int64_t migrated_version = 0;
    std::int64_t latest_version = 0;
    std::int64_t pending = 0;
};

// What tenancy.begin_purge reports: where a purged tenant's database is.
struct PurgeTarget {
    TenantId tenant = 0;
    Isolation isolation = Isolation::Shared;
    std::optional<std::string> server;
    std::optional<std::string> server_conninfo;
    std::optional<std::string> database;
    std::string state;
    std::optional<std::string> registry;
};

// One move of a tenant to another server: a row of tenancy.begin_move or
// tenancy.tenant_moves (docs/placement.md, "Moving a tenant").
struct TenantMove {
    std::int64_t move = 0;
    TenantId tenant = 0;
    std::string slug;
    Isolation source_isolation = Isolation::Database;  // Schema: the registry database's schema
    std::optional<std::string> source_server;
    std::optional<std::string> source_conninfo;  // the server's, "" for the registry's own
    std::optional<std::string> source_database;
    std::string schema;
    std::string target_server;
    std::string target_conninfo;
    std::string target_database;
    std::int64_t from_epoch = 0;
    bool drop_source = false;
    std::string state;  // running, switched, done, aborted
    std::string step;
    std::optional<std::string> error;
    std::optional<double> write_pause_ms;
    bool source_dropped = false;
    std::string registry;
    std::string started_at;
    std::string step_changed_at;
    std::optional<std::string> finished_at;
    bool mover_running = false;  // a client holds the move's session lock

    bool unfinished() const noexcept { return state == "running" || state == "switched"; }
};

}  // namespace tenancy
