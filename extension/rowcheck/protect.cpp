// Protected tables: tenancy.protect and tenancy.unprotect, and the creation
// of each part of a table's protection (also used by tenancy.check's repair).
//
// Touches the caller's table (DDL only, never its rows) and the bookkeeping
// table tenancy.protected_table.  Every identifier is quoted with
// quote_identifier / quote_qualified_identifier.
//
// Every SPI statement of this capability runs with read_only = false, even
// the reads: a read-only statement uses the snapshot of the calling query and
// would not see what an earlier statement of the same call wrote.
#include "rowcheck/protect.hpp"
#include "shared/quoting.hpp"

#include "rowcheck/protect_roles.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace tenancy::protect {

namespace {

struct PartInfo {
    Part part;
    const char *name; // the column of tenancy.protected_tables
};

constexpr PartInfo kParts[] = {
    {Part::NotNull, "not_null"},       {Part::ForeignKey, "foreign_key"}, {Part::Index, "index"},
    {Part::RlsEnabled, "rls_enabled"}, {Part::RlsForced, "rls_forced"},   {Part::Policy, "policy"},
    {Part::Trigger, "trigger"},        {Part::TruncateGuard, "truncate_guard"},
};

void execute_ddl(const std::string &sql) { spi::execute_once(sql.c_str(), {}, false); }

// What restore_part records as added by protect; unprotect removes these.
struct Added {
    bool not_null = false;
    std::optional<std::string> foreign_key;
    std::optional<std::string> index_name;
    bool enabled_rls = false;
    bool forced_rls = false;
};

void record_added(Oid relid, const Added &added)
{
    static spi::Statement update(
        "UPDATE tenancy.protected_table"
        "   SET added_not_null = added_not_null OR $2,"
        "       foreign_key = coalesce($3::pg_catalog.name, foreign_key),"
        "       index_name = coalesce($4::pg_catalog.name, index_name),"
        "       enabled_rls = enabled_rls OR $5,"
        "       forced_rls = forced_rls OR $6"
        " WHERE tbl OPERATOR(pg_catalog.=) $1",
        {OIDOID, BOOLOID, TEXTOID, TEXTOID, BOOLOID, BOOLOID});

    roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
    update.execute({spi::oid_param(relid), spi::bool_param(added.not_null), spi::optional_text_param(added.foreign_key),
                    spi::optional_text_param(added.index_name), spi::bool_param(added.enabled_rls),
                    spi::bool_param(added.forced_rls)},
                   false);
}

// The names PostgreSQL itself would choose, avoiding any that are taken.
std::string choose_constraint_name(Oid relid, const std::string &column)
{
    return pg_call([&] {
        return std::string(ChooseConstraintName(get_rel_name(relid), column.c_str(), "tenancy_fkey",
                                                get_rel_namespace(relid), NIL));
    });
}

std::string choose_index_name(Oid relid, const std::string &column)
{
    return pg_call([&] {
        return std::string(
            ChooseRelationName(get_rel_name(relid), column.c_str(), "tenancy_idx", get_rel_namespace(relid), false));
    });
}

// The policy expression: the subquery makes current_tenant() an InitPlan,
// evaluated once per query and usable as an index condition.
std::string isolation_expression(const Table &table)
{
    return "(" + table.quoted_column + " OPERATOR(pg_catalog.=) (SELECT tenancy.current_tenant()))";
}

void create_not_null(const Table &table)
{
    // Count with FORCE ROW LEVEL SECURITY lifted: a table protected before
    // must be judged on all its rows, not on the current tenant's.
    uint64 nulls = 0;
    {
        roles::ActingAs self(GetUserId(), SECURITY_NOFORCE_RLS);
        std::string sql = "SELECT count(*) FROM " + table.name + " WHERE " + table.quoted_column + " IS NULL";
        spi::execute_once(sql.c_str(), {}, false);
        nulls = static_cast<uint64>(spi::get_int64(0, 1).value_or(0));
    }
    if (nulls > 0)
        throw Error(ERRCODE_NOT_NULL_VIOLATION,
                    "table " + table.name + " has " + std::to_string(nulls) + " rows whose " + table.quoted_column +
                        " is NULL",
                    "The tenant column of a protected table is NOT NULL.",
                    "Give those rows a tenant, then call tenancy.protect again.");
    execute_ddl("ALTER TABLE " + table.name + " ALTER COLUMN " + table.quoted_column + " SET NOT NULL");
    Added added;
    added.not_null = true;
    record_added(table.relid, added);
}

void create_foreign_key(const Table &table)
{
    std::string name = choose_constraint_name(table.relid, table.column);
    {
        // REFERENCES on tenancy.tenant is the extension owner's to use; the
        // check it adds runs with the referenced table's owner's rights anyway.
        roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
        execute_ddl("ALTER TABLE " + table.name + " ADD CONSTRAINT " + quoted_identifier(name) + " FOREIGN KEY (" +
                    table.quoted_column + ") REFERENCES tenancy.tenant (id)");
    }
    Added added;
    added.foreign_key = name;
    record_added(table.relid, added);
}

// Whether table `relid` has a constraint named `name`.  A part protect added
// may be gone already: removed by the user (check reports that), or with the
// partitioned table's own when the table was attached to it.
bool has_constraint(Oid relid, const std::string &name)
{
    static spi::Statement query(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_constraint"
        "                WHERE conrelid OPERATOR(pg_catalog.=) $1"
        "                  AND conname OPERATOR(pg_catalog.=) $2::pg_catalog.name)",
        {OIDOID, TEXTOID});
    return query.execute({spi::oid_param(relid), spi::text_param(name)}, false) == 1 &&
           spi::get_bool(0, 1).value_or(false);
}

// Whether the parent of partition `relid` has its `column` NOT NULL, which
// then cannot be dropped from the partition alone.
bool not_null_in_parent(Oid relid, const std::string &column)
{
    static spi::Statement query(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_inherits i"
        "                 JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.inhparent"
        "                WHERE i.inhrelid OPERATOR(pg_catalog.=) $1"
        "                  AND a.attname OPERATOR(pg_catalog.=) $2::pg_catalog.name AND a.attnotnull)",
        {OIDOID, TEXTOID});
    return query.execute({spi::oid_param(relid), spi::text_param(column)}, false) == 1 &&
           spi::get_bool(0, 1).value_or(false);
}

void create_index(const Table &table)
{
    std::string name = choose_index_name(table.relid, table.column);
    execute_ddl("CREATE INDEX " + quoted_identifier(name) + " ON " + table.name + " (" + table.quoted_column + ")");
    Added added;
    added.index_name = name;
    record_added(table.relid, added);
}

} // namespace

