// Tenants in schemas and databases on three real clusters: provisioning,
// migrations (failures, concurrent runs, a server going away), routing,
// purge and check.  The crash tests are in test_placement_crash.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "placement_support.hpp"
#include "tenancy/orchestration/migrator.hpp"
#include "tenancy/orchestration/placement_check.hpp"
#include "tenancy/orchestration/provisioner.hpp"
#include "tenancy/orchestration/purger.hpp"
#include "tenancy/orchestration/router.hpp"

namespace tenancy {
namespace {

namespace orch = orchestration;
using nlohmann::json;
using test::describe;
using test::run_tenancyctl;
using test::RunResult;
using test::TestRegistry;

constexpr int kSomeFailed = 3;

std::string db_name(TenantId t) { return "tenant_" + std::to_string(t); }

// The newest migration a tenant database records for its tenant.
std::int64_t database_version(const TestRegistry& reg, const TenantLocation& l) {
    Connection db = reg.connect_to(*l.server, *l.database);
    return db.exec("SELECT coalesce(max(version), 0) AS v FROM tenancy.applied_migrations($1::bigint)",
                   {std::to_string(l.tenant)})
        .int64(0, "v");
}

TEST(Placement, ProvisionsAHundredDatabaseTenantsOverThreeServers) {
    TestRegistry reg;
    reg.add_base_migrations();
    Client registry = reg.client();
    registry.require_tenant_row("settings", R"({"name": "theme", "value": "light"})");
    const std::vector<TenantId> ids = reg.create_tenants("hundred", 100, "database");

    const RunResult r = run_tenancyctl({"provision", "--jobs", "4", "--json"}, reg.env());
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const json out = json::parse(r.out);
    EXPECT_EQ(out.at("succeeded"), 100);
    EXPECT_EQ(out.at("failed"), 0);

    std::map<std::string, int> per_server;
    for (const TenantLocation& l : registry.tenant_locations(ids)) {
        ASSERT_TRUE(l.ready()) << "tenant " << l.tenant << " is " << l.state;
        EXPECT_EQ(l.migrated_version, 2);
        ++per_server[*l.server];
    }
    // Three servers without limits, filled evenly (fewest tenants first).
    EXPECT_EQ(per_server, (std::map<std::string, int>{{"main", 34}, {"s2", 33}, {"s3", 33}}));

    // Every database exists where the registry says, is claimed by its tenant,
    // is migrated and has its required row; spot-check a sample in full.
    for (std::size_t i = 0; i < ids.size(); i += 7) {
        const TenantLocation l = registry.tenant_location(ids[i]);
        Connection db = reg.connect_to(*l.server, *l.database);
        const Result claim = db.exec("SELECT tenant, registry::text AS registry FROM tenancy.database_claim()");
        ASSERT_EQ(claim.rows(), 1);
        EXPECT_EQ(claim.int64(0, "tenant"), l.tenant);
        EXPECT_EQ(claim.text(0, "registry"), registry.registry_id());
        EXPECT_EQ(database_version(reg, l), 2);
        EXPECT_EQ(db.exec("SELECT value FROM " + db_name(l.tenant) + ".settings WHERE name = 'theme'").text(0, "value"),
                  "light");
        // and on no other server
        for (const std::string other : {"main", "s2", "s3"}) {
            if (other != *l.server) {
                EXPECT_FALSE(reg.database_exists(other, *l.database)) << *l.database << " also on " << other;
            }
        }
    }
    const RunResult check = run_tenancyctl({"check", "--jobs", "2"}, reg.env());
    EXPECT_EQ(check.exit_code, 0) << describe(check);
}

TEST(Placement, SchemaAndDatabaseTenantsFromTenancyctl) {
    TestRegistry reg;
    reg.add_base_migrations();
    const RunResult schema = run_tenancyctl({"--json", "tenant", "create", test::unique_slug("ctl-s"), "--isolation",
                                             "schema"},
                                            reg.env());
    ASSERT_EQ(schema.exit_code, 0) << describe(schema);
    const RunResult database = run_tenancyctl({"--json", "tenant", "create", test::unique_slug("ctl-d"), "--isolation",
                                               "database", "--server", "s3"},
                                              reg.env());
    ASSERT_EQ(database.exit_code, 0) << describe(database);
    EXPECT_EQ(json::parse(database.out).at("migrated_version"), 2) << "provisioned by the same command";
    const TenantId s = json::parse(schema.out).at("id");
    const TenantId d = json::parse(database.out).at("id");

    const RunResult location = run_tenancyctl({"--json", "tenant", "location", std::to_string(d)}, reg.env());
    ASSERT_EQ(location.exit_code, 0) << describe(location);
    EXPECT_EQ(json::parse(location.out).at("server"), "s3");
    EXPECT_EQ(json::parse(location.out).at("state"), "ready");

    // connect prints a conninfo that reaches the tenant's own objects.
    for (TenantId t : {s, d}) {
        const RunResult c = run_tenancyctl({"connect", std::to_string(t)}, reg.env());
        ASSERT_EQ(c.exit_code, 0) << describe(c);
        std::string conninfo = c.out.substr(0, c.out.find('\n'));
        Connection tenant_db(ConnectOptions{conninfo, {}, {}, {}});
        EXPECT_EQ(tenant_db.exec("SELECT current_schema() AS s").text(0, "s"), db_name(t)) << c.out;
        EXPECT_NO_THROW(tenant_db.exec("SELECT count(*) FROM orders"));
    }
    const RunResult servers = run_tenancyctl({"--json", "server", "list"}, reg.env());
    ASSERT_EQ(servers.exit_code, 0) << describe(servers);
    for (const json& row : json::parse(servers.out))
        EXPECT_EQ(row.at("tenants"), row.at("name") == "s3" ? 1 : 0) << row.dump();
    const RunResult refused = run_tenancyctl({"server", "remove", "s3"}, reg.env());
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("2BP01"), std::string::npos) << describe(refused);
}

TEST(Placement, MigrationsFromAFolder) {
    TestRegistry reg;
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / test::unique_slug("migrations");
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "V1__create_settings.sql") << "CREATE TABLE settings (name text PRIMARY KEY);";
    std::ofstream(dir / "V2__add_value.sql") << "ALTER TABLE settings ADD COLUMN value text;";
    std::ofstream(dir / "README.md") << "not a migration";

