// Link sync: tenancy.sync_links replaces one owner's set of links in the
// application's own table with one set-based statement (docs/links.md).
//
// Order of work, and why:
//  1. lock the table ROW EXCLUSIVE (what the DELETE and INSERT take anyway),
//     so that the columns and the unique index we check cannot change, and a
//     running tenancy.dedupe (SHARE ROW EXCLUSIVE) finishes first;
//  2. resolve the columns, require the unique index on exactly
//     (owner, target), convert the arguments to the column types;
//  3. take a transaction advisory lock on (table, hash of owner): syncs of
//     one owner queue here, syncs of other owners do not;
//  4. run the statement.  SPI gives every non-read-only statement a new
//     snapshot, which in READ COMMITTED is taken after the lock was granted:
//     the statement sees the set the previous sync committed and replaces it.
//     Under REPEATABLE READ and SERIALIZABLE the transaction's snapshot may
//     predate the sync we waited for; working from it would merge that
//     sync's set with ours.  So there the statement runs with the latest
//     snapshot and the transaction's as crosscheck, as foreign-key checks
//     do: removing a link the transaction cannot see fails with 40001
//     (retry the transaction) instead of leaving a mix.
//
// The function is SECURITY INVOKER: the statement runs with the caller's
// privileges and row-level security policies.
#include "links/links_catalog.hpp"
#include "links/links_values.hpp"
#include "shared/plan_cache.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "access/xact.h"
#include "utils/snapmgr.h"
}

#include <string>

namespace tenancy::links {

namespace {

// Argument positions of tenancy.sync_links.
enum SyncArg { kTable, kOwnerColumn, kOwnerValue, kTargetColumn, kTargets };

std::string required_name(FunctionCallInfo fcinfo, int n, const char *parameter)
{
    if (args::is_null(fcinfo, n))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, std::string(parameter) + " must not be NULL");
    return NameStr(*PG_GETARG_NAME(n));
}

// The one statement of a sync.  $1 is the owner, $2 the array of targets,
// both already of the column types.  The data-modifying CTEs share one
// snapshot: `removed` deletes the owner's rows whose target is not wanted,
// `added` inserts the wanted targets that have no row yet.  Rows that stay
// are touched by neither, so they are not rewritten.  NULL targets are
// dropped in `wanted` (and NOT EXISTS, unlike <> ALL, is not confused by
// them).  ON CONFLICT covers a row inserted concurrently by a writer that
// does not go through sync_links; PostgreSQL refuses it when a deferrable
// unique constraint on the same columns exists (`on_conflict` false), and
// then such a writer's row makes the sync fail with 23505 instead.
std::string sync_statement(const std::string &table, const KeyColumn &owner, const std::string &owner_eq,
                           const KeyColumn &target, const std::string &target_eq, bool on_conflict)
{
    const std::string &o = owner.quoted_name;
    const std::string &t = target.quoted_name;
    return "WITH wanted AS ("
           "SELECT DISTINCT w.v AS target FROM pg_catalog.unnest($2) AS w(v) WHERE w.v IS NOT NULL), "
           "removed AS ("
           "DELETE FROM " + table + " AS l WHERE l." + o + " " + owner_eq + " $1 "
           "AND NOT EXISTS (SELECT FROM wanted WHERE wanted.target " + target_eq + " l." + t + ") "
           "RETURNING 1), "
           "added AS ("
           "INSERT INTO " + table + " AS l (" + o + ", " + t + ") "
           "SELECT $1, wanted.target FROM wanted "
           "WHERE NOT EXISTS (SELECT FROM " + table + " AS e WHERE e." + o + " " + owner_eq + " $1 "
           "AND e." + t + " " + target_eq + " wanted.target) "
           + (on_conflict ? "ON CONFLICT (" + o + ", " + t + ") DO NOTHING " : std::string()) + "RETURNING 1) "
           "SELECT (SELECT pg_catalog.count(*) FROM added), (SELECT pg_catalog.count(*) FROM removed)";
}

// Saved plans of the sync statement, one per statement text and parameter
// types (shared/plan_cache.hpp).  The text holds the current names of the
// table, its columns and the equality operators, all read from the catalog on
// every call, so a renamed or recreated table or column, or a changed type,
// gives a new key, never a stale plan.
spi::PlanCache sync_plans(64);

[[noreturn]] void throw_missing_unique_index(Oid relid, const KeyColumn &owner, const KeyColumn &target)
{
    std::string table = quoted_relation_name(relid);
    std::string columns = owner.quoted_name + ", " + target.quoted_name;
    // The message itself names the constraint and dedupe: it is often the
    // only part of an error an application logs.
    throw Error(ERRCODE_INVALID_COLUMN_REFERENCE,
                "sync_links requires a unique constraint on (" + columns + ") of table \"" + relation_name(relid) +
                    "\": add it with ALTER TABLE " + table + " ADD UNIQUE (" + columns +
                    "), or run tenancy.dedupe if the table holds duplicates",
                "Without the constraint, concurrent writers can store duplicate links.",
                "SELECT tenancy.dedupe(" + quoted_literal(table) + ", ARRAY[" + quoted_literal(owner.name) + ", " +
                    quoted_literal(target.name) + "]) removes duplicates and creates a unique index.");
}

struct SyncCounts {
    int64_t added = 0;
    int64_t removed = 0;
};

} // namespace

} // namespace tenancy::links

