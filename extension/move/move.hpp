// Moving a tenant to another server (docs/placement.md, "Moving a tenant"):
// what the registry's side and the tenant data's side of a move share, and
// what other capabilities ask about moves (migrations, purge, servers and
// check refuse or report while one is unfinished).
//
// The registry side (move_registry.cpp) touches tenancy.tenant_move and, at
// the switch, tenancy.placement; the data side (move_source.cpp,
// move_target.cpp) touches the tenant's schema, tenancy.database_claim and
// tenancy.move_fence of the database it runs in.  Every function needs an
// open spi::Connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tenancy::move {

// The session advisory lock (pg_try_advisory_lock(int4, int4)) a client
// holds while it runs a move: key 1 is this constant ("TNMV"), key 2 the
// move's id modulo 2^31.  A move that is unfinished while nobody holds its
// lock has stopped (tenancyctl check reports it).
inline constexpr int32_t kLockKey = 0x544E4D56;

// The unfinished move (running or switched) of `tenant`, if any.  Registry
// database; runs as the extension owner.
std::optional<int64_t> unfinished_move(int64_t tenant);

// Raises TN020 if `tenant` has an unfinished move; `what` names the refused
// operation ("migrated", "purged", ...).
void refuse_while_moving(int64_t tenant, const std::string &what);

// Servers an unfinished move or a copy kept by a finished move needs: a
// description for each move of `server`, empty if none (remove_server).
std::vector<std::string> moves_needing_server(const std::string &server);

// A move that is unfinished while no client runs it, or a copy a finished
// move kept; for tenancy.check.
struct StoppedMove {
    int64_t move = 0;
    int64_t tenant = 0;
    std::string state;
    std::string step;
    std::string target_server;
    std::optional<std::string> error;
    std::string since; // step_changed_at as text
};
std::vector<StoppedMove> stopped_moves();

// Schemas of the registry database that moves still know about (a schema
// tenant's source that has not been dropped), which are not orphans.
std::vector<std::string> schemas_of_moves();

// The table names of the tenant's schema that hold data (ordinary and
// partitioned tables), quoted and qualified, in name order.
std::vector<std::string> schema_tables(const std::string &schema);

} // namespace tenancy::move
