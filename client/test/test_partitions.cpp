// Client and tenancyctl: protecting a partitioned table, and the error for
// unprotecting one of its partitions alone.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace tenancy {
namespace {

using nlohmann::json;
using test::describe;
using test::run_tenancyctl;
using test::RunResult;

TEST(Partitions, ProtectCoversEveryPartitionAndUnprotectUndoesIt) {
    Client client = test::connect();
    const std::string name = "partitions_" + test::unique_slug("p").substr(2);
    const std::string table = "\"" + name + "\"";
    const std::string partition = "\"" + name + "_1\"";
    client.connection().exec("CREATE TABLE " + table + " (tenant_id bigint, n int) PARTITION BY LIST (n)");
    client.connection().exec("CREATE TABLE " + partition + " PARTITION OF " + table + " FOR VALUES IN (1)");

    const RunResult p = run_tenancyctl({"--json", "protect", table});
    ASSERT_EQ(p.exit_code, 0) << describe(p);
    const Result members = client.connection().exec(
        "SELECT count(*) FILTER (WHERE complete) AS complete, count(*) AS total FROM tenancy.protected_tables"
        " WHERE table_name IN ($1::regclass, $2::regclass)",
        {table, partition});
    EXPECT_EQ(members.int64(0, "total"), 2);
    EXPECT_EQ(members.int64(0, "complete"), 2);

    EXPECT_THROW(client.unprotect(partition), ProtectedThroughParent);
    const RunResult undo_partition = run_tenancyctl({"protect", partition, "--undo"});
    EXPECT_EQ(undo_partition.exit_code, 1) << describe(undo_partition);
    EXPECT_NE(undo_partition.err.find("TN051"), std::string::npos) << undo_partition.err;

    EXPECT_TRUE(client.unprotect(table));
    EXPECT_EQ(client.connection()
                  .exec("SELECT count(*) AS n FROM tenancy.protected_table WHERE tbl IN ($1::regclass, $2::regclass)",
                        {table, partition})
                  .int64(0, "n"),
              0);
    client.connection().exec("DROP TABLE " + table);
}

}  // namespace
}  // namespace tenancy
