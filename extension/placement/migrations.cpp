// Migrations in the registry database: add_migration, pending_migrations and
// migrate_tenant (schema tenants).  Database tenants are migrated by the
// client, which calls apply_migrations in each tenant database
// (tenant_database.cpp) and then record_migration_progress here.
#include "move/move.hpp"
#include "placement/migration_runner.hpp"
#include "placement/placement.hpp"
#include "rowcheck/protect_roles.hpp"
#include "shared/errcodes.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "parser/parser.h"
}

namespace tenancy::migrations {

namespace {

// Catches a syntax error, or a statement no migration may run, when the
// migration is registered, not when it reaches the thousandth tenant.  Only
// the raw grammar is checked: names are resolved when it runs, in each
// tenant's schema.
void check_syntax(const std::string &sql, int64_t version)
{
    std::string expanded = expand_placeholders(sql, placement::schema_name_for(1), 1);
    List *statements = nullptr;
    try {
        statements = pg_call([&] { return raw_parser(expanded.c_str(), RAW_PARSE_DEFAULT); });
    } catch (const PgError &e) {
        throw Error(e.sqlstate(), "migration " + std::to_string(version) + " is not valid SQL: " + e.what(), {},
                    "Fix the SQL; nothing was registered.");
    }
    ListCell *cell;
    foreach (cell, statements) {
        if (IsA(lfirst_node(RawStmt, cell)->stmt, TransactionStmt))
            throw Error(ERRCODE_INVALID_TRANSACTION_TERMINATION,
                        "migration " + std::to_string(version) + " contains a transaction control statement", {},
                        "Each tenant's migrations run in that tenant's own transaction; remove BEGIN, COMMIT, "
                        "ROLLBACK and savepoints.");
    }
    if (list_length(statements) == 0)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "migration " + std::to_string(version) + " has no statement");
}

} // namespace

} // namespace tenancy::migrations

using namespace tenancy;

// tenancy.add_migration(version bigint, name text, sql text) RETURNS boolean
TENANCY_FUNCTION(tenancy_add_migration)
{
    // The table lock serialises registrations, so the version order check
    // below cannot race another registration.
    static spi::Statement lock("LOCK TABLE tenancy.migration IN SHARE ROW EXCLUSIVE MODE", {});
    static spi::Statement existing(
        "SELECT checksum, checksum OPERATOR(pg_catalog.=) pg_catalog.encode(pg_catalog.sha256("
        "pg_catalog.convert_to($2, 'UTF8')), 'hex') FROM tenancy.migration WHERE version OPERATOR(pg_catalog.=) $1",
        {INT8OID, TEXTOID});
    static spi::Statement insert(
        "INSERT INTO tenancy.migration (version, name, sql, checksum)"
        " VALUES ($1, $2, $3, pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to($3, 'UTF8')), 'hex'))",
        {INT8OID, TEXTOID, TEXTOID});

    int64_t version = args::required_int64(fcinfo, 0, "version");
    std::string name = args::required_text(fcinfo, 1, "name");
    std::string sql = args::required_text(fcinfo, 2, "sql");
    if (version <= 0)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "migration version must be 1 or more, not " + std::to_string(version));
    if (name.empty())
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "migration name must not be empty");
    migrations::check_syntax(sql, version);

    spi::Connection spi;
    lock.execute({}, false);
    if (existing.execute({spi::int8_param(version), spi::text_param(sql)}, false) == 1) {
        if (spi::get_bool(0, 2).value_or(false))
            PG_RETURN_BOOL(false); // registered before with the same SQL
        throw Error(errcode::kMigrationChecksumMismatch,
                    "migration " + std::to_string(version) + " is already registered with other SQL",
                    "Registered checksum: " + spi::get_text(0, 1).value_or("") + ".",
                    "A registered migration must never be edited (tenants may have applied it): register the "
                    "change as a new version.");
    }
    int64_t latest = placement::latest_migration_version();
    if (version < latest)
        throw Error(errcode::kMigrationOutOfOrder,
                    "migration " + std::to_string(version) + " is older than the latest registered migration, " +
                        std::to_string(latest),
                    "Tenants at version " + std::to_string(latest) + " would never apply it.",
                    "Give it a version above " + std::to_string(latest) + ".");
    insert.execute({spi::int8_param(version), spi::text_param(name), spi::text_param(sql)}, false);
    PG_RETURN_BOOL(true);
}

