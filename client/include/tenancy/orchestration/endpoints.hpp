// How to reach tenant databases and servers, given the registry connection.
//
// A location's conninfo is absolute (a server registered with a conninfo of
// its own) or relative to the registry (the registry's own server: shared
// and schema tenants, and database tenants on a server registered with '').
// A relative one is applied over the parameters libpq resolved for the
// registry connection (host, port, user, sslmode, ...), so one `-d` for the
// registry is all a one-server installation needs.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tenancy/connection.hpp"
#include "tenancy/placement.hpp"

namespace tenancy::orchestration {

class Endpoints {
public:
    // Reads the parameters of an open registry connection.
    explicit Endpoints(const Connection& registry);

    // The tenant's database, with the location's own options (a schema
    // tenant's search_path).
    ConnectOptions tenant_database(const TenantLocation& location) const;
    // The registry database itself.
    ConnectOptions registry_database() const;
    // Database `database` on the server registered with `server_conninfo`.
    ConnectOptions database_on_server(const std::string& server_conninfo, const std::string& database) const;
    // A server's maintenance database, where CREATE/DROP DATABASE run.
    ConnectOptions server(const std::string& server_conninfo) const;

    // A conninfo string equal to `conninfo` applied over the registry's
    // parameters; also the key under which connections to one database are
    // pooled.
    std::string relative(const std::string& conninfo) const;

private:
    std::vector<std::pair<std::string, std::string>> registry_parameters_;
};

// libpq's quoting of one value in a key=value conninfo.
std::string conninfo_value(const std::string& value);

}  // namespace tenancy::orchestration
