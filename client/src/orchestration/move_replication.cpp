#include "move_replication.hpp"

#include <memory>
#include <thread>

#include "tenancy/errors.hpp"

namespace tenancy::orchestration {
namespace {

using Clock = std::chrono::steady_clock;

bool exists(Connection& c, const std::string& sql, const std::string& name) {
    return c.exec(sql, {name}).int64(0, "n") > 0;
}

}  // namespace

std::string sql_identifier(Connection& c, const std::string& name) {
    std::unique_ptr<char, decltype(&PQfreemem)> quoted(PQescapeIdentifier(c.get(), name.c_str(), name.size()),
                                                       &PQfreemem);
    if (!quoted)
        raise_error(ErrorInfo{"22023", "cannot quote \"" + name + "\": " + PQerrorMessage(c.get()), "", ""});
    return quoted.get();
}

std::string sql_literal(Connection& c, const std::string& text) {
    std::unique_ptr<char, decltype(&PQfreemem)> quoted(PQescapeLiteral(c.get(), text.c_str(), text.size()),
                                                       &PQfreemem);
    if (!quoted)
        raise_error(ErrorInfo{"22023", std::string("cannot quote a literal: ") + PQerrorMessage(c.get()), "", ""});
    return quoted.get();
}

std::string replication_name(const std::string& registry, std::int64_t move) {
    std::string prefix;
    for (char ch : registry)
        if (prefix.size() < 8 && ch != '-')
            prefix.push_back(ch);
    return "tenancy_" + prefix + "_move_" + std::to_string(move);
}

void create_publication(Connection& source, const std::string& name, const std::string& schema, std::int64_t move) {
    if (exists(source, "SELECT count(*) AS n FROM pg_catalog.pg_publication WHERE pubname OPERATOR(pg_catalog.=) $1",
               name))
        return;
    // TABLES IN SCHEMA: tables the schema gains later are published too.
    // The fence table's row filter publishes this move's row only.
    source.exec("CREATE PUBLICATION " + sql_identifier(source, name) + " FOR TABLES IN SCHEMA " +
                sql_identifier(source, schema) + ", TABLE tenancy.move_fence WHERE (move_id = " +
                std::to_string(move) + ")");
}

void create_slot(Connection& source, const std::string& name) {
    if (exists(source, "SELECT count(*) AS n FROM pg_catalog.pg_replication_slots WHERE slot_name OPERATOR(pg_catalog.=) $1",
               name))
        return;
    // Made here rather than by CREATE SUBSCRIPTION, which cannot make one
    // on its own cluster (a schema tenant moving into a database of the
    // registry's server).
    source.exec("SELECT pg_catalog.pg_create_logical_replication_slot($1, 'pgoutput')", {name});
}

void create_subscription(Connection& target, const std::string& name, const std::string& source_conninfo) {
    if (exists(target,
               "SELECT count(*) AS n FROM pg_catalog.pg_subscription s"
               "  JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) s.subdbid"
               " WHERE s.subname OPERATOR(pg_catalog.=) $1 AND d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()",
               name))
        return;
    target.exec("CREATE SUBSCRIPTION " + sql_identifier(target, name) + " CONNECTION " +
                sql_literal(target, source_conninfo) + " PUBLICATION " + sql_identifier(target, name) +
                " WITH (create_slot = false, slot_name = " + sql_literal(target, name) + ")");
}

void wait_for_sync(Connection& target, const std::string& name, std::chrono::milliseconds timeout) {
    const Clock::time_point deadline = Clock::now() + timeout;
    for (;;) {
        const Result r = target.exec(
            "SELECT count(*) AS total, count(*) FILTER (WHERE r.srsubstate OPERATOR(pg_catalog.<>) 'r') AS pending,"
            "       coalesce(pg_catalog.string_agg(r.srrelid::pg_catalog.regclass::text, ', ')"
            "                FILTER (WHERE r.srsubstate OPERATOR(pg_catalog.<>) 'r'), '') AS copying,"
            "       coalesce(max(st.sync_error_count), 0) AS sync_errors"
            "  FROM pg_catalog.pg_subscription s"
            "  JOIN pg_catalog.pg_subscription_rel r ON r.srsubid OPERATOR(pg_catalog.=) s.oid"
            "  LEFT JOIN pg_catalog.pg_stat_subscription_stats st ON st.subid OPERATOR(pg_catalog.=) s.oid"
            " WHERE s.subname OPERATOR(pg_catalog.=) $1",
            {name});
        if (r.int64(0, "total") > 0 && r.int64(0, "pending") == 0)
            return;
        if (Clock::now() >= deadline)
            raise_error(ErrorInfo{"TN027",
                                  "the initial copy of the tenant's tables did not finish within " +
                                      std::to_string(timeout.count()) + " ms (still copying: " + r.text(0, "copying") +
                                      "; " + r.text(0, "sync_errors") + " copy error(s))",
                                  "The move is recorded and the source is still authoritative; errors of the copy are "
                                  "in the target server's log.",
                                  "Fix the cause if there are errors, then resume the move (or roll it back)."});
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

void wait_for_apply(Connection& source, Connection& target, const std::string& name,
                    std::chrono::milliseconds timeout) {
    const Clock::time_point deadline = Clock::now() + timeout;
    for (int round = 0; round < 2; ++round) {
        const std::string goal = source.exec("SELECT pg_catalog.pg_current_wal_lsn()::text AS lsn").text(0, "lsn");
        for (;;) {
            const Result slot = source.exec(
                "SELECT (confirmed_flush_lsn OPERATOR(pg_catalog.>=) $2::pg_lsn)::int AS done"
                "  FROM pg_catalog.pg_replication_slots WHERE slot_name OPERATOR(pg_catalog.=) $1",
                {name, goal});
            if (slot.rows() == 1 && slot.optional_int64(0, "done") == 1)
                break;
            if (Clock::now() >= deadline) {
                const Result errors = target.exec(
                    "SELECT coalesce(max(st.apply_error_count), 0) AS apply_errors FROM pg_catalog.pg_subscription s"
                    "  LEFT JOIN pg_catalog.pg_stat_subscription_stats st ON st.subid OPERATOR(pg_catalog.=) s.oid"
                    " WHERE s.subname OPERATOR(pg_catalog.=) $1",
                    {name});
                raise_error(ErrorInfo{"TN027",
                                      "the target did not catch up with the source within " +
                                          std::to_string(timeout.count()) + " ms (" +
                                          errors.text(0, "apply_errors") + " apply error(s) on the target)",
                                      "Nothing was frozen; the source is authoritative and takes writes.",
                                      "Errors are in the target server's log; fix the cause and resume the move."});
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
}

bool wait_for_fence(Connection& target, std::int64_t move, std::chrono::milliseconds timeout) {
    const Clock::time_point deadline = Clock::now() + timeout;
    for (;;) {
        if (target.exec("SELECT count(*) AS n FROM tenancy.move_fence WHERE move_id OPERATOR(pg_catalog.=) $1::bigint",
                        {std::to_string(move)})
                .int64(0, "n") > 0)
            return true;
        if (Clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

int copy_sequences(Connection& source, Connection& target, const std::string& schema) {
    // Sequences never advance through logical replication: the target's
    // would hand out values the source already used.
    const Result values = source.exec(
        "SELECT pg_catalog.format('%I.%I', schemaname, sequencename) AS name, last_value::text AS value"
        "  FROM pg_catalog.pg_sequences"
        " WHERE schemaname OPERATOR(pg_catalog.=) $1 AND last_value IS NOT NULL",
        {schema});
    for (int row = 0; row < values.rows(); ++row)
        target.exec("SELECT pg_catalog.setval($1::regclass, $2::bigint, true)",
                    {values.text(row, "name"), values.text(row, "value")});
    return values.rows();
}

std::string drop_subscription(Connection& target, const std::string& name) {
    const Result found = target.exec(
        "SELECT s.oid::text AS oid FROM pg_catalog.pg_subscription s"
        "  JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) s.subdbid"
        " WHERE s.subname OPERATOR(pg_catalog.=) $1 AND d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()",
        {name});
    if (found.rows() == 0)
        return "";
    const std::string quoted = sql_identifier(target, name);
    try {
        // Drops the slot on the source too, and those of an initial copy
        // that was cut short.
        target.exec("DROP SUBSCRIPTION " + quoted);
    } catch (const Error&) {
        // The source cannot be reached, or its slot is gone already: detach
        // the subscription from the slot, which drop_slot_and_publication
        // drops on the source, once it can be reached.
        target.exec("ALTER SUBSCRIPTION " + quoted + " DISABLE");
        target.exec("ALTER SUBSCRIPTION " + quoted + " SET (slot_name = NONE)");
        target.exec("DROP SUBSCRIPTION " + quoted);
    }
    return found.text(0, "oid");
}

void drop_slot_and_publication(Connection& source, const std::string& name, const std::string& subscription_oid) {
    // The move's slot, and the initial copy's (pg_<subscription>_sync_...)
    // if the copy was cut short.  A slot stays active until the WAL sender
    // serving it has ended: wait for that.
    const std::string copy_slots = subscription_oid.empty() ? "" : "pg_" + subscription_oid + "_sync_";
    const Clock::time_point deadline = Clock::now() + std::chrono::seconds(30);
    for (;;) {
        const Result slots = source.exec(
            "SELECT slot_name::text AS name, active_pid FROM pg_catalog.pg_replication_slots"
            " WHERE slot_name OPERATOR(pg_catalog.=) $1"
            "    OR ($2 OPERATOR(pg_catalog.<>) '' AND pg_catalog.starts_with(slot_name::text, $2))",
            {name, copy_slots});
        if (slots.rows() == 0)
            break;
        for (int row = 0; row < slots.rows(); ++row) {
            if (slots.is_null(row, "active_pid"))
                source.exec("SELECT pg_catalog.pg_drop_replication_slot($1)", {slots.text(row, "name")});
            else if (Clock::now() >= deadline)
                source.exec("SELECT pg_catalog.pg_terminate_backend($1::int, 5000)", {slots.text(row, "active_pid")});
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    source.exec("DROP PUBLICATION IF EXISTS " + sql_identifier(source, name));
}

}  // namespace tenancy::orchestration
