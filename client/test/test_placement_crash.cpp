// The client killed (SIGKILL) at every step of provisioning, migration and
// purge in turn, then run again: the result is complete and consistent,
// never half-done and never doubled.  The steps are the library's own list
// (tenancy/orchestration/crash_points.hpp); TENANCY_CRASH_AT makes
// tenancyctl kill itself when it reaches one.
#include <gtest/gtest.h>

#include <csignal>

#include "placement_support.hpp"
#include "tenancy/orchestration/crash_points.hpp"
#include "tenancy/orchestration/provisioner.hpp"
#include "tenancy/orchestration/router.hpp"

namespace tenancy {
namespace {

namespace orch = orchestration;
using test::describe;
using test::run_tenancyctl;
using test::RunResult;
using test::TestRegistry;

std::string db_name(TenantId t) { return "tenant_" + std::to_string(t); }

RunResult killed_at(const TestRegistry& reg, const std::string& step, const std::vector<std::string>& args) {
    return run_tenancyctl(args, reg.env({{"TENANCY_CRASH_AT", step}}));
}

std::int64_t count(Connection& c, const std::string& sql, const Params& params = {}) {
    return c.exec(sql, params).int64(0, "n");
}

TEST(PlacementCrash, ProvisioningKilledAtEveryStep) {
    TestRegistry reg;
    reg.add_base_migrations();
    Client registry = reg.client();
    registry.require_tenant_row("settings", R"({"name": "theme", "value": "light"})");
    const char* servers[] = {"main", "s2", "s3"};
    int i = 0;
    for (std::string_view step : orch::kProvisionSteps) {
        SCOPED_TRACE(std::string(step));
        const std::string server = servers[i++ % 3];
        const TenantId t = reg.create_tenants("crash-prov", 1, "database", server).front();
        const RunResult crashed = killed_at(reg, std::string(step), {"provision"});
        ASSERT_EQ(crashed.signal, SIGKILL) << describe(crashed);
        // Consistent in between: the tenant is registered and either still
        // provisioning (never handed out) or, after the last step, ready.
        const TenantLocation between = registry.tenant_location(t);
        EXPECT_EQ(between.state, step == "provision.after_ready" ? "ready" : "provisioning");
        if (!between.ready()) {
            orch::RouterOptions options;
            options.registry = reg.options();
            orch::Router router(options);
            EXPECT_THROW(router.acquire(t), TenantNotReady);
        }

        const RunResult resumed = run_tenancyctl({"provision"}, reg.env());
        ASSERT_EQ(resumed.exit_code, 0) << describe(resumed);
        const TenantLocation l = registry.tenant_location(t);
        EXPECT_TRUE(l.ready());
        EXPECT_EQ(l.migrated_version, 2);
        Connection db = reg.connect_to(server, db_name(t));
        EXPECT_EQ(db.exec("SELECT tenant FROM tenancy.database_claim()").int64(0, "tenant"), t);
        EXPECT_EQ(count(db, "SELECT count(*) AS n FROM tenancy.applied_migrations($1::bigint)", {std::to_string(t)}), 2)
            << "each migration applied once";
        EXPECT_EQ(count(db, "SELECT count(*) AS n FROM " + db_name(t) + ".settings WHERE name = 'theme'"), 1);
    }
    // No database without its registry row, nothing left half-done.
    const RunResult check = run_tenancyctl({"check"}, reg.env());
    EXPECT_EQ(check.exit_code, 0) << describe(check);
}

TEST(PlacementCrash, MigrationKilledAtEveryStep) {
    TestRegistry reg;
    reg.add_base_migrations();
    Client registry = reg.client();
    std::vector<TenantId> tenants = reg.create_tenants("crash-mig-s", 1, "schema");
    tenants.push_back(reg.create_tenants("crash-mig-d", 1, "database", "s2").front());
    tenants.push_back(reg.create_tenants("crash-mig-d", 1, "database", "s3").front());
    orch::Provisioner(reg.options()).provision_all(1);

    std::int64_t version = 2;
    for (std::string_view step : orch::kMigrateSteps) {
        for (int occurrence : {1, 2}) {
            const std::string where = std::string(step) + ":" + std::to_string(occurrence);
            SCOPED_TRACE(where);
            const std::int64_t old_version = version++;
            const std::string table = "step_" + std::to_string(version);
            // If a migration ran twice, its table would hold two rows (or the
            // CREATE would fail).
            registry.add_migration(version, table, "CREATE TABLE " + table + " (a int); INSERT INTO " + table +
                                                       " VALUES (1)");
            const RunResult crashed = killed_at(reg, where, {"migrate", "--jobs", "1"});
            ASSERT_EQ(crashed.signal, SIGKILL) << describe(crashed);

            // Every tenant is at its old or its new version, never in between,
            // and the registry never claims more than the tenant has.
            for (const TenantLocation& l : registry.tenant_locations(tenants)) {
                Connection db = l.isolation == Isolation::Schema ? Connection(reg.options())
                                                                 : reg.connect_to(*l.server, *l.database);
                const std::int64_t applied =
                    count(db, "SELECT coalesce(max(version), 0) AS n FROM tenancy.applied_migrations($1::bigint)",
                          {std::to_string(l.tenant)});
                const std::int64_t has_table = count(
                    db, "SELECT count(*) AS n FROM pg_tables WHERE schemaname = $1 AND tablename = $2",
                    {db_name(l.tenant), table});
                EXPECT_TRUE(applied == old_version || applied == version) << l.tenant << " at " << applied;
                EXPECT_EQ(has_table, applied == version ? 1 : 0) << l.tenant;
                EXPECT_LE(l.migrated_version, applied) << l.tenant;
                EXPECT_GE(l.migrated_version, old_version) << l.tenant;
            }

            const RunResult resumed = run_tenancyctl({"migrate", "--jobs", "1"}, reg.env());
            ASSERT_EQ(resumed.exit_code, 0) << describe(resumed);
            for (const TenantLocation& l : registry.tenant_locations(tenants)) {
                EXPECT_EQ(l.migrated_version, version) << l.tenant;
                Connection db = l.isolation == Isolation::Schema ? Connection(reg.options())
                                                                 : reg.connect_to(*l.server, *l.database);
                EXPECT_EQ(count(db, "SELECT count(*) AS n FROM " + db_name(l.tenant) + "." + table), 1)
                    << "tenant " << l.tenant << " applied migration " << version << " once";
            }
        }
    }
}

TEST(PlacementCrash, PurgeKilledAtEveryStep) {
    TestRegistry reg;
    reg.add_base_migrations();
    Client registry = reg.client();
    for (std::string_view step : orch::kPurgeSteps) {
        SCOPED_TRACE(std::string(step));
        const TenantId t = reg.create_tenants("crash-purge", 1, "database", "s3").front();
        orch::Provisioner(reg.options()).provision(t);
        registry.issue_api_key(t);
        registry.delete_tenant(t);
        const RunResult crashed = killed_at(reg, std::string(step), {"tenant", "purge", std::to_string(t)});
        ASSERT_EQ(crashed.signal, SIGKILL) << describe(crashed);

        // In between: erased completely, or still registered (and not routed)
        // with its database either there or dropped.
        Connection r(reg.options());
        const bool erased = count(r, "SELECT count(*) AS n FROM tenancy.erasure WHERE tenant_id = $1::bigint",
                                  {std::to_string(t)}) == 1;
        const bool registered =
            count(r, "SELECT count(*) AS n FROM tenancy.tenant WHERE id = $1::bigint", {std::to_string(t)}) == 1;
        EXPECT_NE(erased, registered) << "erased or registered, never both or neither";
        if (erased) {
            EXPECT_FALSE(reg.database_exists("s3", db_name(t)));
        }
        if (registered) {
            EXPECT_NE(registry.tenant_location(t).state, "ready") << "a tenant being purged is not routed";
        }

        const RunResult resumed = run_tenancyctl({"tenant", "purge", std::to_string(t)}, reg.env());
        ASSERT_EQ(resumed.exit_code, 0) << describe(resumed);
        EXPECT_FALSE(reg.database_exists("s3", db_name(t)));
        EXPECT_EQ(count(r, "SELECT count(*) AS n FROM tenancy.tenant WHERE id = $1::bigint", {std::to_string(t)}), 0);
        EXPECT_EQ(count(r, "SELECT count(*) AS n FROM tenancy.api_key WHERE tenant_id = $1::bigint",
                        {std::to_string(t)}),
                  0);
        EXPECT_EQ(count(r, "SELECT count(*) AS n FROM tenancy.erasure WHERE tenant_id = $1::bigint",
                        {std::to_string(t)}),
                  1);
    }
    const RunResult check = run_tenancyctl({"check"}, reg.env());
    EXPECT_EQ(check.exit_code, 0) << describe(check);
}

}  // namespace
}  // namespace tenancy
