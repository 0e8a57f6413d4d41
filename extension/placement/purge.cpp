// Erasure: begin_purge, database_dropped and purge_tenant.
//
// A soft-deleted tenant is erased completely: its schema (schema tenants) or
// database (database tenants: dropped by the client between begin_purge and
// database_dropped, since DROP DATABASE runs in no transaction and on another
// server), its rows in protected shared tables, its rows in every table of
// the extension that refers to it (API keys, storage records, ...), its
// placement and registry row; an erasure record (ids, names of places,
// counts: no customer data) is kept.  Every step is idempotent, so a purge
// interrupted anywhere is finished by running it again.
#include "move/move.hpp"
#include "placement/placement.hpp"
#include "registry/registry.hpp"
#include "shared/errcodes.hpp"
#include "shared/quoting.hpp"
#include "shared/spi.hpp"
#include "shared/subtransaction.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
}

#include <map>

namespace tenancy::purge {

namespace {

// The erasure record of a tenant already purged, as jsonb text, if any.
std::optional<std::string> existing_record(int64_t tenant)
{
    static spi::Statement query("SELECT pg_catalog.to_jsonb(e)::pg_catalog.text FROM tenancy.erasure e"
                                " WHERE tenant_id OPERATOR(pg_catalog.=) $1",
                                {INT8OID});
    if (query.execute({spi::int8_param(tenant)}, false) == 0)
        return std::nullopt;
    return spi::get_text(0, 1);
}

void require_deleted(const placement::Placement &p)
{
    if (p.status != "deleted")
        throw Error(errcode::kInvalidTransition,
                    "tenant " + std::to_string(p.tenant) + " is " + p.status + "; only a deleted tenant can be purged",
                    {}, "Soft-delete it first with tenancy.delete_tenant; purging cannot be undone.");
}

// A table and the column whose value is the tenant id.
struct TenantTable {
    std::string name; // qualified and quoted
    std::string column;
};

// Protected tables, and every table of the extension's own schema with a
// foreign key to tenancy.tenant (API keys, storage records, ... whatever a
// later version adds), except the placement, which goes last.
std::vector<TenantTable> tables_with_tenant_rows()
{
    static spi::Statement query(
        "SELECT p.tbl::pg_catalog.oid::pg_catalog.int8, p.tenant_column::pg_catalog.text, false"
        "  FROM tenancy.protected_table p"
        "  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) p.tbl"
        " UNION ALL "
        "SELECT k.conrelid::pg_catalog.int8, a.attname::pg_catalog.text, true"
        "  FROM pg_catalog.pg_constraint k"
        "  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) k.conrelid"
        "  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) k.conrelid"
        "                                AND a.attnum OPERATOR(pg_catalog.=) k.conkey[1]"
        " WHERE k.contype OPERATOR(pg_catalog.=) 'f'"
        "   AND k.confrelid OPERATOR(pg_catalog.=) 'tenancy.tenant'::pg_catalog.regclass"
        "   AND pg_catalog.array_length(k.conkey, 1) OPERATOR(pg_catalog.=) 1"
        "   AND c.relnamespace OPERATOR(pg_catalog.=) 'tenancy'::pg_catalog.regnamespace"
        "   AND k.conrelid OPERATOR(pg_catalog.<>) 'tenancy.placement'::pg_catalog.regclass"
        "   AND NOT EXISTS (SELECT FROM tenancy.protected_table p WHERE p.tbl OPERATOR(pg_catalog.=) k.conrelid)"
        " ORDER BY 3, 1",
        {});
    std::vector<std::pair<Oid, std::string>> found;
    uint64 rows = query.execute({}, false);
    for (uint64 i = 0; i < rows; ++i)
        found.emplace_back(static_cast<Oid>(spi::get_int64(i, 1).value_or(0)), spi::get_text(i, 2).value_or(""));
    std::vector<TenantTable> tables;
    for (const auto &[relid, column] : found)
        tables.push_back({quoted_relation_name(relid), quoted_identifier(column)});
    return tables;
}

// Deletes the tenant's rows from every table.  Foreign keys between the
// tables decide an order nobody declared: a delete that a foreign key blocks
// is rolled back (subtransaction) and retried after the others, until every
// table is done or a round makes no progress.  Runs as the extension owner,
// a superuser, so row-level security does not hide rows.
std::map<std::string, int64_t> delete_tenant_rows(int64_t tenant)
{
    std::vector<TenantTable> pending = tables_with_tenant_rows();
    std::map<std::string, int64_t> removed;
    while (!pending.empty()) {
        std::vector<TenantTable> blocked;
        std::string last_failure;
        for (const TenantTable &t : pending) {
            std::string sql = "DELETE FROM " + t.name + " WHERE " + t.column + " OPERATOR(pg_catalog.=) $1";
            uint64 rows = 0;
            std::optional<std::string> failure =
                in_subtransaction([&] { rows = spi::execute_once(sql.c_str(), {spi::int8_param(tenant)}, false); });
            if (failure) {
                blocked.push_back(t);
                last_failure = t.name + ": " + *failure;
            } else if (rows > 0) {
                removed["rows of " + t.name] = static_cast<int64_t>(rows);
            }
        }
        if (blocked.size() == pending.size())
            throw Error(ERRCODE_FOREIGN_KEY_VIOLATION,
                        "the rows of tenant " + std::to_string(tenant) + " cannot all be deleted", last_failure,
                        "A table that refers to the tenant's rows without being protected blocks the purge: "
                        "protect it (tenancy.protect) or delete those rows first.");
        pending = std::move(blocked);
    }
    return removed;
}

// A schema tenant's schema, if it is still there and still the tenant's.
int64_t drop_schema(int64_t tenant, const std::string &schema)
{
    static spi::Statement inspect(
        "SELECT pg_catalog.obj_description(n.oid, 'pg_namespace'),"
        "       (SELECT pg_catalog.count(*) FROM pg_catalog.pg_class c"
        "         WHERE c.relnamespace OPERATOR(pg_catalog.=) n.oid AND c.relkind OPERATOR(pg_catalog.=) ANY"
        "               (ARRAY['r', 'p']::\"char\"[]))"
        "  FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) $1",
        {TEXTOID});
    std::string marker = placement::schema_marker(tenant, placement::registry_id());
    if (inspect.execute({spi::text_param(schema)}, false) == 0)
        return -1; // already gone: an interrupted purge, or never created
    int64_t tables = spi::get_int64(0, 2).value_or(0);
    if (spi::get_text(0, 1) != marker)
        throw Error(errcode::kDatabaseNotTenants,
                    "schema " + quoted_identifier(schema) + " does not carry tenant " + std::to_string(tenant) +
                        "'s marker; it is not dropped",
                    "It may have been replaced by another schema of the same name.",
                    "Find out whose schema it is; drop or rename it by hand, then purge again.");
    spi::execute_once(("DROP SCHEMA " + quoted_identifier(schema) + " CASCADE").c_str(), {}, false);
    return tables;
}

// Copies of the tenant that finished moves kept (docs/placement.md, "Moving a
// tenant"): erasure removes them too, and its record lists them.  A kept
// schema is in this database and is dropped here; a kept database is dropped
// by the client (tenancyctl tenant purge) and must be recorded as dropped
// first.
void drop_kept_copies(int64_t tenant, std::map<std::string, int64_t> &removed)
{
    static spi::Statement moves("SELECT id, source_isolation, source_server, source_database, schema_name,"
                                "       drop_source, source_dropped"
                                "  FROM tenancy.tenant_move"
                                " WHERE tenant_id OPERATOR(pg_catalog.=) $1"
                                "   AND state OPERATOR(pg_catalog.=) ANY (ARRAY['switched', 'done'])"
                                " ORDER BY id",
                                {INT8OID});
    struct Copy {
        int64_t move;
        bool schema;
        std::string server, database, schema_name;
        bool dropped_at_move, dropped;
    };
    std::vector<Copy> copies;
    uint64 rows = moves.execute({spi::int8_param(tenant)}, false);
    for (uint64 i = 0; i < rows; ++i)
        copies.push_back({spi::get_int64(i, 1).value_or(0), spi::get_text(i, 2) == std::optional<std::string>("schema"),
                          spi::get_text(i, 3).value_or(""), spi::get_text(i, 4).value_or(""),
                          spi::get_text(i, 5).value_or(""), spi::get_bool(i, 6).value_or(false),
                          spi::get_bool(i, 7).value_or(false)});
    for (const Copy &c : copies) {
        std::string kept = " kept by move " + std::to_string(c.move);
        if (c.schema && !c.dropped) {
            int64_t tables = drop_schema(tenant, c.schema_name);
            if (tables >= 0)
                removed["tables in schema " + quoted_identifier(c.schema_name) + kept] = tables;
        } else if (!c.schema && !c.dropped) {
            throw Error(errcode::kPlacementStepRefused,
                        "the copy of tenant " + std::to_string(tenant) + " that move " + std::to_string(c.move) +
                            " kept (database " + c.database + " on server " + c.server + ") has not been dropped",
                        "DROP DATABASE cannot run inside a function.",
                        "Run tenancyctl tenant purge " + std::to_string(tenant) +
                            ", which drops it and then calls tenancy.purge_tenant.");
        } else if (!c.schema && !c.dropped_at_move) {
            removed["database " + quoted_identifier(c.database) + " on server " + c.server + kept] = 1;
        }
    }
}

std::string removed_json(const std::map<std::string, int64_t> &removed)
{
    std::string json = "{";
    for (const auto &[what, count] : removed) {
        if (json.size() > 1)
            json += ", ";
        // Keys are names the extension made (quoted relation names): escape
        // them as JSON strings all the same.
        std::string key;
        for (char c : what) {
            if (c == '"' || c == '\\')
                key.push_back('\\');
            key.push_back(c);
        }
        json += "\"" + key + "\": " + std::to_string(count);
    }
    return json + "}";
}

} // namespace

} // namespace tenancy::purge

