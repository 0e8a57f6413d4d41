// Verifying the copies of a move before its switch: every table's row count
// and content checksum (tenancy.table_checksums), computed on the source and
// on the target at once, must agree.
#pragma once

#include <string>
#include <vector>

#include "tenancy/connection.hpp"
#include "tenancy/orchestration/mover.hpp"

namespace tenancy::orchestration {

struct Verification {
    std::vector<TableCheck> tables;        // the source's, when they agree
    std::vector<std::string> differences;  // one line per table that differs
    bool ok() const { return differences.empty(); }
};

// Both sides in parallel (each on its own connection).
Verification verify_copies(Connection& source, Connection& target, const std::string& schema);

// [{"table":..,"rows":..,"checksum":..,"method":..}, ...] for the registry.
std::string verification_json(const std::vector<TableCheck>& tables);

}  // namespace tenancy::orchestration
