#include "tenancy/orchestration/mover.hpp"

#include <algorithm>
#include <optional>

#include "move_checks.hpp"
#include "move_replication.hpp"
#include "move_schema_copy.hpp"
#include "move_verify.hpp"
#include "provision_steps.hpp"
#include "tenancy/client.hpp"
#include "tenancy/orchestration/crash_points.hpp"
#include "tenancy/orchestration/endpoints.hpp"
#include "tenant_database.hpp"

namespace tenancy::orchestration {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The steps a move records, in order (extension/move/move_registry.cpp has
// the same list).  A resumed move repeats the early ones (each checks what is
// done) without recording them again, so the recorded step only advances.
constexpr const char* kForwardSteps[] = {
    "begun",         "source_prepared", "creating_target",     "target_claimed", "schema_copied",
    "publication_created", "slot_created", "subscribed",       "synced",         "freezing",
    "frozen",        "caught_up",       "sequences_copied",    "verified",       "switched",
    "source_marked", "target_finished", "replication_dropped", "source_dropping", "source_dropped",
};

int step_index(const std::string& step) {
    const auto* found = std::find_if(std::begin(kForwardSteps), std::end(kForwardSteps),
                                     [&](const char* s) { return step == s; });
    return found == std::end(kForwardSteps) ? -1 : static_cast<int>(found - std::begin(kForwardSteps));
}

// Where a move's two copies are.
struct Ends {
    ConnectOptions source;         // the database that holds the source copy
    ConnectOptions source_server;  // its server's maintenance database (a database tenant's)
    ConnectOptions target;         // the tenant's new database
    ConnectOptions target_server;  // the target server's maintenance database
    std::string replication;       // the publication's, slot's and subscription's name
};

Ends ends_of(const TenantMove& m, const Endpoints& endpoints) {
    Ends ends;
    if (m.source_isolation == Isolation::Database) {
        ends.source = endpoints.database_on_server(m.source_conninfo.value_or(""), m.source_database.value_or(""));
        ends.source_server = endpoints.server(m.source_conninfo.value_or(""));
    } else {
        ends.source = endpoints.registry_database();
    }
    ends.target = endpoints.database_on_server(m.target_conninfo, m.target_database);
    ends.target_server = endpoints.server(m.target_conninfo);
    ends.replication = replication_name(m.registry, m.move);
    return ends;
}

std::string describe_source(const TenantMove& m) {
    return m.source_isolation == Isolation::Database
               ? "database " + m.source_database.value_or("") + " on server " + m.source_server.value_or("")
               : "schema " + m.schema + " of the registry database";
}

std::string describe_target(const TenantMove& m) {
    return "database " + m.target_database + " on server " + m.target_server;
}

// A connection to the source copy that may write there although a frozen
// tenant database is read-only for new sessions.  Its commits are flushed at
// once (a server may run with synchronous_commit off): the subscription
// sees a commit only once it is flushed, and the fence's is waited for
// during the write pause.
Connection open_source(const ConnectOptions& options) {
    Connection c(options);
    c.exec("SET default_transaction_read_only = off");
    c.exec("SET synchronous_commit = on");
    return c;
}

bool database_exists(Connection& server, const std::string& database) {
    return server
               .exec("SELECT count(*) AS n FROM pg_catalog.pg_database WHERE datname OPERATOR(pg_catalog.=) $1",
                     {database})
               .int64(0, "n") > 0;
}

// Runs the steps of one move (forward to its end, or back to its start).
class MoveRun {
public:
    MoveRun(Client& registry, const Endpoints& endpoints, TenantMove move, const MoveOptions& options,
            MoveReport& report)
        : registry_(registry), m_(std::move(move)), ends_(ends_of(m_, endpoints)), options_(options),
          report_(report) {
        report_.move = m_.move;
        report_.tenant = m_.tenant;
        report_.from = describe_source(m_);
        report_.to = describe_target(m_);
    }

    void forward() {
        if (m_.state == "running") {
            prepare_source();
            create_target_database();
            claim_target();
            copy_schema_to_target();
            replicate();
            cutover();
        }
        finish_switched();
    }

    // `created_target`: the move had got as far as creating the target's
    // database (so an unclaimed, empty one there is its own).
    void backward(bool created_target) {
        created_target_ = created_target;
        record("aborting");
        {
            Connection source = open_source(ends_.source);
            source.exec("SELECT tenancy.unfreeze_for_move($1::bigint, $2::uuid, $3::bigint, false)", ids());
        }
        record("source_unfrozen");
        crash_point("move_abort.after_unfreeze");
        drop_replication();
        record("replication_dropped");
        crash_point("move_abort.after_drop_replication");
        drop_target_database();
        record("target_dropped");
        crash_point("move_abort.after_drop_target");
        registry_.abort_move(m_.move);
        report_.state = "aborted";
        crash_point("move_abort.after_record");
    }

    void drop_kept_source() {
        drop_source_copy();
        registry_.finish_move(m_.move, true);
        report_.state = "done";
        report_.source_dropped = true;
        note("source_dropped");
    }

private:
    Params ids() const { return {std::to_string(m_.tenant), m_.registry, std::to_string(m_.move)}; }

    void note(const std::string& step) {
        report_.steps.push_back(step);
        if (options_.progress)
            options_.progress(step);
    }

    // Records a step in the registry (unless the move has recorded a later
    // one) and reports it.
    void record(const std::string& step) {
        const int index = step_index(step);
        if (index < 0 || index > step_index(m_.step)) {
            registry_.record_move_step(m_.move, step);
            m_.step = step;
        }
        note(step);
    }

    void prepare_source() {
        Connection source = open_source(ends_.source);
        source.exec("SELECT tenancy.prepare_move_out($1::bigint, $2::uuid, $3::bigint)", ids());
        record("source_prepared");
        crash_point("move.after_prepare_source");
    }

    void create_target_database() {
        Connection server(ends_.target_server);
        if (database_exists(server, m_.target_database)) {
            // Ours only if this move got as far as creating it; the claim
            // (next step) refuses anything that is not its incoming copy.
            if (step_index(m_.step) < step_index("creating_target"))
                raise_error(ErrorInfo{"TN024",
                                      "the target server already holds a database named " + m_.target_database, "",
                                      "Drop or rename it, or roll the move back (--abort)."});
        } else {
            record("creating_target");
            create_database_if_missing(server, m_.target_database);
        }
        crash_point("move.after_create_database");
    }

    void claim_target() {
        Connection source = open_source(ends_.source);
        const std::string ledger =
            source
                .exec("SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(a) ORDER BY a.version), '[]')::text"
                      "       AS ledger FROM tenancy.applied_migrations($1::bigint) a",
                      {std::to_string(m_.tenant)})
                .text(0, "ledger");
        Connection target(ends_.target);
        tenant_database::ensure_extension(target);
        target.exec("SELECT tenancy.claim_moved_database($1::bigint, $2::uuid, $3::text, $4::bigint, $5::jsonb)",
                    {std::to_string(m_.tenant), m_.registry, m_.slug, std::to_string(m_.move), ledger});
        record("target_claimed");
        crash_point("move.after_claim_target");
    }

    void copy_schema_to_target() {
        Connection target(ends_.target);
        const bool copied =
            target.exec("SELECT count(*) AS n FROM pg_catalog.pg_namespace WHERE nspname OPERATOR(pg_catalog.=) $1",
                        {m_.schema})
                .int64(0, "n") > 0;
        if (!copied)
            copy_schema(options_.pg_bindir, ends_.source, ends_.target, m_.schema);
        // A source frozen by an earlier run carries the move's guard; the
        // target must never (pg_restore is one transaction, this is idempotent).
        const Result guarded = target.exec(
            "SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS tbl FROM pg_catalog.pg_trigger t"
            "  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.tgrelid"
            "  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
            " WHERE n.nspname OPERATOR(pg_catalog.=) $1 AND t.tgname OPERATOR(pg_catalog.=) 'tenancy_move_guard'",
            {m_.schema});
        for (int row = 0; row < guarded.rows(); ++row)
            target.exec("DROP TRIGGER tenancy_move_guard ON " + guarded.text(row, "tbl"));
        record("schema_copied");
        crash_point("move.after_copy_schema");
    }

    void replicate() {
        Connection source = open_source(ends_.source);
        Connection target(ends_.target);
        create_publication(source, ends_.replication, m_.schema, m_.move);
        record("publication_created");
        crash_point("move.after_publication");
        create_slot(source, ends_.replication);
        record("slot_created");
        crash_point("move.after_slot");
        create_subscription(target, ends_.replication, ends_.source.conninfo);
        record("subscribed");
        crash_point("move.after_subscription");
        wait_for_sync(target, ends_.replication, options_.sync_timeout);
        record("synced");
        crash_point("move.after_sync");
    }

    // The write pause: from the freeze to the switch.
    void cutover() {
        Connection source = open_source(ends_.source);
        Connection target(ends_.target);
        // Close behind before freezing: the pause then holds no backlog.
        wait_for_apply(source, target, ends_.replication, options_.sync_timeout);
        record("freezing");
        const Clock::time_point frozen_at = Clock::now();
        Clock::time_point phase = frozen_at;
        auto lap = [&phase](double& ms) {
            ms = ms_since(phase);
            phase = Clock::now();
        };
        freeze(source);
        lap(report_.freeze_ms);
        record("frozen");
        crash_point("move.after_freeze");
        if (!wait_for_fence(target, m_.move, options_.catch_up_timeout))
            give_up_cutover(source, "TN027",
                            "the target did not catch up with the frozen source within " +
                                std::to_string(options_.catch_up_timeout.count()) + " ms");
        lap(report_.catch_up_ms);
        record("caught_up");
        crash_point("move.after_catch_up");
        copy_sequences(source, target, m_.schema);
        lap(report_.sequences_ms);
        record("sequences_copied");
        crash_point("move.after_sequences");
        const Verification v = verify_copies(source, target, m_.schema);
        lap(report_.verify_ms);
        if (!v.ok()) {
            std::string what;
            for (const std::string& d : v.differences)
                what += (what.empty() ? "" : "; ") + d;
            give_up_cutover(source, "TN025", "the copies differ: " + what);
        }
        record("verified");
        crash_point("move.after_verify");
        registry_.switch_placement(m_.move, ms_since(frozen_at), verification_json(v.tables));
        lap(report_.switch_ms);
        report_.write_pause_ms = ms_since(frozen_at);
        m_.state = "switched";
        m_.step = "switched";
        note("switched");
        report_.tables = v.tables;
        for (const TableCheck& t : v.tables)
            report_.rows += t.rows;
        crash_point("move.after_switch");
    }

    // Two transactions: the first marks a tenant database frozen (routers
    // wait from then on), the second ends its other sessions, puts the
    // guards on and writes the fence.  The guards' locks wait for the writes
    // in flight (lock_timeout); a lock timeout or a deadlock with a writer
    // that slipped in is retried twice.
    void freeze(Connection& source) {
        source.exec("SELECT tenancy.freeze_for_move($1::bigint, $2::uuid, $3::bigint)", ids());
        for (int attempt = 1;; ++attempt) {
            try {
                source.exec("SELECT pg_catalog.set_config('lock_timeout', $1, false)",
                            {std::to_string(options_.lock_timeout.count()) + "ms"});
                source.exec("SELECT tenancy.fence_for_move($1::bigint, $2::uuid, $3::bigint)", ids());
                source.exec("RESET lock_timeout");
                return;
            } catch (const Error& e) {
                const bool contended = e.sqlstate() == "55P03" || e.sqlstate() == "40P01";
                if (!contended)
                    throw;
                if (attempt == 3)
                    give_up_cutover(source, "TN027",
                                    std::string("freezing the source did not get its locks: ") + e.what());
            }
        }
    }

    // The cutover failed before the switch: the source takes writes again
    // and stays authoritative; the move stays recorded (at step synced, with
    // the reason) for resume or abort.
    [[noreturn]] void give_up_cutover(Connection& source, const std::string& sqlstate, const std::string& why) {
        bool unfrozen = false;
        try {
            source.exec("RESET lock_timeout");
            source.exec("SELECT tenancy.unfreeze_for_move($1::bigint, $2::uuid, $3::bigint, true)", ids());
            unfrozen = true;
        } catch (const Error&) {
            // The source went away: it may still be frozen, and the record
            // keeps saying so (step freezing); resume or abort unfreezes it.
        }
        registry_.record_move_step(m_.move, unfrozen ? "synced" : m_.step, why);
        raise_error(ErrorInfo{sqlstate, "move " + std::to_string(m_.move) + " of tenant " + std::to_string(m_.tenant) +
                                            " stopped before its switch: " + why,
                              unfrozen ? "The source is authoritative and takes writes again; the target keeps "
                                         "following it."
                                       : "The source could not be unfrozen: it refuses writes until the move is "
                                         "resumed or rolled back.",
                              "Fix the cause, then tenancyctl tenant move " + std::to_string(m_.tenant) +
                                  " --resume (or --abort to roll the move back)."});
    }

    // Whether the move recorded `step` (or a later one) already.
    bool done(const char* step) const { return step_index(m_.step) >= step_index(step); }

    // After the switch each step runs once (the recorded step says which are
    // done): the source may be gone already.
    void finish_switched() {
        if (!done("source_marked")) {
            Connection source = open_source(ends_.source);
            source.exec("SELECT tenancy.mark_moved($1::bigint, $2::uuid, $3::bigint, $4::text)",
                        {std::to_string(m_.tenant), m_.registry, std::to_string(m_.move),
                         "database " + m_.target_database + " on server " + m_.target_server});
            record("source_marked");
        }
        crash_point("move.after_mark_moved");
        if (!done("target_finished")) {
            Connection target(ends_.target);
            target.exec("SELECT tenancy.finish_move_in($1::bigint, $2::uuid, $3::bigint)", ids());
            record("target_finished");
        }
        crash_point("move.after_finish_target");
        if (!done("replication_dropped")) {
            drop_replication();
            refresh_materialized_views();
            record("replication_dropped");
        }
        crash_point("move.after_drop_replication");
        if (m_.drop_source) {
            record("source_dropping");
            drop_source_copy();
            record("source_dropped");
            crash_point("move.after_drop_source");
        }
        registry_.finish_move(m_.move, m_.drop_source);
        report_.state = "done";
        report_.source_dropped = m_.drop_source;
        report_.source_kept = !m_.drop_source;
        crash_point("move.after_finish");
    }

    void drop_replication() {
        std::string subscription;
        {
            Connection server(ends_.target_server);
            if (database_exists(server, m_.target_database)) {
                Connection target(ends_.target);
                // DROP SUBSCRIPTION's notice about the slot it dropped is
                // not for the operator's terminal.
                PQsetNoticeProcessor(target.get(), [](void*, const char*) {}, nullptr);
                subscription = drop_subscription(target, ends_.replication);
            }
        }
        Connection source = open_source(ends_.source);
        drop_slot_and_publication(source, ends_.replication, subscription);
    }

    // A materialized view's rows are not replicated; the schema copy made it
    // empty.
    void refresh_materialized_views() {
        Connection target(ends_.target);
        const Result views = target.exec(
            "SELECT pg_catalog.format('%I.%I', schemaname, matviewname) AS name FROM pg_catalog.pg_matviews"
            " WHERE schemaname OPERATOR(pg_catalog.=) $1",
            {m_.schema});
        for (int row = 0; row < views.rows(); ++row)
            target.exec("REFRESH MATERIALIZED VIEW " + views.text(row, "name"));
    }

    // Drops the copy the move left behind, only if it is demonstrably the
    // tenant's moved copy.
    void drop_source_copy() {
        if (m_.source_isolation == Isolation::Schema) {
            Connection& registry = registry_.connection();
            const Result schema = registry.exec(
                "SELECT pg_catalog.obj_description(n.oid, 'pg_namespace') AS marker FROM pg_catalog.pg_namespace n"
                " WHERE n.nspname OPERATOR(pg_catalog.=) $1",
                {m_.schema});
            if (schema.rows() == 0)
                return;  // dropped by an earlier run
            const std::string marker =
                "tenancy: schema of tenant " + std::to_string(m_.tenant) + " of registry " + m_.registry;
            if (schema.optional_text(0, "marker") != marker)
                raise_error(ErrorInfo{"TN014", "schema " + m_.schema + " does not carry tenant " +
                                                   std::to_string(m_.tenant) + "'s marker and is not dropped",
                                      "", "Find out whose schema it is; nothing was dropped."});
            registry.exec("SET client_min_messages = warning");  // not every dropped table as a notice
            registry.exec("DROP SCHEMA " + sql_identifier(registry, m_.schema) + " CASCADE");
            registry.exec("RESET client_min_messages");
            return;
        }
        Connection server(ends_.source_server);
        const std::string database = m_.source_database.value_or("");
        if (!database_exists(server, database))
            return;
        {
            Connection db(ends_.source);
            const std::optional<tenant_database::Claim> claim = tenant_database::claim_of(db);
            const bool moved_copy = claim && claim->tenant == m_.tenant && claim->registry == m_.registry &&
                                    claim->move_state == std::optional<std::string>("moved") &&
                                    claim->move_id == m_.move;
            if (!moved_copy)
                raise_error(ErrorInfo{"TN014",
                                      "database " + database + " on server " + m_.source_server.value_or("") +
                                          " is not the copy move " + std::to_string(m_.move) +
                                          " left behind, and is not dropped",
                                      "", "Find out whose database it is; nothing was dropped."});
        }
        server.exec("DROP DATABASE " + sql_identifier(server, database) + " WITH (FORCE)");
    }

    // The target's database, only if it is this move's incoming copy (or
    // was created by it and never claimed).
    void drop_target_database() {
        Connection server(ends_.target_server);
        if (!database_exists(server, m_.target_database))
            return;
        {
            Connection target(ends_.target);
            const std::optional<tenant_database::Claim> claim = tenant_database::claim_of(target);
            const bool incoming = claim && claim->tenant == m_.tenant && claim->registry == m_.registry &&
                                  claim->move_state == std::optional<std::string>("incoming") &&
                                  claim->move_id == m_.move;
            const bool ours_unclaimed = !claim && created_target_ &&
                                        tenant_database::foreign_relations(target, m_.tenant) == 0;
            if (!incoming && !ours_unclaimed)
                raise_error(ErrorInfo{"TN024",
                                      "database " + m_.target_database + " on server " + m_.target_server +
                                          " is not the incoming copy of move " + std::to_string(m_.move) +
                                          " and is not dropped",
                                      "", "Find out whose database it is; the rest of the roll-back is done."});
        }
        server.exec("DROP DATABASE " + sql_identifier(server, m_.target_database) + " WITH (FORCE)");
    }

    Client& registry_;
    TenantMove m_;
    Ends ends_;
    const MoveOptions& options_;
    MoveReport& report_;
    bool created_target_ = false;
};

std::optional<TenantMove> unfinished_move(Client& registry, TenantId tenant) {
    for (TenantMove& m : registry.tenant_moves(tenant))
        if (m.unfinished())
            return std::move(m);
    return std::nullopt;
}

void lock(Client& registry, const TenantMove& m) {
    if (!registry.lock_move(m.move))
        raise_error(ErrorInfo{"TN020",
                              "move " + std::to_string(m.move) + " of tenant " + std::to_string(m.tenant) +
                                  " is being run by another client",
                              "Only one client runs a move at a time.", "Wait for it to end."});
}

TenantMove require_unfinished(Client& registry, TenantId tenant) {
    std::optional<TenantMove> m = unfinished_move(registry, tenant);
    if (!m)
        raise_error(ErrorInfo{"TN026", "tenant " + std::to_string(tenant) + " has no unfinished move", "",
                              "tenancyctl tenant move " + std::to_string(tenant) + " --to SERVER starts one."});
    return *m;
}

// The tenant's unfinished move, locked for this client, as it is now that
// this client holds it.
TenantMove take_unfinished(Client& registry, TenantId tenant) {
    lock(registry, require_unfinished(registry, tenant));
    return require_unfinished(registry, tenant);
}

bool is_abort_step(const std::string& step) {
    return step == "aborting" || step == "source_unfrozen" || step == "target_dropped";
}

// The checks a new move passes before anything changes; the steps it plans.
std::vector<std::string> preflight(Client& registry, const Endpoints& endpoints, TenantId tenant,
                                   const MoveOptions& options) {
    if (options.to.empty())
        raise_error(ErrorInfo{"22023", "the target server must be named", "", "Pass --to SERVER."});
    const TenantLocation location = registry.tenant_location(tenant);
    if (location.status == TenantStatus::Deleted)
        raise_error(ErrorInfo{"TN002", "tenant " + std::to_string(tenant) + " is deleted and is not moved", "",
                              "Purge it (tenancyctl tenant purge), or restore it first."});
    if (location.isolation == Isolation::Shared)
        raise_error(ErrorInfo{"TN022", "tenant " + std::to_string(tenant) + " is a shared tenant: its rows live in "
                                                                            "the shared tables",
                              "Moves copy a schema or a database of the tenant's own.",
                              "Only schema and database tenants can be moved."});
    if (!location.ready())
        raise_error(ErrorInfo{"TN010", "tenant " + std::to_string(tenant) + " is not ready (placement state " +
                                           location.state + ") and is not moved",
                              "", ""});
    if (std::optional<TenantMove> running = unfinished_move(registry, tenant))
        raise_error(ErrorInfo{"TN020", "tenant " + std::to_string(tenant) + " is being moved already (move " +
                                           std::to_string(running->move) + ")",
                              "", "Resume that move (--resume) or roll it back (--abort) first."});
    std::optional<ServerInfo> target;
    for (ServerInfo& s : registry.servers())
        if (s.name == options.to)
            target = std::move(s);
    if (!target)
        raise_error(ErrorInfo{"42704", "server \"" + options.to + "\" is not registered", "",
                              "See tenancyctl server list."});
    if (location.isolation == Isolation::Database && location.server == options.to)
        raise_error(ErrorInfo{"22023", "tenant " + std::to_string(tenant) + " is on server \"" + options.to +
                                           "\" already",
                              "", "Name another server."});
    if (target->free && *target->free <= 0)
        raise_error(ErrorInfo{"TN013", "server \"" + options.to + "\" is full", "", "Choose another server."});

    const ConnectOptions source = location.isolation == Isolation::Database ? endpoints.tenant_database(location)
                                                                             : endpoints.registry_database();
    const std::string database = "tenant_" + std::to_string(tenant);
    Connection src(source);
    const std::vector<std::string> tables = check_source(src, *location.schema);
    Connection target_server(endpoints.server(target->conninfo));
    check_target(target_server, src, *location.schema, database, false);
    program_version(pg_program(options.pg_bindir, "pg_dump"));
    program_version(pg_program(options.pg_bindir, "pg_restore"));

    const std::string from = location.isolation == Isolation::Database
                                 ? "database " + *location.database + " on server " + *location.server
                                 : "schema " + *location.schema + " of the registry database";
    return {
        "record the move in the registry; stop migrations of " + from,
        "create database " + database + " on server " + options.to + ", claim it, copy the migration ledger",
        "copy schema " + *location.schema + " (" + std::to_string(tables.size()) +
            " tables) with pg_dump --schema-only and pg_restore",
        "publish the schema on the source, subscribe on the target: copy the rows, then follow the changes",
        "cutover: freeze the source (writes refused), wait for the target to catch up, copy sequences, "
        "verify every table's row count and checksum on both sides",
        "switch the placement to server " + options.to + " and bump its epoch (writes resume on the target)",
        options.drop_source ? "drop the source " + from
                            : "keep the source " + from + ", frozen, read-only and marked moved",
    };
}

}  // namespace

Mover::Mover(ConnectOptions registry) : registry_(std::move(registry)) {}

MoveReport Mover::move(TenantId tenant, const MoveOptions& options) {
    const Clock::time_point started = Clock::now();
    Client registry(registry_);
    const Endpoints endpoints(registry.connection());
    MoveReport report;
    report.tenant = tenant;
    const std::vector<std::string> plan = preflight(registry, endpoints, tenant, options);
    if (options.dry_run) {
        const TenantLocation location = registry.tenant_location(tenant);
        report.from = location.isolation == Isolation::Database
                          ? "database " + *location.database + " on server " + *location.server
                          : "schema " + *location.schema + " of the registry database";
        report.to = "database tenant_" + std::to_string(tenant) + " on server " + options.to;
        report.state = "planned";
        report.steps = plan;
        report.seconds = ms_since(started) / 1000;
        return report;
    }
    TenantMove m = registry.begin_move(tenant, options.to, options.drop_source);
    lock(registry, m);
    MoveRun run(registry, endpoints, std::move(m), options, report);
    crash_point("move.after_begin");
    run.forward();
    report.seconds = ms_since(started) / 1000;
    return report;
}

MoveReport Mover::resume(TenantId tenant, const MoveOptions& options) {
    const Clock::time_point started = Clock::now();
    Client registry(registry_);
    const Endpoints endpoints(registry.connection());
    TenantMove m = take_unfinished(registry, tenant);
    if (is_abort_step(m.step))
        raise_error(ErrorInfo{"TN026", "move " + std::to_string(m.move) + " is being rolled back (step " + m.step + ")",
                              "", "Finish the roll-back: tenancyctl tenant move " + std::to_string(tenant) + " --abort."});
    MoveReport report;
    MoveRun run(registry, endpoints, std::move(m), options, report);
    run.forward();
    report.seconds = ms_since(started) / 1000;
    return report;
}

MoveReport Mover::abort(TenantId tenant, const MoveOptions& options) {
    const Clock::time_point started = Clock::now();
    Client registry(registry_);
    const Endpoints endpoints(registry.connection());
    TenantMove m = take_unfinished(registry, tenant);
    if (m.state != "running")
        raise_error(ErrorInfo{"TN026",
                              "move " + std::to_string(m.move) + " of tenant " + std::to_string(tenant) +
                                  " has switched: the target is authoritative and the move is not rolled back",
                              "", "Finish it: tenancyctl tenant move " + std::to_string(tenant) + " --resume."});
    const bool created = step_index(m.step) >= step_index("creating_target");
    MoveReport report;
    MoveRun run(registry, endpoints, std::move(m), options, report);
    run.backward(created);
    report.seconds = ms_since(started) / 1000;
    return report;
}

MoveReport Mover::drop_kept_source(TenantId tenant, const MoveOptions& options, std::optional<std::int64_t> move) {
    const Clock::time_point started = Clock::now();
    Client registry(registry_);
    const Endpoints endpoints(registry.connection());
    std::optional<TenantMove> kept;
    for (TenantMove& m : registry.tenant_moves(tenant))
        if (m.state == "done" && !m.source_dropped && (!move || m.move == *move)) {
            kept = std::move(m);
            break;
        }
    if (!kept)
        raise_error(ErrorInfo{"TN026", "no finished move of tenant " + std::to_string(tenant) + " kept its source",
                              "", "See tenancy.moves."});
    lock(registry, *kept);
    MoveReport report;
    MoveRun run(registry, endpoints, std::move(*kept), options, report);
    run.drop_kept_source();
    report.seconds = ms_since(started) / 1000;
    return report;
}

}  // namespace tenancy::orchestration
