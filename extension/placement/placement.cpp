// Placement of new tenants and where tenants live: create_tenant's placement
// step, tenant_location(s), registry_id, and the registry's side of the
// provisioning steps (placement_ready, record_migration_progress).
#include "placement/placement.hpp"

#include "move/move.hpp"
#include "placement/conninfo.hpp"
#include "placement/migration_runner.hpp"
#include "registry/registry.hpp"
#include "rowcheck/protect_roles.hpp"
#include "shared/errcodes.hpp"
#include "shared/quoting.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
}

namespace tenancy::placement {

const char *isolation_name(Isolation isolation)
{
    switch (isolation) {
    case Isolation::Shared:
        return "shared";
    case Isolation::Schema:
        return "schema";
    case Isolation::Database:
        return "database";
    }
    return "shared";
}

Isolation parse_isolation(const std::string &text)
{
    for (Isolation i : {Isolation::Shared, Isolation::Schema, Isolation::Database})
        if (text == isolation_name(i))
            return i;
    throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "isolation must be 'shared', 'schema' or 'database', not \"" + text + "\"");
}

std::string schema_name_for(int64_t tenant) { return "tenant_" + std::to_string(tenant); }
std::string database_name_for(int64_t tenant) { return "tenant_" + std::to_string(tenant); }

std::string registry_id()
{
    static spi::Statement create("INSERT INTO tenancy.registry (id) VALUES (pg_catalog.gen_random_uuid())"
                                 " ON CONFLICT DO NOTHING",
                                 {});
    static spi::Statement read("SELECT id::pg_catalog.text FROM tenancy.registry", {});
    if (read.execute({}, false) == 1)
        return spi::get_text(0, 1).value_or("");
    create.execute({}, false);
    // A concurrent first use may have won the insert: its row is visible to
    // a new statement once it has committed.
    if (read.execute({}, false) != 1)
        throw Error(ERRCODE_T_R_SERIALIZATION_FAILURE, "could not read this registry's identity; retry");
    return spi::get_text(0, 1).value_or("");
}

int64_t latest_migration_version()
{
    static spi::Statement query("SELECT coalesce(max(version), 0) FROM tenancy.migration", {});
    query.execute({}, false);
    return spi::get_int64(0, 1).value_or(0);
}

Placement load(int64_t tenant, bool lock)
{
    static const char *columns =
        "SELECT p.tenant_id, t.status, t.slug, p.isolation, p.server, p.database_name, p.schema_name, p.state,"
        "       p.epoch, p.migrated_version"
        "  FROM tenancy.placement p JOIN tenancy.tenant t ON t.id OPERATOR(pg_catalog.=) p.tenant_id"
        " WHERE p.tenant_id OPERATOR(pg_catalog.=) $1";
    static spi::Statement plain(columns, {INT8OID});
    static std::string locked_sql = std::string(columns) + " FOR UPDATE OF p";
    static spi::Statement locked(locked_sql.c_str(), {INT8OID});

    if ((lock ? locked : plain).execute({spi::int8_param(tenant)}, false) == 0)
        registry::throw_tenant_not_found(tenant);
    Placement p;
    p.tenant = spi::get_int64(0, 1).value_or(0);
    p.status = spi::get_text(0, 2).value_or("");
    p.slug = spi::get_text(0, 3).value_or("");
    p.isolation = parse_isolation(spi::get_text(0, 4).value_or("shared"));
    p.server = spi::get_text(0, 5);
    p.database_name = spi::get_text(0, 6);
    p.schema_name = spi::get_text(0, 7);
    p.state = spi::get_text(0, 8).value_or("");
    p.epoch = spi::get_int64(0, 9).value_or(0);
    p.migrated_version = spi::get_int64(0, 10).value_or(0);
    return p;
}

