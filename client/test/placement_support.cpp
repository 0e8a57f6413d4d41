#include "placement_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include <fmt/core.h>

namespace tenancy::test {

std::string required_env(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') {
        ADD_FAILURE() << name << " is not set: run the suite through scripts/test, which starts the three clusters";
        throw std::runtime_error(std::string(name) + " is not set");
    }
    return value;
}

TestRegistry::TestRegistry() {
    static std::mt19937_64 rng{std::random_device{}()};
    database_ = unique_slug("reg");
    std::replace(database_.begin(), database_.end(), '-', '_');
    Client admin = connect();
    admin.connection().exec("CREATE DATABASE " + database_);
    Client registry = client();
    registry.connection().exec("CREATE EXTENSION tenancy");
    // 1e6 ids per registry, anywhere below 2^53.
    const std::uint64_t offset = (rng() % 8'000'000'000ULL + 1) * 1'000'000ULL;
    registry.connection().exec(fmt::format("ALTER TABLE tenancy.tenant ALTER COLUMN id RESTART WITH {}", offset));
    registry.add_server({"main", "", true, std::nullopt});
    registry.add_server({"s2", required_env("TENANCY_TEST_SERVER2"), true, std::nullopt});
    registry.add_server({"s3", required_env("TENANCY_TEST_SERVER3"), true, std::nullopt});
}

std::map<std::string, std::optional<std::string>> TestRegistry::env(
    std::map<std::string, std::optional<std::string>> extra) const {
    extra["PGDATABASE"] = database_;
    return extra;
}

std::string TestRegistry::conninfo_of(const std::string& server) const {
    if (server == "s2")
        return required_env("TENANCY_TEST_SERVER2");
    if (server == "s3")
        return required_env("TENANCY_TEST_SERVER3");
    return "";
}

Connection TestRegistry::connect_to(const std::string& server, const std::string& name) const {
    return Connection(ConnectOptions{conninfo_of(server) + " dbname=" + name, {}, {}, {}});
}

bool TestRegistry::database_exists(const std::string& server, const std::string& name) const {
    Connection c = connect_to(server, "postgres");
    return c.exec("SELECT count(*) AS n FROM pg_database WHERE datname = $1", {name}).int64(0, "n") == 1;
}

void TestRegistry::add_base_migrations() {
    Client registry = client();
    registry.add_migration(1, "settings", "CREATE TABLE settings (name text PRIMARY KEY, value text NOT NULL)");
    registry.add_migration(2, "orders",
                           "CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, item text);"
                           "CREATE INDEX orders_item ON orders (item)");
}

std::vector<TenantId> TestRegistry::create_tenants(const std::string& prefix, int count, const std::string& isolation,
                                                   std::optional<std::string> server) {
    Client registry = client();
    std::vector<TenantId> ids;
    for (int i = 0; i < count; ++i) {
        NewTenant t;
        t.slug = unique_slug(prefix);
        t.isolation = isolation;
        t.server = server;
        ids.push_back(registry.create_tenant(t));
    }
    return ids;
}

namespace {

void pg_ctl(const std::string& action) {
    const std::string data = required_env("TENANCY_TEST_SERVER3_DATA");
    const std::string pg_ctl = required_env("TENANCY_TEST_PG_CTL");
    const std::string command = "runuser -u postgres -- " + pg_ctl + " -D " + data + " -w -l " + data +
                                "/../server3.log " + action + " >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0)
        throw std::runtime_error("failed: " + command);
}

}  // namespace

void stop_server3() { pg_ctl("-m fast stop"); }
void start_server3() { pg_ctl("start"); }

}  // namespace tenancy::test
