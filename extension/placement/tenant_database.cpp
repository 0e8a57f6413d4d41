// The tenant database's side of provisioning and migration: claim_database,
// database_claim, apply_migrations, applied_migrations.  These run in a
// tenant's own database, called by the client; they read the claim (which
// tenant of which registry the database belongs to) before touching tenant
// data, so a registry that points at the wrong database is refused, never
// written to.  Touches tenancy.database_claim, tenancy.applied_migration and
// the tenant's schema.
#include "placement/migration_runner.hpp"
#include "placement/placement.hpp"
#include "placement/tenant_database.hpp"
#include "rowcheck/protect_roles.hpp"
#include "shared/errcodes.hpp"
#include "shared/quoting.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "catalog/namespace.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
}

namespace tenancy::tenant_database {

std::optional<Claim> read_claim(bool lock)
{
    static spi::Statement plain(
        "SELECT tenant_id, registry::pg_catalog.text, slug, move_state, move_id FROM tenancy.database_claim", {});
    static spi::Statement locked(
        "SELECT tenant_id, registry::pg_catalog.text, slug, move_state, move_id FROM tenancy.database_claim FOR UPDATE",
        {});
    roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
    if ((lock ? locked : plain).execute({}, false) == 0)
        return std::nullopt;
    return Claim{spi::get_int64(0, 1).value_or(0), spi::get_text(0, 2).value_or(""), spi::get_text(0, 3).value_or(""),
                 spi::get_text(0, 4), spi::get_int64(0, 5)};
}

std::string claim_comment(int64_t tenant, const std::string &registry)
{
    return "tenancy: database of tenant " + std::to_string(tenant) + " of registry " + registry;
}

std::string current_database_name()
{
    return pg_call([] { return std::string(get_database_name(MyDatabaseId)); });
}

Claim require_claim(int64_t tenant, const std::string &registry, bool lock)
{
    std::optional<Claim> claim = read_claim(lock);
    std::string database = current_database_name();
    if (!claim)
        throw Error(errcode::kDatabaseNotTenants,
                    "database \"" + database + "\" has not been claimed for tenant " + std::to_string(tenant), {},
                    "Provisioning claims it first: run tenancyctl provision.");
    if (claim->tenant != tenant || claim->registry != registry)
        throw Error(errcode::kDatabaseNotTenants,
                    "database \"" + database + "\" belongs to tenant " + std::to_string(claim->tenant) +
                        " of registry " + claim->registry + ", not to tenant " + std::to_string(tenant) +
                        " of registry " + registry,
                    "The registry points at the wrong database; nothing was changed in it.",
                    "Check the tenant's placement (tenancy.tenant_location) and the server's conninfo.");
    return *claim;
}

} // namespace tenancy::tenant_database

namespace {

using namespace tenancy;

// Relations that are not the system's, the extension's or the tenant's: a
// database holding any is somebody's, and is never claimed.
int64_t foreign_relations(const std::string &tenant_schema)
{
    static spi::Statement count(
        "SELECT pg_catalog.count(*) FROM pg_catalog.pg_class c"
        "  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
        " WHERE n.nspname OPERATOR(pg_catalog.<>) ALL (ARRAY['pg_catalog', 'information_schema', 'tenancy', $1])"
        "   AND n.nspname OPERATOR(pg_catalog.!~) '^pg_(toast|temp_|toast_temp_)'",
        {TEXTOID});
    count.execute({spi::text_param(tenant_schema)}, false);
    return spi::get_int64(0, 1).value_or(0);
}

// The tenant's schema in its database, owned by the session's current role
// (the role provisioning runs as).
void ensure_schema(const std::string &schema)
{
    std::string owner = pg_call([] { return std::string(GetUserNameFromId(GetOuterUserId(), false)); });
    bool exists = pg_call([&] { return OidIsValid(get_namespace_oid(schema.c_str(), true)); });
    if (exists)
        return; // a repeated claim: say nothing
    std::string ddl = "CREATE SCHEMA " + quoted_identifier(schema) + " AUTHORIZATION " + quoted_identifier(owner);
    spi::execute_once(ddl.c_str(), {}, false);
}

// The migrations argument: a JSON array of {"version", "name", "sql",
// "checksum"} objects, as the client reads them from the registry.  The
// checksum is recomputed here, so a migration mangled on the way is refused.
std::vector<migrations::Migration> parse_migrations(Datum json)
{
    static spi::Statement elements(
        "SELECT (e OPERATOR(pg_catalog.->>) 'version')::pg_catalog.int8, e OPERATOR(pg_catalog.->>) 'name',"
        "       e OPERATOR(pg_catalog.->>) 'sql', e OPERATOR(pg_catalog.->>) 'checksum',"
        "       pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(e OPERATOR(pg_catalog.->>) 'sql', 'UTF8')),"
        "                         'hex')"
        "  FROM pg_catalog.jsonb_array_elements($1) WITH ORDINALITY AS a (e, n) ORDER BY 1",
        {JSONBOID});
    Jsonb *jb = pg_call([&] { return DatumGetJsonbP(json); });
    if (!JB_ROOT_IS_ARRAY(jb) || JB_ROOT_IS_SCALAR(jb))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "migrations must be a JSON array of migration objects");
    std::vector<migrations::Migration> result;
    uint64 rows = 0;
    try {
        rows = elements.execute({spi::datum_param(JSONBOID, json, false)}, false);
    } catch (const PgError &e) {
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, std::string("invalid migrations argument: ") + e.what());
    }
    for (uint64 i = 0; i < rows; ++i) {
        std::optional<int64_t> version = spi::get_int64(i, 1);
        std::optional<std::string> name = spi::get_text(i, 2), sql = spi::get_text(i, 3),
                                   checksum = spi::get_text(i, 4), computed = spi::get_text(i, 5);
        if (!version || *version <= 0 || !name || !sql || !checksum)
            throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        "every migration needs a positive \"version\" and \"name\", \"sql\" and \"checksum\" strings");
        if (*checksum != *computed)
            throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        "migration " + std::to_string(*version) + " does not match its checksum");
        if (!result.empty() && result.back().version == *version)
            throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "migration " + std::to_string(*version) + " is given twice");
        result.push_back({*version, *name, *sql, *checksum});
    }
    return result;
}

} // namespace