    const RunResult first = run_tenancyctl({"--json", "migrations", "add", dir.string()}, reg.env());
    ASSERT_EQ(first.exit_code, 0) << describe(first);
    EXPECT_EQ(json::parse(first.out).at("added"), json::array({1, 2}));
    const RunResult again = run_tenancyctl({"--json", "migrations", "add", dir.string()}, reg.env());
    ASSERT_EQ(again.exit_code, 0) << describe(again);
    EXPECT_EQ(json::parse(again.out).at("unchanged"), json::array({1, 2})) << "the same files are skipped";
    EXPECT_EQ(reg.client().migrations().at(0).name, "create settings");

    // An edited file and a new one: the whole folder is refused, nothing added.
    std::ofstream(dir / "V2__add_value.sql") << "ALTER TABLE settings ADD COLUMN value integer;";
    std::ofstream(dir / "V3__more.sql") << "SELECT 1;";
    const RunResult edited = run_tenancyctl({"migrations", "add", dir.string()}, reg.env());
    EXPECT_EQ(edited.exit_code, 1) << describe(edited);
    EXPECT_NE(edited.err.find("TN011"), std::string::npos) << describe(edited);
    EXPECT_EQ(reg.client().migrations().size(), 2u) << "one transaction: V3 was not registered either";

