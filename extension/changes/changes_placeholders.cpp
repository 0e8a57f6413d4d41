// Change landing: tenancy.placeholders(older_than, tbl) lists placeholder
// rows: parents that events referenced and whose own create event has not
// arrived (docs/changes.md, "Placeholder parents").  Read-only, with the
// caller's privileges and row-level security; without tbl it lists the
// enabled tables the caller may read.
#include "changes/changes_table.hpp"
#include "rowcheck/protect_roles.hpp"
#include "shared/quoting.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
}

#include <string>
#include <vector>

namespace tenancy::changes {

namespace {

// Every enabled table that still exists, in OID order.
std::vector<Oid> enabled_tables()
{
    static spi::Statement query(
        "SELECT c.tbl::pg_catalog.oid::pg_catalog.int8 FROM tenancy.change_table c"
        " WHERE EXISTS (SELECT FROM pg_catalog.pg_class r WHERE r.oid OPERATOR(pg_catalog.=) c.tbl)"
        " ORDER BY 1",
        {});
    roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
    uint64 rows = query.execute({}, false);
    std::vector<Oid> tables;
    for (uint64 i = 0; i < rows; ++i)
        tables.push_back(static_cast<Oid>(spi::get_int64(i, 1).value_or(0)));
    return tables;
}

void list_placeholders(srf::Materialized &out, const Table &table, Datum older_than)
{
    std::string key = "pg_catalog.jsonb_build_object(";
    for (size_t k = 0; k < table.key.size(); ++k)
        key += (k ? ", " : "") + quoted_literal(table.key[k].column.name) + ", t." + table.key[k].column.quoted;
    key += ")";
    std::string sql = "SELECT $1::pg_catalog.regclass, " + key + ", t." + table.placeholder_column + " FROM " +
                      table.name + " AS t WHERE t." + table.placeholder_column +
                      " OPERATOR(pg_catalog.<=) (pg_catalog.now() OPERATOR(pg_catalog.-) $2) ORDER BY t." +
                      table.placeholder_column;
    uint64 rows = spi::execute_once(sql.c_str(),
                                    {spi::datum_param(OIDOID, ObjectIdGetDatum(table.relid), false),
                                     spi::datum_param(INTERVALOID, older_than, false)},
                                    true);
    srf::put_spi_rows(out, rows);
}

} // namespace

} // namespace tenancy::changes

using namespace tenancy;
using namespace tenancy::changes;

// tenancy.placeholders(older_than interval, tbl regclass)
//   RETURNS TABLE (table_name regclass, key jsonb, placeholder_since timestamptz)
TENANCY_FUNCTION(tenancy_placeholders)
{
    if (args::is_null(fcinfo, 0))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "older_than must not be NULL");
    Datum older_than = PG_GETARG_DATUM(0);
    std::optional<Oid> only;
    if (!args::is_null(fcinfo, 1))
        only = PG_GETARG_OID(1);

    srf::Materialized out(fcinfo);
    spi::Connection spi;
    std::vector<Oid> tables = only ? std::vector<Oid>{*only} : enabled_tables();
    for (Oid relid : tables) {
        bool exists = pg_call([&] {
            LockRelationOid(relid, AccessShareLock);
            return get_rel_relkind(relid) != '\0';
        });
        if (!exists) {
            if (only)
                throw Error(ERRCODE_UNDEFINED_TABLE, "relation with OID " + std::to_string(relid) + " does not exist");
            continue; // dropped since we listed it
        }
        // Listing every table skips those the caller may not read; naming
        // one reports the missing privilege as the query would.
        bool readable = pg_call([&] { return pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK; });
        if (!only && !readable)
            continue;
        std::shared_ptr<const Table> table = only ? require_enabled_table(relid) : enabled_table(relid);
        if (table)
            list_placeholders(out, *table, older_than);
    }
    return Datum(0);
}
