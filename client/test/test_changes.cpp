// Client: change landing calls, pipelined batches, landing a JSON-lines
// stream (with lines that are not JSON), replay after an interrupted
// landing, and the tenancyctl changes commands.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "support.hpp"

namespace tenancy {
namespace {

using test::RunResult;
using test::run_tenancyctl;
using test::unique_slug;

// A products/categories pair of its own per test (the suite reruns on one
// database), both enabled.
class Changes : public ::testing::Test {
protected:
    void SetUp() override {
        schema = "\"" + unique_slug("changes") + "\"";
        client.connection().exec("SET client_min_messages = warning");
        client.connection().exec("CREATE SCHEMA " + schema);
        client.connection().exec("CREATE TABLE " + categories() + " (id integer PRIMARY KEY, name text)");
        client.connection().exec("CREATE TABLE " + products() +
                                 " (id integer PRIMARY KEY, name text, price numeric CHECK (price >= 0),"
                                 " category_id integer REFERENCES " + categories() + " (id))");
        for (const std::string& table : {categories(), products()}) {
            ChangeSetup setup;
            setup.table = table;
            setup.key_columns = {"id"};
            client.enable_changes(setup);
        }
    }
    void TearDown() override {
        try {
            client.disable_changes(products());
            client.disable_changes(categories());
            client.connection().exec("DROP SCHEMA " + schema + " CASCADE");
        } catch (...) {
        }
    }

    std::string categories() const { return schema + ".categories"; }
    std::string products() const { return schema + ".products"; }

    static std::string upsert(int id, int version, const nlohmann::json& data = nlohmann::json::object()) {
        return nlohmann::json{{"op", "upsert"}, {"key", {{"id", id}}}, {"version", version}, {"data", data}}.dump();
    }
    static std::string remove(int id, int version) {
        return nlohmann::json{{"op", "delete"}, {"key", {{"id", id}}}, {"version", version}}.dump();
    }

    // id|name|version|deleted for every row of `table`.
    std::vector<std::string> rows(const std::string& table) {
        const Result r = client.connection().exec(
            "SELECT id || '|' || coalesce(name, '') || '|' || version || '|' || (deleted_at IS NOT NULL) AS line"
            " FROM " + table + " ORDER BY id");
        std::vector<std::string> lines;
        for (int row = 0; row < r.rows(); ++row)
            lines.push_back(r.text(row, "line"));
        return lines;
    }

