// Client and tenancyctl: tenant binding and logging in with an API key.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace tenancy {
namespace {

using nlohmann::json;
using test::describe;
using test::run_tenancyctl;
using test::RunResult;

class Binding : public ::testing::Test {
protected:
    void SetUp() override {
        role = "tenancy_client_bind_" + test::unique_slug("r").substr(2);
        client.connection().exec("CREATE ROLE " + role);
        client.connection().exec("GRANT USAGE ON SCHEMA tenancy TO " + role);
        client.connection().exec("GRANT EXECUTE ON FUNCTION tenancy.set_tenant(bigint, boolean),"
                                 " tenancy.set_tenant_by_api_key(text, boolean) TO " + role);
    }
    void TearDown() override {
        client.connection().exec("RESET ROLE");
        client.connection().exec("DELETE FROM tenancy.role_binding WHERE role::text = $1", {role});
        client.connection().exec("DROP OWNED BY " + role);
        client.connection().exec("DROP ROLE " + role);
    }

    Client client = test::connect();
    std::string role;  // a plain lower-case name: no quoting needed
};

TEST_F(Binding, BoundRoleActsOnlyAsItsTenants) {
    const TenantId a = test::make_tenant(client, "binda");
    const TenantId b = test::make_tenant(client, "bindb");
    EXPECT_TRUE(client.bind_role(role, a));
    EXPECT_FALSE(client.bind_role(role, a)) << "binding twice is a no-op";

    const std::vector<RoleBinding> bindings = client.role_bindings(role);
    ASSERT_EQ(bindings.size(), 1u);
    EXPECT_EQ(bindings[0].role, role);
    EXPECT_TRUE(bindings[0].role_exists);
    EXPECT_EQ(bindings[0].tenant, a);
    EXPECT_EQ(bindings[0].status, TenantStatus::Active);
    EXPECT_FALSE(bindings[0].bound_at.empty());
    EXPECT_EQ(client.role_bindings(std::nullopt, b).size(), 0u);

    client.connection().exec("SET ROLE " + role);
    client.connection().exec("BEGIN");
    client.set_tenant(a);
    EXPECT_EQ(client.current_tenant(), a);
    client.connection().exec("COMMIT");
    try {
        client.set_tenant(b);
        FAIL() << "a bound role set another tenant";
    } catch (const PermissionDenied& e) {
        EXPECT_NE(std::string(e.what()).find(role), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(std::to_string(b)), std::string::npos) << e.what();
    }
    client.connection().exec("RESET ROLE");

    EXPECT_TRUE(client.unbind_role(role, a));
    EXPECT_FALSE(client.unbind_role(role, a));
    EXPECT_TRUE(client.role_bindings(role).empty());
}

TEST_F(Binding, ApiKeyLoginSetsTheKeysTenantForTheTransaction) {
    const TenantId a = test::make_tenant(client, "loginb");
    const std::string key = client.issue_api_key(a);
    client.connection().exec("SET ROLE " + role);
    client.connection().exec("BEGIN");
    EXPECT_EQ(client.set_tenant_by_api_key(key), a);
    EXPECT_EQ(client.current_tenant(), a);
    client.connection().exec("COMMIT");
    EXPECT_EQ(client.current_tenant(), std::nullopt) << "transaction-local by default";
    EXPECT_THROW(client.set_tenant_by_api_key("tnk_" + std::string(64, '0')), InvalidApiKey);
    EXPECT_THROW(client.set_tenant_by_api_key(key.substr(0, key.size() - 1)), InvalidApiKey);
    client.connection().exec("RESET ROLE");
    client.revoke_api_keys(a);
    EXPECT_THROW(client.set_tenant_by_api_key(key), InvalidApiKey);
}

TEST_F(Binding, TenancyctlAddListRemove) {
    const TenantId a = test::make_tenant(client, "ctlbind");
    const std::string tenant = std::to_string(a);
    const RunResult added = run_tenancyctl({"--json", "binding", "add", role, tenant});
    ASSERT_EQ(added.exit_code, 0) << describe(added);
    EXPECT_EQ(json::parse(added.out).at("added").get<bool>(), true);

    const RunResult listed = run_tenancyctl({"--json", "binding", "list", "--role", role});
    ASSERT_EQ(listed.exit_code, 0) << describe(listed);
    const json rows = json::parse(listed.out).at("bindings");
    ASSERT_EQ(rows.size(), 1u) << listed.out;
    EXPECT_EQ(rows[0].at("tenant").get<TenantId>(), a);
    EXPECT_EQ(rows[0].at("role").get<std::string>(), role);

    const RunResult table = run_tenancyctl({"binding", "list", "--tenant", tenant});
    ASSERT_EQ(table.exit_code, 0) << describe(table);
    EXPECT_NE(table.out.find(role), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("1 binding(s)"), std::string::npos) << table.out;

    const RunResult unknown = run_tenancyctl({"binding", "add", "tenancy_client_no_such_role", tenant});
    EXPECT_EQ(unknown.exit_code, 1) << describe(unknown);
    EXPECT_NE(unknown.err.find("42704"), std::string::npos) << unknown.err;

    const RunResult removed = run_tenancyctl({"binding", "remove", role, tenant});
    EXPECT_EQ(removed.exit_code, 0) << describe(removed);
    EXPECT_NE(removed.out.find("unbound"), std::string::npos) << removed.out;
    EXPECT_TRUE(client.role_bindings(role).empty());
}

// A login role with USAGE on the schema (and set_tenant, from the fixture)
// but no grant of bind_role, unbind_role or the view role_bindings: the
// server refuses each command (42501) and tenancyctl exits 1 with it.
TEST_F(Binding, TenancyctlCommandsNeedTheirGrants) {
    const std::string tenant = std::to_string(test::make_tenant(client, "nogrant"));
    client.connection().exec("ALTER ROLE " + role + " LOGIN");
    const std::vector<std::vector<std::string>> commands = {
        {"binding", "add", role, tenant},
        {"binding", "list"},
        {"binding", "remove", role, tenant},
    };
    for (const auto& command : commands) {
        const RunResult r = run_tenancyctl(command, {{"PGUSER", role}});
        EXPECT_EQ(r.exit_code, 1) << command[1] << "\n" << describe(r);
        EXPECT_NE(r.err.find("42501"), std::string::npos) << command[1] << "\n" << describe(r);
    }
    EXPECT_TRUE(client.role_bindings(role).empty()) << "nothing was bound";
}

}  // namespace
}  // namespace tenancy
