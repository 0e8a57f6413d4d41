// The logical replication of a move, with PostgreSQL's own publication,
// replication slot and subscription: the target copies the tenant's tables
// and then applies every change the source commits, until the cutover.  All
// three are named after the move (replication_name) and each step checks
// whether it has been done, so it may be repeated after a crash.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "tenancy/connection.hpp"

namespace tenancy::orchestration {

// tenancy_<first 8 hex digits of the registry id>_move_<id>: unique per
// registry, and short enough for a slot name.
std::string replication_name(const std::string& registry, std::int64_t move);

// The publication of every table of `schema`, and of the move's fence row.
void create_publication(Connection& source, const std::string& name, const std::string& schema, std::int64_t move);
void create_slot(Connection& source, const std::string& name);
// The subscription connects to the source with `source_conninfo`, as the
// target server's postgres process (not this client) sees it.
void create_subscription(Connection& target, const std::string& name, const std::string& source_conninfo);

// Waits until the subscription has copied every table (all ready);
// MoveTimedOut (TN027) after `timeout`, naming the tables still copying.
void wait_for_sync(Connection& target, const std::string& name, std::chrono::milliseconds timeout);

// Waits until the subscription has confirmed what the source had written
// when the wait began, twice, so that little is left to apply once writes
// are frozen (the write pause then does not wait for a backlog).
// MoveTimedOut (TN027) after `timeout`, with the target's apply errors.
void wait_for_apply(Connection& source, Connection& target, const std::string& name,
                    std::chrono::milliseconds timeout);

// Waits until the move's fence row has reached the target; false after
// `timeout`.
bool wait_for_fence(Connection& target, std::int64_t move, std::chrono::milliseconds timeout);

// The sequences of `schema` on the target set to the source's values.
// Returns how many.
int copy_sequences(Connection& source, Connection& target, const std::string& schema);

// Drops the subscription (on the target) and returns its oid ("" if there
// was none), then the slots and the publication (on the source), whichever
// exist.
std::string drop_subscription(Connection& target, const std::string& name);
void drop_slot_and_publication(Connection& source, const std::string& name, const std::string& subscription_oid);

// The quoted name or literal, as libpq quotes it.
std::string sql_identifier(Connection& c, const std::string& name);
std::string sql_literal(Connection& c, const std::string& text);

}  // namespace tenancy::orchestration