namespace {

void insert_placement(int64_t tenant, Isolation isolation, const std::optional<std::string> &server,
                      const std::optional<std::string> &database, const std::optional<std::string> &schema,
                      const char *state)
{
    static spi::Statement insert(
        "INSERT INTO tenancy.placement (tenant_id, isolation, server, database_name, schema_name, state)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID});
    insert.execute({spi::int8_param(tenant), spi::text_param(isolation_name(isolation)),
                    spi::optional_text_param(server), spi::optional_text_param(database),
                    spi::optional_text_param(schema), spi::text_param(state)},
                   false);
}

// A server for a new database tenant, chosen inside the registering
// transaction.  Every candidate row is locked (in name order, so concurrent
// registrations cannot deadlock) before tenants are counted, so two
// registrations never both take a server's last free place.
std::string choose_server(const std::optional<std::string> &named)
{
    static spi::Statement lock_named("SELECT name FROM tenancy.server WHERE name OPERATOR(pg_catalog.=) $1 FOR UPDATE",
                                     {TEXTOID});
    static spi::Statement lock_accepting(
        "SELECT name FROM tenancy.server WHERE accepting ORDER BY name FOR UPDATE", {});
    // Most free places first (no capacity counts as unlimited), then fewest
    // tenants, then name: deterministic, and it spreads tenants evenly.
    static spi::Statement pick(
        "SELECT s.name, s.capacity OPERATOR(pg_catalog.-) coalesce(n.tenants, 0) AS free"
        "  FROM tenancy.server s"
        "  LEFT JOIN (SELECT server, pg_catalog.count(*) AS tenants FROM tenancy.placement"
        "              WHERE server IS NOT NULL GROUP BY server) n ON n.server OPERATOR(pg_catalog.=) s.name"
        " WHERE s.name OPERATOR(pg_catalog.=) ANY ($1)"
        "   AND (s.capacity IS NULL OR s.capacity OPERATOR(pg_catalog.>) coalesce(n.tenants, 0))"
        " ORDER BY s.capacity IS NULL DESC, 2 DESC, coalesce(n.tenants, 0), s.name"
        " LIMIT 1",
        {TEXTARRAYOID});

    std::vector<std::string> candidates;
    uint64 rows = named ? lock_named.execute({spi::text_param(*named)}, false) : lock_accepting.execute({}, false);
    for (uint64 i = 0; i < rows; ++i)
        candidates.push_back(spi::get_text(i, 1).value_or(""));
    if (named && candidates.empty())
        throw Error(ERRCODE_UNDEFINED_OBJECT, "server \"" + *named + "\" is not registered", {},
                    "See tenancy.servers for the registered servers, or register it with tenancy.add_server.");
    if (candidates.empty())
        throw Error(errcode::kNoServerAvailable, "no server accepts new database tenants", {},
                    "Register a server with tenancy.add_server, or let one accept tenants again with "
                    "tenancy.set_server_accepting.");

    Datum array = pg_call([&] {
        std::vector<Datum> names;
        for (const std::string &c : candidates)
            names.push_back(CStringGetTextDatum(c.c_str()));
        return PointerGetDatum(construct_array(names.data(), static_cast<int>(names.size()), TEXTOID, -1, false,
                                               TYPALIGN_INT));
    });
    if (pick.execute({spi::datum_param(TEXTARRAYOID, array, false)}, false) == 0)
        throw Error(errcode::kNoServerAvailable,
                    named ? "server \"" + *named + "\" is full: it holds as many tenants as its capacity allows"
                          : std::string("every accepting server is full"),
                    {}, "Raise a server's capacity (remove and add it again) or register another server.");
    return spi::get_text(0, 1).value_or("");
}

// The schema of a new schema tenant, brought to the latest migration, all in
// the registering transaction.
void create_schema_tenant(int64_t tenant, const std::string &schema)
{
    static spi::Statement exists("SELECT FROM pg_catalog.pg_namespace WHERE nspname OPERATOR(pg_catalog.=) $1",
                                 {TEXTOID});
    if (exists.execute({spi::text_param(schema)}, false) > 0)
        throw Error(errcode::kDatabaseNotTenants,
                    "schema " + quoted_identifier(schema) + " exists already and is not tenant " + std::to_string(tenant) + "'s",
                    "Tenant schemas are named tenant_<id>; this one was created by someone else.",
                    "Rename or drop that schema, then create the tenant again.");
    create_marked_schema(tenant, schema);
    migrate_as_session_role(tenant, schema, 0);
}

} // namespace

void create_marked_schema(int64_t tenant, const std::string &schema)
{
    std::string owner = pg_call([] { return std::string(GetUserNameFromId(GetOuterUserId(), false)); });
    std::string ddl = "CREATE SCHEMA " + quoted_identifier(schema) + " AUTHORIZATION " + quoted_identifier(owner) +
                      "; COMMENT ON SCHEMA " + quoted_identifier(schema) + " IS " +
                      quoted_literal(schema_marker(tenant, registry_id()));
    spi::execute_once(ddl.c_str(), {}, false);
}

int64_t migrate_as_session_role(int64_t tenant, const std::string &schema, int64_t after)
{
    static spi::Statement record_version(
        "UPDATE tenancy.placement SET migrated_version = $2 WHERE tenant_id OPERATOR(pg_catalog.=) $1",
        {INT8OID, INT8OID});
    std::vector<migrations::Migration> pending = migrations::registered_after(after);
    if (!pending.empty())
        move::refuse_while_moving(tenant, "migrated");
    int64_t version = 0;
    {
        roles::ActingAs caller(GetOuterUserId(), roles::kAsExtensionOwner);
        version = migrations::apply(tenant, schema, pending);
    }
    record_version.execute({spi::int8_param(tenant), spi::int8_param(version)}, false);
    return version;
}

std::string schema_marker(int64_t tenant, const std::string &registry)
{
    return "tenancy: schema of tenant " + std::to_string(tenant) + " of registry " + registry;
}

void place_new_tenant(int64_t tenant, const std::string &slug, Isolation isolation,
                      const std::optional<std::string> &server)
{
    if (server && isolation != Isolation::Database)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                    std::string("a server can be named only for a database tenant, not a ") + isolation_name(isolation) +
                        " one",
                    {}, "Shared and schema tenants live in the registry database.");
    switch (isolation) {
    case Isolation::Shared:
        insert_placement(tenant, isolation, std::nullopt, std::nullopt, std::nullopt, "ready");
        return;
    case Isolation::Schema: {
        std::string schema = schema_name_for(tenant);
        insert_placement(tenant, isolation, std::nullopt, std::nullopt, schema, "ready");
        create_schema_tenant(tenant, schema);
        return;
    }
    case Isolation::Database: {
        registry_id(); // the tenant's database will name this registry
        std::string chosen = choose_server(server);
        insert_placement(tenant, isolation, chosen, database_name_for(tenant), schema_name_for(tenant),
                         "provisioning");
        return;
    }
    }
}

} // namespace tenancy::placement

