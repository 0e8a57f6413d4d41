// tenancyctl, run as a separate process: output formats and exit codes.
#include <gtest/gtest.h>

#include <cctype>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "support.hpp"

namespace tenancy {
namespace {

using nlohmann::json;
using test::describe;
using test::run_tenancyctl;
using test::RunResult;

constexpr int kUsage = 2;
constexpr int kError = 1;

TenantId create(const std::string& slug, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"tenant", "create", slug, "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    const RunResult r = run_tenancyctl(args);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    return json::parse(r.out).at("id").get<TenantId>();
}

TEST(Tenancyctl, CreateAndShowAsJson) {
    const std::string slug = test::unique_slug("ctl");
    const RunResult created =
        run_tenancyctl({"--json", "tenant", "create", slug, "--quota", "5000",
                        "--settings", R"({"plan":"pro","seats":3})"});
    ASSERT_EQ(created.exit_code, 0) << describe(created);
    const json c = json::parse(created.out);
    ASSERT_TRUE(c.at("id").is_number_integer());
    EXPECT_EQ(c.at("slug"), slug);
    const TenantId id = c.at("id").get<TenantId>();

    const RunResult shown = run_tenancyctl({"tenant", "show", std::to_string(id), "--json"});
    ASSERT_EQ(shown.exit_code, 0) << describe(shown);
    const json t = json::parse(shown.out);
    EXPECT_EQ(t.at("id"), id);
    EXPECT_EQ(t.at("slug"), slug);
    EXPECT_TRUE(t.at("name").is_null());
    EXPECT_EQ(t.at("status"), "active");
    EXPECT_EQ(t.at("storage_quota"), 5000);
    EXPECT_EQ(t.at("storage_used"), 0);
    EXPECT_EQ(t.at("settings"), json({{"plan", "pro"}, {"seats", 3}}));
    EXPECT_TRUE(t.at("created_at").is_string());
    EXPECT_TRUE(t.at("deleted_at").is_null());
}

TEST(Tenancyctl, ListAsTableAndJson) {
    const std::string slug = test::unique_slug("ctllist");
    const TenantId id = create(slug, {"--name", "Listed Ltd"});

    const RunResult table = run_tenancyctl({"tenant", "list", "--search", slug});
    ASSERT_EQ(table.exit_code, 0) << describe(table);
    EXPECT_NE(table.out.find(slug), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("Listed Ltd"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("(1 of 1 tenants, page 1)"), std::string::npos) << table.out;

    const RunResult js = run_tenancyctl({"tenant", "list", "--search", slug, "--json"});
    ASSERT_EQ(js.exit_code, 0) << describe(js);
    const json page = json::parse(js.out);
    EXPECT_EQ(page.at("total"), 1);
    EXPECT_EQ(page.at("page"), 1);
    ASSERT_EQ(page.at("tenants").size(), 1u);
    EXPECT_EQ(page.at("tenants")[0].at("id"), id);
    EXPECT_EQ(page.at("tenants")[0].at("name"), "Listed Ltd");
}

TEST(Tenancyctl, TransitionsReportTheNewStatus) {
    const TenantId id = create(test::unique_slug("ctllife"));
    const std::string sid = std::to_string(id);
    const std::pair<const char*, const char*> steps[] = {
        {"suspend", "suspended"}, {"activate", "active"}, {"delete", "deleted"}, {"restore", "active"}};
    for (const auto& [command, status] : steps) {
        const RunResult r = run_tenancyctl({"tenant", command, sid, "--json"});
        ASSERT_EQ(r.exit_code, 0) << command << "\n" << describe(r);
        EXPECT_EQ(json::parse(r.out), json({{"id", id}, {"status", status}}));
        const RunResult shown = run_tenancyctl({"--json", "tenant", "show", sid});
        EXPECT_EQ(json::parse(shown.out).at("status"), status) << command;
    }
    const RunResult again = run_tenancyctl({"tenant", "restore", sid});
    EXPECT_EQ(again.exit_code, kError);
    EXPECT_NE(again.err.find("tenancyctl: ERROR TN004: "), std::string::npos) << describe(again);
}

TEST(Tenancyctl, ApiKeyRoundTrip) {
    const TenantId id = create(test::unique_slug("ctlkey"));
    const std::string sid = std::to_string(id);
    const RunResult issued = run_tenancyctl({"apikey", "issue", sid});
    ASSERT_EQ(issued.exit_code, 0) << describe(issued);
    ASSERT_FALSE(issued.out.empty());
    const std::string key = issued.out.substr(0, issued.out.find('\n'));

    const RunResult resolved = run_tenancyctl({"apikey", "resolve", key});
    EXPECT_EQ(resolved.exit_code, 0) << describe(resolved);
    EXPECT_EQ(resolved.out, sid + "\n");
    const RunResult from_stdin = run_tenancyctl({"apikey", "resolve", "-", "--json"}, {}, key + "\n");
    EXPECT_EQ(from_stdin.exit_code, 0) << describe(from_stdin);
    EXPECT_EQ(json::parse(from_stdin.out), json({{"tenant_id", id}}));

    const RunResult revoked = run_tenancyctl({"apikey", "revoke", sid, "--json"});
    EXPECT_EQ(json::parse(revoked.out), json({{"tenant_id", id}, {"revoked", 1}}));

    const RunResult unknown = run_tenancyctl({"apikey", "resolve", key});
    EXPECT_EQ(unknown.exit_code, kError);
    EXPECT_TRUE(unknown.out.empty());
    EXPECT_NE(unknown.err.find("API key is unknown"), std::string::npos) << describe(unknown);
}

TEST(Tenancyctl, ServerErrorsExitOneWithSqlstate) {
    const RunResult missing = run_tenancyctl({"tenant", "show", "9223372036854775807"});
    EXPECT_EQ(missing.exit_code, kError);
    EXPECT_TRUE(missing.out.empty());
    EXPECT_EQ(missing.err.rfind("tenancyctl: ERROR TN001: ", 0), 0u) << describe(missing);

    const RunResult bad_slug = run_tenancyctl({"tenant", "create", "Bad Slug"});
    EXPECT_EQ(bad_slug.exit_code, kError);
    EXPECT_EQ(bad_slug.err.rfind("tenancyctl: ERROR 22023: ", 0), 0u) << describe(bad_slug);

    const RunResult bad_page = run_tenancyctl({"tenant", "list", "--page", "0"});
    EXPECT_EQ(bad_page.exit_code, kError);
    EXPECT_NE(bad_page.err.find("22023"), std::string::npos) << describe(bad_page);

    const RunResult no_server = run_tenancyctl({"-h", "/nonexistent", "-p", "1", "tenant", "list"});
    EXPECT_EQ(no_server.exit_code, kError);
    EXPECT_EQ(no_server.err.rfind("tenancyctl: ERROR 08001: ", 0), 0u) << describe(no_server);
}

TEST(Tenancyctl, UsageErrorsExitTwo) {
    const std::vector<std::vector<std::string>> cases = {
        {},                                          // no command
        {"tenant"},                                  // no subcommand
        {"tenant", "show"},                          // missing ID
        {"tenant", "show", "abc"},                   // not a number
        {"tenant", "show", "1", "2"},                // extra argument
        {"tenant", "list", "--page", "x"},           // invalid number
        {"tenant", "create", "s", "--quota", "1k"},  // invalid number
        {"tenant", "frobnicate", "1"},               // unknown command
        {"--no-such-option", "tenant", "list"},
    };
    for (const auto& args : cases) {
        // An unreachable server proves usage errors are caught before connecting.
        const RunResult r = run_tenancyctl(args, {{"PGHOST", "/nonexistent"}});
        EXPECT_EQ(r.exit_code, kUsage) << ::testing::PrintToString(args) << "\n" << describe(r);
        EXPECT_FALSE(r.err.empty());
    }
}

TEST(Tenancyctl, HelpEverywhere) {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"--help"}, {"-?"}, {"tenant", "--help"}, {"tenant", "list", "-?"},
          {"apikey", "resolve", "--help"}}) {
        const RunResult r = run_tenancyctl(args, {{"PGHOST", "/nonexistent"}});
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        EXPECT_NE(r.out.find("Usage:"), std::string::npos) << describe(r);
    }
    const RunResult top = run_tenancyctl({"--help"});
    EXPECT_NE(top.out.find("-h,--host"), std::string::npos) << top.out;
}