using namespace tenancy;
using namespace tenancy::links;

TENANCY_FUNCTION(tenancy_sync_links)
{
    if (args::is_null(fcinfo, kTable))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "link_table must not be NULL");
    Oid relid = PG_GETARG_OID(kTable);
    std::string owner_column = required_name(fcinfo, kOwnerColumn, "owner_column");
    std::string target_column = required_name(fcinfo, kTargetColumn, "target_column");
    if (args::is_null(fcinfo, kOwnerValue))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "owner_value must not be NULL");
    if (args::is_null(fcinfo, kTargets))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "targets must not be NULL",
                    {}, "Pass an empty array to remove all of the owner's links.");
    Oid owner_arg_type = pg_call([&] { return get_fn_expr_argtype(fcinfo->flinfo, kOwnerValue); });
    Oid targets_arg_type = pg_call([&] { return get_fn_expr_argtype(fcinfo->flinfo, kTargets); });
    if (!OidIsValid(owner_arg_type) || !OidIsValid(targets_arg_type))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "could not determine the types of owner_value and targets");

    srf::Materialized result(fcinfo);

    lock_table(relid, RowExclusiveLock, /*allow_partitioned=*/true);
    KeyColumn owner = resolve_column(relid, owner_column, "owner_column");
    KeyColumn target = resolve_column(relid, target_column, "target_column");
    if (owner.attnum == target.attnum)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "owner_column and target_column must be different columns");
    Oid index = find_unique_index(relid, {owner.attnum, target.attnum});
    if (!OidIsValid(index))
        throw_missing_unique_index(relid, owner, target);

    Oid targets_type = pg_call([&] { return get_array_type(target.type); });
    if (!OidIsValid(targets_type))
        throw Error(ERRCODE_FEATURE_NOT_SUPPORTED, "column \"" + target.name + "\" has a type without an array type");
    Datum owner_value = convert_value(PG_GETARG_DATUM(kOwnerValue), owner_arg_type, owner.type, "owner_value");
    Datum targets = convert_value(PG_GETARG_DATUM(kTargets), targets_arg_type, targets_type, "targets");

    std::string sql = sync_statement(quoted_relation_name(relid), owner, index_equality_operator(index, owner.attnum),
                                     target, index_equality_operator(index, target.attnum),
                                     !has_deferrable_unique_index(relid, {owner.attnum, target.attnum}));
    int32 owner_hash = owner_lock_hash(owner_value, owner.type, owner.collation);

    SyncCounts counts;
    {
        spi::Connection spi;
        const std::vector<Oid> types{owner.type, targets_type};
        SPIPlanPtr plan = sync_plans.get(sql, types, [&] { return spi::PlanCache::prepare_kept(sql, types); });
        pg_call([&] {
            DirectFunctionCall2(pg_advisory_xact_lock_int4, Int32GetDatum(static_cast<int32>(relid)),
                                Int32GetDatum(owner_hash));
        });
        Datum values[2] = {owner_value, targets};
        int rc = pg_call([&] {
            if (IsolationUsesXactSnapshot())
                return SPI_execute_snapshot(plan, values, "  ", GetLatestSnapshot(), GetTransactionSnapshot(),
                                            false, true, 0);
            return SPI_execute_plan(plan, values, "  ", false, 0);
        });
        if (rc != SPI_OK_SELECT || SPI_processed != 1)
            throw Error(ERRCODE_INTERNAL_ERROR, std::string("sync statement failed: ") + SPI_result_code_string(rc));
        counts.added = spi::get_int64(0, 1).value_or(0);
        counts.removed = spi::get_int64(0, 2).value_or(0);
    }

    Datum row[2] = {Int64GetDatum(counts.added), Int64GetDatum(counts.removed)};
    bool nulls[2] = {false, false};
    result.put_values(row, nulls);
    return Datum(0);
}
