// Connection, Result and error reporting against a real server.
#include <gtest/gtest.h>

#include <cstdlib>

#include "support.hpp"
#include "tenancy/connection.hpp"

namespace tenancy {
namespace {

std::string setting(Connection& conn, const std::string& name) {
    return conn.exec("SELECT pg_catalog.current_setting($1) AS value", {name}).text(0, "value");
}

TEST(Connection, NamesItselfTenancyctlByDefault) {
    Connection conn(ConnectOptions{});
    EXPECT_EQ(setting(conn, "application_name"), "tenancyctl");
}

TEST(Connection, KeepsAnApplicationNameTheUserChose) {
    Connection conn(ConnectOptions{"application_name=mine", {}, {}, {}});
    EXPECT_EQ(setting(conn, "application_name"), "mine");
}

TEST(Connection, AcceptsAUriAndOverrides) {
    Connection env(ConnectOptions{});
    const std::string db = PQdb(env.get());
    // A URI naming a database that does not exist, corrected by nothing:
    // proves the URI is expanded rather than taken as a database name.
    EXPECT_THROW(Connection(ConnectOptions{"postgresql:///no_such_db_for_tenancy", {}, {}, {}}),
                 ConnectionError);
    Connection uri(ConnectOptions{"postgresql:///" + db + "?application_name=via_uri", {}, {}, {}});
    EXPECT_EQ(setting(uri, "application_name"), "via_uri");
    // -h/-p/-U style overrides win over the conninfo string.
    Connection overridden(ConnectOptions{"host=/nonexistent port=1 dbname=" + db,
                                         std::string(PQhost(env.get())),
                                         std::string(PQport(env.get())),
                                         std::string(PQuser(env.get()))});
    EXPECT_EQ(overridden.exec("SELECT pg_catalog.current_database() AS db").text(0, "db"), db);
}

TEST(Connection, FailureToConnectIsConnectionError) {
    try {
        Connection conn(ConnectOptions{"host=/nonexistent port=1", {}, {}, {}});
        FAIL() << "connected to a nonexistent socket";
    } catch (const ConnectionError& e) {
        EXPECT_EQ(e.sqlstate(), "08001");
        EXPECT_NE(std::string(e.what()).find("/nonexistent"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).back(), '\n');
    }
}

TEST(Connection, ParametersAreValuesNotSql) {
    Connection conn(ConnectOptions{});
    const std::string hostile = "x'); DROP TABLE tenancy.tenant; --";
    const Result r = conn.exec("SELECT $1::text AS v, $2::text AS n", {hostile, std::nullopt});
    EXPECT_EQ(r.text(0, "v"), hostile);
    EXPECT_TRUE(r.is_null(0, "n"));
    EXPECT_EQ(r.optional_text(0, "n"), std::nullopt);
    EXPECT_THROW(r.text(0, "n"), Error);
}

TEST(Result, ReadsBigintsAndRejectsMissingColumns) {
    Connection conn(ConnectOptions{});
    Result r = conn.exec("SELECT 9223372036854775807::bigint AS max, 'x' AS \"Mixed\"");
    EXPECT_EQ(r.rows(), 1);
    EXPECT_EQ(r.int64(0, "max"), INT64_MAX);
    EXPECT_EQ(r.text(0, "Mixed"), "x");  // names are exact, not case-folded
    EXPECT_THROW(r.column("mixed"), Error);
    EXPECT_THROW(r.int64(0, "Mixed"), Error);  // not a number
    const Result moved = std::move(r);
    EXPECT_EQ(r.get(), nullptr);
    EXPECT_EQ(moved.int64(0, "max"), INT64_MAX);
}

TEST(ServerErrors, CarrySqlstateDetailAndHint) {
    Connection conn(ConnectOptions{});
    try {
        conn.exec("DO $$BEGIN RAISE EXCEPTION 'over quota' USING ERRCODE = 'TN003',"
                  " DETAIL = 'used 11 of 10', HINT = 'raise the quota'; END$$");
        FAIL() << "no exception";
    } catch (const QuotaExceeded& e) {
        EXPECT_EQ(e.sqlstate(), "TN003");
        EXPECT_STREQ(e.what(), "over quota");
        EXPECT_EQ(e.detail(), "used 11 of 10");
        EXPECT_EQ(e.hint(), "raise the quota");
    }
    EXPECT_THROW(conn.exec("SELECT 1 / 0"), DataError);
    EXPECT_THROW(conn.exec("SELECT * FROM no_such_table_for_tenancy"), AccessError);
    // The connection stays usable after an error.
    EXPECT_EQ(conn.exec("SELECT 2 AS two").int64(0, "two"), 2);
}

}  // namespace
}  // namespace tenancy
