// What makes a tenant safe to move, checked before a move begins (and by a
// dry run): each refusal names what is wrong and how to fix it.
#pragma once

#include <string>
#include <vector>

#include "tenancy/connection.hpp"

namespace tenancy::orchestration {

// On the source database: wal_level is logical, a replication slot and a
// WAL sender are free, the tenancy extension there knows moves (0.9.0), and
// every table of `schema` can be replicated: it has a primary key or a
// replica identity, and is not unlogged.  ServerNotReadyForMove (TN023) or
// NotMovable (TN022) otherwise.  Returns the tables' names.
std::vector<std::string> check_source(Connection& source, const std::string& schema);

// On the target server (its maintenance database): not the source's own
// cluster, the tenancy extension is available at a version that knows
// moves, every role that owns or is granted something in the schema exists
// (pg_restore recreates owners and grants), and no database named
// `database` exists (MoveTargetOccupied, TN024) unless `may_exist`.
void check_target(Connection& target_server, Connection& source, const std::string& schema,
                  const std::string& database, bool may_exist);

}  // namespace tenancy::orchestration
