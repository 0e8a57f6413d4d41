// Placement: one call of a tenancy.* SQL function per Client method
// (docs/placement.md).  Arguments carry explicit casts, as in client.cpp.
#include "tenancy/client.hpp"

#include <string>

namespace tenancy {
namespace {

Param param(std::int64_t n) { return std::to_string(n); }
const char* boolean(bool b) { return b ? "true" : "false"; }

// The columns of tenant_location(s), with epoch-safe text for timestamps.
constexpr const char* kLocationColumns =
    "tenant, status, isolation, server, conninfo, database_name, schema_name, state, epoch,"
    " migrated_version, latest_version, registry::text AS registry, on_registry_server::int AS on_registry_server";

TenantLocation location_from_row(const Result& r, int row) {
    TenantLocation l;
    l.tenant = r.int64(row, "tenant");
    l.status = parse_tenant_status(r.text(row, "status"));
    l.isolation = parse_isolation(r.text(row, "isolation"));
    l.server = r.optional_text(row, "server");
    l.conninfo = r.text(row, "conninfo");
    l.database = r.optional_text(row, "database_name");
    l.schema = r.optional_text(row, "schema_name");
    l.state = r.text(row, "state");
    l.epoch = r.int64(row, "epoch");
    l.migrated_version = r.int64(row, "migrated_version");
    l.latest_version = r.int64(row, "latest_version");
    l.registry = r.optional_text(row, "registry");
    l.on_registry_server = r.int64(row, "on_registry_server") == 1;
    return l;
}

// A bigint[] literal for a parameter: "{1,2,3}".
std::string int8_array(const std::vector<TenantId>& ids) {
    std::string text = "{";
    for (std::size_t i = 0; i < ids.size(); ++i)
        text += (i ? "," : "") + std::to_string(ids[i]);
    return text + "}";
}

}  // namespace

std::string_view to_string(Isolation isolation) noexcept {
    switch (isolation) {
        case Isolation::Shared: return "shared";
        case Isolation::Schema: return "schema";
        case Isolation::Database: return "database";
    }
    return "shared";
}

Isolation parse_isolation(std::string_view text) {
    for (Isolation i : {Isolation::Shared, Isolation::Schema, Isolation::Database})
        if (text == to_string(i))
            return i;
    raise_error(ErrorInfo{"22023", "unknown isolation \"" + std::string(text) + "\"",
                          "", "Use shared, schema or database."});
}

void Client::add_server(const ServerSpec& server) {
    conn_.exec("SELECT tenancy.add_server($1::text, $2::text, $3::boolean, $4::integer)",
               {server.name, server.conninfo, boolean(server.accepting),
                server.capacity ? Param(std::to_string(*server.capacity)) : std::nullopt});
}

void Client::set_server_accepting(const std::string& name, bool accepting) {
    conn_.exec("SELECT tenancy.set_server_accepting($1::text, $2::boolean)", {name, boolean(accepting)});
}

void Client::remove_server(const std::string& name) {
    conn_.exec("SELECT tenancy.remove_server($1::text)", {name});
}

std::vector<ServerInfo> Client::servers() {
    const Result r = conn_.exec(
        "SELECT name, conninfo, accepting::int AS accepting, capacity, tenants, provisioning, ready, purging, free"
        "  FROM tenancy.servers ORDER BY name");
    std::vector<ServerInfo> servers;
    for (int row = 0; row < r.rows(); ++row) {
        ServerInfo s;
        s.name = r.text(row, "name");
        s.conninfo = r.text(row, "conninfo");
        s.accepting = r.int64(row, "accepting") == 1;
        if (auto capacity = r.optional_int64(row, "capacity"))
            s.capacity = static_cast<int>(*capacity);
        s.tenants = r.int64(row, "tenants");
        s.provisioning = r.int64(row, "provisioning");
        s.ready = r.int64(row, "ready");
        s.purging = r.int64(row, "purging");
        s.free = r.optional_int64(row, "free");
        servers.push_back(std::move(s));
    }
    return servers;
}

std::string Client::registry_id() {
    return conn_.exec("SELECT tenancy.registry_id()::text AS id").text(0, "id");
}

TenantLocation Client::tenant_location(TenantId tenant) {
    const Result r = conn_.exec(std::string("SELECT ") + kLocationColumns + " FROM tenancy.tenant_location($1::bigint)",
                                {param(tenant)});
    return location_from_row(r, 0);
}

std::vector<TenantLocation> Client::tenant_locations(const std::optional<std::vector<TenantId>>& tenants,
                                                     bool include_ready) {
    const Result r = conn_.exec(std::string("SELECT ") + kLocationColumns +
                                    " FROM tenancy.tenant_locations($1::bigint[], $2::boolean)",
                                {tenants ? Param(int8_array(*tenants)) : std::nullopt, boolean(include_ready)});
    std::vector<TenantLocation> locations;
    for (int row = 0; row < r.rows(); ++row)
        locations.push_back(location_from_row(r, row));
    return locations;
}

bool Client::add_migration(std::int64_t version, const std::string& name, const std::string& sql) {
    return conn_.exec("SELECT tenancy.add_migration($1::bigint, $2::text, $3::text)::int AS added",
                      {param(version), name, sql})
               .int64(0, "added") == 1;
}

void Client::remove_migration(std::int64_t version) {
    conn_.exec("SELECT tenancy.remove_migration($1::bigint)", {param(version)});
}

std::vector<Migration> Client::migrations(std::int64_t after_version) {
    const Result r = conn_.exec(
        "SELECT version, name, sql, checksum FROM tenancy.migrations WHERE version > $1::bigint ORDER BY version",
        {param(after_version)});
    std::vector<Migration> migrations;
    for (int row = 0; row < r.rows(); ++row)
        migrations.push_back(
            {r.int64(row, "version"), r.text(row, "name"), r.text(row, "sql"), r.text(row, "checksum")});
    return migrations;
}

std::vector<PendingMigration> Client::pending_migrations() {
    const Result r = conn_.exec(
        "SELECT tenant, isolation, server, state, migrated_version, latest_version, pending"
        "  FROM tenancy.pending_migrations()");
    std::vector<PendingMigration> pending;
    for (int row = 0; row < r.rows(); ++row)
        pending.push_back({r.int64(row, "tenant"), parse_isolation(r.text(row, "isolation")),
                           r.optional_text(row, "server"), r.text(row, "state"), r.int64(row, "migrated_version"),
                           r.int64(row, "latest_version"), r.int64(row, "pending")});
    return pending;
}

std::int64_t Client::migrate_tenant(TenantId tenant) {
    return conn_.exec("SELECT tenancy.migrate_tenant($1::bigint) AS version", {param(tenant)}).int64(0, "version");
}

std::int64_t Client::require_tenant_row(const std::string& table, const std::string& template_json) {
    return conn_.exec("SELECT tenancy.require_tenant_row($1::text, $2::jsonb) AS id", {table, template_json})
        .int64(0, "id");
}

bool Client::unrequire_tenant_row(const std::string& table, const std::string& template_json) {
    return conn_.exec("SELECT tenancy.unrequire_tenant_row($1::text, $2::jsonb)::int AS done",
                      {table, template_json})
               .int64(0, "done") == 1;
}

bool Client::placement_ready(TenantId tenant, std::int64_t epoch, std::int64_t migrated_version) {
    return conn_.exec("SELECT tenancy.placement_ready($1::bigint, $2::bigint, $3::bigint)::int AS done",
                      {param(tenant), param(epoch), param(migrated_version)})
               .int64(0, "done") == 1;
}

std::int64_t Client::record_migration_progress(TenantId tenant, std::int64_t epoch, std::int64_t migrated_version) {
    return conn_.exec("SELECT tenancy.record_migration_progress($1::bigint, $2::bigint, $3::bigint) AS previous",
                      {param(tenant), param(epoch), param(migrated_version)})
        .int64(0, "previous");
}

PurgeTarget Client::begin_purge(TenantId tenant) {
    const Result r = conn_.exec(
        "SELECT tenant, isolation, server, conninfo, database_name, state, registry::text AS registry"
        "  FROM tenancy.begin_purge($1::bigint)",
        {param(tenant)});
    PurgeTarget t;
    t.tenant = r.int64(0, "tenant");
    t.isolation = parse_isolation(r.text(0, "isolation"));
    t.server = r.optional_text(0, "server");
    t.server_conninfo = r.optional_text(0, "conninfo");
    t.database = r.optional_text(0, "database_name");
    t.state = r.text(0, "state");
    t.registry = r.optional_text(0, "registry");
    return t;
}

void Client::database_dropped(TenantId tenant) {
    conn_.exec("SELECT tenancy.database_dropped($1::bigint)", {param(tenant)});
}

std::string Client::purge_tenant(TenantId tenant) {
    return conn_.exec("SELECT tenancy.purge_tenant($1::bigint)::text AS record", {param(tenant)}).text(0, "record");
}

}  // namespace tenancy
