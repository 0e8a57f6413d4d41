// Link sync: repairing a legacy link table that already holds duplicates.
//
// tenancy.find_duplicates lists the duplicated keys; tenancy.dedupe removes
// the duplicates and makes sure a unique index prevents new ones, so that
// tenancy.sync_links accepts the table (docs/links.md).  Both are SECURITY
// INVOKER: the caller needs the privileges of the statements they run.
//
// Only the table itself is examined (ONLY): a unique index covers one table,
// not its inheritance children.  Rows with a NULL in any key column are never
// duplicates, as for a unique index.
#include "links/links_catalog.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

#include <algorithm>
#include <string>
#include <vector>

namespace tenancy::links {

namespace {

// The key columns of a dedupe or find_duplicates call.
struct KeyList {
    std::vector<KeyColumn> columns;

    std::vector<AttrNumber> attnums() const
    {
        std::vector<AttrNumber> result;
        for (const KeyColumn &c : columns)
            result.push_back(c.attnum);
        return result;
    }

    // "a, b": the quoted names joined, for column lists in SQL.
    std::string joined(const std::string &prefix = {}) const
    {
        std::string text;
        for (const KeyColumn &c : columns)
            text += (text.empty() ? "" : ", ") + prefix + c.quoted_name;
        return text;
    }

    // "a IS NOT NULL AND b IS NOT NULL"
    std::string all_not_null() const
    {
        std::string text;
        for (const KeyColumn &c : columns)
            text += (text.empty() ? "" : " AND ") + c.quoted_name + " IS NOT NULL";
        return text;
    }
};

Oid required_table(FunctionCallInfo fcinfo)
{
    if (args::is_null(fcinfo, 0))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "tbl must not be NULL");
    return PG_GETARG_OID(0);
}

// Reads key_columns (argument 1): a non-empty name[] of distinct user columns.
KeyList required_key_columns(FunctionCallInfo fcinfo, Oid relid)
{
    if (args::is_null(fcinfo, 1))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "key_columns must not be NULL");
    Datum *elements = nullptr;
    bool *nulls = nullptr;
    int count = 0;
    pg_call([&] {
        ArrayType *array = PG_GETARG_ARRAYTYPE_P(1);
        deconstruct_array(array, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, &elements, &nulls, &count);
    });
    if (count == 0)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "key_columns must name at least one column");
    KeyList keys;
    for (int i = 0; i < count; ++i) {
        if (nulls[i])
            throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "key_columns must not contain NULL");
        KeyColumn column = resolve_column(relid, NameStr(*DatumGetName(elements[i])), "key_columns");
        for (const KeyColumn &seen : keys.columns)
            if (seen.attnum == column.attnum)
                throw Error(ERRCODE_DUPLICATE_COLUMN, "column \"" + column.name + "\" appears twice in key_columns");
        keys.columns.push_back(std::move(column));
    }
    return keys;
}

// One row per duplicated key: the key as a jsonb object {column: value} and
// how many rows carry it.
std::string duplicates_query(const std::string &table, const KeyList &keys)
{
    std::string object;
    for (const KeyColumn &c : keys.columns) {
        object += (object.empty() ? "" : ", ") + quoted_literal(c.name) + ", t." + c.quoted_name;
    }
    return "SELECT pg_catalog.jsonb_build_object(" + object + ") AS key, pg_catalog.count(*) AS count "
           "FROM ONLY " + table + " AS t WHERE " + keys.all_not_null() +
           " GROUP BY " + keys.joined("t.") +
           " HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1 ORDER BY 2 DESC, 1";
}

// Deletes every row but the first (lowest ctid) of each duplicated key.
std::string dedupe_statement(const std::string &table, const KeyList &keys)
{
    return "DELETE FROM ONLY " + table + " AS t WHERE t.ctid OPERATOR(pg_catalog.=) ANY (ARRAY("
           "SELECT d.ctid FROM (SELECT ctid, pg_catalog.row_number() OVER (PARTITION BY " + keys.joined() +
           " ORDER BY ctid) AS n FROM ONLY " + table + " WHERE " + keys.all_not_null() +
           ") AS d WHERE d.n OPERATOR(pg_catalog.>) 1))";
}

} // namespace

} // namespace tenancy::links

using namespace tenancy;
using namespace tenancy::links;

TENANCY_FUNCTION(tenancy_find_duplicates)
{
    Oid relid = required_table(fcinfo);
    srf::Materialized result(fcinfo);
    // The SELECT itself takes ACCESS SHARE; this lock only makes the catalog
    // reads below stable.
    lock_table(relid, AccessShareLock, /*allow_partitioned=*/false);
    KeyList keys = required_key_columns(fcinfo, relid);
    std::string sql = duplicates_query(quoted_relation_name(relid), keys);

    spi::Connection spi;
    uint64 rows = spi::execute_once(sql.c_str(), {}, /*read_only=*/true);
    srf::put_spi_rows(result, rows);
    return Datum(0);
}

TENANCY_FUNCTION(tenancy_dedupe)
{
    Oid relid = required_table(fcinfo);
    // Check DELETE before locking, so that a role that may not change the
    // table cannot block its writers either.
    AclResult acl = pg_call([&] { return pg_class_aclcheck(relid, GetUserId(), ACL_DELETE); });
    if (acl != ACLCHECK_OK)
        throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied for table " + relation_name(relid));
    // SHARE ROW EXCLUSIVE: conflicts with the ROW EXCLUSIVE of every INSERT,
    // UPDATE and DELETE (including sync_links), so no duplicate can appear
    // between our DELETE and the index build, and with itself, so two dedupes
    // queue; readers carry on.  CREATE INDEX needs SHARE, which this includes.
    lock_table(relid, ShareRowExclusiveLock, /*allow_partitioned=*/false);
    KeyList keys = required_key_columns(fcinfo, relid);
    std::string table = quoted_relation_name(relid);

    int64_t removed = 0;
    std::string created_index;
    {
        spi::Connection spi;
        removed = static_cast<int64_t>(spi::execute_once(dedupe_statement(table, keys).c_str(), {}, false));
        if (!OidIsValid(find_unique_index(relid, keys.attnums()))) {
            // No name given: PostgreSQL picks <table>_<columns>_idx, made
            // unique and truncated to fit, as for any unnamed index.
            std::string create = "CREATE UNIQUE INDEX ON " + table + " (" + keys.joined() + ")";
            spi::execute_once(create.c_str(), {}, false);
            Oid index = find_unique_index(relid, keys.attnums());
            created_index = relation_name(index);
        }
    }
    if (!created_index.empty()) {
        std::string message = "created unique index \"" + created_index + "\" on " + table;
        pg_call([&] { ereport(NOTICE, (errmsg_internal("%s", message.c_str()))); });
    }
    return Int64GetDatum(removed);
}