    std::filesystem::remove(dir / "V3__more.sql");
    std::ofstream(dir / "V4_missing_underscore.sql") << "SELECT 1;";
    const RunResult misnamed = run_tenancyctl({"migrations", "add", dir.string()}, reg.env());
    EXPECT_EQ(misnamed.exit_code, 1) << describe(misnamed);
    EXPECT_NE(misnamed.err.find("V<version>__<description>.sql"), std::string::npos) << describe(misnamed);
    std::filesystem::remove_all(dir);
}

// A migration that fails for some tenants only: the others migrate, the
// failures are listed with tenant, version and the original error, and after
// the data is fixed a re-run completes.
TEST(Placement, AMigrationFailingForSomeTenantsOnly) {
    TestRegistry reg;
    reg.add_base_migrations();
    Client registry = reg.client();
    const std::vector<TenantId> schemas = reg.create_tenants("mixed-s", 4, "schema");
    const std::vector<TenantId> databases = reg.create_tenants("mixed-d", 4, "database");
    orch::Provisioner(reg.options()).provision_all(2);
    // Tenants 0 and 2 of each kind hold a value the next migration forbids.
    std::set<TenantId> bad;
    for (const auto* group : {&schemas, &databases})
        for (std::size_t i : {0u, 2u}) {
            const TenantLocation l = registry.tenant_location((*group)[i]);
            Connection db = l.isolation == Isolation::Schema ? Connection(reg.options())
                                                             : reg.connect_to(*l.server, *l.database);
            db.exec("INSERT INTO " + db_name(l.tenant) + ".settings VALUES ('limit', 'none')");
            bad.insert(l.tenant);
        }
    registry.add_migration(3, "numeric limits",
                           "ALTER TABLE settings ADD CONSTRAINT value_is_a_number CHECK (value ~ '^[0-9]+$')");

    const RunResult first = run_tenancyctl({"migrate", "--jobs", "3", "--json"}, reg.env());
    ASSERT_EQ(first.exit_code, kSomeFailed) << describe(first);
    const json report = json::parse(first.out);
    EXPECT_EQ(report.at("failed"), 4);
    for (const json& t : report.at("tenants")) {
        const TenantId id = t.at("tenant");
        if (bad.count(id)) {
            EXPECT_FALSE(t.at("ok").get<bool>()) << t.dump();
            EXPECT_EQ(t.at("sqlstate"), "23514") << "the original error's SQLSTATE";
            EXPECT_NE(t.at("error").get<std::string>().find("tenancy migration 3 (numeric limits) of tenant " +
                                                            std::to_string(id)),
                      std::string::npos)
                << t.dump();
            EXPECT_EQ(t.at("to_version"), 2);
        } else {
            EXPECT_TRUE(t.at("ok").get<bool>()) << t.dump();
            EXPECT_EQ(t.at("to_version"), 3);
        }
    }
    // The failed tenants stayed at version 2, in the registry and in their data.
    for (const TenantLocation& l : registry.tenant_locations()) {
        EXPECT_EQ(l.migrated_version, bad.count(l.tenant) ? 2 : 3) << l.tenant;
        if (l.isolation == Isolation::Database) {
            EXPECT_EQ(database_version(reg, l), l.migrated_version) << l.tenant;
        }
    }
    // Fix the data; the re-run migrates exactly the four that were left.
    for (TenantId t : bad) {
        const TenantLocation l = registry.tenant_location(t);
        Connection db = l.isolation == Isolation::Schema ? Connection(reg.options())
                                                         : reg.connect_to(*l.server, *l.database);
        db.exec("UPDATE " + db_name(t) + ".settings SET value = '10' WHERE name = 'limit'");
    }
    const RunResult second = run_tenancyctl({"migrate", "--jobs", "3", "--json"}, reg.env());
    ASSERT_EQ(second.exit_code, 0) << describe(second);
    EXPECT_EQ(json::parse(second.out).at("tenants").size(), 4u) << "only those behind are visited";
    EXPECT_TRUE(registry.pending_migrations().empty());
}

