// Client: API keys.
#include <gtest/gtest.h>

#include <limits>

#include "support.hpp"

namespace tenancy {
namespace {

class ApiKeys : public ::testing::Test {
protected:
    Client client = test::connect();
};

TEST_F(ApiKeys, IssuedKeyResolvesToItsTenant) {
    const TenantId a = test::make_tenant(client, "keya");
    const TenantId b = test::make_tenant(client, "keyb");
    const std::string key_a = client.issue_api_key(a);
    const std::string key_b = client.issue_api_key(b);
    EXPECT_FALSE(key_a.empty());
    EXPECT_NE(key_a, key_b);
    EXPECT_EQ(client.tenant_for_api_key(key_a), a);
    EXPECT_EQ(client.tenant_for_api_key(key_b), b);
    EXPECT_EQ(client.tenant_for_api_key("not-a-key"), std::nullopt);
    EXPECT_EQ(client.tenant_for_api_key(""), std::nullopt);
}

TEST_F(ApiKeys, RevokeCountsAndDisablesKeys) {
    const TenantId id = test::make_tenant(client, "revoke");
    const std::string k1 = client.issue_api_key(id);
    const std::string k2 = client.issue_api_key(id);
    EXPECT_EQ(client.revoke_api_keys(id), 2);
    EXPECT_EQ(client.tenant_for_api_key(k1), std::nullopt);
    EXPECT_EQ(client.tenant_for_api_key(k2), std::nullopt);
    EXPECT_EQ(client.revoke_api_keys(id), 0);
    // A key issued after the revocation works.
    EXPECT_EQ(client.tenant_for_api_key(client.issue_api_key(id)), id);
}

TEST_F(ApiKeys, OnlyActiveTenantsGetKeys) {
    const TenantId id = test::make_tenant(client, "inactive");
    client.suspend_tenant(id);
    try {
        client.issue_api_key(id);
        FAIL() << "key issued to a suspended tenant";
    } catch (const TenantNotActive& e) {
        EXPECT_EQ(e.sqlstate(), "TN002");
    }
    constexpr TenantId unknown = std::numeric_limits<TenantId>::max();
    EXPECT_THROW(client.issue_api_key(unknown), TenantNotFound);
    EXPECT_THROW(client.revoke_api_keys(unknown), TenantNotFound);
}

TEST_F(ApiKeys, KeysOfDeletedTenantsDoNotResolve) {
    const TenantId id = test::make_tenant(client, "gone");
    const std::string key = client.issue_api_key(id);
    client.delete_tenant(id);
    EXPECT_EQ(client.tenant_for_api_key(key), std::nullopt);
}

}  // namespace
}  // namespace tenancy