// tenancy.pending_migrations() RETURNS TABLE (tenant, isolation, server, state,
// migrated_version, latest_version, pending).  One statement over the
// registry: no tenant database is contacted.
TENANCY_FUNCTION(tenancy_pending_migrations)
{
    static spi::Statement query(
        "SELECT p.tenant_id, p.isolation, p.server, p.state, p.migrated_version, latest.version,"
        "       (SELECT pg_catalog.count(*) FROM tenancy.migration m"
        "         WHERE m.version OPERATOR(pg_catalog.>) p.migrated_version)"
        "  FROM (SELECT coalesce(max(version), 0) AS version FROM tenancy.migration) latest"
        "  JOIN tenancy.placement p ON p.migrated_version OPERATOR(pg_catalog.<) latest.version"
        " WHERE p.isolation OPERATOR(pg_catalog.<>) 'shared'"
        "   AND p.state OPERATOR(pg_catalog.=) ANY (ARRAY['provisioning', 'ready'])"
        " ORDER BY p.tenant_id",
        {});
    srf::Materialized out(fcinfo);
    spi::Connection spi;
    srf::put_spi_rows(out, query.execute({}, true));
    return (Datum)0;
}

// tenancy.migrate_tenant(tenant bigint) RETURNS bigint: a schema tenant's
// pending migrations, applied as the caller (SECURITY INVOKER) in the
// caller's transaction.  The placement row lock serialises two runs, so the
// second finds nothing left to do.
TENANCY_FUNCTION(tenancy_migrate_tenant)
{
    static spi::Statement record("UPDATE tenancy.placement SET migrated_version = $2"
                                 " WHERE tenant_id OPERATOR(pg_catalog.=) $1",
                                 {INT8OID, INT8OID});
    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    spi::Connection spi;
    placement::Placement p;
    std::vector<migrations::Migration> pending;
    {
        roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
        p = placement::load(tenant, true);
        if (p.isolation != placement::Isolation::Schema)
            throw Error(errcode::kPlacementStepRefused,
                        "tenant " + std::to_string(tenant) + " is a " + placement::isolation_name(p.isolation) +
                            " tenant; migrate_tenant migrates schema tenants",
                        {},
                        p.isolation == placement::Isolation::Database
                            ? "Database tenants are migrated in their own database: run tenancyctl migrate."
                            : "Shared tenants live in the shared tables, which have no per-tenant migrations.");
        pending = migrations::registered_after(p.migrated_version);
        if (!pending.empty())
            move::refuse_while_moving(tenant, "migrated");
    }
    if (pending.empty())
        PG_RETURN_INT64(p.migrated_version);
    migrations::refuse_drift(tenant);
    int64_t version = migrations::apply(tenant, *p.schema_name, pending);
    {
        roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
        record.execute({spi::int8_param(tenant), spi::int8_param(version)}, false);
    }
    PG_RETURN_INT64(version);
}

// tenancy.remove_migration(version bigint) RETURNS void
TENANCY_FUNCTION(tenancy_remove_migration)
{
    static spi::Statement lock("LOCK TABLE tenancy.migration IN SHARE ROW EXCLUSIVE MODE", {});
    // Schema tenants record it in the registry's ledger; database tenants'
    // progress is copied here after each commit in their database, so a
    // crash in between can hide one: tenancyctl check reports that tenant as
    // having an unknown migration.
    static spi::Statement applied(
        "SELECT pg_catalog.count(*) FROM tenancy.placement p"
        " WHERE p.migrated_version OPERATOR(pg_catalog.>=) $1"
        "    OR EXISTS (SELECT FROM tenancy.applied_migration a WHERE a.tenant_id OPERATOR(pg_catalog.=) p.tenant_id"
        "                 AND a.version OPERATOR(pg_catalog.=) $1)",
        {INT8OID});
    static spi::Statement remove("DELETE FROM tenancy.migration WHERE version OPERATOR(pg_catalog.=) $1", {INT8OID});
    int64_t version = args::required_int64(fcinfo, 0, "version");
    spi::Connection spi;
    lock.execute({}, false);
    int64_t latest = placement::latest_migration_version();
    if (latest == 0 || version > latest)
        throw Error(ERRCODE_UNDEFINED_OBJECT, "migration " + std::to_string(version) + " is not registered");
    if (version != latest)
        throw Error(errcode::kMigrationOutOfOrder,
                    "only the latest migration, " + std::to_string(latest) + ", can be removed, not " +
                        std::to_string(version),
                    {}, "Tenants may have applied the ones before it.");
    applied.execute({spi::int8_param(version)}, false);
    int64_t tenants = spi::get_int64(0, 1).value_or(0);
    if (tenants > 0)
        throw Error(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST,
                    "migration " + std::to_string(version) + " has been applied to " + std::to_string(tenants) +
                        " tenant(s) and cannot be removed",
                    {}, "Undo it with a new migration instead.");
    remove.execute({spi::int8_param(version)}, false);
    PG_RETURN_VOID();
}
