#include "tenancy/orchestration/endpoints.hpp"

#include <cstdlib>
#include <map>
#include <memory>

#include "tenancy/errors.hpp"

namespace tenancy::orchestration {
namespace {

// Parameters that describe the registry session rather than the server.
bool server_parameter(const std::string& keyword) {
    return keyword != "dbname" && keyword != "options" && keyword != "replication" &&
           keyword != "fallback_application_name";
}

std::map<std::string, std::string> parse(const std::string& conninfo) {
    char* message = nullptr;
    std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
        PQconninfoParse(conninfo.c_str(), &message), &PQconninfoFree);
    if (!options) {
        std::string why = message ? message : "out of memory";
        PQfreemem(message);
        raise_error(ErrorInfo{"22023", "invalid conninfo: " + why, "", ""});
    }
    std::map<std::string, std::string> values;
    for (PQconninfoOption* o = options.get(); o->keyword; ++o)
        if (o->val)
            values[o->keyword] = o->val;
    return values;
}

}  // namespace

std::string conninfo_value(const std::string& value) {
    std::string quoted = "'";
    for (char c : value) {
        if (c == '\\' || c == '\'')
            quoted.push_back('\\');
        quoted.push_back(c);
    }
    return quoted + "'";
}

Endpoints::Endpoints(const Connection& registry) {
    std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(PQconninfo(registry.get()),
                                                                         &PQconninfoFree);
    if (!options)
        raise_error(ErrorInfo{"08000", "could not read the registry connection's parameters", "", ""});
    // Only what differs from libpq's built-in defaults, so that a printed
    // conninfo (tenancyctl connect) stays short and means the same.
    const char* home = std::getenv("HOME");
    const std::string default_passfile = home ? std::string(home) + "/.pgpass" : "";
    for (PQconninfoOption* o = options.get(); o->keyword; ++o) {
        const std::string keyword = o->keyword;
        if (!o->val || !*o->val || (o->compiled && keyword != "port" && std::string(o->compiled) == o->val))
            continue;
        if (keyword == "passfile" && o->val == default_passfile)
            continue;
        if (server_parameter(keyword) || keyword == "dbname")
            registry_parameters_.emplace_back(keyword, o->val);
    }
}

namespace {

std::string render(const std::map<std::string, std::string>& parameters) {
    std::string result;
    for (const auto& [keyword, value] : parameters)
        result += (result.empty() ? "" : " ") + keyword + "=" + conninfo_value(value);
    return result;
}

}  // namespace

std::string Endpoints::relative(const std::string& conninfo) const {
    std::map<std::string, std::string> merged(registry_parameters_.begin(), registry_parameters_.end());
    for (auto& [keyword, value] : parse(conninfo))
        merged[keyword] = value;
    return render(merged);
}

ConnectOptions Endpoints::database_on_server(const std::string& server_conninfo, const std::string& database) const {
    if (server_conninfo.empty())
        return ConnectOptions{relative("dbname=" + conninfo_value(database)), {}, {}, {}};
    std::map<std::string, std::string> parameters = parse(server_conninfo);
    parameters["dbname"] = database;
    return ConnectOptions{render(parameters), {}, {}, {}};
}

ConnectOptions Endpoints::tenant_database(const TenantLocation& location) const {
    return ConnectOptions{location.on_registry_server ? relative(location.conninfo) : location.conninfo, {}, {}, {}};
}

ConnectOptions Endpoints::registry_database() const { return ConnectOptions{relative(""), {}, {}, {}}; }

ConnectOptions Endpoints::server(const std::string& server_conninfo) const {
    if (server_conninfo.empty())
        return registry_database();
    // Like createdb, use the postgres database unless the conninfo names one.
    std::map<std::string, std::string> parameters = parse(server_conninfo);
    if (!parameters.count("dbname"))
        parameters["dbname"] = "postgres";
    return ConnectOptions{render(parameters), {}, {}, {}};
}

}  // namespace tenancy::orchestration
