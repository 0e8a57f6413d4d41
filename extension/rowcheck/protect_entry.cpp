// tenancy.protect and tenancy.unprotect: the SQL entry points of protected
// tables, for an ordinary table or a whole partitioned table
// (protect_partitions.hpp says what a partitioned table's protection covers).
//
// Both run with the caller's rights and check first that the caller owns
// every table they change (protect_roles.hpp).
#include "rowcheck/protect.hpp"
#include "rowcheck/protect_partitions.hpp"
#include "rowcheck/protect_roles.hpp"
#include "shared/errcodes.hpp"
#include "shared/quoting.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "utils/lsyscache.h"
}

using namespace tenancy;

namespace {

Oid required_table(FunctionCallInfo fcinfo, int n)
{
    if (args::is_null(fcinfo, n))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "tbl must not be NULL");
    return PG_GETARG_OID(n);
}

std::string required_name(FunctionCallInfo fcinfo, int n, const char *what)
{
    if (args::is_null(fcinfo, n))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, std::string(what) + " must not be NULL");
    return std::string(NameStr(*PG_GETARG_NAME(n)));
}

// Checks ownership of, and locks, each table in order.
void own_and_lock(const std::vector<Oid> &tables)
{
    for (Oid relid : tables)
        roles::require_table_owner(relid, quoted_relation_name(relid));
    for (Oid relid : tables)
        protect::lock_table(protect::describe(relid, {}));
}

bool is_partition(Oid relid)
{
    return pg_call([&] { return get_rel_relispartition(relid); });
}

// Rows of a partition are readable through its parent, under the parent's
// policies only: protecting a partition alone leaves them exposed there.
void warn_unprotected_parent(const protect::Table &table)
{
    Oid parent = pg_call([&] { return get_partition_parent(table.relid, false); });
    std::string parent_name = quoted_relation_name(parent);
    pg_call([&] {
        ereport(WARNING,
                (errmsg("table %s is a partition of unprotected table %s", table.name.c_str(), parent_name.c_str()),
                 errdetail("Queries through the partitioned table see every tenant's rows of this partition."),
                 errhint("Protect the partitioned table instead: it protects every partition.")));
    });
}

// Foreign keys that let a row of one tenant reference another tenant's row
// are legal, so they are reported, not refused (docs/rowcheck.md).
void warn_cross_tenant_references(const protect::Table &table)
{
    static spi::Statement references(
        "SELECT constraint_name::text, table_name::text, referenced_table::text"
        "  FROM tenancy.cross_tenant_foreign_keys"
        " WHERE table_name OPERATOR(pg_catalog.=) $1 OR referenced_table OPERATOR(pg_catalog.=) $1"
        " ORDER BY 1",
        {OIDOID});

    roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
    uint64 rows = references.execute({spi::oid_param(table.relid)}, false);
    for (uint64 i = 0; i < rows; ++i) {
        std::string name = spi::get_text(i, 1).value_or("");
        std::string from = spi::get_text(i, 2).value_or("");
        std::string to = spi::get_text(i, 3).value_or("");
        pg_call([&] {
            ereport(WARNING,
                    (errmsg("foreign key %s of table %s references %s without the tenant column", name.c_str(),
                            from.c_str(), to.c_str()),
                     errdetail("A row of one tenant can reference a row of another tenant through it."),
                     errhint("Include the tenant column on both sides, e.g. FOREIGN KEY (tenant_id, x) "
                             "REFERENCES t (tenant_id, id), with a unique key on t (tenant_id, id).")));
        });
    }
}


// The required-row rules naming any of `tables`.
int64_t rules_on(const std::vector<Oid> &tables)
{
    static spi::Statement count(
        "SELECT count(*) FROM tenancy.required_row"
        " WHERE tbl::pg_catalog.oid::pg_catalog.int8 OPERATOR(pg_catalog.=) ANY ($1)",
        {INT8ARRAYOID});
    std::vector<int64_t> ids(tables.begin(), tables.end());
    roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
    count.execute({spi::int8_array_param(ids)}, false);
    return spi::get_int64(0, 1).value_or(0);
}

