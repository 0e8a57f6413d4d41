// Client::in_tenant: BEGIN; set_tenant; the statements; COMMIT in one round
// trip, as an application role under the protected table's policy.
#include <gtest/gtest.h>

#include <string>

#include "support.hpp"

namespace tenancy {
namespace {

constexpr const char* kRole = "tenancy_client_in_tenant_app";

class InTenant : public ::testing::Test {
protected:
    void SetUp() override {
        a = test::make_tenant(admin, "in-a");
        b = test::make_tenant(admin, "in-b");
        table = "in_tenant_" + test::unique_slug("orders").substr(7);
        admin.connection().exec("DO $$BEGIN CREATE ROLE " + std::string(kRole) +
                                "; EXCEPTION WHEN duplicate_object THEN NULL; END$$");
        admin.connection().exec("CREATE TABLE " + table +
                                " (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id bigint, item text)");
        admin.protect(table);
        admin.connection().exec("INSERT INTO " + table + " (tenant_id, item) VALUES ($1::bigint, 'a1'), ($1::bigint, 'a2'),"
                                " ($2::bigint, 'b1')", {std::to_string(a), std::to_string(b)});
        admin.connection().exec("GRANT USAGE ON SCHEMA tenancy TO " + std::string(kRole));
        admin.connection().exec("GRANT EXECUTE ON FUNCTION tenancy.set_tenant(bigint, boolean) TO " + std::string(kRole));
        admin.connection().exec("GRANT SELECT, INSERT ON " + table + " TO " + std::string(kRole));
        app.connection().exec("SET ROLE " + std::string(kRole));
    }
    void TearDown() override { admin.connection().exec("DROP TABLE " + table); }

    std::int64_t count_as_superuser() {
        return admin.connection().exec("SELECT count(*) AS n FROM " + table).int64(0, "n");
    }

    Client admin = test::connect();
    Client app = test::connect();
    TenantId a = 0, b = 0;
    std::string table;
};

TEST_F(InTenant, SeesOnlyTheTenantsRowsAndLeavesNoContext) {
    EXPECT_EQ(app.in_tenant(a, "SELECT count(*) AS n FROM " + table).int64(0, "n"), 2);
    EXPECT_EQ(app.in_tenant(b, "SELECT string_agg(item, ',') AS items FROM " + table).text(0, "items"), "b1");
    EXPECT_EQ(app.current_tenant(), std::nullopt) << "the tenant lasts for the transaction only";
    EXPECT_EQ(app.connection().exec("SELECT count(*) AS n FROM " + table).int64(0, "n"), 0)
        << "without a tenant the application role sees nothing";
}

TEST_F(InTenant, SeveralStatementsCommitTogether) {
    const std::vector<Result> results =
        app.in_tenant(a, {{"INSERT INTO " + table + " (item) VALUES ($1) RETURNING tenant_id", {"a3"}},
                          {"SELECT count(*) AS n FROM " + table, {}}});
    ASSERT_EQ(results.size(), 2u);
    EXPECT_EQ(results[0].int64(0, "tenant_id"), a) << "the guard trigger filled in the tenant";
    EXPECT_EQ(results[1].int64(0, "n"), 3);
    EXPECT_EQ(count_as_superuser(), 4) << "committed";
}

TEST_F(InTenant, AFailureRollsEverythingBackAndTheConnectionStaysUsable) {
    EXPECT_THROW(app.in_tenant(a, {{"INSERT INTO " + table + " (item) VALUES ('a3')", {}},
                                   {"INSERT INTO " + table + " (tenant_id, item) VALUES ($1::bigint, 'x')",
                                    {std::to_string(b)}}}),
                 PermissionDenied);
    EXPECT_EQ(count_as_superuser(), 3) << "the first insert was rolled back with the second";
    EXPECT_EQ(PQtransactionStatus(app.connection().get()), PQTRANS_IDLE);
    EXPECT_EQ(app.in_tenant(a, "SELECT count(*) AS n FROM " + table).int64(0, "n"), 2);
}

TEST_F(InTenant, RefusesInactiveTenantsAndOpenTransactions) {
    admin.suspend_tenant(b);
    EXPECT_THROW(app.in_tenant(b, "SELECT count(*) AS n FROM " + table), TenantNotActive);
    EXPECT_THROW(app.in_tenant(b + 1000000, "SELECT 1"), TenantNotFound);
    app.connection().exec("BEGIN");
    try {
        app.in_tenant(a, "SELECT 1");
        FAIL() << "in_tenant ran inside an open transaction";
    } catch (const Error& e) {
        EXPECT_EQ(e.sqlstate(), "25001");
    }
    app.connection().exec("ROLLBACK");
}

}  // namespace
}  // namespace tenancy
