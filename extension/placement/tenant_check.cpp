// Check and repair of schema and database tenants (see tenant_check.hpp), and
// the SQL functions require_tenant_row, unrequire_tenant_row and
// check_tenant_data.
#include "placement/tenant_check.hpp"

#include "move/move.hpp"
#include "placement/migration_runner.hpp"
#include "placement/placement.hpp"
#include "placement/tenant_database.hpp"
#include "rowcheck/protect_roles.hpp"
#include "shared/errcodes.hpp"
#include "shared/quoting.hpp"
#include "shared/spi.hpp"
#include "shared/subtransaction.hpp"

#include <algorithm>

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
}

namespace tenancy::tenant_check {

namespace {

std::vector<std::string> template_columns(const std::string &template_json)
{
    static spi::Statement keys("SELECT pg_catalog.jsonb_object_keys($1::pg_catalog.jsonb)", {TEXTOID});
    std::vector<std::string> columns;
    uint64 rows = keys.execute({spi::text_param(template_json)}, false);
    for (uint64 i = 0; i < rows; ++i)
        columns.push_back(quoted_identifier(spi::get_text(i, 1).value_or("")));
    return columns;
}

// Whether the rule's row exists in `table` (qualified): the template's
// values are typed by jsonb_populate_record, so they compare as the columns'
// own types, and a NULL in the template matches NULL.
std::string exists_sql(const std::string &table, const std::vector<std::string> &columns)
{
    std::string matches = "true";
    for (const std::string &c : columns)
        matches += " AND x." + c + " IS NOT DISTINCT FROM r." + c;
    return "SELECT EXISTS (SELECT FROM " + table + " AS x, pg_catalog.jsonb_populate_record(NULL::" + table +
           ", $1::pg_catalog.jsonb) AS r WHERE " + matches + ")";
}

std::string insert_sql(const std::string &table, const std::vector<std::string> &columns)
{
    std::string list, values;
    for (const std::string &c : columns) {
        list += (list.empty() ? "" : ", ") + c;
        values += (values.empty() ? "r." : ", r.") + c;
    }
    if (columns.empty())
        return "INSERT INTO " + table + " DEFAULT VALUES";
    return "INSERT INTO " + table + " (" + list + ") SELECT " + values +
           " FROM pg_catalog.jsonb_populate_record(NULL::" + table + ", $1::pg_catalog.jsonb) AS r";
}

bool row_exists(const std::string &sql, const std::string &template_json)
{
    spi::execute_once(sql.c_str(), {spi::text_param(template_json)}, false);
    return spi::get_bool(0, 1).value_or(false);
}

// One rule in one tenant's schema.  The repair runs as the table's owner in
// a restricted context (as tenancy.check does for shared tables), under a
// lock that keeps a concurrent writer from inserting the same row between
// the re-check and the insert.
void check_rule(int64_t tenant, const std::string &schema, const Rule &rule, bool repair,
                std::vector<Problem> &problems)
{
    std::string object = quoted_identifier(schema) + "." + quoted_identifier(rule.table);
    std::string what = "no row matching " + rule.template_json + " (tenant-row rule " + std::to_string(rule.id) + ")";
    Oid relid = pg_call([&] {
        Oid ns = get_namespace_oid(schema.c_str(), true);
        return OidIsValid(ns) ? get_relname_relid(rule.table.c_str(), ns) : InvalidOid;
    });
    if (!OidIsValid(relid)) {
        problems.push_back({tenant, "invalid_rule", object,
                            "tenant-row rule " + std::to_string(rule.id) + ": table " + object +
                                " does not exist (is the tenant behind its migrations?)",
                            false});
        return;
    }
    std::vector<std::string> columns = template_columns(rule.template_json);
    bool present = false;
    std::optional<std::string> failure = in_subtransaction([&] {
        roles::ActingAs owner(roles::relation_owner(relid), roles::kAsTableOwner);
        present = row_exists(exists_sql(object, columns), rule.template_json);
    });
    if (failure) {
        problems.push_back({tenant, "invalid_rule", object,
                            "tenant-row rule " + std::to_string(rule.id) + " cannot be checked: " + *failure, false});
        return;
    }
    if (present)
        return;
    if (!repair) {
        problems.push_back({tenant, "missing_row", object, what, false});
        return;
    }
    bool inserted = false;
    failure = in_subtransaction([&] {
        roles::ActingAs owner(roles::relation_owner(relid), roles::kAsTableOwner);
        spi::execute_once(("LOCK TABLE " + object + " IN SHARE ROW EXCLUSIVE MODE").c_str(), {}, false);
        if (!row_exists(exists_sql(object, columns), rule.template_json)) {
            spi::execute_once(insert_sql(object, columns).c_str(), {spi::text_param(rule.template_json)}, false);
            inserted = true;
        }
    });
    problems.push_back({tenant, "missing_row", object,
                        what + (failure ? "; inserting it failed: " + *failure
                                        : inserted ? "; inserted" : "; inserted meanwhile by another session"),
                        !failure});
}

void add_ledger_problems(int64_t tenant, const std::string &schema, int64_t latest_version,
                         std::vector<Problem> &problems)
{
    int64_t applied = migrations::applied_version(tenant);
    if (applied < latest_version)
        problems.push_back({tenant, "migrations_behind", quoted_identifier(schema),
                            "at migration " + std::to_string(applied) + " of " + std::to_string(latest_version),
                            false});
    else if (applied > latest_version)
        problems.push_back({tenant, "unknown_migrations", quoted_identifier(schema),
                            "applied migration " + std::to_string(applied) +
                                " is newer than the registry's latest, " + std::to_string(latest_version),
                            false});
}

std::vector<Rule> parse_rules(Datum json)
{
    static spi::Statement elements(
        "SELECT (e OPERATOR(pg_catalog.->>) 'id')::pg_catalog.int8, e OPERATOR(pg_catalog.->>) 'table_name',"
        "       (e OPERATOR(pg_catalog.->) 'template')::pg_catalog.text,"
        "       pg_catalog.jsonb_typeof(e OPERATOR(pg_catalog.->) 'template')"
        "  FROM pg_catalog.jsonb_array_elements($1) AS e",
        {JSONBOID});
    Jsonb *jb = pg_call([&] { return DatumGetJsonbP(json); });
    if (!JB_ROOT_IS_ARRAY(jb) || JB_ROOT_IS_SCALAR(jb))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "rules must be a JSON array of rule objects");
    std::vector<Rule> rules;
    uint64 rows = 0;
    try {
        rows = elements.execute({spi::datum_param(JSONBOID, json, false)}, false);
    } catch (const PgError &e) {
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, std::string("invalid rules argument: ") + e.what());
    }
    for (uint64 i = 0; i < rows; ++i) {
        std::optional<std::string> table = spi::get_text(i, 2);
        if (!table || table->empty() || spi::get_text(i, 4).value_or("") != "object")
            throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        "every rule needs a \"table_name\" string and a \"template\" object");
        rules.push_back({spi::get_int64(i, 1).value_or(0), *table, spi::get_text(i, 3).value_or("{}")});
    }
    return rules;
}

} // namespace