using namespace tenancy;

// tenancy.begin_purge(tenant bigint) RETURNS TABLE (tenant, isolation, server,
// conninfo, database_name, state, registry)
TENANCY_FUNCTION(tenancy_begin_purge)
{
    static spi::Statement mark("UPDATE tenancy.placement SET state = 'purging', state_changed_at = pg_catalog.now()"
                               " WHERE tenant_id OPERATOR(pg_catalog.=) $1"
                               "   AND state OPERATOR(pg_catalog.=) ANY (ARRAY['provisioning', 'ready'])",
                               {INT8OID});
    static spi::Statement result(
        "SELECT p.tenant_id, p.isolation, p.server, s.conninfo, p.database_name, p.state, r.id"
        "  FROM tenancy.placement p LEFT JOIN tenancy.server s ON s.name OPERATOR(pg_catalog.=) p.server"
        "  LEFT JOIN tenancy.registry r ON true"
        " WHERE p.tenant_id OPERATOR(pg_catalog.=) $1",
        {INT8OID});
    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    srf::Materialized out(fcinfo);
    spi::Connection spi;
    placement::Placement p = placement::load(tenant, true);
    purge::require_deleted(p);
    move::refuse_while_moving(tenant, "purged");
    if (p.isolation == placement::Isolation::Database)
        mark.execute({spi::int8_param(tenant)}, false);
    srf::put_spi_rows(out, result.execute({spi::int8_param(tenant)}, false));
    return (Datum)0;
}