using namespace tenancy;

namespace {

// The columns of tenant_location(s); conninfo is composed here because it
// needs libpq's parser.
constexpr const char *kLocationQuery =
    "SELECT p.tenant_id, t.status, p.isolation, p.server, s.conninfo, p.database_name, p.schema_name, p.state,"
    "       p.epoch, p.migrated_version,"
    "       (SELECT coalesce(max(version), 0) FROM tenancy.migration),"
    "       (SELECT id FROM tenancy.registry),"
    "       pg_catalog.current_database()::pg_catalog.text"
    "  FROM tenancy.placement p"
    "  JOIN tenancy.tenant t ON t.id OPERATOR(pg_catalog.=) p.tenant_id"
    "  LEFT JOIN tenancy.server s ON s.name OPERATOR(pg_catalog.=) p.server"
    " WHERE ($1::pg_catalog.int8[] IS NULL AND p.isolation OPERATOR(pg_catalog.<>) 'shared'"
    "        OR p.tenant_id OPERATOR(pg_catalog.=) ANY ($1))"
    "   AND ($2 OR p.state OPERATOR(pg_catalog.<>) 'ready')"
    " ORDER BY p.tenant_id";

// Copies the rows of kLocationQuery to the result, composing each conninfo.
void put_locations(srf::Materialized &out, uint64 rows)
{
    for (uint64 i = 0; i < rows; ++i) {
        std::string isolation = spi::get_text(i, 3).value_or("shared");
        std::optional<std::string> server_conninfo = spi::get_text(i, 5);
        std::string registry_database = spi::get_text(i, 13).value_or("");
        std::string conninfo;
        bool on_registry_server = true;
        std::string schema = spi::get_text(i, 7).value_or("");
        if (isolation == "database") {
            on_registry_server = server_conninfo.value_or("").empty();
            conninfo = conninfo::for_database(server_conninfo.value_or(""), spi::get_text(i, 6).value_or(""), schema);
        } else {
            conninfo = conninfo::for_database("", registry_database, schema);
        }
        pg_call([&] {
            HeapTuple tuple = SPI_tuptable->vals[i];
            TupleDesc desc = SPI_tuptable->tupdesc;
            Datum values[13];
            bool nulls[13];
            for (int c = 0; c < 12; ++c)
                values[c] = SPI_getbinval(tuple, desc, c + 1, &nulls[c]);
            // Column 5 (conninfo) is the composed one; the server's own
            // conninfo is not returned (it is in tenancy.servers).
            values[4] = CStringGetTextDatum(conninfo.c_str());
            nulls[4] = false;
            values[12] = BoolGetDatum(on_registry_server);
            nulls[12] = false;
            out.put_values(values, nulls);
        });
    }
}

} // namespace

// tenancy.tenant_location(tenant bigint) RETURNS TABLE (...)
TENANCY_FUNCTION(tenancy_tenant_location)
{
    static spi::Statement query(kLocationQuery, {INT8ARRAYOID, BOOLOID});
    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    srf::Materialized out(fcinfo);
    spi::Connection spi;
    uint64 rows = query.execute({spi::int8_array_param({tenant}), spi::bool_param(true)}, true);
    if (rows == 0)
        registry::throw_tenant_not_found(tenant);
    put_locations(out, rows);
    return (Datum)0;
}

