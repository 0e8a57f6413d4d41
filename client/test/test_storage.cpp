// Storage accounting through the client: each call, its typed errors, the
// pipelined batch, tenancyctl storage, and a concurrent stress test.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace tenancy {
namespace {

using nlohmann::json;

TenantId make_tenant_with_quota(Client& client, std::int64_t quota) {
    const TenantId id = test::make_tenant(client, "st");
    client.set_storage_quota(id, quota);
    return id;
}

TEST(Storage, AdjustShowAndQuota) {
    Client client = test::connect();
    const TenantId t = make_tenant_with_quota(client, 1000);
    EXPECT_EQ(client.adjust_storage(t, 600), 600);
    EXPECT_EQ(client.adjust_storage(t, 400), 1000);
    EXPECT_THROW(client.adjust_storage(t, 1), QuotaExceeded);
    const StorageInfo s = client.storage(t);
    EXPECT_EQ(s.used, 1000);
    EXPECT_EQ(s.quota, 1000);
    EXPECT_EQ(s.available, 0);

    const StorageInfo lowered = client.set_storage_quota(t, 700);
    EXPECT_EQ(lowered.used, 1000);
    EXPECT_EQ(lowered.quota, 700);
    EXPECT_EQ(lowered.available, 0);
    EXPECT_EQ(client.adjust_storage(t, -400), 600);
    EXPECT_EQ(client.storage(t).available, 100);
}

TEST(Storage, TypedErrors) {
    Client client = test::connect();
    const TenantId t = make_tenant_with_quota(client, 1000);
    EXPECT_THROW(client.adjust_storage(t + 1000000, 1), TenantNotFound);
    StorageAdjustOptions strict;
    strict.on_underflow = UnderflowPolicy::Error;
    try {
        client.adjust_storage(t, -1, strict);
        FAIL() << "underflow accepted";
    } catch (const StorageUnderflow& e) {
        EXPECT_EQ(e.sqlstate(), "TN005");
    }
    EXPECT_EQ(client.adjust_storage(t, -1), 0) << "the default policy clamps";
    client.adjust_storage(t, 10);
    EXPECT_THROW(client.adjust_storage(t, INT64_MAX), DataError);
    client.suspend_tenant(t);
    EXPECT_THROW(client.adjust_storage(t, 1), TenantNotActive);
    EXPECT_EQ(client.adjust_storage(t, -1), 9);
    EXPECT_THROW(client.set_storage_quota(t, -1), DataError);
}

TEST(Storage, IdempotencyKey) {
    Client client = test::connect();
    const TenantId t = make_tenant_with_quota(client, 1000);
    StorageAdjustOptions keyed;
    keyed.idempotency_key = test::unique_slug("upload");
    EXPECT_EQ(client.adjust_storage(t, 100, keyed), 100);
    EXPECT_EQ(client.adjust_storage(t, 100, keyed), 100);
    EXPECT_EQ(client.storage(t).used, 100);
    EXPECT_THROW(client.adjust_storage(t, 5, keyed), IdempotencyKeyReused);
    EXPECT_EQ(client.purge_idempotency_keys(std::chrono::hours(1)), 0);
}

TEST(Storage, ManyIsAllOrNothing) {
    Client client = test::connect();
    const TenantId a = make_tenant_with_quota(client, 100);
    const TenantId b = make_tenant_with_quota(client, 100);
    const std::vector<StorageUsage> done = client.adjust_storage_many({{b, 30, {}}, {a, 70, {}}});
    ASSERT_EQ(done.size(), 2u);
    EXPECT_EQ(done[0].tenant, b);
    EXPECT_EQ(done[0].used, 30);
    EXPECT_EQ(done[1].tenant, a);
    EXPECT_EQ(done[1].used, 70);
    EXPECT_THROW(client.adjust_storage_many({{a, -10, {}}, {b, 71, {}}}), QuotaExceeded);
    EXPECT_EQ(client.storage(a).used, 70);
    EXPECT_THROW(client.adjust_storage_many({{a, 1, {}}, {a, 1, {}}}), DataError);
    EXPECT_THROW(client.adjust_storage_many({{a, 1, std::string("k")}}), DataError);
}

TEST(Storage, BatchIsOneRoundTripAndAllOrNothing) {
    Client client = test::connect();
    const TenantId a = make_tenant_with_quota(client, 1000);
    const TenantId b = make_tenant_with_quota(client, 1000);
    std::vector<StorageAdjustment> batch;
    for (int i = 0; i < 100; ++i)
        batch.push_back({i % 2 ? a : b, 5, {}});
    const std::vector<std::int64_t> used = client.adjust_storage_batch(batch);
    ASSERT_EQ(used.size(), 100u);
    EXPECT_EQ(used[0], 5);     // b's first
    EXPECT_EQ(used[1], 5);     // a's first
    EXPECT_EQ(used[99], 250);  // a's fiftieth
    EXPECT_EQ(client.storage(a).used, 250);

    // The 3rd adjustment fails: the batch is one transaction, so the 1st and
    // 2nd are rolled back too.
    EXPECT_THROW(client.adjust_storage_batch({{a, 1, {}}, {b, 1, {}}, {a, 10000, {}}, {b, 1, {}}}), QuotaExceeded);
    EXPECT_EQ(client.storage(a).used, 250);
    EXPECT_EQ(client.storage(b).used, 250);
    // And the connection is usable afterwards.
    EXPECT_EQ(client.adjust_storage(a, 1), 251);
}

TEST(Storage, Tenancyctl) {
    Client client = test::connect();
    const TenantId t = make_tenant_with_quota(client, 2048);
    const std::string id = std::to_string(t);
    test::RunResult r = test::run_tenancyctl({"storage", "adjust", id, "1024", "--key", test::unique_slug("k")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "1024\n");
    r = test::run_tenancyctl({"storage", "adjust", id, "--", "-24"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "1000\n");
    r = test::run_tenancyctl({"--json", "storage", "show", id});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(json::parse(r.out), json({{"tenant_id", t}, {"used", 1000}, {"quota", 2048}, {"available", 1048}}));
    r = test::run_tenancyctl({"storage", "set-quota", id, "500", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(json::parse(r.out).at("available"), 0);
    r = test::run_tenancyctl({"storage", "adjust", id, "1"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("TN003"), std::string::npos) << r.err;
    r = test::run_tenancyctl({"storage", "adjust", id, "1", "--on-underflow", "ignore"});
    EXPECT_EQ(r.exit_code, 2) << "a bad policy is a usage error";
}

// Many connections adjust a few tenants with random deltas for a bounded
// time.  Afterwards every tenant's storage_used must equal the sum of the
// deltas that were accepted plus the bytes the clamps added back (recorded in
// storage_anomaly), and no call may ever have returned more than the quota.
TEST(Storage, StressKeepsExactAccounts) {
    constexpr int kThreads = 8;
    constexpr int kTenants = 3;
    constexpr std::int64_t kQuota = 20000;
    const auto kDuration = std::chrono::seconds(3);

    Client admin = test::connect();
    std::vector<TenantId> tenants;
    for (int i = 0; i < kTenants; ++i)
        tenants.push_back(make_tenant_with_quota(admin, kQuota));

    std::mutex mutex;
    std::map<TenantId, std::int64_t> accepted;  // sum of accepted deltas
    std::atomic<long> calls{0}, refused{0}, over_quota{0};
    std::atomic<bool> unexpected{false};
    std::string unexpected_what;

    auto worker = [&](unsigned seed) {
        Client client = test::connect();
        // Clamps are expected here and counted through storage_anomaly.
        client.connection().exec("SET client_min_messages = error");
        std::mt19937_64 random(seed);
        std::uniform_int_distribution<int> pick(0, kTenants - 1);
        std::uniform_int_distribution<std::int64_t> delta(-3000, 4000);
        std::map<TenantId, std::int64_t> mine;
        const auto end = std::chrono::steady_clock::now() + kDuration;
        while (std::chrono::steady_clock::now() < end) {
            const TenantId t = tenants[static_cast<std::size_t>(pick(random))];
            const std::int64_t d = delta(random);
            ++calls;
            try {
                const std::int64_t used = client.adjust_storage(t, d);
                if (used > kQuota || used < 0)
                    ++over_quota;
                mine[t] += d;
            } catch (const QuotaExceeded&) {
                ++refused;
            } catch (const std::exception& e) {
                std::lock_guard<std::mutex> lock(mutex);
                unexpected = true;
                unexpected_what = e.what();
            }
        }
        std::lock_guard<std::mutex> lock(mutex);
        for (auto [t, sum] : mine)
            accepted[t] += sum;
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i)
        threads.emplace_back(worker, 1234u + static_cast<unsigned>(i));
    for (std::thread& th : threads)
        th.join();

    ASSERT_FALSE(unexpected) << unexpected_what;
    EXPECT_EQ(over_quota, 0) << "a call returned a usage above the quota";
    EXPECT_GT(calls, 100) << "the stress test did not stress";
    EXPECT_GT(refused, 0) << "the quota was never reached: the test proves less than it claims";
    for (TenantId t : tenants) {
        const std::int64_t lost =
            admin.connection()
                .exec("SELECT coalesce(sum(lost), 0)::bigint AS lost FROM tenancy.storage_anomaly WHERE tenant_id = $1::bigint",
                      {std::to_string(t)})
                .int64(0, "lost");
        const StorageInfo s = admin.storage(t);
        EXPECT_EQ(s.used, accepted[t] + lost) << "tenant " << t;
        EXPECT_LE(s.used, kQuota);
    }
}

}  // namespace
}  // namespace tenancy
