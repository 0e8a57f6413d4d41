// Partitioned tables under protection (protect_partitions.hpp), and the
// event trigger tenancy.protect_new_partitions that keeps partitions created,
// attached or detached later protected.
//
// Touches the partitions' protection (DDL, never rows) with the current
// user's rights, and the bookkeeping table tenancy.protected_table with the
// extension owner's.
#include "rowcheck/protect_partitions.hpp"

#include "rowcheck/protect.hpp"
#include "rowcheck/protect_roles.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "nodes/parsenodes.h"
}

#include <cstring>

namespace tenancy::partitions {

namespace {

bool own_ddl_running = false;

Oid oid_at(uint64 row, int column) { return static_cast<Oid>(spi::get_int64(row, column).value_or(0)); }

// A detached partition becomes protected on its own, or through the topmost
// protected ancestor it still has (a leaf of a detached partitioned table
// stays with that table).  What the old root added (NOT NULL, the foreign
// key, the index) is now the table's own: recorded as added by protect when
// the root's record says protect added it there.
void settle_detached(const Pending &p)
{
    static spi::Statement update(
        "WITH new_root AS ("
        "    SELECT a.relid FROM pg_catalog.pg_partition_ancestors($1) WITH ORDINALITY AS a (relid, n)"
        "      JOIN tenancy.protected_table x ON x.tbl OPERATOR(pg_catalog.=) a.relid"
        "     WHERE a.relid OPERATOR(pg_catalog.<>) $1::pg_catalog.regclass"
        "     ORDER BY a.n DESC LIMIT 1"
        ")"
        "UPDATE tenancy.protected_table q"
        "   SET partition_of = (SELECT relid FROM new_root),"
        "       added_not_null = q.added_not_null OR (NOT EXISTS (SELECT FROM new_root)"
        "                                             AND coalesce(r.added_not_null AND a.attnotnull, false)),"
        "       foreign_key = coalesce(q.foreign_key, CASE WHEN NOT EXISTS (SELECT FROM new_root)"
        "                                                   AND r.foreign_key IS NOT NULL THEN"
        "           (SELECT k.conname FROM pg_catalog.pg_constraint k"
        "             WHERE k.conrelid OPERATOR(pg_catalog.=) q.tbl AND k.contype OPERATOR(pg_catalog.=) 'f'"
        "               AND k.confrelid OPERATOR(pg_catalog.=) 'tenancy.tenant'::pg_catalog.regclass"
        "               AND k.conkey OPERATOR(pg_catalog.=) ARRAY[a.attnum]"
        "             ORDER BY k.oid LIMIT 1) END),"
        "       index_name = coalesce(q.index_name, CASE WHEN NOT EXISTS (SELECT FROM new_root)"
        "                                                 AND r.index_name IS NOT NULL THEN"
        "           (SELECT ic.relname FROM pg_catalog.pg_index i"
        "              JOIN pg_catalog.pg_class ic ON ic.oid OPERATOR(pg_catalog.=) i.indexrelid"
        "             WHERE i.indrelid OPERATOR(pg_catalog.=) q.tbl AND NOT i.indisunique"
        "               AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indnatts OPERATOR(pg_catalog.=) 1"
        "               AND i.indkey[0] OPERATOR(pg_catalog.=) a.attnum"
        "             ORDER BY i.indexrelid LIMIT 1) END)"
        "  FROM pg_catalog.pg_attribute a"
        "  LEFT JOIN tenancy.protected_table r ON r.tbl OPERATOR(pg_catalog.=) $2"
        " WHERE q.tbl OPERATOR(pg_catalog.=) $1 AND a.attrelid OPERATOR(pg_catalog.=) q.tbl"
        "   AND a.attname OPERATOR(pg_catalog.=) q.tenant_column",
        {OIDOID, OIDOID});

    roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
    update.execute({spi::oid_param(p.relid), spi::oid_param(p.root)}, false);
}

} // namespace

std::optional<Root> protected_root_of(Oid relid)
{
    static spi::Statement query(
        "SELECT p.tbl::pg_catalog.oid::pg_catalog.int8, p.tenant_column::text"
        "  FROM pg_catalog.pg_partition_ancestors($1) WITH ORDINALITY AS a (relid, n)"
        "  JOIN tenancy.protected_table p ON p.tbl OPERATOR(pg_catalog.=) a.relid"
        " WHERE a.relid OPERATOR(pg_catalog.<>) $1::pg_catalog.regclass"
        " ORDER BY a.n DESC LIMIT 1",
        {OIDOID});

    roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
    if (query.execute({spi::oid_param(relid)}, false) == 0)
        return std::nullopt;
    return Root{oid_at(0, 1), spi::get_text(0, 2).value_or("")};
}

std::vector<Oid> members(Oid relid)
{
    static spi::Statement query(
        "SELECT relid::pg_catalog.oid::pg_catalog.int8 FROM pg_catalog.pg_partition_tree($1)"
        " WHERE relid OPERATOR(pg_catalog.<>) $1::pg_catalog.regclass ORDER BY level, relid",
        {OIDOID});

    std::vector<Oid> result;
    uint64 rows = query.execute({spi::oid_param(relid)}, false);
    for (uint64 i = 0; i < rows; ++i)
        result.push_back(oid_at(i, 1));
    return result;
}

std::vector<Pending> pending(const std::vector<Oid> &roots)
{
    // $1: the roots as bigint[], or NULL for all.  A root is a protected
    // partitioned table not itself protected through another.
    static spi::Statement query(
        "WITH roots AS ("
        "    SELECT p.tbl, p.tenant_column FROM tenancy.protected_table p"
        "      JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) p.tbl"
        "     WHERE p.partition_of IS NULL AND c.relkind OPERATOR(pg_catalog.=) 'p'"
        "       AND ($1 IS NULL OR p.tbl::pg_catalog.oid::pg_catalog.int8 OPERATOR(pg_catalog.=) ANY ($1)))"
        "SELECT 0 AS kind, q.tbl::pg_catalog.oid::pg_catalog.int8, q.partition_of::pg_catalog.oid::pg_catalog.int8,"
        "       q.tenant_column::text, 0 AS level"
        "  FROM tenancy.protected_table q"
        "  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) q.tbl"
        " WHERE q.partition_of IS NOT NULL"
        "   AND ($1 IS NULL OR q.partition_of::pg_catalog.oid::pg_catalog.int8 OPERATOR(pg_catalog.=) ANY ($1))"
        "   AND NOT EXISTS (SELECT FROM pg_catalog.pg_partition_tree(q.partition_of) m"
        "                    WHERE m.relid OPERATOR(pg_catalog.=) q.tbl)"
        " UNION ALL "
        "SELECT 1, m.relid::pg_catalog.oid::pg_catalog.int8, r.tbl::pg_catalog.oid::pg_catalog.int8,"
        "       r.tenant_column::text, m.level"
        "  FROM roots r CROSS JOIN LATERAL pg_catalog.pg_partition_tree(r.tbl) m"
        " WHERE m.relid OPERATOR(pg_catalog.<>) r.tbl"
        "   AND NOT EXISTS (SELECT FROM tenancy.protected_table q"
        "                    WHERE q.tbl OPERATOR(pg_catalog.=) m.relid"
        "                      AND q.partition_of OPERATOR(pg_catalog.=) r.tbl)"
        " ORDER BY 1, 5, 2",
        {INT8ARRAYOID});

    std::vector<int64_t> ids(roots.begin(), roots.end());
    roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
    uint64 rows = query.execute({roots.empty() ? spi::null_param(INT8ARRAYOID) : spi::int8_array_param(ids)}, false);
    std::vector<Pending> result;
    for (uint64 i = 0; i < rows; ++i)
        result.push_back(Pending{spi::get_int64(i, 1).value_or(0) == 0 ? Pending::Kind::Detached
                                                                         : Pending::Kind::Unprotected,
                                 oid_at(i, 2), oid_at(i, 3), spi::get_text(i, 4).value_or("")});
    return result;
}

OwnDdl::OwnDdl() : saved_(own_ddl_running) { own_ddl_running = true; }

OwnDdl::~OwnDdl() { own_ddl_running = saved_; }

bool own_ddl() { return own_ddl_running; }

void settle(const Pending &p)
{
    if (p.kind == Pending::Kind::Detached) {
        settle_detached(p);
        return;
    }
    protect::Table table = protect::describe(p.relid, p.column);
    protect::lock_table(table);
    protect::validate_protectable(table);
    protect::protect_one(table, p.root);
}

} // namespace tenancy::partitions

