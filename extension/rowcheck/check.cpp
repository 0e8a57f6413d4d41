// tenancy.check(repair): finds, and optionally repairs, everything that keeps
// tenants from being complete and isolated.
//
// Set-based: a fixed number of statements per protected table and per rule,
// whatever the number of tenants.  Runs as the extension owner (SECURITY
// DEFINER); statements that may run code a table owner controls run as that
// owner (protect_roles.hpp).  Each repair step runs in a subtransaction, so a
// step that fails is reported (repaired = false, with the error) and the
// check carries on.  It never deletes a row of an application table.
//
// Problems, in the order reported (docs/rowcheck.md describes each):
//   dropped_table, detached_partition, unprotected_partition, missing_part,
//   cross_tenant_foreign_key,
//   rule_without_unique_index, invalid_rule, missing_row,
//   deleted_tenant_rows, unknown_tenant_rows; then, for tenants that live
//   apart (placement/tenant_check.hpp), missing_schema, schema_not_claimed,
//   migration_progress_mismatch, migrations_behind, invalid_rule,
//   missing_row, not_provisioned, purge_unfinished, orphan_schema.
#include "placement/tenant_check.hpp"
#include "rowcheck/check_rules.hpp"
#include "rowcheck/protect.hpp"
#include "rowcheck/protect_partitions.hpp"
#include "rowcheck/protect_roles.hpp"
#include "shared/quoting.hpp"
#include "shared/spi.hpp"
#include "shared/subtransaction.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
}

#include <algorithm>
#include <functional>
#include <optional>
#include <set>

namespace tenancy::check {

namespace {

// The result rows, written to the function's tuplestore as they are found.
class Report {
public:
    explicit Report(FunctionCallInfo fcinfo) : out_(fcinfo) {}