// Two runs at once: every tenant gets each migration exactly once (the
// migration below would insert a second row if it ran twice), and neither
// run deadlocks or fails.
TEST(Placement, TwoMigrateRunsAtOnce) {
    TestRegistry reg;
    reg.add_base_migrations();
    Client registry = reg.client();
    std::vector<TenantId> all = reg.create_tenants("twice-s", 6, "schema");
    for (TenantId t : reg.create_tenants("twice-d", 9, "database"))
        all.push_back(t);
    orch::Provisioner(reg.options()).provision_all(3);
    registry.add_migration(3, "count runs", "CREATE TABLE runs (at timestamptz); INSERT INTO runs VALUES (now());"
                                            "SELECT pg_sleep(0.02)");

    orch::MigrateOptions options;
    options.jobs = 3;
    std::vector<orch::TenantOutcome> a, b;
    std::thread first([&] { a = orch::Migrator(reg.options()).run(options); });
    std::thread second([&] { b = orch::Migrator(reg.options()).run(options); });
    first.join();
    second.join();
    EXPECT_EQ(orch::failures(a), 0u);
    EXPECT_EQ(orch::failures(b), 0u);
    for (const TenantLocation& l : registry.tenant_locations(all)) {
        EXPECT_EQ(l.migrated_version, 3);
        Connection db = l.isolation == Isolation::Schema ? Connection(reg.options())
                                                         : reg.connect_to(*l.server, *l.database);
        EXPECT_EQ(db.exec("SELECT count(*) AS n FROM " + db_name(l.tenant) + ".runs").int64(0, "n"), 1)
            << "tenant " << l.tenant << " ran migration 3 more than once";
    }
}

// A server that stops while a run is under way: its tenants fail with a
// connection error, the others finish; after the restart a re-run completes.
TEST(Placement, AServerStoppedDuringARun) {
    TestRegistry reg;
    reg.add_base_migrations();
    Client registry = reg.client();
    const std::vector<TenantId> on_s3 = reg.create_tenants("down-s3", 8, "database", "s3");
    const std::vector<TenantId> elsewhere = reg.create_tenants("down-s2", 4, "database", "s2");
    orch::Provisioner(reg.options()).provision_all(2);
    // Slow enough that the server stops before the run has reached every tenant.
    registry.add_migration(3, "slow", "SELECT pg_sleep(0.15); CREATE TABLE later (a int)");

    orch::MigrateOptions options;
    options.jobs = 1;
    options.tenants = on_s3;
    options.tenants.insert(options.tenants.end(), elsewhere.begin(), elsewhere.end());
    std::atomic<bool> stopped{false};
    options.progress = [&](const orch::Progress& p) {
        if (p.done == 2 && !stopped.exchange(true))
            test::stop_server3();
    };
    std::vector<orch::TenantOutcome> outcomes;
    try {
        outcomes = orch::Migrator(reg.options()).run(options);
    } catch (...) {
        test::start_server3();
        throw;
    }
    test::start_server3();
    ASSERT_TRUE(stopped);
    std::size_t failed_on_s3 = 0;
    for (const auto& o : outcomes) {
        if (*o.server == "s2") {
            EXPECT_TRUE(o.ok) << o.tenant << ": " << o.error;
        } else if (!o.ok) {
            ++failed_on_s3;
            EXPECT_EQ(o.sqlstate.substr(0, 2), "08") << o.error;
        }
    }
    EXPECT_GT(failed_on_s3, 0u) << "the stopped server's remaining tenants are reported";

    const RunResult rerun = run_tenancyctl({"migrate"}, reg.env());
    ASSERT_EQ(rerun.exit_code, 0) << describe(rerun);
    for (const TenantLocation& l : registry.tenant_locations(on_s3)) {
        EXPECT_EQ(l.migrated_version, 3);
        EXPECT_EQ(database_version(reg, l), 3);
    }
}

