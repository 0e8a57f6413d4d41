// Support for the tests of tenants in schemas and databases on several
// servers.  scripts/test starts three clusters and names the two besides the
// main one in the environment:
//   TENANCY_TEST_SERVER2, TENANCY_TEST_SERVER3   conninfo of each
//   TENANCY_TEST_SERVER3_DATA, TENANCY_TEST_PG_CTL   to stop and start the third
// A test fails (it is never skipped) when they are missing.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support.hpp"
#include "tenancy/client.hpp"

namespace tenancy::test {

// The environment variable, or a test failure that says what to set.
std::string required_env(const char* name);

// A registry of its own, in a new database on the main cluster, with the
// three clusters registered as servers "main" (the registry's own server),
// "s2" and "s3".  Tenant ids start at a random offset so that tenant
// databases of registries sharing these clusters never collide by name.
class TestRegistry {
public:
    TestRegistry();

    const std::string& database() const { return database_; }
    ConnectOptions options() const { return ConnectOptions{"dbname=" + database_, {}, {}, {}}; }
    Client client() const { return Client(options()); }
    // For run_tenancyctl: PGDATABASE set to this registry.
    std::map<std::string, std::optional<std::string>> env(
        std::map<std::string, std::optional<std::string>> extra = {}) const;

    // A connection to database `name` on cluster `server` ("main", "s2", "s3").
    Connection connect_to(const std::string& server, const std::string& name) const;
    bool database_exists(const std::string& server, const std::string& name) const;
    std::string conninfo_of(const std::string& server) const;

    // Registers migrations 1 and 2 (tables settings and orders).
    void add_base_migrations();
    // Creates `count` tenants of `isolation` (registry rows only) and returns their ids.
    std::vector<TenantId> create_tenants(const std::string& prefix, int count, const std::string& isolation,
                                         std::optional<std::string> server = {});

private:
    std::string database_;
};

// Stops or starts the third cluster (as the postgres OS user).
void stop_server3();
void start_server3();


}  // namespace tenancy::test