const char *part_name(Part part)
{
    for (const PartInfo &info : kParts)
        if (info.part == part)
            return info.name;
    return "unknown";
}

Table describe(Oid relid, const std::string &column)
{
    Table table;
    table.relid = relid;
    table.column = column;
    table.name = quoted_relation_name(relid);
    table.quoted_column = quoted_identifier(column);
    return table;
}

std::vector<Part> missing_parts(Oid relid)
{
    static spi::Statement parts(
        "SELECT not_null, foreign_key, index, rls_enabled, rls_forced, policy, trigger, truncate_guard"
        "  FROM tenancy.protected_tables WHERE table_name OPERATOR(pg_catalog.=) $1",
        {OIDOID});

    roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
    std::vector<Part> missing;
    if (parts.execute({spi::oid_param(relid)}, false) == 0)
        return missing;
    for (int i = 0; i < static_cast<int>(std::size(kParts)); ++i)
        if (!spi::get_bool(0, i + 1).value_or(false))
            missing.push_back(kParts[i].part);
    return missing;
}

void restore_part(const Table &table, Part part)
{
    switch (part) {
    case Part::NotNull:
        create_not_null(table);
        break;
    case Part::ForeignKey:
        create_foreign_key(table);
        break;
    case Part::Index:
        create_index(table);
        break;
    case Part::RlsEnabled: {
        execute_ddl("ALTER TABLE " + table.name + " ENABLE ROW LEVEL SECURITY");
        Added added;
        added.enabled_rls = true;
        record_added(table.relid, added);
        break;
    }
    case Part::RlsForced: {
        execute_ddl("ALTER TABLE " + table.name + " FORCE ROW LEVEL SECURITY");
        Added added;
        added.forced_rls = true;
        record_added(table.relid, added);
        break;
    }
    case Part::Policy:
        execute_ddl(std::string("CREATE POLICY ") + kPolicyName + " ON " + table.name + " USING " +
                    isolation_expression(table) + " WITH CHECK " + isolation_expression(table));
        break;
    case Part::Trigger: {
        // OR REPLACE also re-enables a disabled trigger and fixes its argument.
        //
        // The WHEN condition keeps the common case, a row of the current
        // tenant, from calling the guard at all (it still fires for a NULL
        // tenant, a row of another tenant, and whenever no tenant is set).
        // PostgreSQL evaluates it inline, whereas every call of a function
        // pays the function manager and the GUC save and restore of its
        // pinned search_path (measured at a fifth of a protected COPY).  Skipping the guard then loses
        // nothing: for a role under the policy, USING shows only rows of the
        // current tenant, so an UPDATE that ends in the current tenant also
        // started there, and WITH CHECK still judges every row.
        std::string column_literal = quoted_literal(table.column);
        execute_ddl(std::string("CREATE OR REPLACE TRIGGER ") + kTriggerName + " BEFORE INSERT OR UPDATE ON " +
                    table.name + " FOR EACH ROW WHEN ((NEW." + table.quoted_column +
                    " OPERATOR(pg_catalog.=) NULLIF(pg_catalog.current_setting('tenancy.tenant_id', true), '')::pg_catalog.int8)"
                    " IS NOT TRUE)"
                    " EXECUTE FUNCTION tenancy.tenant_guard(" + column_literal + ")");
        break;
    }
    case Part::TruncateGuard:
        // TRUNCATE is not subject to row-level security; statement-level
        // triggers are not cloned to partitions, so each member of a
        // partitioned table gets its own (protect_partitions.cpp).
        execute_ddl(std::string("CREATE OR REPLACE TRIGGER ") + kTruncateTriggerName + " BEFORE TRUNCATE ON " +
                    table.name + " FOR EACH STATEMENT EXECUTE FUNCTION tenancy.truncate_guard()");
        break;
    }
}

