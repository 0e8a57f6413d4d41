// Server connection strings (see conninfo.hpp).
#include "placement/conninfo.hpp"

#include "shared/boundary.hpp"

#include <libpq-fe.h>

#include <memory>

namespace tenancy::conninfo {

namespace {

struct OptionsDeleter {
    void operator()(PQconninfoOption *options) const { PQconninfoFree(options); }
};
using Options = std::unique_ptr<PQconninfoOption, OptionsDeleter>;

Options parse(const std::string &conninfo)
{
    char *message = nullptr;
    PQconninfoOption *options = PQconninfoParse(conninfo.c_str(), &message);
    if (options == nullptr) {
        std::string why = message ? message : "out of memory";
        PQfreemem(message);
        while (!why.empty() && why.back() == '\n')
            why.pop_back();
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "invalid conninfo: " + why, {},
                    "Give a libpq connection string (host=... port=...) or a postgresql:// URI.");
    }
    return Options(options);
}

// libpq's quoting for a value in a key=value string: single quotes, with
// backslash and quote escaped by a backslash.
std::string quoted_value(const char *value)
{
    std::string quoted = "'";
    for (const char *c = value; *c; ++c) {
        if (*c == '\\' || *c == '\'')
            quoted.push_back('\\');
        quoted.push_back(*c);
    }
    return quoted + "'";
}

} // namespace

void validate_server(const std::string &conninfo)
{
    Options options = parse(conninfo);
    for (PQconninfoOption *o = options.get(); o->keyword != nullptr; ++o)
        if (std::string(o->keyword) == "password" && o->val != nullptr)
            throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "a server's conninfo must not contain a password",
                        "The registry is readable by every administrator and is copied into backups.",
                        "Remove the password and put it in ~/.pgpass, a file named by PGPASSFILE, or a service "
                        "file (PGSERVICEFILE) of the accounts that run tenancyctl and the application.");
}

std::string for_database(const std::string &server_conninfo, const std::string &database, const std::string &schema)
{
    Options options = parse(server_conninfo);
    std::string result;
    std::string server_options;
    for (PQconninfoOption *o = options.get(); o->keyword != nullptr; ++o) {
        std::string keyword = o->keyword;
        if (o->val == nullptr || keyword == "dbname")
            continue;
        if (keyword == "options") {
            server_options = std::string(o->val) + " ";
            continue;
        }
        result += keyword + "=" + quoted_value(o->val) + " ";
    }
    result += "dbname=" + quoted_value(database.c_str());
    // Schema names here are tenant_<id>: nothing in them needs escaping for
    // the options syntax (where a space or backslash would).
    if (!schema.empty())
        result += " options=" + quoted_value((server_options + "-csearch_path=" + schema).c_str());
    return result;
}

} // namespace tenancy::conninfo
