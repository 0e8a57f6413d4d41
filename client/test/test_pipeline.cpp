// Pipeline: many calls, one round trip, all-or-nothing.
#include <gtest/gtest.h>

#include <set>

#include "support.hpp"
#include "tenancy/pipeline.hpp"

namespace tenancy {
namespace {

constexpr const char* kCreate = "SELECT tenancy.create_tenant($1::text) AS id";

TEST(Pipeline, BatchesManyCalls) {
    Client client = test::connect();
    const std::string prefix = test::unique_slug("batch");
    std::vector<Result> results;
    {
        Pipeline batch(client.connection());
        for (int i = 0; i < 50; ++i)
            batch.send(kCreate, {prefix + "-" + std::to_string(i)});
        EXPECT_EQ(batch.queued(), 50u);
        results = batch.sync();
        EXPECT_EQ(batch.queued(), 0u);
    }
    ASSERT_EQ(results.size(), 50u);
    std::set<TenantId> ids;
    for (const Result& r : results)
        ids.insert(r.int64(0, "id"));
    EXPECT_EQ(ids.size(), 50u);

    // In send order, and really created.
    EXPECT_EQ(client.get_tenant(results[7].int64(0, "id")).slug, prefix + "-7");
    TenantQuery query;
    query.keyword = prefix;
    EXPECT_EQ(client.search_tenants(query).total, 50);
}

TEST(Pipeline, FailureSurfacesTypedAndRollsBackTheBatch) {
    Client client = test::connect();
    const std::string taken = test::unique_slug("taken");
    NewTenant t;
    t.slug = taken;
    client.create_tenant(t);
    const std::string fresh = test::unique_slug("fresh");
    {
        Pipeline batch(client.connection());
        batch.send(kCreate, {fresh});
        batch.send(kCreate, {taken});  // duplicate
        batch.send(kCreate, {fresh + "-after"});
        try {
            batch.sync();
            FAIL() << "duplicate slug accepted";
        } catch (const IntegrityError& e) {
            EXPECT_EQ(e.sqlstate(), "23505");
        }
    }
    // One sync is one implicit transaction: the call before the failure is
    // gone too, and the connection is back to normal mode.
    TenantQuery query;
    query.keyword = fresh;
    EXPECT_EQ(client.search_tenants(query).total, 0);
    EXPECT_EQ(PQpipelineStatus(client.connection().get()), PQ_PIPELINE_OFF);
}

TEST(Pipeline, AbandonedBatchIsDrainedOnDestruction) {
    Client client = test::connect();
    {
        Pipeline batch(client.connection());
        batch.send("SELECT 1");
        batch.send("SELECT 2");
        // No sync(): e.g. the caller threw while building the batch.
    }
    EXPECT_EQ(PQpipelineStatus(client.connection().get()), PQ_PIPELINE_OFF);
    EXPECT_EQ(client.connection().exec("SELECT 3 AS n").int64(0, "n"), 3);
}

TEST(Pipeline, EmptySyncAndReuse) {
    Client client = test::connect();
    Pipeline batch(client.connection());
    EXPECT_TRUE(batch.sync().empty());
    batch.send("SELECT $1::int AS n", {"41"});
    EXPECT_EQ(batch.sync().at(0).int64(0, "n"), 41);
}

// Megabytes in both directions, more than the socket buffers hold: the
// client must read results while it is still sending, or the client and the
// server would end up waiting on each other.
TEST(Pipeline, LargeBatchDoesNotDeadlock) {
    Client client = test::connect();
    const std::string padding(500, 'x');
    constexpr int kCalls = 20000;
    Pipeline batch(client.connection());
    for (int i = 0; i < kCalls; ++i)
        batch.send("SELECT $1::int AS n, $2::text AS pad", {std::to_string(i), padding});
    const std::vector<Result> results = batch.sync();
    ASSERT_EQ(results.size(), static_cast<std::size_t>(kCalls));
    EXPECT_EQ(results.back().int64(0, "n"), kCalls - 1);
}

}  // namespace
}  // namespace tenancy