TEST(Placement, RouterHandsOutReadyTenantsWithinItsBounds) {
    TestRegistry reg;
    reg.add_base_migrations();
    Client registry = reg.client();
    std::vector<TenantId> tenants = reg.create_tenants("route-d", 9, "database");
    for (TenantId t : reg.create_tenants("route-s", 3, "schema"))
        tenants.push_back(t);
    for (TenantId t : reg.create_tenants("route-x", 2, "shared"))
        tenants.push_back(t);
    orch::Provisioner(reg.options()).provision_all(3);
    const TenantId waiting = reg.create_tenants("route-wait", 1, "database").front();
    const TenantId gone = reg.create_tenants("route-gone", 1, "schema").front();
    registry.delete_tenant(gone);

    orch::RouterOptions options;
    options.registry = reg.options();
    options.max_connections = 4;
    options.max_per_server = 2;
    orch::Router router(options);
    EXPECT_THROW(router.acquire(waiting), TenantNotReady);
    EXPECT_THROW(router.acquire(gone), TenantNotActive);
    EXPECT_THROW(router.acquire(999), TenantNotFound);

    // Six threads, random tenants, each lease checked to reach its tenant.
    std::atomic<int> wrong{0}, leases{0};
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t)
        threads.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(t));
            while (std::chrono::steady_clock::now() < until) {
                const TenantId tenant = tenants[rng() % tenants.size()];
                auto lease = router.acquire(tenant);
                const Result r = lease.connection().exec(
                    "SELECT current_database() AS db, current_schema() AS schema,"
                    " tenancy.current_tenant() AS current");
                const TenantLocation& l = lease.location();
                const bool right = l.isolation == Isolation::Shared
                                       ? r.optional_int64(0, "current") == tenant
                                       : r.text(0, "schema") == db_name(tenant) &&
                                             (l.isolation == Isolation::Schema || r.text(0, "db") == *l.database);
                wrong += right ? 0 : 1;
                ++leases;
            }
        });
    for (auto& th : threads)
        th.join();
    const orch::Router::Stats stats = router.stats();
    EXPECT_EQ(wrong, 0) << "every lease reached its own tenant's data";
    EXPECT_GT(leases, 100);
    EXPECT_LE(stats.peak_open, 4u);
    for (const auto& [server, peak] : stats.peak_per_server)
        EXPECT_LE(peak, 2u) << server;
    EXPECT_EQ(stats.in_use, 0u);

    // A registry pointing at another tenant's database is refused, not used.
    const TenantId victim = tenants[0], impostor = tenants[1];
    const TenantLocation v = registry.tenant_location(victim);
    const TenantLocation i = registry.tenant_location(impostor);
    registry.connection().exec("UPDATE tenancy.placement SET database_name = $1, server = $2, epoch = epoch + 1"
                               " WHERE tenant_id = $3::bigint",
                               {*v.database, *v.server, std::to_string(impostor)});
    router.invalidate(impostor);
    EXPECT_THROW(router.acquire(impostor), DatabaseNotTenants);
    registry.connection().exec("UPDATE tenancy.placement SET database_name = $1, server = $2, epoch = epoch + 1"
                               " WHERE tenant_id = $3::bigint",
                               {*i.database, *i.server, std::to_string(impostor)});
}