// tenancy.tenant_locations(tenants bigint[], include_ready boolean) RETURNS TABLE (...)
TENANCY_FUNCTION(tenancy_tenant_locations)
{
    static spi::Statement query(kLocationQuery, {INT8ARRAYOID, BOOLOID});
    bool all = args::is_null(fcinfo, 0);
    std::vector<int64_t> tenants = all ? std::vector<int64_t>{} : args::required_int8_array(fcinfo, 0, "tenants");
    bool include_ready = args::required_bool(fcinfo, 1, "include_ready");
    srf::Materialized out(fcinfo);
    spi::Connection spi;
    uint64 rows = query.execute({all ? spi::null_param(INT8ARRAYOID) : spi::int8_array_param(tenants),
                                 spi::bool_param(include_ready)},
                                true);
    put_locations(out, rows);
    return (Datum)0;
}

TENANCY_FUNCTION(tenancy_registry_id)
{
    std::string id;
    {
        spi::Connection spi;
        id = placement::registry_id();
    }
    return pg_call([&] { return DirectFunctionCall1(uuid_in, CStringGetDatum(id.c_str())); });
}

namespace {

// Why a provisioning step of the registry's side matched no row.
[[noreturn]] void refuse_step(const placement::Placement &p, int64_t epoch, const char *step)
{
    if (p.isolation != placement::Isolation::Database)
        throw Error(errcode::kPlacementStepRefused,
                    std::string(step) + ": tenant " + std::to_string(p.tenant) + " is a " +
                        placement::isolation_name(p.isolation) + " tenant, not a database tenant");
    if (p.epoch != epoch)
        throw Error(errcode::kPlacementStepRefused,
                    std::string(step) + ": tenant " + std::to_string(p.tenant) + " is at placement epoch " +
                        std::to_string(p.epoch) + ", not " + std::to_string(epoch),
                    "The tenant was placed elsewhere meanwhile.", "Read tenancy.tenant_location again and retry.");
    throw Error(errcode::kPlacementStepRefused,
                std::string(step) + ": tenant " + std::to_string(p.tenant) + " is in placement state " + p.state);
}

// The arguments both registry steps take: (tenant, epoch, migrated_version).
struct StepArgs {
    int64_t tenant;
    int64_t epoch;
    int64_t version;
    std::vector<spi::Param> params() const
    {
        return {spi::int8_param(tenant), spi::int8_param(epoch), spi::int8_param(version)};
    }
};

StepArgs step_args(FunctionCallInfo fcinfo)
{
    StepArgs a{args::required_int64(fcinfo, 0, "tenant"), args::required_int64(fcinfo, 1, "epoch"),
               args::required_int64(fcinfo, 2, "migrated_version")};
    if (a.version < 0)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "migrated_version must be 0 or more");
    return a;
}

} // namespace

// tenancy.placement_ready(tenant, epoch, migrated_version) RETURNS boolean
TENANCY_FUNCTION(tenancy_placement_ready)
{
    static spi::Statement update(
        "UPDATE tenancy.placement SET state = 'ready', migrated_version = $3, state_changed_at = pg_catalog.now()"
        " WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND epoch OPERATOR(pg_catalog.=) $2"
        "   AND isolation OPERATOR(pg_catalog.=) 'database' AND state OPERATOR(pg_catalog.=) 'provisioning'",
        {INT8OID, INT8OID, INT8OID});
    StepArgs a = step_args(fcinfo);
    spi::Connection spi;
    placement::Placement p = placement::load(a.tenant, true);
    if (update.execute(a.params(), false) == 1)
        PG_RETURN_BOOL(true);
    if (p.isolation == placement::Isolation::Database && p.epoch == a.epoch && p.state == "ready")
        PG_RETURN_BOOL(false); // a repeated step after a crash
    refuse_step(p, a.epoch, "placement_ready");
}

// tenancy.record_migration_progress(tenant, epoch, migrated_version) RETURNS bigint
TENANCY_FUNCTION(tenancy_record_migration_progress)
{
    static spi::Statement update("UPDATE tenancy.placement SET migrated_version = $3"
                                 " WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND epoch OPERATOR(pg_catalog.=) $2"
                                 "   AND isolation OPERATOR(pg_catalog.=) 'database'",
                                 {INT8OID, INT8OID, INT8OID});
    StepArgs a = step_args(fcinfo);
    spi::Connection spi;
    placement::Placement p = placement::load(a.tenant, true);
    if (update.execute(a.params(), false) != 1)
        refuse_step(p, a.epoch, "record_migration_progress");
    PG_RETURN_INT64(p.migrated_version);
}
