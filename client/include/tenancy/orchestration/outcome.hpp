// What a multi-tenant operation reports for each tenant, and its progress.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tenancy/placement.hpp"

namespace tenancy::orchestration {

struct TenantOutcome {
    TenantId tenant = 0;
    Isolation isolation = Isolation::Shared;
    std::optional<std::string> server;
    bool ok = false;
    std::int64_t from_version = 0;
    std::int64_t to_version = 0;
    std::string action;    // what was done: "migrated", "up to date", "provisioned", ...
    std::string sqlstate;  // of the failure
    std::string error;     // message of the failure, with PostgreSQL's context (which migration)
    double seconds = 0;
};

struct Progress {
    std::size_t done = 0;
    std::size_t failed = 0;
    std::size_t total = 0;
    std::chrono::steady_clock::duration elapsed{};
};

// Called after each tenant, from the thread that finished it (serialised).
using ProgressCallback = std::function<void(const Progress&)>;

std::size_t failures(const std::vector<TenantOutcome>& outcomes);

// An outcome for the tenant at `location`, not yet ok.
TenantOutcome outcome_for(const TenantLocation& location);

}  // namespace tenancy::orchestration