std::vector<Rule> registered_rules()
{
    static spi::Statement query("SELECT id, table_name, template::pg_catalog.text FROM tenancy.tenant_row_rule ORDER BY id",
                                {});
    std::vector<Rule> rules;
    uint64 rows = query.execute({}, false);
    for (uint64 i = 0; i < rows; ++i)
        rules.push_back({spi::get_int64(i, 1).value_or(0), spi::get_text(i, 2).value_or(""),
                         spi::get_text(i, 3).value_or("{}")});
    return rules;
}

void check_tenant_schema(int64_t tenant, const std::string &schema, int64_t latest_version,
                         const std::vector<Rule> &rules, bool repair, std::vector<Problem> &problems)
{
    add_ledger_problems(tenant, schema, latest_version, problems);
    for (const Rule &rule : rules)
        check_rule(tenant, schema, rule, repair, problems);
}

namespace {

struct SchemaTenant {
    int64_t tenant;
    std::string schema;
    std::string status;
    int64_t recorded_version; // in the registry's placement
    int64_t ledger_version;   // in the ledger
    bool schema_exists;
    bool marked;              // carries this registry's marker for the tenant
};

std::vector<SchemaTenant> schema_tenants(const std::string &registry)
{
    static spi::Statement query(
        "SELECT p.tenant_id, p.schema_name, t.status, p.migrated_version,"
        "       coalesce((SELECT max(a.version) FROM tenancy.applied_migration a"
        "                  WHERE a.tenant_id OPERATOR(pg_catalog.=) p.tenant_id), 0),"
        "       n.oid IS NOT NULL, pg_catalog.obj_description(n.oid, 'pg_namespace')"
        "  FROM tenancy.placement p"
        "  JOIN tenancy.tenant t ON t.id OPERATOR(pg_catalog.=) p.tenant_id"
        "  LEFT JOIN pg_catalog.pg_namespace n ON n.nspname OPERATOR(pg_catalog.=) p.schema_name"
        " WHERE p.isolation OPERATOR(pg_catalog.=) 'schema'"
        " ORDER BY p.tenant_id",
        {});
    std::vector<SchemaTenant> found;
    uint64 rows = query.execute({}, false);
    for (uint64 i = 0; i < rows; ++i) {
        int64_t tenant = spi::get_int64(i, 1).value_or(0);
        found.push_back({tenant, spi::get_text(i, 2).value_or(""), spi::get_text(i, 3).value_or(""),
                         spi::get_int64(i, 4).value_or(0), spi::get_int64(i, 5).value_or(0),
                         spi::get_bool(i, 6).value_or(false),
                         spi::get_text(i, 7) == placement::schema_marker(tenant, registry)});
    }
    return found;
}

void set_recorded_version(int64_t tenant, int64_t version)
{
    static spi::Statement update("UPDATE tenancy.placement SET migrated_version = $2"
                                 " WHERE tenant_id OPERATOR(pg_catalog.=) $1",
                                 {INT8OID, INT8OID});
    update.execute({spi::int8_param(tenant), spi::int8_param(version)}, false);
}

// A schema tenant whose schema is gone: recreated (empty: its data is gone
// with it) and migrated, as provisioning would have.  Stale ledger rows are
// bookkeeping of the lost schema and are replaced.
void recreate_schema(const SchemaTenant &t)
{
    static spi::Statement forget("DELETE FROM tenancy.applied_migration WHERE tenant_id OPERATOR(pg_catalog.=) $1",
                                 {INT8OID});
    forget.execute({spi::int8_param(t.tenant)}, false);
    placement::create_marked_schema(t.tenant, t.schema);
    placement::migrate_as_session_role(t.tenant, t.schema, 0);
}

void check_schema_tenant(const SchemaTenant &t, const std::string &registry, int64_t latest,
                         const std::vector<Rule> &rules, bool repair, std::vector<Problem> &problems)
{
    std::string object = quoted_identifier(t.schema);
    if (!t.schema_exists) {
        std::optional<std::string> failure;
        if (repair)
            failure = in_subtransaction([&] { recreate_schema(t); });
        problems.push_back({t.tenant, "missing_schema", object,
                            std::string("the tenant's schema does not exist") +
                                (!repair    ? ""
                                 : failure ? "; recreating it failed: " + *failure
                                           : "; recreated empty and migrated (its data was gone)"),
                            repair && !failure});
        return;
    }
    if (!t.marked) {
        problems.push_back({t.tenant, "schema_not_claimed", object,
                            "the schema does not carry the tenant's marker (COMMENT ON SCHEMA); it may have been "
                            "replaced by another schema of the same name, so nothing in it is changed",
                            false});
        return;
    }
    if (t.recorded_version != t.ledger_version) {
        if (repair)
            set_recorded_version(t.tenant, t.ledger_version);
        problems.push_back({t.tenant, "migration_progress_mismatch", object,
                            "the registry records migration " + std::to_string(t.recorded_version) +
                                ", the tenant's ledger " + std::to_string(t.ledger_version) +
                                (repair ? "; the registry now records the ledger's" : ""),
                            repair});
    }
    if (t.ledger_version < latest) {
        std::optional<std::string> failure;
        if (repair)
            failure = in_subtransaction(
                [&] { placement::migrate_as_session_role(t.tenant, t.schema, t.ledger_version); });
        problems.push_back({t.tenant, "migrations_behind", object,
                            "at migration " + std::to_string(t.ledger_version) + " of " + std::to_string(latest) +
                                (!repair ? "" : failure ? "; migrating failed: " + *failure : "; migrated"),
                            repair && !failure});
    }
    if (t.status == "active")
        for (const Rule &rule : rules)
            check_rule(t.tenant, t.schema, rule, repair, problems);
}

void check_database_states(std::vector<Problem> &problems)
{
    static spi::Statement query(
        "SELECT tenant_id, state, server, database_name FROM tenancy.placement"
        " WHERE isolation OPERATOR(pg_catalog.=) 'database' AND state OPERATOR(pg_catalog.<>) 'ready'"
        " ORDER BY tenant_id",
        {});
    uint64 rows = query.execute({}, false);
    for (uint64 i = 0; i < rows; ++i) {
        std::string state = spi::get_text(i, 2).value_or("");
        std::string where = "database " + quoted_identifier(spi::get_text(i, 4).value_or("")) + " on server " +
                            spi::get_text(i, 3).value_or("");
        if (state == "provisioning")
            problems.push_back({spi::get_int64(i, 1), "not_provisioned", where,
                                "provisioning has not finished; tenancyctl provision (or check --repair) finishes it",
                                false});
        else
            problems.push_back({spi::get_int64(i, 1), "purge_unfinished", where,
                                "a purge stopped in state " + state + "; tenancyctl tenant purge finishes it", false});
    }
}

// Moves that stopped before their end: a client was killed, or a step
// failed (the error is kept).  A move whose client is still running holds
// its session lock and is not reported.
void check_moves(std::vector<Problem> &problems)
{
    for (const move::StoppedMove &m : move::stopped_moves())
        problems.push_back({m.tenant, "move_unfinished",
                            "move " + std::to_string(m.move) + " to server " + m.target_server,
                            "the move stopped at step " + m.step + " (" + m.state + ") at " + m.since +
                                (m.error ? ": " + *m.error : "") +
                                (m.state == "running"
                                     ? "; the source is still authoritative: tenancyctl tenant move " +
                                           std::to_string(m.tenant) + " --resume finishes it, --abort rolls it back"
                                     : "; the target is authoritative: tenancyctl tenant move " +
                                           std::to_string(m.tenant) + " --resume finishes it"),
                            false});
}

void check_orphan_schemas(std::vector<Problem> &problems)
{
    static spi::Statement query(
        "SELECT n.nspname::pg_catalog.text FROM pg_catalog.pg_namespace n"
        " WHERE n.nspname OPERATOR(pg_catalog.~) '^tenant_[0-9]+$'"
        "   AND NOT EXISTS (SELECT FROM tenancy.placement p"
        "                    WHERE p.isolation OPERATOR(pg_catalog.=) 'schema'"
        "                      AND p.schema_name OPERATOR(pg_catalog.=) n.nspname::pg_catalog.text)"
        " ORDER BY 1",
        {});
    uint64 rows = query.execute({}, false);
    std::vector<std::string> orphans;
    for (uint64 i = 0; i < rows; ++i)
        orphans.push_back(spi::get_text(i, 1).value_or(""));
    // A schema tenant's source that its move kept, or has yet to drop, is known.
    std::vector<std::string> moved = move::schemas_of_moves();
    for (const std::string &schema : orphans)
        if (std::find(moved.begin(), moved.end(), schema) == moved.end())
            problems.push_back({std::nullopt, "orphan_schema", quoted_identifier(schema),
                                "a schema named like a tenant's that no schema tenant owns; it is kept (check never "
                                "deletes): drop it if nothing needs it",
                                false});
}

} // namespace

