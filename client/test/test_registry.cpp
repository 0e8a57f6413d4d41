// Client: tenant creation, lookup, search and lifecycle.
#include <gtest/gtest.h>

#include <limits>

#include "support.hpp"

namespace tenancy {
namespace {

using test::make_tenant;
using test::unique_slug;

constexpr TenantId kUnknownId = std::numeric_limits<TenantId>::max();

class Registry : public ::testing::Test {
protected:
    Client client = test::connect();
};

TEST_F(Registry, CreateAppliesSqlDefaults) {
    NewTenant t;
    t.slug = unique_slug("defaults");
    const TenantId id = client.create_tenant(t);
    EXPECT_GT(id, 0);
    const Tenant got = client.get_tenant(id);
    EXPECT_EQ(got.id, id);
    EXPECT_EQ(got.slug, t.slug);
    EXPECT_EQ(got.name, std::nullopt);
    EXPECT_EQ(got.status, TenantStatus::Active);
    EXPECT_EQ(got.storage_quota, 10737418240);
    EXPECT_EQ(got.storage_used, 0);
    EXPECT_EQ(got.settings, "{}");
    EXPECT_FALSE(got.created_at.empty());
    EXPECT_NE(got.created_at.find('T'), std::string::npos) << "ISO 8601: " << got.created_at;
    EXPECT_EQ(got.deleted_at, std::nullopt);
}

TEST_F(Registry, CreateStoresGivenValues) {
    NewTenant t;
    t.slug = unique_slug("given");
    t.name = "Given Corp";
    t.storage_quota = 4096;
    t.settings = R"({"plan": "pro", "seats": 5})";
    const Tenant got = client.get_tenant(client.create_tenant(t));
    EXPECT_EQ(got.name, "Given Corp");
    EXPECT_EQ(got.storage_quota, 4096);
    EXPECT_EQ(got.settings, R"({"plan": "pro", "seats": 5})");  // jsonb's canonical text
}

TEST_F(Registry, RejectsBadInput) {
    NewTenant bad;
    bad.slug = "Not A Slug";
    try {
        client.create_tenant(bad);
        FAIL() << "invalid slug accepted";
    } catch (const DataError& e) {
        EXPECT_EQ(e.sqlstate(), "22023");
    }

    NewTenant negative;
    negative.slug = unique_slug("neg");
    negative.storage_quota = -1;
    try {
        client.create_tenant(negative);
        FAIL() << "negative quota accepted";
    } catch (const DataError& e) {
        EXPECT_EQ(e.sqlstate(), "22023");
    }

    NewTenant dup;
    dup.slug = unique_slug("dup");
    client.create_tenant(dup);
    try {
        client.create_tenant(dup);
        FAIL() << "duplicate slug accepted";
    } catch (const IntegrityError& e) {
        EXPECT_EQ(e.sqlstate(), "23505");
    }
}

TEST_F(Registry, LifecycleFollowsTheStateMachine) {
    const TenantId id = make_tenant(client, "life");
    auto status = [&] { return client.get_tenant(id).status; };

    client.suspend_tenant(id);
    EXPECT_EQ(status(), TenantStatus::Suspended);
    EXPECT_THROW(client.suspend_tenant(id), InvalidTransition);
    EXPECT_THROW(client.restore_tenant(id), InvalidTransition);

    client.activate_tenant(id);
    EXPECT_EQ(status(), TenantStatus::Active);
    EXPECT_THROW(client.activate_tenant(id), InvalidTransition);

    client.delete_tenant(id);
    const Tenant deleted = client.get_tenant(id);
    EXPECT_EQ(deleted.status, TenantStatus::Deleted);
    EXPECT_TRUE(deleted.deleted_at.has_value());
    try {
        client.delete_tenant(id);
        FAIL() << "deleted twice";
    } catch (const InvalidTransition& e) {
        EXPECT_EQ(e.sqlstate(), "TN004");
    }

    client.restore_tenant(id);
    const Tenant restored = client.get_tenant(id);
    EXPECT_EQ(restored.status, TenantStatus::Active);
    EXPECT_EQ(restored.deleted_at, std::nullopt);

    // A suspended tenant can be deleted too.
    client.suspend_tenant(id);
    client.delete_tenant(id);
    EXPECT_EQ(status(), TenantStatus::Deleted);
}

TEST_F(Registry, UnknownTenantIsTenantNotFound) {
    try {
        client.get_tenant(kUnknownId);
        FAIL() << "found a tenant that does not exist";
    } catch (const TenantNotFound& e) {
        EXPECT_EQ(e.sqlstate(), "TN001");
    }
    EXPECT_THROW(client.delete_tenant(kUnknownId), TenantNotFound);
    EXPECT_THROW(client.restore_tenant(kUnknownId), TenantNotFound);
    EXPECT_THROW(client.suspend_tenant(kUnknownId), TenantNotFound);
    EXPECT_THROW(client.activate_tenant(kUnknownId), TenantNotFound);
}

TEST_F(Registry, SearchPagesWithTotal) {
    const std::string keyword = unique_slug("page");
    std::vector<TenantId> ids;
    for (const char* suffix : {"a", "b", "c"}) {
        NewTenant t;
        t.slug = keyword + "-" + suffix;
        ids.push_back(client.create_tenant(t));
    }

    TenantQuery query;
    query.keyword = keyword;
    query.page_size = 2;
    const TenantPage first = client.search_tenants(query);
    EXPECT_EQ(first.total, 3);
    ASSERT_EQ(first.tenants.size(), 2u);
    EXPECT_EQ(first.tenants[0].id, ids[0]);
    EXPECT_EQ(first.tenants[1].id, ids[1]);

    query.page = 2;
    const TenantPage second = client.search_tenants(query);
    EXPECT_EQ(second.total, 3);
    ASSERT_EQ(second.tenants.size(), 1u);
    EXPECT_EQ(second.tenants[0].id, ids[2]);

    query.page = 3;
    EXPECT_TRUE(client.search_tenants(query).tenants.empty());
}

TEST_F(Registry, SearchHidesDeletedUnlessAsked) {
    const std::string slug = unique_slug("hidden");
    NewTenant t;
    t.slug = slug;
    const TenantId id = client.create_tenant(t);
    client.delete_tenant(id);

    TenantQuery query;
    query.keyword = slug;
    EXPECT_EQ(client.search_tenants(query).total, 0);
    EXPECT_TRUE(client.search_tenants(query).tenants.empty());

    query.include_deleted = true;
    const TenantPage page = client.search_tenants(query);
    ASSERT_EQ(page.tenants.size(), 1u);
    EXPECT_EQ(page.tenants[0].id, id);
    EXPECT_EQ(page.tenants[0].status, TenantStatus::Deleted);

    TenantQuery by_id;
    by_id.tenant = id;
    by_id.include_deleted = true;
    EXPECT_EQ(client.search_tenants(by_id).tenants.at(0).slug, slug);
}

TEST_F(Registry, SearchRejectsBadPaging) {
    for (auto [page, size] : {std::pair{0, 20}, std::pair{1, 0}, std::pair{1, 1001}}) {
        TenantQuery query;
        query.page = page;
        query.page_size = size;
        try {
            client.search_tenants(query);
            FAIL() << "page " << page << " size " << size << " accepted";
        } catch (const DataError& e) {
            EXPECT_EQ(e.sqlstate(), "22023");
        }
    }
}

}  // namespace
}  // namespace tenancy
