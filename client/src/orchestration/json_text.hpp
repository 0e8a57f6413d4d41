// JSON text for the few jsonb arguments the orchestration passes (a list of
// migrations, a list of rules), so the library needs nothing but libpq.
#pragma once

#include <string>
#include <vector>

#include "tenancy/placement.hpp"

namespace tenancy::orchestration {

// A JSON string literal, quoted and escaped.
std::string json_string(const std::string& text);

// [{"version":..,"name":..,"sql":..,"checksum":..}, ...] for apply_migrations.
std::string migrations_json(const std::vector<Migration>& migrations);

}  // namespace tenancy::orchestration
