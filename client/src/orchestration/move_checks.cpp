#include "move_checks.hpp"

#include <cstdio>

#include "tenancy/errors.hpp"

namespace tenancy::orchestration {
namespace {

std::string joined(const std::vector<std::string>& items) {
    std::string text;
    for (const std::string& item : items)
        text += (text.empty() ? "" : ", ") + item;
    return text;
}

std::string setting(Connection& c, const std::string& name) {
    return c.exec("SELECT pg_catalog.current_setting($1) AS value", {name}).text(0, "value");
}

std::string system_identifier(Connection& c) {
    return c.exec("SELECT system_identifier::text AS id FROM pg_catalog.pg_control_system()").text(0, "id");
}

// The version of the tenancy extension as installed in the database, or
// available to it, compared as numbers (0.9.0 < 0.10.0): moves came in 0.9.0.
bool knows_moves(const std::string& version) {
    int major = 0, minor = 0;
    if (std::sscanf(version.c_str(), "%d.%d", &major, &minor) != 2)
        return false;
    return major > 0 || minor >= 9;
}

}  // namespace

std::vector<std::string> check_source(Connection& source, const std::string& schema) {
    const std::string wal_level = setting(source, "wal_level");
    if (wal_level != "logical")
        raise_error(ErrorInfo{"TN023", "the source server's wal_level is " + wal_level + ", not logical",
                              "A move copies the tenant's data with logical replication, which the source must "
                              "publish.",
                              "Set wal_level = logical in the source server's postgresql.conf and restart it."});
    const Result slots = source.exec(
        "SELECT (SELECT count(*) FROM pg_catalog.pg_replication_slots) AS used,"
        "       pg_catalog.current_setting('max_replication_slots')::int AS slots,"
        "       (SELECT count(*) FROM pg_catalog.pg_stat_replication) AS senders,"
        "       pg_catalog.current_setting('max_wal_senders')::int AS max_senders");
    if (slots.int64(0, "used") >= slots.int64(0, "slots") || slots.int64(0, "senders") >= slots.int64(0, "max_senders"))
        raise_error(ErrorInfo{"TN023",
                              "the source server has no free replication slot or WAL sender (slots " +
                                  slots.text(0, "used") + " of " + slots.text(0, "slots") + ", senders " +
                                  slots.text(0, "senders") + " of " + slots.text(0, "max_senders") + ")",
                              "A move needs one slot and one sender while it runs (and one more of each per table "
                              "during the initial copy).",
                              "Raise max_replication_slots and max_wal_senders on the source, or drop unused slots "
                              "(pg_replication_slots)."});
    const Result ext = source.exec(
        "SELECT extversion FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'tenancy'");
    if (ext.rows() == 0 || !knows_moves(ext.text(0, "extversion")))
        raise_error(ErrorInfo{"TN023",
                              "the tenancy extension in the source database is " +
                                  (ext.rows() ? "version " + ext.text(0, "extversion") : std::string("missing")) +
                                  ", which cannot move tenants",
                              "", "Run ALTER EXTENSION tenancy UPDATE in the tenant's database."});

    const Result tables = source.exec(
        "SELECT c.relname::text AS name, c.relpersistence::text AS persistence, c.relreplident::text AS identity,"
        "       c.relkind::text AS kind,"
        "       EXISTS (SELECT FROM pg_catalog.pg_index i WHERE i.indrelid OPERATOR(pg_catalog.=) c.oid"
        "                  AND i.indisprimary)::int AS has_key"
        "  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
        " WHERE n.nspname OPERATOR(pg_catalog.=) $1 AND c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p'])"
        " ORDER BY 1",
        {schema});
    std::vector<std::string> names, unkeyed, unlogged;
    for (int row = 0; row < tables.rows(); ++row) {
        const std::string name = tables.text(row, "name");
        names.push_back(name);
        if (tables.text(row, "persistence") == "u")
            unlogged.push_back(name);
        const std::string identity = tables.text(row, "identity");
        // A partitioned table's rows are its partitions', checked each.
        if (tables.text(row, "kind") == "r" &&
            (identity == "n" || (identity == "d" && tables.int64(row, "has_key") == 0)))
            unkeyed.push_back(name);
    }
    if (!unkeyed.empty())
        raise_error(ErrorInfo{"TN022",
                              "table(s) of schema " + schema + " without a primary key or replica identity: " +
                                  joined(unkeyed),
                              "Logical replication cannot apply an UPDATE or DELETE to a table it cannot identify "
                              "rows of, so the copy would fall behind for good.",
                              "Add a primary key (or ALTER TABLE ... REPLICA IDENTITY USING INDEX a unique index, or "
                              "REPLICA IDENTITY FULL), then move again."});
    if (!unlogged.empty())
        raise_error(ErrorInfo{"TN022", "unlogged table(s) of schema " + schema + ": " + joined(unlogged),
                              "Unlogged tables are not replicated, so their rows would not reach the target.",
                              "ALTER TABLE ... SET LOGGED, then move again."});
    return names;
}

void check_target(Connection& target_server, Connection& source, const std::string& schema,
                  const std::string& database, bool may_exist) {
    if (system_identifier(target_server) == system_identifier(source) &&
        source.exec("SELECT pg_catalog.current_database()::text AS db").text(0, "db") == database)
        raise_error(ErrorInfo{"22023",
                              "the target server is the source's own cluster, and database " + database +
                                  " is the source itself",
                              "", "Register the target as a server of its own (another cluster) and name it."});
    const Result available = target_server.exec(
        "SELECT default_version FROM pg_catalog.pg_available_extensions WHERE name OPERATOR(pg_catalog.=) 'tenancy'");
    if (available.rows() == 0 || !knows_moves(available.text(0, "default_version")))
        raise_error(ErrorInfo{"TN023",
                              "the target server has " +
                                  (available.rows() ? "version " + available.text(0, "default_version") +
                                                          " of the tenancy extension, which cannot receive tenants"
                                                    : std::string("no tenancy extension installed")),
                              "", "Install the same pg_tenancy version on the target server."});

    // Owners and grantees of the schema and of everything in it.
    const Result roles = source.exec(
        "WITH ns AS (SELECT oid, nspowner, nspacl FROM pg_catalog.pg_namespace WHERE nspname OPERATOR(pg_catalog.=) $1),"
        " owners AS ("
        "   SELECT nspowner AS role FROM ns"
        "   UNION SELECT c.relowner FROM pg_catalog.pg_class c, ns WHERE c.relnamespace OPERATOR(pg_catalog.=) ns.oid"
        "   UNION SELECT p.proowner FROM pg_catalog.pg_proc p, ns WHERE p.pronamespace OPERATOR(pg_catalog.=) ns.oid"
        "   UNION SELECT t.typowner FROM pg_catalog.pg_type t, ns WHERE t.typnamespace OPERATOR(pg_catalog.=) ns.oid"
        "   UNION SELECT a.grantee FROM ns, pg_catalog.aclexplode(ns.nspacl) a"
        "   UNION SELECT a.grantee FROM pg_catalog.pg_class c, ns, pg_catalog.aclexplode(c.relacl) a"
        "          WHERE c.relnamespace OPERATOR(pg_catalog.=) ns.oid"
        "   UNION SELECT a.grantee FROM pg_catalog.pg_proc p, ns, pg_catalog.aclexplode(p.proacl) a"
        "          WHERE p.pronamespace OPERATOR(pg_catalog.=) ns.oid)"
        " SELECT r.rolname::text AS name FROM owners o JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) o.role"
        " ORDER BY 1",
        {schema});
    std::vector<std::string> missing;
    for (int row = 0; row < roles.rows(); ++row) {
        const std::string role = roles.text(row, "name");
        if (target_server.exec("SELECT count(*) AS n FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) $1",
                               {role})
                .int64(0, "n") == 0)
            missing.push_back(role);
    }
    if (!missing.empty())
        raise_error(ErrorInfo{"TN023", "role(s) missing on the target server: " + joined(missing),
                              "They own objects of schema " + schema +
                                  " or are granted rights on them; the copy keeps owners and grants.",
                              "Create the roles on the target server (CREATE ROLE, or pg_dumpall --roles-only), then "
                              "move again."});

    if (!may_exist &&
        target_server
                .exec("SELECT count(*) AS n FROM pg_catalog.pg_database WHERE datname OPERATOR(pg_catalog.=) $1",
                      {database})
                .int64(0, "n") > 0)
        raise_error(ErrorInfo{"TN024", "the target server already holds a database named " + database,
                              "A move creates the tenant's database there; it never writes to one it did not create.",
                              "Drop or rename that database (if it is a copy an earlier move of this tenant kept, "
                              "tenancyctl tenant move ID --drop-source drops it), then move again."});
}

}  // namespace tenancy::orchestration
