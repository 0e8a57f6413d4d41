// Striped storage counters through the client: set_storage_stripes, the
// tenancyctl command, and the 32-connection stress test of one hot striped
// tenant near its quota (docs/storage.md, "Striped counters").
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <chrono>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace tenancy {
namespace {

TEST(StorageStripes, SwitchKeepsTheUsage) {
    Client client = test::connect();
    const TenantId t = test::make_tenant(client, "stripes");
    client.set_storage_quota(t, 1000);
    client.adjust_storage(t, 400);
    EXPECT_EQ(client.set_storage_stripes(t, 8), 1);
    EXPECT_EQ(client.storage(t).used, 400);
    EXPECT_EQ(client.adjust_storage(t, 600), 1000);
    EXPECT_THROW(client.adjust_storage(t, 1), QuotaExceeded);
    EXPECT_EQ(client.set_storage_stripes(t, 1), 8);
    EXPECT_EQ(client.storage(t).used, 1000);
    EXPECT_THROW(client.set_storage_stripes(t, 65), DataError);
    EXPECT_THROW(client.set_storage_stripes(t + 1000000, 2), TenantNotFound);
}

TEST(StorageStripes, Tenancyctl) {
    Client client = test::connect();
    const TenantId t = test::make_tenant(client, "stripes");
    const test::RunResult r = test::run_tenancyctl({"--json", "storage", "stripes", std::to_string(t), "16"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["stripes"], 16);
    EXPECT_EQ(j["stripes_before"], 1);
    EXPECT_EQ(client.connection()
                  .exec("SELECT stripes FROM tenancy.storage_usage WHERE tenant_id = $1::bigint", {std::to_string(t)})
                  .int64(0, "stripes"),
              16);
    const test::RunResult bad = test::run_tenancyctl({"storage", "stripes", std::to_string(t), "0"});
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.err.find("22023"), std::string::npos) << bad.err;
}

// 32 connections adjust one tenant with 16 stripes, close to its quota, with
// random positive and negative deltas, for a bounded time, while a sampler
// reads the exact usage and the escrow invariant.  At no sampled moment and
// not at the end is the quota exceeded; the final usage is the accepted
// deltas plus the bytes the clamps added back; no caller sees an error
// other than QuotaExceeded.
TEST(StorageStripes, StressOneHotTenantNearItsQuota) {
    constexpr int kThreads = 32;
    constexpr std::int64_t kQuota = 50000;
    const auto kDuration = std::chrono::seconds(3);

    Client admin = test::connect();
    const TenantId t = test::make_tenant(admin, "hot");
    admin.set_storage_quota(t, kQuota);
    admin.set_storage_stripes(t, 16);
    const std::string id = std::to_string(t);

    std::mutex mutex;
    std::int64_t accepted = 0;
    std::atomic<long> calls{0}, refused{0}, bad_result{0}, samples{0}, bad_samples{0};
    std::atomic<bool> stop{false};
    std::vector<std::string> unexpected;

    auto worker = [&](unsigned seed) {
        std::int64_t mine = 0;
        try {
            Client client = test::connect();
            client.connection().exec("SET client_min_messages = error");  // clamps are counted below
            std::mt19937_64 random(seed);
            std::uniform_int_distribution<std::int64_t> delta(-2000, 2600);
            const auto end = std::chrono::steady_clock::now() + kDuration;
            while (std::chrono::steady_clock::now() < end) {
                const std::int64_t d = delta(random);
                ++calls;
                try {
                    const std::int64_t used = client.adjust_storage(t, d);
                    if (used > kQuota || used < 0)
                        ++bad_result;
                    mine += d;
                } catch (const QuotaExceeded&) {
                    ++refused;
                }
            }
        } catch (const std::exception& e) {
            std::lock_guard<std::mutex> lock(mutex);
            unexpected.push_back(e.what());
        }
        std::lock_guard<std::mutex> lock(mutex);
        accepted += mine;
    };
    // The exact usage and invariant I2 (use plus escrowed headroom within the
    // quota, or no headroom left), each read in one snapshot.
    auto sampler = [&] {
        try {
            Client client = test::connect();
            while (!stop) {
                const Result r = client.connection().exec(
                    "SELECT u.used,"
                    "       ((SELECT sum(s.used + s.headroom) <= u.quota OR bool_and(s.headroom = 0)"
                    "           FROM tenancy.storage_stripe s WHERE s.tenant_id = u.tenant_id))::int AS escrow_ok"
                    "  FROM tenancy.storage_usage u WHERE u.tenant_id = $1::bigint",
                    {id});
                ++samples;
                if (r.int64(0, "used") > kQuota || r.int64(0, "used") < 0 || r.int64(0, "escrow_ok") != 1)
                    ++bad_samples;
            }
        } catch (const std::exception& e) {
            std::lock_guard<std::mutex> lock(mutex);
            unexpected.push_back(std::string("sampler: ") + e.what());
        }
    };

    std::thread sampling(sampler);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i)
        threads.emplace_back(worker, 4321u + static_cast<unsigned>(i));
    for (std::thread& th : threads)
        th.join();
    stop = true;
    sampling.join();

    std::cout << "[ stress   ] " << calls << " calls, " << refused << " refused (TN003), " << samples
              << " samples" << std::endl;
    ASSERT_TRUE(unexpected.empty()) << unexpected.front();
    EXPECT_EQ(bad_result, 0) << "a call returned a usage above the quota or below zero";
    EXPECT_EQ(bad_samples, 0) << "a sample saw the quota or the escrow invariant broken";
    EXPECT_GT(samples, 10) << "the sampler did not sample";
    EXPECT_GT(calls, 500) << "the stress test did not stress";
    EXPECT_GT(refused, 0) << "the quota was never reached: the test proves less than it claims";
    const std::int64_t lost =
        admin.connection()
            .exec("SELECT coalesce(sum(lost), 0)::bigint AS lost FROM tenancy.storage_anomaly WHERE tenant_id = $1::bigint",
                  {id})
            .int64(0, "lost");
    const StorageInfo s = admin.storage(t);
    EXPECT_EQ(s.used, accepted + lost);
    EXPECT_LE(s.used, kQuota);
    EXPECT_EQ(admin.set_storage_stripes(t, 1), 16) << "still striped at the end";
    EXPECT_EQ(admin.storage(t).used, s.used) << "collapsing the stripes keeps the total";
}

}  // namespace
}  // namespace tenancy