using namespace tenancy;

namespace {

// Whether the command can change a partition tree: CREATE [FOREIGN] TABLE
// ... PARTITION OF, ALTER TABLE ... ATTACH or DETACH PARTITION.  The event
// trigger fires for every CREATE and ALTER TABLE in the database; every
// other one (the vast majority) returns here, before any query.  A statement
// of another kind (RENAME, SET SCHEMA) is looked at as before.
bool may_change_partition_trees(const Node *command)
{
    if (IsA(command, CreateStmt))
        return castNode(CreateStmt, command)->partbound != nullptr;
    if (IsA(command, CreateForeignTableStmt))
        return reinterpret_cast<const CreateForeignTableStmt *>(command)->base.partbound != nullptr;
    if (!IsA(command, AlterTableStmt))
        return true;
    const List *cmds = castNode(AlterTableStmt, command)->cmds;
    for (int i = 0; i < list_length(cmds); ++i) {
        AlterTableType type = static_cast<const AlterTableCmd *>(list_nth(cmds, i))->subtype;
        if (type == AT_AttachPartition || type == AT_DetachPartition || type == AT_DetachPartitionFinalize)
            return true;
    }
    return false;
}

// The protected roots whose trees the command may have changed: the topmost
// protected ancestor (or the table itself) of every table it touched.
std::vector<Oid> roots_touched()
{
    static spi::Statement query(
        "SELECT DISTINCT p.tbl::pg_catalog.oid::pg_catalog.int8"
        "  FROM (SELECT DISTINCT objid FROM pg_catalog.pg_event_trigger_ddl_commands()"
        "         WHERE classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass) AS changed"
        " CROSS JOIN LATERAL pg_catalog.pg_partition_ancestors(changed.objid) AS a (relid)"
        "  JOIN tenancy.protected_table p ON p.tbl OPERATOR(pg_catalog.=) a.relid"
        " WHERE p.partition_of IS NULL",
        {});

    roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
    std::vector<Oid> roots;
    uint64 rows = query.execute({}, false);
    for (uint64 i = 0; i < rows; ++i)
        roots.push_back(static_cast<Oid>(spi::get_int64(i, 1).value_or(0)));
    return roots;
}

} // namespace