// The tables recorded as protected through `root`, parents before children.
std::vector<Oid> recorded_members(Oid root)
{
    static spi::Statement query(
        "SELECT m.relid::pg_catalog.oid::pg_catalog.int8 FROM pg_catalog.pg_partition_tree($1) m"
        "  JOIN tenancy.protected_table q ON q.tbl OPERATOR(pg_catalog.=) m.relid"
        " WHERE q.partition_of OPERATOR(pg_catalog.=) $1::pg_catalog.regclass ORDER BY m.level, m.relid",
        {OIDOID});
    roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
    std::vector<Oid> result;
    uint64 rows = query.execute({spi::oid_param(root)}, false);
    for (uint64 i = 0; i < rows; ++i)
        result.push_back(static_cast<Oid>(spi::get_int64(i, 1).value_or(0)));
    return result;
}

} // namespace

// tenancy.protect(tbl regclass, tenant_column name) RETURNS void
//
// A partitioned table: the table and every partition below it.  A partition
// of a protected table: protected through that table (a repair, if the event
// trigger missed it).  A partition of an unprotected table: protected on its
// own, with a warning.
TENANCY_FUNCTION(tenancy_protect)
{
    Oid relid = required_table(fcinfo, 0);
    protect::Table table = protect::describe(relid, required_name(fcinfo, 1, "tenant_column"));
    roles::require_table_owner(relid, table.name);
    protect::lock_table(table);
    char kind = protect::validate_protectable(table);

    spi::Connection spi;
    partitions::OwnDdl own_ddl;
    std::optional<partitions::Root> root = partitions::protected_root_of(relid);
    if (root && root->column != table.column)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                    "table " + table.name + " is a partition of " + quoted_relation_name(root->relid) +
                        ", which is protected on column " + root->column,
                    {}, "A partition is protected on its partitioned table's tenant column.");
    std::optional<Oid> through = root ? std::optional<Oid>(root->relid) : std::nullopt;
    // Every partition is checked and locked before anything changes: the
    // partitioned table's NOT NULL and index reach into them.
    std::vector<Oid> below;
    if (kind == RELKIND_PARTITIONED_TABLE) {
        below = partitions::members(relid);
        own_and_lock(below);
        for (Oid member : below)
            protect::validate_protectable(protect::describe(member, table.column));
    }
    protect::protect_one(table, through);

    if (kind == RELKIND_PARTITIONED_TABLE) {
        for (Oid member : below)
            protect::protect_one(protect::describe(member, table.column), through ? *through : relid);
        // Partitions detached while the event trigger was not looking stay
        // protected on their own.
        if (!through)
            for (const partitions::Pending &p : partitions::pending({relid}))
                if (p.kind == partitions::Pending::Kind::Detached)
                    partitions::settle(p);
    }
    if (!root && is_partition(relid))
        warn_unprotected_parent(table);
    warn_cross_tenant_references(table);
    PG_RETURN_VOID();
}

// tenancy.unprotect(tbl regclass) RETURNS boolean
//
// A protected partitioned table: undoes the protection of every partition
// protected through it.  A partition protected through its partitioned
// table cannot be unprotected alone (TN051).
TENANCY_FUNCTION(tenancy_unprotect)
{
    Oid relid = required_table(fcinfo, 0);
    protect::Table table = protect::describe(relid, {});
    roles::require_table_owner(relid, table.name);
    protect::lock_table(table);

    spi::Connection spi;
    partitions::OwnDdl own_ddl;
    if (std::optional<partitions::Root> root = partitions::protected_root_of(relid))
        throw Error(errcode::kProtectedThroughParent,
                    "table " + table.name + " is protected through its partitioned table " +
                        quoted_relation_name(root->relid),
                    "Unprotecting one partition would leave its rows unisolated when it is queried directly.",
                    "Unprotect " + quoted_relation_name(root->relid) + ", or detach the partition first.");

    // Detached partitions stay protected on their own: settle them before
    // looking at what is still in the tree.
    for (const partitions::Pending &p : partitions::pending({relid}))
        if (p.kind == partitions::Pending::Kind::Detached)
            partitions::settle(p);
    std::vector<Oid> below = recorded_members(relid);
    std::vector<Oid> all{relid};
    all.insert(all.end(), below.begin(), below.end());
    if (int64_t rules = rules_on(all); rules > 0)
        throw Error(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST,
                    "table " + table.name + (below.empty() ? "" : " or its partitions") + " has " +
                        std::to_string(rules) + " required-row rules",
                    {}, "Remove them with tenancy.unrequire_row first.");
    own_and_lock(below);

    // The partitioned table first: dropping its NOT NULL, foreign key and
    // index takes the partitions' copies with them.
    if (!protect::unprotect_one(relid))
        PG_RETURN_BOOL(false);
    for (Oid member : below)
        protect::unprotect_one(member);
    PG_RETURN_BOOL(true);
}