// A login role with USAGE on the schema and no grant: every placement
// command is refused by the server (42501), and tenancyctl exits 1 with it.
TEST(Placement, TenancyctlCommandsNeedTheirGrants) {
    TestRegistry reg;
    reg.add_base_migrations();
    Client registry = reg.client();
    const TenantId schema = reg.create_tenants("nogrant-s", 1, "schema").front();
    registry.delete_tenant(schema);
    const std::string role = "nogrant_" + test::unique_slug("r").substr(2);
    Client admin = test::connect();
    admin.connection().exec("CREATE ROLE " + role + " LOGIN");
    registry.connection().exec("GRANT USAGE ON SCHEMA tenancy TO " + role);
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / test::unique_slug("nogrant");
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "V3__more.sql") << "SELECT 1;";

    const std::vector<std::vector<std::string>> commands = {
        {"server", "add", "sneaky", "host=elsewhere"},
        {"server", "list"},
        {"tenant", "create", test::unique_slug("sneaky"), "--isolation", "schema"},
        {"tenant", "location", std::to_string(schema)},
        {"migrations", "add", dir.string()},
        {"migrations", "pending"},
        {"migrate"},
        {"provision"},
        {"tenant", "purge", std::to_string(schema)},
        {"check"},
    };
    for (const auto& command : commands) {
        const RunResult r = run_tenancyctl(command, reg.env({{"PGUSER", role}}));
        EXPECT_EQ(r.exit_code, 1) << command[0] << " " << command[1] << "\n" << describe(r);
        EXPECT_NE(r.err.find("42501"), std::string::npos) << command[0] << " " << command[1] << "\n" << describe(r);
    }
    EXPECT_EQ(registry.tenant_location(schema).state, "ready") << "nothing was purged";
    EXPECT_EQ(registry.migrations().size(), 2u) << "nothing was registered";
    std::filesystem::remove_all(dir);
}

TEST(Placement, PurgeOfEachIsolationMode) {
    TestRegistry reg;
    reg.add_base_migrations();
    Client registry = reg.client();
    registry.connection().exec("CREATE TABLE notes (tenant_id bigint, body text)");
    registry.protect("notes");
    const TenantId shared = reg.create_tenants("purge-x", 1, "shared").front();
    const TenantId schema = reg.create_tenants("purge-s", 1, "schema").front();
    const TenantId database = reg.create_tenants("purge-d", 1, "database", "s2").front();
    const TenantId other = reg.create_tenants("purge-keep", 1, "database", "s2").front();
    orch::Provisioner(reg.options()).provision_all(2);
    registry.connection().exec("INSERT INTO notes VALUES ($1::bigint, 'a'), ($1::bigint, 'b'), ($2::bigint, 'c')",
                               {std::to_string(shared), std::to_string(other)});
    const std::string key = registry.issue_api_key(database);

    for (TenantId t : {shared, schema, database}) {
        EXPECT_THROW(orch::Purger(reg.options()).purge(t), InvalidTransition) << "not deleted yet";
        registry.delete_tenant(t);
    }
    const RunResult r = run_tenancyctl({"--json", "tenant", "purge", std::to_string(database)}, reg.env());
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(json::parse(r.out).at("database_name"), db_name(database));
    EXPECT_FALSE(reg.database_exists("s2", db_name(database)));
    EXPECT_TRUE(reg.database_exists("s2", db_name(other))) << "another tenant's database on the same server stays";
    EXPECT_EQ(registry.tenant_for_api_key(key), std::nullopt);

    const json shared_record = json::parse(orch::Purger(reg.options()).purge(shared));
    EXPECT_EQ(shared_record.at("removed").at("rows of public.notes"), 2);
    EXPECT_EQ(registry.connection().exec("SELECT count(*) AS n FROM notes").int64(0, "n"), 1);

    orch::Purger(reg.options()).purge(schema);
    EXPECT_EQ(registry.connection()
                  .exec("SELECT count(*) AS n FROM pg_namespace WHERE nspname = $1", {db_name(schema)})
                  .int64(0, "n"),
              0);
    EXPECT_EQ(registry.connection().exec("SELECT count(*) AS n FROM tenancy.erasure").int64(0, "n"), 3);
    // Purging again returns the same record.
    EXPECT_EQ(json::parse(orch::Purger(reg.options()).purge(shared)), shared_record);
}

