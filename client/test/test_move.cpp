// Moving tenants between the three real clusters: a tenant of 100,000 rows
// moved while a client keeps writing through the Router, a checksum
// mismatch, the refusals, a schema tenant graduating to a database of its
// own, stopped moves, kept copies and erasure.  The SIGKILL-at-every-step
// tests are in test_move_crash.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <map>
#include <set>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "move_support.hpp"
#include "tenancy/orchestration/migrator.hpp"
#include "tenancy/orchestration/mover.hpp"
#include "tenancy/orchestration/provisioner.hpp"
#include "tenancy/orchestration/router.hpp"

namespace tenancy {
namespace {

namespace orch = orchestration;
using nlohmann::json;
using test::db_name;
using test::describe;
using test::run_tenancyctl;
using test::RunResult;
using test::TestRegistry;

constexpr int kTables = 10;
constexpr int kRowsPerTable = 10'000;

std::string table(TenantId t, std::int64_t n) { return fmt::format("{}.t{}", db_name(t), n); }

// What the writer saw and did.  A write is acknowledged when its COMMIT
// returned; a failed one is retried, with the same key, until it is.
struct WriterLog {
    std::vector<std::pair<std::int64_t, std::int64_t>> acked;  // key, id
    std::map<std::string, int> failures;                       // by exception type
    std::vector<std::string> unexpected;
    int ambiguous = 0;  // a COMMIT whose outcome was unknown, found committed
    double longest_ms = 0;
};

// Writes key k as one transaction: a row in table k % 10 + 1 (its id from
// the table's identity sequence) and +1 on a seeded row of another table.
// Failures the documentation promises during a cutover are retried; any
// other is recorded and ends the writer.
void write_until(orch::Router& router, TenantId t, const std::atomic<bool>& stop, std::atomic<std::int64_t>& stop_at,
                 WriterLog& log) {
    for (std::int64_t k = 1;; ++k) {
        if (stop && k > stop_at.load())
            return;
        const auto started = std::chrono::steady_clock::now();
        const std::string target = table(t, k % kTables + 1);
        bool maybe_committed = false;
        for (bool done = false; !done;) {
            bool in_commit = false;
            try {
                auto lease = router.acquire(t);
                Connection& c = lease.connection();
                try {
                    if (maybe_committed) {
                        const Result found =
                            c.exec("SELECT id FROM " + target + " WHERE writer_key = $1", {std::to_string(k)});
                        if (found.rows() == 1) {
                            log.acked.emplace_back(k, found.int64(0, "id"));
                            ++log.ambiguous;
                            break;
                        }
                    }
                    c.exec("BEGIN");
                    const std::int64_t id =
                        c.exec("INSERT INTO " + target + " (writer_key, payload) VALUES ($1, $2) RETURNING id",
                               {std::to_string(k), "write " + std::to_string(k)})
                            .int64(0, "id");
                    c.exec("UPDATE " + table(t, (k + 5) % kTables + 1) +
                               " SET updates = updates + 1 WHERE writer_key = $1",
                           {std::to_string(-(k % kRowsPerTable + 1))});
                    in_commit = true;
                    c.exec("COMMIT");
                    log.acked.emplace_back(k, id);
                    done = true;
                } catch (const Error&) {
                    lease.discard();
                    throw;
                }
            } catch (const ConnectionError&) {
                ++log.failures["ConnectionError (the cutover ended the session)"];
                maybe_committed = maybe_committed || in_commit;
                router.invalidate(t);
            } catch (const OperatorIntervention& e) {
                ++log.failures["OperatorIntervention " + e.sqlstate()];
                maybe_committed = maybe_committed || in_commit;
                router.invalidate(t);
            } catch (const CopyFrozen&) {
                ++log.failures["CopyFrozen TN021"];
                router.invalidate(t);
            } catch (const TenantMoving&) {
                ++log.failures["TenantMoving TN020"];
            } catch (const std::exception& e) {
                const auto* error = dynamic_cast<const Error*>(&e);
                log.unexpected.push_back((error ? error->sqlstate() + ": " : std::string()) + e.what());
                return;
            }
        }
        log.longest_ms = std::max(
            log.longest_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
    }
}

// The acceptance test of the issue: 100,000 rows in 10 tables, a writer
// writing through the Router all along.  After the move every acknowledged
// write is on the target exactly once, nothing else is, the sequences went
// on without collision, and the writer saw only the documented failures.
TEST(Move, HundredThousandRowsWhileAWriterWrites) {
    TestRegistry reg;
    std::string tables_sql;
    for (int n = 1; n <= kTables; ++n)
        tables_sql += fmt::format(
            "CREATE TABLE t{} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, writer_key bigint NOT NULL UNIQUE,"
            " payload text, updates int NOT NULL DEFAULT 0, at timestamptz NOT NULL DEFAULT now());",
            n);
    reg.client().add_migration(1, "ten tables", tables_sql);
    const TenantId t = reg.create_tenants("mv-big", 1, "database", "s2").front();
    orch::Provisioner(reg.options()).provision(t);
    {
        Connection db = reg.connect_to("s2", db_name(t));
        for (int n = 1; n <= kTables; ++n)
            db.exec(fmt::format("INSERT INTO {} (writer_key, payload) SELECT -g, md5(g::text)"
                                " FROM generate_series(1, {}) g",
                                table(t, n), kRowsPerTable));
    }

    orch::RouterOptions options;
    options.registry = reg.options();
    options.acquire_timeout = std::chrono::seconds(30);
    orch::Router router(options);
    std::atomic<bool> stop{false};
    std::atomic<std::int64_t> stop_at{0};
    WriterLog log;
    std::thread writer([&] { write_until(router, t, stop, stop_at, log); });
    while (log.acked.size() < 50 && log.unexpected.empty())
        std::this_thread::sleep_for(std::chrono::milliseconds(5));

    orch::MoveReport report;
    try {
        orch::MoveOptions move;
        move.to = "s3";
        report = orch::Mover(reg.options()).move(t, move);
    } catch (...) {
        stop_at = 0;
        stop = true;
        writer.join();
        throw;
    }
    // The writer goes on for 200 more writes, on the target now.
    const std::size_t acked_at_switch = log.acked.size();
    stop_at = static_cast<std::int64_t>(acked_at_switch) + 200;
    stop = true;
    writer.join();

    EXPECT_TRUE(log.unexpected.empty()) << log.unexpected.front();
    for (const auto& [kind, count] : log.failures)
        std::cout << "[ writer  ] " << count << " x " << kind << "\n";
    std::cout << "[ writer  ] " << log.acked.size() << " writes acknowledged, " << log.ambiguous
              << " after an unknown COMMIT outcome; longest write " << log.longest_ms << " ms; move "
              << report.seconds << " s, writes paused " << report.write_pause_ms << " ms\n";

    EXPECT_EQ(report.state, "done");
    EXPECT_EQ(report.tables.size(), static_cast<std::size_t>(kTables));
    EXPECT_GE(report.rows, kTables * kRowsPerTable);
    EXPECT_GT(report.write_pause_ms, 0);
    EXPECT_TRUE(report.source_kept);
    const TenantLocation l = reg.client().tenant_location(t);
    EXPECT_EQ(l.server, "s3");
    EXPECT_EQ(l.epoch, 2) << "the switch bumped the epoch";

    // Every acknowledged write is on the target, once, with its id; no
    // other write is.
    Connection target = reg.connect_to("s3", db_name(t));
    std::map<std::int64_t, std::int64_t> on_target;  // key -> id
    std::int64_t updates = 0, seeded = 0;
    std::map<int, std::int64_t> max_id_before;  // by table: the highest id written before the switch
    std::map<std::int64_t, int> table_of;
    for (int n = 1; n <= kTables; ++n) {
        const Result rows = target.exec("SELECT writer_key, id FROM " + table(t, n) + " WHERE writer_key > 0");
        for (int row = 0; row < rows.rows(); ++row) {
            EXPECT_TRUE(on_target.emplace(rows.int64(row, "writer_key"), rows.int64(row, "id")).second);
            table_of[rows.int64(row, "writer_key")] = n;
        }
        const Result seed = target.exec("SELECT count(*) AS n, sum(updates) AS u, max(id) AS m FROM " + table(t, n) +
                                        " WHERE writer_key < 0");
        seeded += seed.int64(0, "n");
        updates += seed.int64(0, "u");
        max_id_before[n] = seed.int64(0, "m");
    }
    EXPECT_EQ(seeded, kTables * kRowsPerTable);
    EXPECT_EQ(on_target.size(), log.acked.size()) << "no write lost, none extra";
    for (std::size_t i = 0; i < log.acked.size(); ++i) {
        const auto& [key, id] = log.acked[i];
        auto found = on_target.find(key);
        ASSERT_NE(found, on_target.end()) << "acknowledged write " << key << " is missing on the target";
        EXPECT_EQ(found->second, id) << "write " << key;
        if (i < acked_at_switch)
            max_id_before[table_of[key]] = std::max(max_id_before[table_of[key]], id);
    }
    EXPECT_EQ(updates, static_cast<std::int64_t>(log.acked.size())) << "each acknowledged update applied once";
    // The sequences went on where the source's stopped.
    for (std::size_t i = acked_at_switch; i < log.acked.size(); ++i)
        EXPECT_GT(log.acked[i].second, max_id_before[table_of[log.acked[i].first]])
            << "write " << log.acked[i].first << " after the switch reused an id";

    // The source is kept, marked moved, and refuses writes.
    Connection source = reg.connect_to("s2", db_name(t));
    EXPECT_EQ(source.exec("SELECT move_state FROM tenancy.database_claim()").text(0, "move_state"), "moved");
    EXPECT_THROW(source.exec("INSERT INTO " + table(t, 1) + " (writer_key) VALUES (0)"), ServerError)
        << "read-only for new sessions";
    source.exec("BEGIN READ WRITE");
    EXPECT_THROW(source.exec("INSERT INTO " + table(t, 1) + " (writer_key) VALUES (0)"), CopyFrozen);
    source.exec("ROLLBACK");
    const RunResult check = run_tenancyctl({"check"}, reg.env());
    EXPECT_EQ(check.exit_code, 0) << describe(check);
}

// A row changed on the target before the cutover: the move stops before its
// switch, names the table, and the source stays authoritative and writable.
TEST(Move, ChecksumMismatchStopsBeforeTheSwitch) {
    TestRegistry reg;
    test::add_move_migrations(reg);
    const TenantId t = test::movable_tenant(reg, "s2", 50);
    const RunResult stopped = run_tenancyctl({"tenant", "move", std::to_string(t), "--to", "s3"},
                                             reg.env({{"TENANCY_CRASH_AT", "move.after_sync"}}));
    ASSERT_EQ(stopped.signal, SIGKILL) << describe(stopped);
    {
        Connection target = reg.connect_to("s3", db_name(t));
        target.exec("UPDATE " + db_name(t) + ".notes SET body = 'tampered' WHERE id = 7");
        EXPECT_EQ(target.exec("SELECT body FROM " + db_name(t) + ".notes WHERE id = 7").text(0, "body"), "tampered");
    }
    const RunResult resumed = run_tenancyctl({"tenant", "move", std::to_string(t), "--resume"}, reg.env());
    EXPECT_EQ(resumed.exit_code, 1) << describe(resumed);
    EXPECT_NE(resumed.err.find("TN025"), std::string::npos) << describe(resumed);
    EXPECT_NE(resumed.err.find("table notes: source 50 rows"), std::string::npos) << describe(resumed);
    EXPECT_EQ(resumed.err.find("table items"), std::string::npos) << "only the tampered table: " << describe(resumed);

    const TenantLocation l = reg.client().tenant_location(t);
    EXPECT_EQ(l.server, "s2") << "no switch";
    EXPECT_EQ(l.epoch, 1);
    const TenantMove m = reg.client().tenant_moves(t).front();
    EXPECT_EQ(m.state, "running");
    EXPECT_EQ(m.step, "synced") << "back before the cutover";
    ASSERT_TRUE(m.error.has_value());
    EXPECT_NE(m.error->find("table notes"), std::string::npos) << *m.error;
    test::expect_authoritative(reg, t, "s2", false);  // writable again, and routed there

    // check reports the stopped move; rolled back, all is clean.
    const RunResult check = run_tenancyctl({"--json", "check"}, reg.env());
    EXPECT_EQ(check.exit_code, 3) << describe(check);
    EXPECT_NE(check.out.find("move_unfinished"), std::string::npos) << describe(check);
    EXPECT_NE(check.out.find("table notes"), std::string::npos) << "with the reason: " << describe(check);
    const RunResult aborted = run_tenancyctl({"tenant", "move", std::to_string(t), "--abort"}, reg.env());
    ASSERT_EQ(aborted.exit_code, 0) << describe(aborted);
    EXPECT_EQ(test::expect_authoritative(reg, t, "s2", false), 0);
    EXPECT_EQ(run_tenancyctl({"check"}, reg.env()).exit_code, 0);
}

// Each refusal comes before anything changes, with the fix in the HINT.
TEST(Move, RefusesWhatCannotBeMovedSafely) {
    TestRegistry reg;
    test::add_move_migrations(reg);
    Client registry = reg.client();
    const TenantId t = test::movable_tenant(reg, "s2", 5);
    const std::string id = std::to_string(t);
    auto move_to = [&](const std::string& server) {
        return run_tenancyctl({"tenant", "move", id, "--to", server}, reg.env());
    };
    auto refused = [&](const RunResult& r, const std::string& sqlstate, const std::string& text) {
        EXPECT_EQ(r.exit_code, 1) << describe(r);
        EXPECT_NE(r.err.find(sqlstate), std::string::npos) << describe(r);
        EXPECT_NE(r.err.find(text), std::string::npos) << describe(r);
        EXPECT_NE(r.err.find("HINT"), std::string::npos) << describe(r);
        EXPECT_TRUE(registry.tenant_moves(t).empty()) << "nothing recorded";
        EXPECT_FALSE(reg.database_exists("s3", db_name(t))) << "nothing created";
    };
    Connection db = reg.connect_to("s2", db_name(t));

    db.exec("CREATE TABLE " + db_name(t) + ".keyless (a int, b text)");
    refused(move_to("s3"), "TN022", "keyless");
    db.exec("ALTER TABLE " + db_name(t) + ".keyless REPLICA IDENTITY FULL");  // the fix the hint names
    db.exec("CREATE UNLOGGED TABLE " + db_name(t) + ".scratch (id int PRIMARY KEY)");
    refused(move_to("s3"), "TN022", "scratch");
    db.exec("ALTER TABLE " + db_name(t) + ".scratch SET LOGGED");

    const std::string role = "move_role_" + test::unique_slug("r").substr(2);
    db.exec("CREATE ROLE " + role);
    db.exec("GRANT SELECT ON " + db_name(t) + ".items TO " + role);
    refused(move_to("s3"), "TN023", role);
    db.exec("REVOKE SELECT ON " + db_name(t) + ".items FROM " + role);
    db.exec("DROP ROLE " + role);

    {
        Connection s3 = reg.connect_to("s3", "postgres");
        s3.exec("CREATE DATABASE " + db_name(t));
        const RunResult occupied = move_to("s3");
        EXPECT_EQ(occupied.exit_code, 1) << describe(occupied);
        EXPECT_NE(occupied.err.find("TN024"), std::string::npos) << describe(occupied);
        EXPECT_TRUE(registry.tenant_moves(t).empty());
        s3.exec("DROP DATABASE " + db_name(t));
    }
    const RunResult same = move_to("s2");
    EXPECT_EQ(same.exit_code, 1);
    EXPECT_NE(same.err.find("22023"), std::string::npos) << describe(same);
    const RunResult unknown = move_to("nowhere");
    EXPECT_NE(unknown.err.find("42704"), std::string::npos) << describe(unknown);
    const TenantId shared = reg.create_tenants("mv-shared", 1, "shared").front();
    const RunResult not_movable = run_tenancyctl({"tenant", "move", std::to_string(shared), "--to", "s3"}, reg.env());
    EXPECT_NE(not_movable.err.find("TN022"), std::string::npos) << describe(not_movable);

    // Fixed, a dry run plans the move and changes nothing.
    const RunResult dry = run_tenancyctl({"--json", "tenant", "move", id, "--to", "s3", "--dry-run"}, reg.env());
    ASSERT_EQ(dry.exit_code, 0) << describe(dry);
    EXPECT_EQ(json::parse(dry.out).at("state"), "planned");
    EXPECT_EQ(json::parse(dry.out).at("steps").size(), 7u);
    EXPECT_TRUE(registry.tenant_moves(t).empty());
    EXPECT_FALSE(reg.database_exists("s3", db_name(t)));
    // ... and the move itself goes through, REPLICA IDENTITY FULL table included.
    db.exec("INSERT INTO " + db_name(t) + ".keyless VALUES (1, 'one'), (1, 'one'), (2, 'two')");
    const RunResult moved = run_tenancyctl({"--json", "tenant", "move", id, "--to", "s3", "--drop-source"}, reg.env());
    ASSERT_EQ(moved.exit_code, 0) << describe(moved);
    Connection target = reg.connect_to("s3", db_name(t));
    EXPECT_EQ(target.exec("SELECT count(*) AS n FROM " + db_name(t) + ".keyless").int64(0, "n"), 3);
    EXPECT_FALSE(reg.database_exists("s2", db_name(t)));
}

// The source must publish with logical replication.
TEST(Move, RefusesASourceWithoutLogicalWal) {
    TestRegistry reg;
    test::add_move_migrations(reg);
    const TenantId t = test::movable_tenant(reg, "s3", 5);
    // A server with a logical slot refuses to start below wal_level logical:
    // every earlier move must have dropped its slots.
    ASSERT_EQ(reg.connect_to("s3", "postgres").exec("SELECT count(*) AS n FROM pg_replication_slots").int64(0, "n"), 0)
        << "a replication slot was left on s3; not restarting it";
    reg.connect_to("s3", "postgres").exec("ALTER SYSTEM SET wal_level = 'replica'");
    test::stop_server3();
    test::start_server3();
    const RunResult refused = run_tenancyctl({"tenant", "move", std::to_string(t), "--to", "s2"}, reg.env());
    reg.connect_to("s3", "postgres").exec("ALTER SYSTEM RESET wal_level");
    test::stop_server3();
    test::start_server3();
    EXPECT_EQ(refused.exit_code, 1) << describe(refused);
    EXPECT_NE(refused.err.find("TN023"), std::string::npos) << describe(refused);
    EXPECT_NE(refused.err.find("wal_level is replica"), std::string::npos) << describe(refused);
    EXPECT_NE(refused.err.find("wal_level = logical"), std::string::npos) << "the hint: " << describe(refused);
    EXPECT_TRUE(reg.client().tenant_moves(t).empty());
}

// A schema tenant moves into a database of its own: the way to graduate a big
// customer.  Its migrations go on there; the schema it left is kept, frozen,
// until dropped, and erasure removes it too.
TEST(Move, SchemaTenantGraduatesToADatabase) {
    TestRegistry reg;
    test::add_move_migrations(reg);
    Client registry = reg.client();
    const TenantId t = reg.create_tenants("mv-schema", 1, "schema").front();
    Connection regdb(reg.options());
    regdb.exec("INSERT INTO " + db_name(t) + ".items (name) SELECT 'item ' || g FROM generate_series(1, 300) g");

    orch::MoveOptions options;
    options.to = "s2";
    const orch::MoveReport report = orch::Mover(reg.options()).move(t, options);
    EXPECT_EQ(report.state, "done");
    EXPECT_EQ(report.from, "schema " + db_name(t) + " of the registry database");
    const TenantLocation l = registry.tenant_location(t);
    EXPECT_EQ(l.isolation, Isolation::Database);
    EXPECT_EQ(l.server, "s2");
    EXPECT_EQ(l.epoch, 2);
    EXPECT_EQ(test::expect_authoritative(reg, t, "s2", false), 0);
    EXPECT_EQ(test::items_on(reg, t, "s2"), 301);

    // The schema left behind refuses writes.
    EXPECT_THROW(regdb.exec("INSERT INTO " + db_name(t) + ".items (name) VALUES ('late')"), CopyFrozen);
    // Migrations go on in the tenant's database, from its ledger.
    registry.add_migration(2, "tags", "CREATE TABLE tags (name text PRIMARY KEY)");
    orch::MigrateOptions migrate;
    migrate.tenants = {t};
    const std::vector<orch::TenantOutcome> outcomes = orch::Migrator(reg.options()).run(migrate);
    ASSERT_EQ(outcomes.size(), 1u);
    EXPECT_TRUE(outcomes[0].ok) << outcomes[0].error;
    EXPECT_EQ(outcomes[0].to_version, 2);
    Connection db = reg.connect_to("s2", db_name(t));
    EXPECT_EQ(db.exec("SELECT count(*) AS n FROM tenancy.applied_migrations($1::bigint)", {std::to_string(t)})
                  .int64(0, "n"),
              2)
        << "migration 1 came with the ledger, 2 was applied there";
    EXPECT_EQ(run_tenancyctl({"check"}, reg.env()).exit_code, 0) << "the kept schema is no orphan";

    // Erasure removes the kept schema too.
    registry.delete_tenant(t);
    const RunResult purged = run_tenancyctl({"--json", "tenant", "purge", std::to_string(t)}, reg.env());
    ASSERT_EQ(purged.exit_code, 0) << describe(purged);
    EXPECT_FALSE(reg.database_exists("s2", db_name(t)));
    EXPECT_EQ(regdb.exec("SELECT count(*) AS n FROM pg_namespace WHERE nspname = $1", {db_name(t)}).int64(0, "n"), 0);
    EXPECT_NE(purged.out.find("kept by move"), std::string::npos) << describe(purged);
}

// A move that stopped is reported by check, runs in one client at a time,
// holds the tenant's migrations and purge until it ends, and is resumed.
TEST(Move, StoppedMoveIsReportedAndResumedOnce) {
    TestRegistry reg;
    test::add_move_migrations(reg);
    Client registry = reg.client();
    const TenantId t = test::movable_tenant(reg, "s2", 10);
    const std::string id = std::to_string(t);
    const RunResult stopped =
        run_tenancyctl({"tenant", "move", id, "--to", "s3"}, reg.env({{"TENANCY_CRASH_AT", "move.after_subscription"}}));
    ASSERT_EQ(stopped.signal, SIGKILL) << describe(stopped);

    const RunResult check = run_tenancyctl({"--json", "check"}, reg.env());
    EXPECT_EQ(check.exit_code, 3) << describe(check);
    const json problems = json::parse(check.out).at("problems");
    ASSERT_EQ(problems.size(), 1u) << check.out;
    EXPECT_EQ(problems[0].at("problem"), "move_unfinished");
    EXPECT_NE(problems[0].at("detail").get<std::string>().find("--resume"), std::string::npos);

    // A second move is refused; so are migrations and purge.
    const RunResult second = run_tenancyctl({"tenant", "move", id, "--to", "main"}, reg.env());
    EXPECT_NE(second.err.find("TN020"), std::string::npos) << describe(second);
    registry.add_migration(2, "tags", "CREATE TABLE tags (name text PRIMARY KEY)");
    orch::MigrateOptions migrate;
    migrate.tenants = {t};
    const std::vector<orch::TenantOutcome> outcomes = orch::Migrator(reg.options()).run(migrate);
    ASSERT_EQ(outcomes.size(), 1u);
    EXPECT_FALSE(outcomes[0].ok);
    EXPECT_EQ(outcomes[0].sqlstate, "TN020") << outcomes[0].error;
    registry.delete_tenant(t);
    const RunResult purge = run_tenancyctl({"tenant", "purge", id}, reg.env());
    EXPECT_NE(purge.err.find("TN020"), std::string::npos) << describe(purge);
    registry.restore_tenant(t);

    // While another client holds the move, resume is refused; then it runs.
    {
        Client other = reg.client();
        ASSERT_TRUE(other.lock_move(registry.tenant_moves(t).front().move));
        const RunResult busy = run_tenancyctl({"tenant", "move", id, "--resume"}, reg.env());
        EXPECT_EQ(busy.exit_code, 1);
        EXPECT_NE(busy.err.find("TN020"), std::string::npos) << describe(busy);
        const RunResult running = run_tenancyctl({"check"}, reg.env());
        EXPECT_EQ(running.out.find("move_unfinished"), std::string::npos) << "a move being run is not stuck: "
                                                                          << describe(running);
    }
    const RunResult resumed = run_tenancyctl({"tenant", "move", id, "--resume"}, reg.env());
    ASSERT_EQ(resumed.exit_code, 0) << describe(resumed);
    EXPECT_EQ(test::expect_authoritative(reg, t, "s3", false), 1) << "the source is kept";
    // Migrations reach the tenant where it is now.
    const std::vector<orch::TenantOutcome> after = orch::Migrator(reg.options()).run(migrate);
    EXPECT_TRUE(after.at(0).ok) << after.at(0).error;
    EXPECT_EQ(run_tenancyctl({"check"}, reg.env()).exit_code, 0);
}

// The copy a move keeps is dropped on request, blocks removing its server
// meanwhile, and is erased with the tenant.
TEST(Move, KeptCopiesAreDroppedOnRequestAndByPurge) {
    TestRegistry reg;
    test::add_move_migrations(reg);
    Client registry = reg.client();
    const TenantId t = test::movable_tenant(reg, "s2", 10);
    const std::string id = std::to_string(t);
    ASSERT_EQ(run_tenancyctl({"tenant", "move", id, "--to", "s3"}, reg.env()).exit_code, 0);
    EXPECT_TRUE(reg.database_exists("s2", db_name(t))) << "kept";
    EXPECT_THROW(registry.remove_server("s2"), ServerError) << "2BP01: a kept copy lives there";

    // Moving back onto the kept copy is refused until it is dropped.
    const RunResult back = run_tenancyctl({"tenant", "move", id, "--to", "s2"}, reg.env());
    EXPECT_NE(back.err.find("TN024"), std::string::npos) << describe(back);
    const RunResult dropped = run_tenancyctl({"tenant", "move", id, "--drop-source"}, reg.env());
    ASSERT_EQ(dropped.exit_code, 0) << describe(dropped);
    EXPECT_FALSE(reg.database_exists("s2", db_name(t)));
    ASSERT_EQ(run_tenancyctl({"tenant", "move", id, "--to", "s2"}, reg.env()).exit_code, 0);
    ASSERT_EQ(run_tenancyctl({"tenant", "move", id, "--to", "main"}, reg.env()).exit_code, 0);
    EXPECT_TRUE(reg.database_exists("s3", db_name(t)));
    EXPECT_TRUE(reg.database_exists("s2", db_name(t)));
    EXPECT_EQ(test::expect_authoritative(reg, t, "main", false), 2) << "two kept copies, both frozen";

    registry.delete_tenant(t);
    const RunResult purged = run_tenancyctl({"tenant", "purge", id}, reg.env());
    ASSERT_EQ(purged.exit_code, 0) << describe(purged);
    for (const std::string server : {"main", "s2", "s3"})
        EXPECT_FALSE(reg.database_exists(server, db_name(t))) << "erased on " << server;
}

// The target server restarting during a move: the move stops, is reported,
// and is resumed once the server is back.
TEST(Move, TargetServerRestartedDuringTheMove) {
    TestRegistry reg;
    test::add_move_migrations(reg);
    const TenantId t = test::movable_tenant(reg, "s2", 10);
    const std::string id = std::to_string(t);
    const RunResult stopped =
        run_tenancyctl({"tenant", "move", id, "--to", "s3"}, reg.env({{"TENANCY_CRASH_AT", "move.after_sync"}}));
    ASSERT_EQ(stopped.signal, SIGKILL) << describe(stopped);
    test::stop_server3();
    const RunResult failed = run_tenancyctl({"tenant", "move", id, "--resume"}, reg.env());
    const RunResult check = run_tenancyctl({"check"}, reg.env());
    test::start_server3();
    EXPECT_EQ(failed.exit_code, 1) << describe(failed);
    EXPECT_NE(failed.err.find("08"), std::string::npos) << "a connection error: " << describe(failed);
    EXPECT_EQ(check.exit_code, 3) << describe(check);
    EXPECT_NE(check.out.find("move_unfinished"), std::string::npos) << describe(check);
    test::expect_authoritative(reg, t, "s2", false);  // the source went on taking writes

    const RunResult resumed = run_tenancyctl({"tenant", "move", id, "--resume"}, reg.env());
    ASSERT_EQ(resumed.exit_code, 0) << describe(resumed);
    EXPECT_EQ(test::expect_authoritative(reg, t, "s3", false), 1);
    EXPECT_EQ(test::items_on(reg, t, "s3"), 12) << "10 seeded, 2 routed writes";
}

}  // namespace
}  // namespace tenancy
