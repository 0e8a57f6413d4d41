// Applying tenant migrations (see migration_runner.hpp).
#include "placement/migration_runner.hpp"

#include "placement/sandbox.hpp"
#include "rowcheck/protect_roles.hpp"
#include "shared/errcodes.hpp"
#include "shared/quoting.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
}

#include <map>

namespace tenancy::migrations {

namespace {

// search_path = the tenant's schema, for the lifetime of a scope, restored
// (with any SET the migration made to it) when the scope ends.
class SchemaSearchPath {
public:
    explicit SchemaSearchPath(const std::string &schema)
    {
        std::string path = quoted_identifier(schema);
        pg_call([&] {
            nest_level_ = NewGUCNestLevel();
            set_config_option("search_path", path.c_str(), PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                              false);
        });
    }
    ~SchemaSearchPath()
    {
        try {
            pg_call([&] { AtEOXact_GUC(true, nest_level_); });
        } catch (...) {
            // Fails only on a corrupt setting stack, which the transaction
            // abort reports; a destructor must not throw.
        }
    }
    SchemaSearchPath(const SchemaSearchPath &) = delete;
    SchemaSearchPath &operator=(const SchemaSearchPath &) = delete;

private:
    int nest_level_ = 0;
};

// The ledger of one tenant: version -> checksum.
std::map<int64_t, std::string> ledger(int64_t tenant)
{
    static spi::Statement query(
        "SELECT version, checksum FROM tenancy.applied_migration WHERE tenant_id OPERATOR(pg_catalog.=) $1",
        {INT8OID});
    std::map<int64_t, std::string> applied;
    roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
    uint64 rows = query.execute({spi::int8_param(tenant)}, false);
    for (uint64 i = 0; i < rows; ++i)
        applied.emplace(spi::get_int64(i, 1).value_or(0), spi::get_text(i, 2).value_or(""));
    return applied;
}

void record(int64_t tenant, const Migration &m, int64 microseconds, Oid runner)
{
    static spi::Statement insert(
        "INSERT INTO tenancy.applied_migration (tenant_id, version, name, checksum, duration, applied_by)"
        " VALUES ($1, $2, $3, $4, pg_catalog.make_interval(secs => $5::pg_catalog.float8 OPERATOR(pg_catalog./) 1e6),"
        "         $6::pg_catalog.oid::pg_catalog.regrole::pg_catalog.text::pg_catalog.name)",
        {INT8OID, INT8OID, TEXTOID, TEXTOID, INT8OID, INT8OID});
    roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
    insert.execute({spi::int8_param(tenant), spi::int8_param(m.version), spi::text_param(m.name),
                    spi::text_param(m.checksum), spi::int8_param(microseconds),
                    spi::int8_param(static_cast<int64_t>(runner))},
                   false);
}

// Runs one migration's SQL as the current user, confined to the schema.  A
// failure keeps PostgreSQL's error; the context line names the migration.
void run(int64_t tenant, const std::string &schema, Oid schema_oid, const Migration &m)
{
    std::string sql = expand_placeholders(m.sql, schema, tenant);
    // Restricted like REFRESH MATERIALIZED VIEW: no SET ROLE, no session
    // state that outlives the migration.
    roles::ActingAs runner(GetUserId(), SECURITY_RESTRICTED_OPERATION);
    SchemaSearchPath path(schema);
    sandbox::Confinement confined(schema_oid, schema, tenant);
    try {
        spi::execute_once(sql.c_str(), {}, false);
    } catch (const PgError &e) {
        ErrorData *error = e.data();
        std::string line = "tenancy migration " + std::to_string(m.version) + " (" + m.name + ") of tenant " +
                           std::to_string(tenant);
        error->context = pg_call([&] {
            return error->context ? psprintf("%s\n%s", error->context, line.c_str()) : pstrdup(line.c_str());
        });
        throw;
    }
}

Oid schema_oid_of(const std::string &schema)
{
    Oid oid = pg_call([&] { return get_namespace_oid(schema.c_str(), true); });
    if (!OidIsValid(oid))
        throw Error(ERRCODE_UNDEFINED_SCHEMA, "schema " + quoted_identifier(schema) + " of the tenant does not exist",
                    {}, "Run tenancyctl check --repair, which recreates what provisioning left undone.");
    return oid;
}

} // namespace

// e.g. GRANT USAGE ON SCHEMA ${tenant_schema} TO app
std::string expand_placeholders(std::string sql, const std::string &schema, int64_t tenant)
{
    const std::pair<std::string, std::string> placeholders[] = {
        {"${tenant_schema}", quoted_identifier(schema)},
        {"${tenant_id}", std::to_string(tenant)},
    };
    for (const auto &[name, value] : placeholders)
        for (size_t at = sql.find(name); at != std::string::npos; at = sql.find(name, at + value.size()))
            sql.replace(at, name.size(), value);
    return sql;
}

std::vector<Migration> registered_after(int64_t after)
{
    static spi::Statement query("SELECT version, name, sql, checksum FROM tenancy.migration"
                                " WHERE version OPERATOR(pg_catalog.>) $1 ORDER BY version",
                                {INT8OID});
    std::vector<Migration> found;
    uint64 rows = query.execute({spi::int8_param(after)}, false);
    for (uint64 i = 0; i < rows; ++i)
        found.push_back({spi::get_int64(i, 1).value_or(0), spi::get_text(i, 2).value_or(""),
                         spi::get_text(i, 3).value_or(""), spi::get_text(i, 4).value_or("")});
    return found;
}

void refuse_drift(int64_t tenant)
{
    static spi::Statement drift(
        "SELECT a.version, a.name, a.checksum, m.checksum FROM tenancy.applied_migration a"
        "  JOIN tenancy.migration m ON m.version OPERATOR(pg_catalog.=) a.version"
        " WHERE a.tenant_id OPERATOR(pg_catalog.=) $1 AND a.checksum OPERATOR(pg_catalog.<>) m.checksum"
        " ORDER BY a.version LIMIT 1",
        {INT8OID});
    roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
    if (drift.execute({spi::int8_param(tenant)}, false) == 0)
        return;
    throw Error(errcode::kMigrationChecksumMismatch,
                "migration " + std::to_string(spi::get_int64(0, 1).value_or(0)) + " (" +
                    spi::get_text(0, 2).value_or("") + ") was applied to tenant " + std::to_string(tenant) +
                    " with another checksum",
                "Applied: " + spi::get_text(0, 3).value_or("") + "; registered: " + spi::get_text(0, 4).value_or("") +
                    ".",
                "An applied migration must never be edited: register the change as a new version.");
}

int64_t applied_version(int64_t tenant)
{
    std::map<int64_t, std::string> applied = ledger(tenant);
    return applied.empty() ? 0 : applied.rbegin()->first;
}

int64_t apply(int64_t tenant, const std::string &schema, const std::vector<Migration> &migrations)
{
    std::map<int64_t, std::string> applied = ledger(tenant);
    for (const Migration &m : migrations) {
        auto found = applied.find(m.version);
        if (found != applied.end() && found->second != m.checksum)
            throw Error(errcode::kMigrationChecksumMismatch,
                        "migration " + std::to_string(m.version) + " (" + m.name + ") was applied to tenant " +
                            std::to_string(tenant) + " with another checksum",
                        "Applied: " + found->second + "; registered now: " + m.checksum + ".",
                        "An applied migration must never be edited: register the change as a new version.");
    }
    Oid schema_oid = schema_oid_of(schema);
    for (const Migration &m : migrations) {
        if (applied.count(m.version))
            continue;
        TimestampTz started = GetCurrentTimestamp();
        run(tenant, schema, schema_oid, m);
        TimestampTz finished = GetCurrentTimestamp();
        record(tenant, m, finished - started, GetUserId());
        applied.emplace(m.version, m.checksum);
    }
    return applied.empty() ? 0 : applied.rbegin()->first;
}

} // namespace tenancy::migrations