TEST(Placement, CheckFindsAndRepairsAcrossPlacements) {
    TestRegistry reg;
    reg.add_base_migrations();
    Client registry = reg.client();
    registry.require_tenant_row("settings", R"({"name": "theme", "value": "light"})");
    const std::vector<TenantId> ids = reg.create_tenants("check-d", 3, "database", "s2");
    orch::Provisioner(reg.options()).provision_all(1);
    const TenantId never_provisioned = reg.create_tenants("check-wait", 1, "database", "s3").front();

    // Damage: a missing required row, a registry record that lags, a
    // migration only the registry has, an orphan database, a database that
    // claims another tenant.
    const TenantLocation a = registry.tenant_location(ids[0]);
    reg.connect_to("s2", *a.database).exec("DELETE FROM " + db_name(a.tenant) + ".settings");
    registry.connection().exec("UPDATE tenancy.placement SET migrated_version = 1 WHERE tenant_id = $1::bigint",
                               {std::to_string(ids[1])});
    registry.add_migration(3, "more", "CREATE TABLE more (a int)");
    // Dropped however the test ends: an orphan left on the shared clusters
    // would be reported by every later check.
    struct OrphanDatabase {
        const TestRegistry& reg;
        explicit OrphanDatabase(const TestRegistry& r) : reg(r) {
            Connection s2 = reg.connect_to("s2", "postgres");
            s2.exec("DROP DATABASE IF EXISTS tenant_987654321");
            s2.exec("CREATE DATABASE tenant_987654321");
        }
        ~OrphanDatabase() {
            try {
                reg.connect_to("s2", "postgres").exec("DROP DATABASE IF EXISTS tenant_987654321");
            } catch (...) {
            }
        }
    } orphan(reg);

    std::vector<CheckProblem> found = orch::PlacementChecker(reg.options()).run({false, 2});
    auto has = [&](const std::vector<CheckProblem>& list, std::optional<TenantId> t, const std::string& problem,
                   bool repaired) {
        return std::any_of(list.begin(), list.end(), [&](const CheckProblem& p) {
            return p.tenant == t && p.problem == problem && p.repaired == repaired;
        });
    };
    EXPECT_TRUE(has(found, a.tenant, "missing_row", false));
    EXPECT_TRUE(has(found, ids[1], "migration_progress_mismatch", false));
    for (TenantId t : ids)
        EXPECT_TRUE(has(found, t, "migrations_behind", false)) << t;
    EXPECT_TRUE(has(found, never_provisioned, "not_provisioned", false));
    EXPECT_TRUE(std::any_of(found.begin(), found.end(), [](const CheckProblem& p) {
        return p.problem == "orphan_database" && p.object == "tenant_987654321";
    }));
    const RunResult exit_code = run_tenancyctl({"check"}, reg.env());
    EXPECT_EQ(exit_code.exit_code, kSomeFailed) << describe(exit_code);

    std::vector<CheckProblem> repaired = orch::PlacementChecker(reg.options()).run({true, 2});
    EXPECT_TRUE(has(repaired, a.tenant, "missing_row", true));
    EXPECT_TRUE(has(repaired, never_provisioned, "not_provisioned", true));
    for (TenantId t : ids)
        EXPECT_TRUE(has(repaired, t, "migrations_behind", true)) << t;
    EXPECT_TRUE(reg.database_exists("s2", "tenant_987654321")) << "check never deletes";

    // Only the orphan, which check never deletes, is left.
    std::vector<CheckProblem> after = orch::PlacementChecker(reg.options()).run({false, 2});
    ASSERT_EQ(after.size(), 1u) << after[0].problem << " " << after[0].detail;
    EXPECT_EQ(after[0].problem, "orphan_database");
    for (const TenantLocation& l : registry.tenant_locations(ids))
        EXPECT_EQ(database_version(reg, l), 3);
}

}  // namespace
}  // namespace tenancy