    Client client = test::connect();
    std::string schema;
};

TEST_F(Changes, ApplyReportsEachEvent) {
    const auto outcomes = client.apply_changes(
        products(), events_array({upsert(1, 2, {{"name", "pen"}}), upsert(1, 1, {{"name", "old"}}),
                                  upsert(2, 1, {{"price", "free"}}), remove(3, 1)}));
    ASSERT_EQ(outcomes.size(), 4u);
    EXPECT_EQ(outcomes[0].status, ChangeStatus::Applied);
    EXPECT_EQ(outcomes[1].status, ChangeStatus::Stale);
    EXPECT_EQ(outcomes[2].status, ChangeStatus::Refused);
    EXPECT_EQ(outcomes[2].sqlstate, "22P02");
    EXPECT_EQ(outcomes[2].reason, "event 2: column \"price\": invalid input syntax for type numeric: \"free\"");
    EXPECT_THROW(outcomes[2].raise_if_refused(), DataError);
    EXPECT_NO_THROW(outcomes[0].raise_if_refused());
    EXPECT_EQ(outcomes[3].status, ChangeStatus::Applied);
    EXPECT_EQ(rows(products()), (std::vector<std::string>{"1|pen|2|false", "3||1|true"}));
}

TEST_F(Changes, CallLevelErrorsAreThrownTyped) {
    client.connection().exec("CREATE TABLE " + schema + ".plain (id integer PRIMARY KEY)");
    EXPECT_THROW(client.apply_changes(schema + ".plain", "[]"), ChangesNotEnabled);
    EXPECT_THROW(client.apply_changes(products(), "{}"), DataError);
    ChangeSetup setup;
    setup.table = schema + ".plain";
    setup.key_columns = {"nope"};
    EXPECT_THROW(client.enable_changes(setup), AccessError);
    client.connection().exec("CREATE TABLE " + schema + ".strict (id integer PRIMARY KEY, name text NOT NULL)");
    setup.table = schema + ".strict";
    setup.key_columns = {"id"};
    try {
        client.enable_changes(setup);
        FAIL() << "a NOT NULL column without a default must be refused";
    } catch (const ColumnCannotBeEmpty& e) {
        EXPECT_EQ(e.sqlstate(), "TN042");
        EXPECT_NE(e.hint().find("SET DEFAULT"), std::string::npos) << e.hint();
    }
}

TEST_F(Changes, PlaceholdersAreListedUntilTheirCreateArrives) {
    client.apply_changes(products(), events_array({upsert(1, 1, {{"category_id", 7}})}));
    auto placeholders = client.placeholders();
    const auto mine = std::count_if(placeholders.begin(), placeholders.end(),
                                    [&](const Placeholder& p) { return p.table == categories(); });
    EXPECT_EQ(mine, 1);
    placeholders = client.placeholders(std::chrono::seconds(0), categories());
    ASSERT_EQ(placeholders.size(), 1u);
    EXPECT_EQ(placeholders[0].key, "{\"id\": 7}");
    EXPECT_TRUE(client.placeholders(std::chrono::hours(1), categories()).empty());
    client.apply_changes(categories(), events_array({upsert(7, 1, {{"name", "office"}})}));
    EXPECT_TRUE(client.placeholders(std::chrono::seconds(0), categories()).empty());
    EXPECT_EQ(rows(categories()), (std::vector<std::string>{"7|office|1|false"}));
}

TEST_F(Changes, PipelinedBatchesAreSeparateTransactions) {
    std::vector<std::string> batches;
    for (int b = 0; b < 30; ++b)
        batches.push_back(events_array({upsert(b, 1, {{"name", "n" + std::to_string(b)}}), upsert(b, 2)}));
    batches[10] = "[not json";  // fails its own call only
    const auto results = client.apply_changes_pipelined(products(), batches, 4);
    ASSERT_EQ(results.size(), 30u);
    for (std::size_t b = 0; b < results.size(); ++b) {
        if (b == 10) {
            ASSERT_TRUE(results[b].error.has_value());
            EXPECT_EQ(results[b].error->sqlstate, "22P02");
            continue;
        }
        EXPECT_FALSE(results[b].error.has_value()) << b;
        EXPECT_EQ(results[b].count(ChangeStatus::Applied), 2u) << b;
    }
    EXPECT_EQ(rows(products()).size(), 29u);
    // The connection is usable afterwards, outside pipeline mode.
    EXPECT_EQ(client.apply_changes(products(), events_array({upsert(10, 1)})).at(0).status, ChangeStatus::Applied);
}

TEST_F(Changes, LandingAStreamRefusesOnlyTheBadLines) {
    std::vector<std::string> lines;
    for (int i = 0; i < 25; ++i)
        lines.push_back(upsert(i, 1, {{"name", "p" + std::to_string(i)}}));
    lines[3] = "{\"op\": \"upsert\", \"key\": {\"id\": 3}, \"version\": 1, oops}";  // braces fine, not JSON
    lines[7] = "{\"op\": \"upsert\", \"key\": {\"id\": 7}, \"version\": 1}, {\"op\": \"delete\"}";  // two values
    lines[12] = "plain text";
    lines[20] = upsert(20, 1, {{"price", -5}});  // the CHECK refuses it
    const ChangeLanding landing = client.land_changes(products(), lines, 10, 2);
    ASSERT_EQ(landing.outcomes.size(), 25u);
    EXPECT_EQ(landing.count(ChangeStatus::Applied), 21u);
    EXPECT_EQ(landing.count(ChangeStatus::Refused), 4u);
    for (int i : {3, 7, 12, 20}) {
        const ChangeOutcome& o = landing.outcomes[static_cast<std::size_t>(i)];
        EXPECT_EQ(o.index, i);
        EXPECT_EQ(o.status, ChangeStatus::Refused) << i;
        EXPECT_EQ(o.reason.rfind("event " + std::to_string(i) + ": ", 0), 0u) << o.reason;
    }
    EXPECT_EQ(landing.outcomes[3].sqlstate, "22P02");
    EXPECT_EQ(landing.outcomes[7].sqlstate, "TN041");
    EXPECT_EQ(landing.outcomes[12].sqlstate, "TN041");
    EXPECT_EQ(landing.outcomes[20].sqlstate, "23514");
    EXPECT_EQ(rows(products()).size(), 21u);
}

TEST_F(Changes, ReplayingAfterAnInterruptedLandingConverges) {
    // A worker lands part of a stream, dies, and the stream is delivered
    // again from the start, shuffled: the result is the one in-order run's.
    std::vector<std::string> stream;
    for (int v = 1; v <= 6; ++v)
        for (int id = 1; id <= 10; ++id)
            stream.push_back(v == 4 && id % 3 == 0 ? remove(id, v) : upsert(id, v, {{"name", fmt::format("{}-{}", id, v)}}));
    client.land_changes(products(), stream, 7);
    const std::vector<std::string> expected = rows(products());
    client.connection().exec("TRUNCATE " + products());

    client.land_changes(products(), std::vector<std::string>(stream.begin(), stream.begin() + 25), 7);
    std::vector<std::string> replay = stream;
    std::reverse(replay.begin(), replay.end());
    const ChangeLanding second = client.land_changes(products(), replay, 5);
    EXPECT_EQ(second.count(ChangeStatus::Refused), 0u);
    EXPECT_GE(second.count(ChangeStatus::Stale), 25u);
    EXPECT_EQ(rows(products()), expected);
}

// tenancyctl changes apply killed (SIGKILL) at several points of a landing,
// each time followed by landing the whole file again: the result is always
// that of one uninterrupted landing.  Each batch is its own transaction, so
// a kill leaves whole batches landed, and replays of them are stale.
TEST_F(Changes, TenancyctlKilledMidwayThenReplayedConverges) {
    std::string file;
    for (int v = 1; v <= 4; ++v)
        for (int id = 1; id <= 60; ++id)
            file += (v == 3 && id % 4 == 0 ? remove(id, v) : upsert(id, v, {{"name", fmt::format("{}-{}", id, v)}})) + "\n";
    const std::vector<std::string> args = {"changes", "apply", "--table", products(), "--batch-size", "3", "--window", "1"};
    ASSERT_EQ(run_tenancyctl(args, {}, file).exit_code, 0);
    const std::vector<std::string> expected = rows(products());

    int killed_midway = 0;
    for (int threshold : {1, 20, 45, 59}) {
        SCOPED_TRACE(fmt::format("killed after {} rows", threshold));
        client.connection().exec("TRUNCATE " + products());
        const pid_t pid = test::spawn_tenancyctl(args, file);
        // Kill it once it has landed some rows (or when it has finished).
        for (int i = 0; i < 2000; ++i) {
            if (client.connection().exec("SELECT count(*) AS n FROM " + products()).int64(0, "n") >= threshold)
                break;
            usleep(1000);
        }
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        killed_midway += WIFSIGNALED(status) ? 1 : 0;
        EXPECT_EQ(run_tenancyctl(args, {}, file).exit_code, 0);
        EXPECT_EQ(rows(products()), expected);
    }
    EXPECT_GE(killed_midway, 2) << "the landing finished before most kills: the test did not interrupt it";
}

TEST_F(Changes, TenancyctlEnableApplyPlaceholdersDisable) {
    client.connection().exec("CREATE TABLE " + schema + ".tags (name text PRIMARY KEY, colour text)");
    const std::string tags = schema + ".tags";
    RunResult r = run_tenancyctl({"changes", "enable", "--table", tags, "--key", "name"});
    ASSERT_EQ(r.exit_code, 0) << r.err;

    const std::string input = "{\"op\": \"upsert\", \"key\": {\"name\": \"red\"}, \"version\": 1, \"data\": {\"colour\": \"#f00\"}}\n"
                              "\n"
                              "not json\n"
                              "{\"op\": \"upsert\", \"key\": {\"name\": \"red\"}, \"version\": 1, \"data\": {\"colour\": \"#f00\"}}\n";
    r = run_tenancyctl({"changes", "apply", "--table", tags, "--batch-size", "2"}, {}, input);
    EXPECT_EQ(r.exit_code, 3) << "a refused line exits 3";
    EXPECT_EQ(r.out, "3 event(s): 1 applied, 1 stale, 1 refused (1 call(s))\n") << "the bad line is not sent";
    EXPECT_NE(r.err.find("line 3: TN041"), std::string::npos) << r.err;

    r = run_tenancyctl({"--json", "changes", "apply", "--table", tags}, {},
                       "{\"op\": \"delete\", \"key\": {\"name\": \"red\"}, \"version\": 2}\n");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto summary = nlohmann::json::parse(r.out);
    EXPECT_EQ(summary["applied"], 1);
    EXPECT_EQ(summary["refused"], 0);

    client.apply_changes(products(), events_array({upsert(1, 1, {{"category_id", 42}})}));
    r = run_tenancyctl({"--json", "changes", "placeholders", "--table", categories()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto placeholders = nlohmann::json::parse(r.out);
    ASSERT_EQ(placeholders.size(), 1u);
    EXPECT_EQ(placeholders[0]["key"]["id"], 42);

    r = run_tenancyctl({"changes", "apply", "--table", schema + ".nothing"}, {}, upsert(1, 1) + "\n");
    EXPECT_EQ(r.exit_code, 1) << "an unknown table is an error";
    EXPECT_NE(r.err.find("42P01"), std::string::npos) << r.err;
    r = run_tenancyctl({"changes", "apply", "--table", products(), "--batch-size", "0"}, {}, "");
    EXPECT_EQ(r.exit_code, 2) << "a batch size of 0 is a usage error";

    r = run_tenancyctl({"changes", "disable", "--table", tags, "--drop-columns"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(client.connection()
                  .exec("SELECT count(*) AS n FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0"
                        " AND NOT attisdropped",
                        {tags})
                  .int64(0, "n"),
              2);
}

}  // namespace
}  // namespace tenancy