// tenancy.database_dropped(tenant bigint) RETURNS void
TENANCY_FUNCTION(tenancy_database_dropped)
{
    static spi::Statement mark("UPDATE tenancy.placement SET state = 'dropped', state_changed_at = pg_catalog.now()"
                               " WHERE tenant_id OPERATOR(pg_catalog.=) $1",
                               {INT8OID});
    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    spi::Connection spi;
    placement::Placement p = placement::load(tenant, true);
    if (p.isolation != placement::Isolation::Database || (p.state != "purging" && p.state != "dropped"))
        throw Error(errcode::kPlacementStepRefused,
                    "tenant " + std::to_string(tenant) + " is not a database tenant being purged", {},
                    "Start the purge with tenancyctl tenant purge, which calls tenancy.begin_purge first.");
    mark.execute({spi::int8_param(tenant)}, false);
    PG_RETURN_VOID();
}

// tenancy.purge_tenant(tenant bigint) RETURNS jsonb: the erasure record.
TENANCY_FUNCTION(tenancy_purge_tenant)
{
    static spi::Statement forget_placement("DELETE FROM tenancy.placement WHERE tenant_id OPERATOR(pg_catalog.=) $1",
                                           {INT8OID});
    static spi::Statement forget_ledger(
        "DELETE FROM tenancy.applied_migration WHERE tenant_id OPERATOR(pg_catalog.=) $1", {INT8OID});
    static spi::Statement forget_tenant("DELETE FROM tenancy.tenant WHERE id OPERATOR(pg_catalog.=) $1", {INT8OID});
    static spi::Statement record(
        "INSERT INTO tenancy.erasure (tenant_id, slug, isolation, server, database_name, schema_name, removed, erased_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7::pg_catalog.jsonb, pg_catalog.session_user())"
        " RETURNING pg_catalog.to_jsonb(erasure)::pg_catalog.text",
        {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID});

    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    std::string erasure;
    {
        spi::Connection spi;
        std::optional<std::string> done = purge::existing_record(tenant);
        if (done) {
            erasure = *done;
        } else {
            placement::Placement p = placement::load(tenant, true);
            purge::require_deleted(p);
            if (p.isolation == placement::Isolation::Database && p.state != "dropped")
                throw Error(errcode::kPlacementStepRefused,
                            "the database of tenant " + std::to_string(tenant) + " has not been dropped",
                            "Database " + p.database_name.value_or("") + " on server " + p.server.value_or("") +
                                " is dropped by the client, since DROP DATABASE cannot run inside a function.",
                            "Run tenancyctl tenant purge " + std::to_string(tenant) +
                                ", which drops it and then calls tenancy.purge_tenant.");
            std::map<std::string, int64_t> removed;
            purge::drop_kept_copies(tenant, removed);
            if (p.isolation == placement::Isolation::Schema) {
                int64_t tables = purge::drop_schema(tenant, *p.schema_name);
                if (tables >= 0)
                    removed["tables in schema " + quoted_identifier(*p.schema_name)] = tables;
            }
            if (p.isolation == placement::Isolation::Database)
                removed["database " + quoted_identifier(*p.database_name) + " on server " + *p.server] = 1;
            for (const auto &[what, count] : purge::delete_tenant_rows(tenant))
                removed[what] = count;
            forget_ledger.execute({spi::int8_param(tenant)}, false);
            forget_placement.execute({spi::int8_param(tenant)}, false);
            forget_tenant.execute({spi::int8_param(tenant)}, false);
            record.execute({spi::int8_param(tenant), spi::text_param(p.slug),
                            spi::text_param(placement::isolation_name(p.isolation)),
                            spi::optional_text_param(p.server), spi::optional_text_param(p.database_name),
                            spi::optional_text_param(p.schema_name), spi::text_param(purge::removed_json(removed))},
                           false);
            erasure = spi::get_text(0, 1).value_or("{}");
        }
    }
    return pg_call([&] { return DirectFunctionCall1(jsonb_in, CStringGetDatum(erasure.c_str())); });
}