void check_placements(bool repair, std::vector<Problem> &problems)
{
    std::string registry = placement::registry_id();
    int64_t latest = placement::latest_migration_version();
    std::vector<Rule> rules = registered_rules();
    for (const SchemaTenant &t : schema_tenants(registry))
        check_schema_tenant(t, registry, latest, rules, repair, problems);
    check_database_states(problems);
    check_moves(problems);
    check_orphan_schemas(problems);
}

} // namespace tenancy::tenant_check

using namespace tenancy;

// tenancy.require_tenant_row(table_name text, template jsonb) RETURNS bigint
TENANCY_FUNCTION(tenancy_require_tenant_row)
{
    static spi::Statement insert("INSERT INTO tenancy.tenant_row_rule (table_name, template) VALUES ($1, $2)"
                                 " ON CONFLICT (table_name, template) DO NOTHING RETURNING id",
                                 {TEXTOID, JSONBOID});
    static spi::Statement existing("SELECT id FROM tenancy.tenant_row_rule"
                                   " WHERE table_name OPERATOR(pg_catalog.=) $1 AND template OPERATOR(pg_catalog.=) $2",
                                   {TEXTOID, JSONBOID});
    std::string table = args::required_text(fcinfo, 0, "table_name");
    if (args::is_null(fcinfo, 1))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "template must not be NULL", {}, "Pass '{}' to require any row.");
    Datum template_value = PG_GETARG_DATUM(1);
    if (table.empty() || table.size() >= NAMEDATALEN)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "table_name must be a table name of 1 to 63 bytes", {},
                    "Name the table as it is in every tenant's schema, without a schema.");
    Jsonb *jb = pg_call([&] { return DatumGetJsonbP(template_value); });
    if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "template must be a JSON object of column values");
    spi::Connection spi;
    std::vector<spi::Param> params{spi::text_param(table), spi::datum_param(JSONBOID, template_value, false)};
    if (insert.execute(params, false) == 0)
        existing.execute(params, false);
    PG_RETURN_INT64(spi::get_int64(0, 1).value_or(0));
}