// Connection parameters of the environment, for building -d/-h/-p values.
struct Target {
    std::string host, port, user, db;
};

Target environment_target() {
    Client client = test::connect();
    PGconn* conn = client.connection().get();
    return {PQhost(conn), PQport(conn), PQuser(conn), PQdb(conn)};
}

std::string percent_encode(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
            out += static_cast<char>(c);
        else
            out += fmt::format("%{:02X}", c);
    }
    return out;
}

// Each form must reach the database even though the environment points
// elsewhere, so the test shows the option (not PG*) was used.
const std::map<std::string, std::optional<std::string>> kMisleadingEnv = {
    {"PGHOST", "/nonexistent"}, {"PGPORT", "1"}, {"PGDATABASE", "no_such_db_for_tenancy"}};

TEST(Tenancyctl, DbnameAcceptsConninfoAndUri) {
    const Target t = environment_target();
    const std::string slug = test::unique_slug("ctldb");
    create(slug);

    const std::string conninfo =
        fmt::format("host='{}' port={} user='{}' dbname='{}'", t.host, t.port, t.user, t.db);
    const std::string uri = fmt::format("postgresql://{}@/{}?host={}&port={}", percent_encode(t.user),
                                        percent_encode(t.db), percent_encode(t.host), t.port);
    for (const std::string& dbname : {conninfo, uri}) {
        const RunResult r =
            run_tenancyctl({"-d", dbname, "tenant", "list", "--search", slug, "--json"}, kMisleadingEnv);
        ASSERT_EQ(r.exit_code, 0) << dbname << "\n" << describe(r);
        EXPECT_EQ(json::parse(r.out).at("tenants").at(0).at("slug"), slug) << dbname;
    }
}

TEST(Tenancyctl, HostPortUserOptions) {
    const Target t = environment_target();
    const std::string slug = test::unique_slug("ctlhost");
    create(slug);
    const RunResult r = run_tenancyctl({"-h", t.host, "-p", t.port, "-U", t.user, "--dbname", t.db,
                                        "tenant", "list", "--search", slug},
                                       kMisleadingEnv);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.out.find(slug), std::string::npos) << r.out;
}

}  // namespace
}  // namespace tenancy
