// The transaction shape an application uses behind a transaction-pooling
// PgBouncer (docs/deployment.md): every statement inside BEGIN ... COMMIT,
// no session state.  scripts/test runs this file, like the whole suite, both
// straight and through PgBouncer (ctest-pool).
#include <gtest/gtest.h>

#include "support.hpp"

namespace tenancy {
namespace {

TEST(Pooling, ApiKeyLoginLastsForTheTransaction) {
    Client client = test::connect();
    const TenantId a = test::make_tenant(client, "poolkey");
    const std::string key = client.issue_api_key(a);
    client.connection().exec("BEGIN");
    EXPECT_EQ(client.set_tenant_by_api_key(key), a);
    EXPECT_EQ(client.current_tenant(), a);
    client.connection().exec("COMMIT");
    EXPECT_EQ(client.current_tenant(), std::nullopt);
    client.connection().exec("BEGIN");
    EXPECT_THROW(client.set_tenant_by_api_key(key + "x"), InvalidApiKey);
    client.connection().exec("ROLLBACK");
}

TEST(Pooling, TenantTransactionsOfTwoClientsStayApart) {
    Client first = test::connect();
    Client second = test::connect();
    const TenantId a = test::make_tenant(first, "poola");
    const TenantId b = test::make_tenant(first, "poolb");
    for (int i = 0; i < 20; ++i) {
        first.connection().exec("BEGIN");
        first.set_tenant(a);
        EXPECT_EQ(second.current_tenant(), std::nullopt) << "round " << i;
        second.connection().exec("BEGIN");
        second.set_tenant(b);
        EXPECT_EQ(first.current_tenant(), a) << "round " << i;
        EXPECT_EQ(second.current_tenant(), b) << "round " << i;
        first.connection().exec("COMMIT");
        second.connection().exec("COMMIT");
        EXPECT_EQ(first.current_tenant(), std::nullopt) << "round " << i;
    }
}

}  // namespace
}  // namespace tenancy