    void add(std::optional<int64_t> tenant, const char *problem, const std::string &object,
             const std::string &detail, bool repaired)
    {
        pg_call([&] {
            Datum values[5] = {tenant ? Int64GetDatum(*tenant) : Datum(0), CStringGetTextDatum(problem),
                               CStringGetTextDatum(object.c_str()), CStringGetTextDatum(detail.c_str()),
                               BoolGetDatum(repaired)};
            bool nulls[5] = {!tenant, false, false, false, false};
            out_.put_values(values, nulls);
        });
    }

private:
    srf::Materialized out_;
};

std::vector<int64_t> column_of_ids(uint64 rows)
{
    std::vector<int64_t> ids;
    ids.reserve(rows);
    for (uint64 i = 0; i < rows; ++i)
        ids.push_back(spi::get_int64(i, 1).value_or(0));
    return ids;
}

std::vector<int64_t> tenants_with_status(const char *status)
{
    static spi::Statement query("SELECT id FROM tenancy.tenant WHERE status OPERATOR(pg_catalog.=) $1 ORDER BY id",
                                {TEXTOID});
    return column_of_ids(query.execute({spi::text_param(status)}, false));
}

// Required rows of shared tables are for shared tenants: a schema or
// database tenant keeps its rows apart (tenancy.require_tenant_row).
std::vector<int64_t> active_shared_tenants()
{
    static spi::Statement query(
        "SELECT t.id FROM tenancy.tenant t JOIN tenancy.placement p ON p.tenant_id OPERATOR(pg_catalog.=) t.id"
        " WHERE t.status OPERATOR(pg_catalog.=) 'active' AND p.isolation OPERATOR(pg_catalog.=) 'shared'"
        " ORDER BY t.id",
        {});
    return column_of_ids(query.execute({}, false));
}

// Records of protected tables that were dropped.  Repair forgets them (and
// their rules): that is bookkeeping, not application data.
void check_dropped_tables(Report &report, bool repair)
{
    static spi::Statement dropped(
        "SELECT p.tbl::pg_catalog.oid::pg_catalog.int8, p.tenant_column::text,"
        "       (SELECT count(*) FROM tenancy.required_row r WHERE r.tbl OPERATOR(pg_catalog.=) p.tbl)"
        "  FROM tenancy.protected_table p"
        " WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) p.tbl)"
        " ORDER BY 1",
        {});
    static spi::Statement forget(
        "WITH rules AS (DELETE FROM tenancy.required_row WHERE tbl OPERATOR(pg_catalog.=) $1)"
        " DELETE FROM tenancy.protected_table WHERE tbl OPERATOR(pg_catalog.=) $1",
        {OIDOID});

    struct Dropped {
        Oid relid;
        std::string column;
        int64_t rules;
    };
    std::vector<Dropped> tables;
    uint64 rows = dropped.execute({}, false);
    for (uint64 i = 0; i < rows; ++i)
        tables.push_back({static_cast<Oid>(spi::get_int64(i, 1).value_or(0)), spi::get_text(i, 2).value_or(""),
                          spi::get_int64(i, 3).value_or(0)});
    for (const Dropped &t : tables) {
        std::string detail = "the protected table with OID " + std::to_string(t.relid) + " no longer exists; " +
                             std::to_string(t.rules) + " required-row rules refer to it";
        bool repaired = false;
        if (repair) {
            forget.execute({spi::oid_param(t.relid)}, false);
            repaired = true;
            detail += "; its record and rules were removed";
        }
        report.add(std::nullopt, "dropped_table", std::to_string(t.relid), detail, repaired);
    }
}

// Partitions whose protection does not match their place in a protected
// partitioned table: what the event trigger tenancy_protect_partitions does
// at once, for changes it did not see (it was disabled, or
// session_replication_role was replica).  The repair protects a new
// partition as the extension owner, and keeps a detached one protected on
// its own (bookkeeping only).
void check_partitions(Report &report, bool repair)
{
    for (const partitions::Pending &p : partitions::pending({})) {
        bool detached = p.kind == partitions::Pending::Kind::Detached;
        std::string table = quoted_relation_name(p.relid);
        std::string root = quoted_relation_name(p.root);
        std::string detail = detached ? "no longer a partition of " + root + ", whose protection it had"
                                      : "a partition of protected table " + root +
                                            " that is not protected through it: queried directly, its rows "
                                            "are not isolated";
        bool repaired = false;
        if (repair) {
            std::optional<std::string> failure = in_subtransaction([&] { partitions::settle(p); });
            repaired = !failure;
            detail += failure ? "; repairing failed: " + *failure
                              : (detached ? "; it stays protected on its own" : "; protected");
        }
        report.add(std::nullopt, detached ? "detached_partition" : "unprotected_partition", table, detail, repaired);
    }
}

struct ProtectedTable {
    protect::Table table;
    bool foreign_key_missing = false;
    bool in_partitioned_table = false; // its rows are read through the partitioned table
};

std::vector<ProtectedTable> existing_tables()
{
    static spi::Statement tables(
        "SELECT p.tbl::pg_catalog.oid::pg_catalog.int8, p.tenant_column::text, p.partition_of IS NOT NULL"
        "  FROM tenancy.protected_table p"
        "  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) p.tbl"
        " ORDER BY p.tbl::pg_catalog.text",
        {});
    struct Found {
        Oid relid;
        std::string column;
        bool member;
    };
    std::vector<Found> found;
    uint64 rows = tables.execute({}, false);
    for (uint64 i = 0; i < rows; ++i)
        found.push_back({static_cast<Oid>(spi::get_int64(i, 1).value_or(0)), spi::get_text(i, 2).value_or(""),
                         spi::get_bool(i, 3).value_or(false)});
    std::vector<ProtectedTable> result;
    for (const Found &f : found)
        result.push_back({protect::describe(f.relid, f.column), false, f.member});
    return result;
}

void check_parts(Report &report, bool repair, std::vector<ProtectedTable> &tables)
{
    for (ProtectedTable &t : tables) {
        for (protect::Part part : protect::missing_parts(t.table.relid)) {
            std::string detail = std::string("the ") + protect::part_name(part) + " part of the protection is missing";
            bool repaired = false;
            if (repair) {
                std::optional<std::string> failure =
                    in_subtransaction([&] { protect::restore_part(t.table, part); });
                repaired = !failure;
                detail += failure ? "; restoring it failed: " + *failure : "; restored";
            }
            if (part == protect::Part::ForeignKey && !repaired)
                t.foreign_key_missing = true;
            report.add(std::nullopt, "missing_part", t.table.name, detail, repaired);
        }
    }
}

void check_cross_tenant_references(Report &report)
{
    static spi::Statement references(
        "SELECT constraint_name::text, table_name::text, referenced_table::text"
        "  FROM tenancy.cross_tenant_foreign_keys ORDER BY 2, 1",
        {});
    uint64 rows = references.execute({}, false);
    std::vector<std::pair<std::string, std::string>> found;
    for (uint64 i = 0; i < rows; ++i)
        found.emplace_back(spi::get_text(i, 1).value_or(""),
                           "foreign key on " + spi::get_text(i, 2).value_or("") + " references " +
                               spi::get_text(i, 3).value_or("") +
                               " without the tenant column: a row can reference another tenant's row");
    for (const auto &[name, detail] : found)
        report.add(std::nullopt, "cross_tenant_foreign_key", name, detail, false);
}

struct LoadedRule {
    rules::Rule rule;
    bool has_unique_index = false;
};

std::vector<LoadedRule> load_rules()
{
    static spi::Statement query(
        "SELECT r.id, r.table_name::pg_catalog.oid::pg_catalog.int8, r.tenant_column::text, r.template::text,"
        "       r.unique_index IS NOT NULL"
        "  FROM tenancy.required_rows r"
        "  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.table_name"
        " ORDER BY r.id",
        {});
    std::vector<LoadedRule> loaded;
    uint64 rows = query.execute({}, false);
    for (uint64 i = 0; i < rows; ++i) {
        LoadedRule l;
        l.rule.id = spi::get_int64(i, 1).value_or(0);
        l.rule.relid = static_cast<Oid>(spi::get_int64(i, 2).value_or(0));
        l.rule.tenant_column = spi::get_text(i, 3).value_or("");
        l.rule.template_json = spi::get_text(i, 4).value_or("{}");
        l.has_unique_index = spi::get_bool(i, 5).value_or(false);
        loaded.push_back(std::move(l));
    }
    for (LoadedRule &l : loaded) {
        protect::Table table = protect::describe(l.rule.relid, l.rule.tenant_column);
        l.rule.table = table.name;
        l.rule.tenant_column = table.quoted_column;
        rules::load_columns(l.rule);
    }
    return loaded;
}

// The tenants among `tenants` that lack the rule's row, read as the table's
// owner.
std::vector<int64_t> missing_tenants(const rules::Rule &rule, const std::vector<int64_t> &tenants)
{
    std::string sql = rules::missing_rows_sql(rule);
    roles::ActingAs owner(roles::relation_owner(rule.relid), roles::kAsTableOwner);
    return column_of_ids(
        spi::execute_once(sql.c_str(), {spi::int8_array_param(tenants), spi::text_param(rule.template_json)}, false));
}

struct RepairOutcome {
    std::vector<int64_t> inserted;
    std::vector<int64_t> present_now; // inserted meanwhile by someone else
    std::vector<int64_t> still_missing;
};

// One INSERT ... SELECT ... ON CONFLICT DO NOTHING for every tenant, then one
// re-check, in a new snapshot, of the tenants whose insert was skipped.
RepairOutcome repair_rule(const rules::Rule &rule, const std::vector<int64_t> &tenants)
{
    RepairOutcome outcome;
    std::vector<int64_t> skipped;
    {
        std::string sql = rules::repair_sql(rule);
        roles::ActingAs owner(roles::relation_owner(rule.relid), roles::kAsTableOwner);
        uint64 rows = spi::execute_once(sql.c_str(), {spi::int8_array_param(tenants), spi::text_param(rule.template_json)}, false);
        for (uint64 i = 0; i < rows; ++i) {
            int64_t tenant = spi::get_int64(i, 1).value_or(0);
            (spi::get_bool(i, 2).value_or(false) ? outcome.inserted : skipped).push_back(tenant);
        }
    }
    if (!skipped.empty()) {
        outcome.still_missing = missing_tenants(rule, skipped);
        std::set_difference(skipped.begin(), skipped.end(), outcome.still_missing.begin(),
                            outcome.still_missing.end(), std::back_inserter(outcome.present_now));
    }
    return outcome;
}

void check_rules(Report &report, bool repair, const std::vector<int64_t> &active)
{
    for (const LoadedRule &l : load_rules()) {
        const rules::Rule &rule = l.rule;
        std::string wanted = "no row matching " + rule.template_json + " (rule " + std::to_string(rule.id) + ")";
        if (!l.has_unique_index)
            report.add(std::nullopt, "rule_without_unique_index", rule.table,
                       "rule " + std::to_string(rule.id) + " (" + rule.template_json +
                           "): no unique index on the tenant column and template columns, so missing rows "
                           "are reported but not inserted",
                       false);

        if (repair && l.has_unique_index) {
            RepairOutcome outcome;
            std::optional<std::string> failure = in_subtransaction([&] { outcome = repair_rule(rule, active); });
            if (!failure) {
                for (int64_t tenant : outcome.inserted)
                    report.add(tenant, "missing_row", rule.table, wanted + "; inserted", true);
                for (int64_t tenant : outcome.present_now)
                    report.add(tenant, "missing_row", rule.table, wanted + "; inserted meanwhile by another session",
                               true);
                for (int64_t tenant : outcome.still_missing)
                    report.add(tenant, "missing_row", rule.table,
                               wanted + "; not inserted: a conflicting row exists", false);
                continue;
            }
            wanted += "; inserting it failed: " + *failure;
        }

        std::vector<int64_t> missing;
        std::optional<std::string> failure = in_subtransaction([&] { missing = missing_tenants(rule, active); });
        if (failure) {
            report.add(std::nullopt, "invalid_rule", rule.table,
                       "rule " + std::to_string(rule.id) + " (" + rule.template_json + ") cannot be checked: " +
                           *failure,
                       false);
            continue;
        }
        for (int64_t tenant : missing)
            report.add(tenant, "missing_row", rule.table, wanted, false);
    }
}

// Rows of tenants that are deleted or unknown.  Only the tenant column is
// read, as the extension owner: no code of the table owner runs.  Unknown
// tenants can exist only while the foreign key is missing, and finding them
// needs a full scan, so that scan runs only then.
void check_orphan_rows(Report &report, const std::vector<ProtectedTable> &tables)
{
    std::vector<int64_t> deleted = tenants_with_status("deleted");
    for (const ProtectedTable &t : tables) {
        if (t.in_partitioned_table)
            continue; // the partitioned table's scan covers its rows
        const protect::Table &table = t.table;
        std::string with_rows = "SELECT d.id FROM pg_catalog.unnest($1::pg_catalog.int8[]) AS d (id)"
                                " WHERE EXISTS (SELECT FROM " + table.name + " AS x WHERE x." +
                                table.quoted_column + " OPERATOR(pg_catalog.=) d.id) ORDER BY 1";
        for (int64_t tenant : column_of_ids(spi::execute_once(with_rows.c_str(), {spi::int8_array_param(deleted)}, false)))
            report.add(tenant, "deleted_tenant_rows", table.name,
                       "rows of deleted tenant " + std::to_string(tenant) +
                           " are kept (check never deletes): restore the tenant or purge its rows",
                       false);
        if (!t.foreign_key_missing)
            continue;
        std::string unknown = "SELECT DISTINCT x." + table.quoted_column + " FROM " + table.name + " AS x" +
                              " WHERE NOT EXISTS (SELECT FROM tenancy.tenant AS t WHERE t.id OPERATOR(pg_catalog.=) x." +
                              table.quoted_column + ") AND x." + table.quoted_column + " IS NOT NULL ORDER BY 1";
        for (int64_t tenant : column_of_ids(spi::execute_once(unknown.c_str(), {}, false)))
            report.add(tenant, "unknown_tenant_rows", table.name,
                       "rows of tenant " + std::to_string(tenant) + ", which does not exist", false);
    }
}

} // namespace

} // namespace tenancy::check

using namespace tenancy;

// tenancy.check(repair boolean) RETURNS TABLE (tenant, problem, object, detail, repaired)
TENANCY_FUNCTION(tenancy_check)
{
    bool repair = args::required_bool(fcinfo, 0, "repair");
    check::Report report(fcinfo);
    spi::Connection spi;
    partitions::OwnDdl own_ddl;
    check::check_dropped_tables(report, repair);
    check::check_partitions(report, repair);
    std::vector<check::ProtectedTable> tables = check::existing_tables();
    check::check_parts(report, repair, tables);
    check::check_cross_tenant_references(report);
    check::check_rules(report, repair, check::active_shared_tenants());
    check::check_orphan_rows(report, tables);
    std::vector<tenant_check::Problem> placed;
    tenant_check::check_placements(repair, placed);
    for (const tenant_check::Problem &p : placed)
        report.add(p.tenant, p.problem.c_str(), p.object, p.detail, p.repaired);
    return (Datum)0;
}