// tenancy.unrequire_tenant_row(table_name text, template jsonb) RETURNS boolean
TENANCY_FUNCTION(tenancy_unrequire_tenant_row)
{
    static spi::Statement remove("DELETE FROM tenancy.tenant_row_rule"
                                 " WHERE table_name OPERATOR(pg_catalog.=) $1 AND template OPERATOR(pg_catalog.=) $2",
                                 {TEXTOID, JSONBOID});
    std::string table = args::required_text(fcinfo, 0, "table_name");
    if (args::is_null(fcinfo, 1))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "template must not be NULL");
    spi::Connection spi;
    PG_RETURN_BOOL(remove.execute({spi::text_param(table), spi::datum_param(JSONBOID, PG_GETARG_DATUM(1), false)},
                                  false) > 0);
}

// tenancy.check_tenant_data(tenant, registry, latest_version, rules, repair)
// In a tenant database.  A database that is not the tenant's is reported and
// left alone.
TENANCY_FUNCTION(tenancy_check_tenant_data)
{
    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    if (args::is_null(fcinfo, 1))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "registry must not be NULL");
    Datum registry_datum = PG_GETARG_DATUM(1);
    std::string registry =
        pg_call([&] { return std::string(DatumGetCString(DirectFunctionCall1(uuid_out, registry_datum))); });
    int64_t latest = args::required_int64(fcinfo, 2, "latest_version");
    if (args::is_null(fcinfo, 3))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "rules must not be NULL", {}, "Pass '[]' for none.");
    Datum rules_json = PG_GETARG_DATUM(3);
    bool repair = args::required_bool(fcinfo, 4, "repair");

    srf::Materialized out(fcinfo);
    std::vector<tenant_check::Problem> problems;
    {
        spi::Connection spi;
        std::vector<tenant_check::Rule> rules = tenant_check::parse_rules(rules_json);
        std::optional<tenant_database::Claim> claim = tenant_database::read_claim(false);
        std::string database = tenant_database::current_database_name();
        if (!claim)
            problems.push_back({tenant, "database_not_claimed", database,
                                "the database has no claim: provisioning has not got that far", false});
        else if (claim->tenant != tenant || claim->registry != registry)
            problems.push_back({tenant, "claimed_by_other", database,
                                "the database belongs to tenant " + std::to_string(claim->tenant) + " of registry " +
                                    claim->registry + "; nothing in it is checked or changed",
                                false});
        else {
            std::string schema = placement::schema_name_for(tenant);
            bool schema_exists = pg_call([&] { return OidIsValid(get_namespace_oid(schema.c_str(), true)); });
            if (!schema_exists)
                problems.push_back({tenant, "missing_schema", quoted_identifier(schema),
                                    "the tenant's schema does not exist in its database", false});
            else
                tenant_check::check_tenant_schema(tenant, schema, latest, rules, repair, problems);
        }
    }
    for (const tenant_check::Problem &p : problems)
        pg_call([&] {
            Datum values[5] = {p.tenant ? Int64GetDatum(*p.tenant) : Datum(0), CStringGetTextDatum(p.problem.c_str()),
                               CStringGetTextDatum(p.object.c_str()), CStringGetTextDatum(p.detail.c_str()),
                               BoolGetDatum(p.repaired)};
            bool nulls[5] = {!p.tenant, false, false, false, false};
            out.put_values(values, nulls);
        });
    return (Datum)0;
}