// tenancy.claim_database(tenant bigint, registry uuid, slug text) RETURNS boolean
TENANCY_FUNCTION(tenancy_claim_database)
{
    static spi::Statement insert("INSERT INTO tenancy.database_claim (tenant_id, registry, slug)"
                                 " VALUES ($1, $2::pg_catalog.uuid, $3) ON CONFLICT DO NOTHING",
                                 {INT8OID, TEXTOID, TEXTOID});
    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    std::string registry = args::required_uuid(fcinfo, 1, "registry");
    std::string slug = args::required_text(fcinfo, 2, "slug");
    std::string schema = placement::schema_name_for(tenant);

    spi::Connection spi;
    bool claimed_now = false;
    if (!tenant_database::read_claim(true)) {
        int64_t foreign = foreign_relations(schema);
        if (foreign > 0)
            throw Error(errcode::kDatabaseNotTenants,
                        "database \"" + tenant_database::current_database_name() + "\" holds " +
                            std::to_string(foreign) + " relation(s) and belongs to no tenant",
                        "Only an empty database is claimed for a tenant.",
                        "Rename or drop that database, then run tenancyctl provision again.");
        // A racing claim of the same database waits here and then finds it taken.
        insert.execute({spi::int8_param(tenant), spi::text_param(registry), spi::text_param(slug)}, false);
        claimed_now = SPI_processed == 1;
    }
    tenant_database::require_claim(tenant, registry, true);
    ensure_schema(schema);
    // The claim mirrored where the server's other databases can read it
    // (pg_shdescription), so tenancyctl check finds orphan databases without
    // connecting to each.
    std::string comment = "COMMENT ON DATABASE " + quoted_identifier(tenant_database::current_database_name()) +
                          " IS " + quoted_literal(tenant_database::claim_comment(tenant, registry));
    spi::execute_once(comment.c_str(), {}, false);
    PG_RETURN_BOOL(claimed_now);
}

// tenancy.database_claim() RETURNS TABLE (tenant, registry, slug, claimed_at,
// move_state, move_id, moved_to).  Version 0.5.0's script declared the first
// four columns only, for the same C function: as many are returned as the
// installed script declares.
TENANCY_FUNCTION(tenancy_database_claim)
{
    static spi::Statement query(
        "SELECT tenant_id, registry, slug, claimed_at, move_state, move_id, moved_to FROM tenancy.database_claim", {});
    srf::Materialized out(fcinfo);
    spi::Connection spi;
    uint64 rows = query.execute({}, true);
    int declared = out.columns();
    for (uint64 i = 0; i < rows; ++i)
        pg_call([&] {
            Datum values[7];
            bool nulls[7];
            for (int c = 0; c < declared && c < 7; ++c)
                values[c] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, c + 1, &nulls[c]);
            out.put_values(values, nulls);
        });
    return (Datum)0;
}

// tenancy.apply_migrations(tenant bigint, registry uuid, migrations jsonb) RETURNS bigint
// SECURITY INVOKER: the migrations run as the caller.  The claim's row lock
// serialises concurrent runs on this database.
TENANCY_FUNCTION(tenancy_apply_migrations)
{
    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    std::string registry = args::required_uuid(fcinfo, 1, "registry");
    if (args::is_null(fcinfo, 2))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "migrations must not be NULL", {}, "Pass '[]' for none.");
    Datum json = PG_GETARG_DATUM(2);
    spi::Connection spi;
    std::vector<migrations::Migration> given = parse_migrations(json);
    tenant_database::Claim claim = tenant_database::require_claim(tenant, registry, true);
    if (claim.move_state)
        throw Error(*claim.move_state == "moved" ? errcode::kCopyFrozen : errcode::kTenantMoving,
                    "database \"" + tenant_database::current_database_name() + "\" of tenant " + std::to_string(tenant) +
                        (*claim.move_state == "moved"    ? " was moved away by move "
                         : *claim.move_state == "incoming" ? " is the target of unfinished move "
                                                           : " is being moved by move ") +
                        std::to_string(claim.move_id.value_or(0)) + "; its migrations are not applied here",
                    "A move copies the tenant's schema once; migrations wait until it ends.",
                    *claim.move_state == "moved" ? "Read the tenant's location again: it lives elsewhere now."
                                                 : "Finish the move (tenancyctl tenant move " + std::to_string(tenant) +
                                                       " --resume) or roll it back (--abort), then migrate.");
    int64_t version = migrations::apply(tenant, placement::schema_name_for(tenant), given);
    PG_RETURN_INT64(version);
}

// tenancy.applied_migrations(tenant bigint) RETURNS TABLE (...)
TENANCY_FUNCTION(tenancy_applied_migrations)
{
    static spi::Statement query("SELECT version, name, checksum, applied_at, duration, applied_by"
                                "  FROM tenancy.applied_migration WHERE tenant_id OPERATOR(pg_catalog.=) $1"
                                " ORDER BY version",
                                {INT8OID});
    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    srf::Materialized out(fcinfo);
    spi::Connection spi;
    srf::put_spi_rows(out, query.execute({spi::int8_param(tenant)}, true));
    return (Datum)0;
}
