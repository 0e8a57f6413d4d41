// Registered servers: add_server, set_server_accepting, remove_server.
// Touches tenancy.server (and reads tenancy.placement).
#include "move/move.hpp"
#include "placement/conninfo.hpp"
#include "placement/placement.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
}

namespace tenancy::servers {

namespace {

constexpr size_t kMaxNameLength = 63;

// Mirrors the table's CHECK constraint, but says what exactly is wrong.
void validate_name(const std::string &name)
{
    const char *rule = "A server name is 1 to 63 characters: lower-case letters, digits, '_' and '-', "
                       "starting with a letter or digit.";
    auto start_ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    bool ok = !name.empty() && name.size() <= kMaxNameLength && start_ok(name[0]);
    for (char c : name)
        ok = ok && (start_ok(c) || c == '_' || c == '-');
    if (!ok)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "invalid server name \"" + name + "\"", {}, rule);
}

[[noreturn]] void throw_unknown(const std::string &name)
{
    throw Error(ERRCODE_UNDEFINED_OBJECT, "server \"" + name + "\" is not registered", {},
                "See tenancy.servers for the registered servers.");
}

} // namespace

} // namespace tenancy::servers

using namespace tenancy;

// tenancy.add_server(name text, conninfo text, accepting boolean, capacity integer) RETURNS void
TENANCY_FUNCTION(tenancy_add_server)
{
    static spi::Statement insert("INSERT INTO tenancy.server (name, conninfo, accepting, capacity)"
                                 " VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
                                 {TEXTOID, TEXTOID, BOOLOID, INT4OID});
    std::string name = args::required_text(fcinfo, 0, "name");
    std::string conninfo = args::required_text(fcinfo, 1, "conninfo");
    bool accepting = args::required_bool(fcinfo, 2, "accepting");
    bool unlimited = args::is_null(fcinfo, 3);
    int32_t capacity = unlimited ? 0 : args::required_int32(fcinfo, 3, "capacity");
    servers::validate_name(name);
    if (!unlimited && capacity < 0)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                    "capacity must be 0 or more tenants, not " + std::to_string(capacity), {},
                    "Pass NULL for no limit.");
    conninfo::validate_server(conninfo);

    spi::Connection spi;
    placement::registry_id(); // tenant databases on this server will name this registry
    if (insert.execute({spi::text_param(name), spi::text_param(conninfo), spi::bool_param(accepting),
                        unlimited ? spi::null_param(INT4OID) : spi::int4_param(capacity)},
                       false) == 0)
        throw Error(ERRCODE_DUPLICATE_OBJECT, "server \"" + name + "\" is already registered", {},
                    "Remove it first (tenancy.remove_server) to register it with other settings.");
    PG_RETURN_VOID();
}

// tenancy.set_server_accepting(name text, accepting boolean) RETURNS void
TENANCY_FUNCTION(tenancy_set_server_accepting)
{
    static spi::Statement update("UPDATE tenancy.server SET accepting = $2 WHERE name OPERATOR(pg_catalog.=) $1",
                                 {TEXTOID, BOOLOID});
    std::string name = args::required_text(fcinfo, 0, "name");
    bool accepting = args::required_bool(fcinfo, 1, "accepting");
    spi::Connection spi;
    if (update.execute({spi::text_param(name), spi::bool_param(accepting)}, false) == 0)
        servers::throw_unknown(name);
    PG_RETURN_VOID();
}

// tenancy.remove_server(name text) RETURNS void
TENANCY_FUNCTION(tenancy_remove_server)
{
    static spi::Statement lock("SELECT FROM tenancy.server WHERE name OPERATOR(pg_catalog.=) $1 FOR UPDATE",
                               {TEXTOID});
    static spi::Statement placed("SELECT pg_catalog.count(*) FROM tenancy.placement"
                                 " WHERE server OPERATOR(pg_catalog.=) $1",
                                 {TEXTOID});
    static spi::Statement remove("DELETE FROM tenancy.server WHERE name OPERATOR(pg_catalog.=) $1", {TEXTOID});
    std::string name = args::required_text(fcinfo, 0, "name");
    spi::Connection spi;
    // The row lock keeps a concurrent placement from choosing the server
    // between the count and the delete (placement locks it too).
    if (lock.execute({spi::text_param(name)}, false) == 0)
        servers::throw_unknown(name);
    placed.execute({spi::text_param(name)}, false);
    int64_t tenants = spi::get_int64(0, 1).value_or(0);
    if (tenants > 0)
        throw Error(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST,
                    "server \"" + name + "\" still holds " + std::to_string(tenants) + " tenant(s)", {},
                    "Move or purge its tenants first; tenancy.set_server_accepting(name, false) stops new ones.");
    std::vector<std::string> moves = move::moves_needing_server(name);
    if (!moves.empty())
        throw Error(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST, "server \"" + name + "\" is still needed: " + moves.front(),
                    moves.size() > 1 ? std::to_string(moves.size() - 1) + " more move(s) need it too." : "",
                    "Finish or roll back the move (tenancyctl tenant move ID --resume or --abort), or drop the "
                    "copy it kept (tenancyctl tenant move ID --drop-source).");
    remove.execute({spi::text_param(name)}, false);
    PG_RETURN_VOID();
}