void lock_table(const Table &table)
{
    bool exists = pg_call([&] {
        LockRelationOid(table.relid, AccessExclusiveLock);
        return SearchSysCacheExists1(RELOID, ObjectIdGetDatum(table.relid));
    });
    if (!exists)
        throw Error(ERRCODE_UNDEFINED_TABLE, "table " + table.name + " was dropped");
}

char validate_protectable(const Table &table)
{
    char kind = 0;
    Oid column_type = InvalidOid;
    bool in_extension_schema = false;
    pg_call([&] {
        kind = get_rel_relkind(table.relid);
        in_extension_schema = get_rel_namespace(table.relid) == get_namespace_oid("tenancy", false);
        AttrNumber attnum = get_attnum(table.relid, table.column.c_str());
        if (attnum != InvalidAttrNumber)
            column_type = get_atttype(table.relid, attnum);
    });
    if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
        throw Error(ERRCODE_WRONG_OBJECT_TYPE, table.name + " is not an ordinary or partitioned table",
                    "Only tables can be protected (not views, materialized views or foreign tables; a "
                    "foreign table cannot be a partition of a protected table).");
    if (in_extension_schema)
        throw Error(ERRCODE_WRONG_OBJECT_TYPE, "cannot protect " + table.name + ", a table of the tenancy extension");
    if (column_type == InvalidOid)
        throw Error(ERRCODE_UNDEFINED_COLUMN,
                    "column " + table.quoted_column + " of table " + table.name + " does not exist",
                    {}, "Pass the tenant column's name as tenancy.protect's second argument.");
    if (column_type != INT8OID)
        throw Error(ERRCODE_DATATYPE_MISMATCH,
                    "tenant column " + table.quoted_column + " of table " + table.name + " must be bigint",
                    "Tenant ids are bigint (tenancy.tenant.id).");
    return kind;
}

