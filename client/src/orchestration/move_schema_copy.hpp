// Copying a tenant's schema (tables, indexes, constraints, sequences,
// functions, triggers, grants, comments: everything but the rows) from the
// source of a move to its target with PostgreSQL's own tools: pg_dump
// --schema-only of the tenant's schema, restored by pg_restore in one
// transaction, so the target holds all of it or none.
#pragma once

#include <string>

#include "tenancy/connection.hpp"

namespace tenancy::orchestration {

// The path of a PostgreSQL client program: in `bindir` if given, else in
// $TENANCY_PG_BINDIR if set, else the bare name (looked up in PATH).
std::string pg_program(const std::string& bindir, const std::string& name);

// Runs `program --version`; ServerNotReadyForMove (TN023) if it cannot run.
std::string program_version(const std::string& program);

// pg_dump --schema-only of `schema` from `source`, pg_restore
// --single-transaction into `target`.  ServerError with the tools' own
// messages if either fails (nothing is restored then).
void copy_schema(const std::string& bindir, const ConnectOptions& source, const ConnectOptions& target,
                 const std::string& schema);

}  // namespace tenancy::orchestration
