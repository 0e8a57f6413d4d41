// Client and tenancyctl: tenant context, protected tables, required rows and
// check --repair with its exit codes.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace tenancy {
namespace {

using nlohmann::json;
using test::make_tenant;
using test::describe;
using test::run_tenancyctl;
using test::RunResult;

constexpr int kProblemsLeft = 3;

class RowCheck : public ::testing::Test {
protected:
    Client client = test::connect();
};

TEST_F(RowCheck, LocalTenantEndsWithTheTransaction) {
    const TenantId t = make_tenant(client, "ctx");
    client.connection().exec("BEGIN");
    client.set_tenant(t);
    EXPECT_EQ(client.current_tenant(), t);
    client.connection().exec("COMMIT");
    EXPECT_EQ(client.current_tenant(), std::nullopt) << "a pooled connection must not carry the tenant on";
}

TEST_F(RowCheck, SessionTenantLastsUntilCleared) {
    const TenantId t = make_tenant(client, "ctx");
    client.set_tenant(t, false);
    EXPECT_EQ(client.current_tenant(), t);
    client.clear_tenant();
    EXPECT_EQ(client.current_tenant(), std::nullopt);
}

TEST_F(RowCheck, OnlyActiveTenantsCanBeSet) {
    EXPECT_THROW(client.set_tenant(std::numeric_limits<TenantId>::max()), TenantNotFound);
    const TenantId t = make_tenant(client, "ctx");
    client.suspend_tenant(t);
    EXPECT_THROW(client.set_tenant(t), TenantNotActive);
}

// A fresh connection has not loaded the module: PostgreSQL takes the SET as
// a placeholder, which loading the module discards.  After that, SET fails.
TEST_F(RowCheck, ContextCannotBeForgedWithSet) {
    client.connection().exec(
        "DO $$BEGIN CREATE ROLE tenancy_client_rowcheck_app; EXCEPTION WHEN duplicate_object THEN NULL; END$$");
    client.connection().exec("GRANT USAGE ON SCHEMA tenancy TO tenancy_client_rowcheck_app");
    // A new session: the GRANT above loaded the module in this one (its
    // event trigger fires on DDL), and the point is the value forged before.
    Client fresh = test::connect();
    fresh.connection().exec("SET ROLE tenancy_client_rowcheck_app");
    fresh.connection().exec("SET tenancy.tenant_id = '1'");
    EXPECT_EQ(fresh.current_tenant(), std::nullopt) << "a value forged before the module loaded is discarded";
    EXPECT_THROW(fresh.connection().exec("SET tenancy.tenant_id = '1'"), PermissionDenied);
}

// The start-up repair from the README: a tenant whose required row was
// never written is found (exit 3), repaired (exit 0), and stays clean.
TEST_F(RowCheck, CheckRepairFixesPartialInitialisation) {
    const std::string table = "rowcheck_client_" + test::unique_slug("apps").substr(5);
    std::string quoted = "\"" + table + "\"";
    client.connection().exec("CREATE TABLE " + quoted +
                             " (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id bigint,"
                             "  name text NOT NULL, UNIQUE (tenant_id, name))");
    client.protect(quoted);
    client.protect(quoted);  // idempotent
    const std::int64_t rule = client.require_row(quoted, R"({"name": "public"})");
    EXPECT_EQ(client.require_row(quoted, R"({"name": "public"})"), rule);
    const TenantId never_initialised = make_tenant(client, "partial");

    const std::vector<CheckProblem> found = client.check();
    EXPECT_TRUE(std::any_of(found.begin(), found.end(), [&](const CheckProblem& p) {
        return p.tenant == never_initialised && p.problem == "missing_row" && !p.repaired;
    })) << "the tenant without its row is reported";

    const RunResult before = run_tenancyctl({"check"});
    EXPECT_EQ(before.exit_code, kProblemsLeft) << describe(before);
    const RunResult repair = run_tenancyctl({"--json", "check", "--repair"});
    EXPECT_EQ(repair.exit_code, 0) << describe(repair);
    EXPECT_EQ(json::parse(repair.out).at("left").get<int>(), 0) << repair.out;
    const RunResult after = run_tenancyctl({"check"});
    EXPECT_EQ(after.exit_code, 0) << describe(after);
    EXPECT_NE(after.out.find("0 problem(s)"), std::string::npos) << after.out;

    const Result rows = client.connection().exec(
        "SELECT count(*) AS n FROM " + quoted + " WHERE tenant_id = $1 AND name = 'public'",
        {std::to_string(never_initialised)});
    EXPECT_EQ(rows.int64(0, "n"), 1);

    EXPECT_TRUE(client.unrequire_row(quoted, R"({"name": "public"})"));
    EXPECT_TRUE(client.unprotect(quoted));
    EXPECT_FALSE(client.unprotect(quoted));
    client.connection().exec("DROP TABLE " + quoted);
}

TEST_F(RowCheck, TenancyctlProtectAndRequireRow) {
    const std::string table = "\"rowcheck_ctl_" + test::unique_slug("t").substr(2) + "\"";
    client.connection().exec("CREATE TABLE " + table + " (tenant_id bigint, name text NOT NULL, UNIQUE (tenant_id, name))");
    const RunResult p = run_tenancyctl({"--json", "protect", table});
    ASSERT_EQ(p.exit_code, 0) << describe(p);
    EXPECT_EQ(json::parse(p.out).at("protected").get<bool>(), true);
    const RunResult r = run_tenancyctl({"require-row", table, R"({"name":"public"})"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    const RunResult bad = run_tenancyctl({"require-row", table, R"({"nope":1})"});
    EXPECT_EQ(bad.exit_code, 1) << describe(bad);
    EXPECT_NE(bad.err.find("nope"), std::string::npos) << bad.err;
    EXPECT_EQ(run_tenancyctl({"require-row", table, R"({"name":"public"})", "--remove"}).exit_code, 0);
    const RunResult undo = run_tenancyctl({"protect", table, "--undo"});
    EXPECT_EQ(undo.exit_code, 0) << describe(undo);
    EXPECT_NE(undo.out.find("unprotected"), std::string::npos) << undo.out;
    client.connection().exec("DROP TABLE " + table);
}

}  // namespace
}  // namespace tenancy