void register_table(const Table &table, std::optional<Oid> partition_of)
{
    static spi::Statement existing(
        "SELECT tenant_column::text FROM tenancy.protected_table WHERE tbl OPERATOR(pg_catalog.=) $1",
        {OIDOID});
    static spi::Statement insert(
        "INSERT INTO tenancy.protected_table (tbl, tenant_column, added_not_null, enabled_rls, forced_rls, partition_of)"
        " VALUES ($1, $2, false, false, false, $3)",
        {OIDOID, TEXTOID, OIDOID});
    static spi::Statement set_partition_of(
        "UPDATE tenancy.protected_table SET partition_of = $2"
        " WHERE tbl OPERATOR(pg_catalog.=) $1 AND partition_of IS DISTINCT FROM $2",
        {OIDOID, OIDOID});

    roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
    spi::Param relid = spi::oid_param(table.relid);
    spi::Param parent = partition_of ? spi::oid_param(*partition_of) : spi::null_param(OIDOID);
    if (existing.execute({relid}, false) == 0) {
        insert.execute({relid, spi::text_param(table.column), parent}, false);
        return;
    }
    std::string column = spi::get_text(0, 1).value_or("");
    if (column != table.column)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                    "table " + table.name + " is already protected on column " + column,
                    {}, "Call tenancy.unprotect first to protect it on another column.");
    set_partition_of.execute({relid, parent}, false);
}

void protect_one(const Table &table, std::optional<Oid> partition_of)
{
    register_table(table, partition_of);
    for (Part part : missing_parts(table.relid))
        restore_part(table, part);
}

bool unprotect_one(Oid relid)
{
    static spi::Statement record(
        "SELECT p.tenant_column::text, p.added_not_null, p.foreign_key::text, p.index_name::text,"
        "       p.enabled_rls, p.forced_rls"
        "  FROM tenancy.protected_table p WHERE p.tbl OPERATOR(pg_catalog.=) $1",
        {OIDOID});
    static spi::Statement forget("DELETE FROM tenancy.protected_table WHERE tbl OPERATOR(pg_catalog.=) $1",
                                 {OIDOID});

    Table table = describe(relid, {});
    bool added_not_null = false, enabled_rls = false, forced_rls = false;
    std::optional<std::string> foreign_key, index_name;
    {
        roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
        if (record.execute({spi::oid_param(relid)}, false) == 0)
            return false;
        table = describe(relid, spi::get_text(0, 1).value_or(""));
        added_not_null = spi::get_bool(0, 2).value_or(false);
        foreign_key = spi::get_text(0, 3);
        index_name = spi::get_text(0, 4);
        enabled_rls = spi::get_bool(0, 5).value_or(false);
        forced_rls = spi::get_bool(0, 6).value_or(false);
    }

    // Only what protect added; IF EXISTS because the user may have removed a
    // part already (tenancy.check reports that as damage, not an error), or
    // it went with the partitioned table's own (a partition's copy of its
    // foreign key or index).
    execute_ddl("DROP POLICY IF EXISTS " + std::string(kPolicyName) + " ON " + table.name);
    bool partitioned = pg_call([&] { return get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE; });
    if (!partitioned) // a partitioned table has no row guard of its own
        execute_ddl("DROP TRIGGER IF EXISTS " + std::string(kTriggerName) + " ON " + table.name);
    execute_ddl("DROP TRIGGER IF EXISTS " + std::string(kTruncateTriggerName) + " ON " + table.name);
    if (foreign_key && has_constraint(relid, *foreign_key))
        execute_ddl("ALTER TABLE " + table.name + " DROP CONSTRAINT " + quoted_identifier(*foreign_key));
    if (index_name) {
        Oid namespace_oid = pg_call([&] { return get_rel_namespace(relid); });
        bool exists = pg_call([&] { return OidIsValid(get_relname_relid(index_name->c_str(), namespace_oid)); });
        std::string qualified = pg_call([&] {
            return std::string(quote_qualified_identifier(get_namespace_name(namespace_oid), index_name->c_str()));
        });
        if (exists)
            execute_ddl("DROP INDEX " + qualified);
    }
    if (forced_rls)
        execute_ddl("ALTER TABLE " + table.name + " NO FORCE ROW LEVEL SECURITY");
    if (enabled_rls)
        execute_ddl("ALTER TABLE " + table.name + " DISABLE ROW LEVEL SECURITY");
    bool column_exists = pg_call([&] { return get_attnum(relid, table.column.c_str()) != InvalidAttrNumber; });
    if (added_not_null && column_exists && !not_null_in_parent(relid, table.column))
        execute_ddl("ALTER TABLE " + table.name + " ALTER COLUMN " + table.quoted_column + " DROP NOT NULL");

    roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
    forget.execute({spi::oid_param(relid)}, false);
    return true;
}

} // namespace tenancy::protect