// Event trigger on ddl_command_end for CREATE TABLE, CREATE FOREIGN TABLE
// and ALTER TABLE.  A partition it cannot protect (a foreign table, a table
// protected on another column, one the user does not own) makes the command
// fail: a partition of a protected table is never left unprotected by it.
TENANCY_FUNCTION(tenancy_protect_new_partitions)
{
    if (!CALLED_AS_EVENT_TRIGGER(fcinfo) ||
        strcmp(reinterpret_cast<EventTriggerData *>(fcinfo->context)->event, "ddl_command_end") != 0)
        throw Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                    "tenancy.protect_new_partitions must be called as a ddl_command_end event trigger");
    // The extension's own DDL (the trigger's included: ALTER TABLE ... ENABLE
    // ROW LEVEL SECURITY on a new partition fires it again), and extension
    // scripts (ours creates tables too).
    if (partitions::own_ddl() || creating_extension)
        PG_RETURN_VOID();
    if (!may_change_partition_trees(reinterpret_cast<EventTriggerData *>(fcinfo->context)->parsetree))
        PG_RETURN_VOID();
    partitions::OwnDdl guard;
    spi::Connection spi;
    std::vector<Oid> roots = roots_touched();
    if (roots.empty())
        PG_RETURN_VOID();
    for (const partitions::Pending &p : partitions::pending(roots))
        partitions::settle(p);
    PG_RETURN_VOID();
}
