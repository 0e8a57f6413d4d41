// Client: link sync, and the legacy role_membership failure reproduced and
// fixed: a table with duplicates is refused, dedupe repairs it, then many
// connections hammer sync_links for one member at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace tenancy {
namespace {

using test::unique_slug;

// A table of its own per test (the suite reruns on one database), quoted
// because unique_slug contains '-'.
class Links : public ::testing::Test {
protected:
    void SetUp() override {
        name = unique_slug("role_membership");
        table = "\"" + name + "\"";
        client.connection().exec("CREATE TABLE " + table + " (group_id integer, member_id integer)");
    }
    void TearDown() override { client.connection().exec("DROP TABLE IF EXISTS " + table); }

    std::vector<std::string> groups_of(const std::string& member) {
        const Result r = client.connection().exec(
            "SELECT group_id::text AS g FROM " + table + " WHERE member_id = $1::integer ORDER BY group_id",
            {member});
        std::vector<std::string> groups;
        for (int row = 0; row < r.rows(); ++row)
            groups.push_back(r.text(row, "g"));
        return groups;
    }

    LinkSync sync_of(const std::string& member, std::vector<std::string> groups) {
        return LinkSync{table, "member_id", member, "group_id", std::move(groups)};
    }

    Client client = test::connect();
    std::string name;
    std::string table;
};

TEST_F(Links, SyncReplacesTheSetAndCounts) {
    client.connection().exec("ALTER TABLE " + table + " ADD UNIQUE (member_id, group_id)");
    LinkSyncResult r = client.sync_links(sync_of("42", {"1", "2", "3"}));
    EXPECT_EQ(r.added, 3);
    EXPECT_EQ(r.removed, 0);
    r = client.sync_links(sync_of("42", {"3", "4", "4"}));
    EXPECT_EQ(r.added, 1);
    EXPECT_EQ(r.removed, 2);
    EXPECT_EQ(groups_of("42"), (std::vector<std::string>{"3", "4"}));
    r = client.sync_links(sync_of("42", {}));
    EXPECT_EQ(r.removed, 2);
    EXPECT_TRUE(groups_of("42").empty());
}

TEST_F(Links, ValuesThatDoNotFitAreDataErrors) {
    client.connection().exec("ALTER TABLE " + table + " ADD UNIQUE (member_id, group_id)");
    try {
        client.sync_links(sync_of("42", {"1,2"}));
        FAIL() << "a target with a comma must stay one (invalid) value";
    } catch (const DataError& e) {
        EXPECT_EQ(e.sqlstate(), "22P02");
    }
    EXPECT_THROW(client.sync_links(sync_of("not a number", {"1"})), DataError);
    EXPECT_TRUE(groups_of("42").empty());
}

TEST_F(Links, LegacyTableIsRefusedThenRepairedThenSafeUnderConcurrency) {
    // The legacy state: two logins of member 42 stored their groups twice.
    client.connection().exec("INSERT INTO " + table +
                             " VALUES (1, 42), (2, 42), (1, 42), (2, 42), (2, 42), (7, 43)");
    try {
        client.sync_links(sync_of("42", {"1", "2"}));
        FAIL() << "sync_links must refuse a table without a unique constraint";
    } catch (const AccessError& e) {
        EXPECT_EQ(e.sqlstate(), "42P10");
        EXPECT_NE(std::string(e.what()).find("tenancy.dedupe"), std::string::npos) << e.what();
    }
    const auto duplicates = client.find_duplicates(table, {"member_id", "group_id"});
    ASSERT_EQ(duplicates.size(), 2u);
    EXPECT_EQ(duplicates[0].count, 3);
    EXPECT_EQ(duplicates[1].count, 2);
    EXPECT_EQ(client.dedupe(table, {"member_id", "group_id"}), 3);
    EXPECT_TRUE(client.find_duplicates(table, {"member_id", "group_id"}).empty());

    // The hammer: every connection syncs member 42 again and again, each call
    // with its own set.  The sets overlap, so any mix or union of two calls
    // would be a set nobody asked for.
    constexpr int kConnections = 12;
    constexpr int kCallsEach = 25;
    auto set_of = [](int connection, int call) {
        std::vector<std::string> groups = {"1", "2"};
        groups.push_back(std::to_string(100 + connection));
        groups.push_back(std::to_string(1000 + connection * 100 + call));
        if (call % 2 == 0)
            groups.push_back(std::to_string(50 + call % 5));
        return groups;
    };
    std::atomic<int> errors{0};
    std::atomic<int> calls{0};
    std::vector<std::string> first_error(kConnections);
    std::vector<std::thread> threads;
    for (int c = 0; c < kConnections; ++c) {
        threads.emplace_back([&, c] {
            try {
                Client own = test::connect();
                for (int i = 0; i < kCallsEach; ++i) {
                    own.sync_links(sync_of("42", set_of(c, i)));
                    ++calls;
                }
            } catch (const std::exception& e) {
                ++errors;
                first_error[c] = e.what();
            }
        });
    }
    for (auto& t : threads)
        t.join();
    for (const auto& e : first_error)
        EXPECT_EQ(e, "") << "a sync failed";
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(calls.load(), kConnections * kCallsEach);

    // No duplicates, other members untouched, and the final set is exactly
    // one caller's set.
    EXPECT_TRUE(client.find_duplicates(table, {"member_id", "group_id"}).empty());
    EXPECT_EQ(groups_of("43"), (std::vector<std::string>{"7"}));
    std::set<std::vector<std::string>> asked;
    for (int c = 0; c < kConnections; ++c)
        for (int i = 0; i < kCallsEach; ++i) {
            std::vector<std::string> groups = set_of(c, i);
            std::sort(groups.begin(), groups.end(),
                      [](const std::string& a, const std::string& b) { return std::stoi(a) < std::stoi(b); });
            asked.insert(groups);
        }
    const std::vector<std::string> final_set = groups_of("42");
    EXPECT_EQ(asked.count(final_set), 1u) << "the final set is a mix of several calls";
    // Only the last call of some connection can have committed last.
    bool is_a_last_call = false;
    for (int c = 0; c < kConnections; ++c) {
        std::vector<std::string> groups = set_of(c, kCallsEach - 1);
        std::sort(groups.begin(), groups.end(),
                  [](const std::string& a, const std::string& b) { return std::stoi(a) < std::stoi(b); });
        is_a_last_call = is_a_last_call || groups == final_set;
    }
    EXPECT_TRUE(is_a_last_call);
}

TEST_F(Links, TenancyctlSyncsAndDedupes) {
    client.connection().exec("INSERT INTO " + table + " VALUES (5, 9), (5, 9)");
    test::RunResult r = test::run_tenancyctl({"links", "duplicates", "--table", table, "member_id", "group_id"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "2\t{\"group_id\": 5, \"member_id\": 9}\n");
    r = test::run_tenancyctl({"--json", "links", "dedupe", "--table", table, "member_id", "group_id"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("\"removed\": 1"), std::string::npos) << r.out;
    r = test::run_tenancyctl({"links", "sync", "--table", table, "--owner-column", "member_id", "--owner", "9",
                              "--target-column", "group_id", "5", "6", "7"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "added 2, removed 0\n");
    EXPECT_EQ(groups_of("9"), (std::vector<std::string>{"5", "6", "7"}));
    r = test::run_tenancyctl({"links", "sync", "--table", table, "--owner-column", "member_id", "--owner", "9",
                              "--target-column", "group_id"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "added 0, removed 3\n");
}

}  // namespace
}  // namespace tenancy
