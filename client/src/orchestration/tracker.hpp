// Collects the per-tenant outcomes of a parallel run and reports progress.
#pragma once

#include <chrono>
#include <exception>
#include <mutex>
#include <vector>

#include "tenancy/orchestration/outcome.hpp"

namespace tenancy::orchestration {

class OutcomeTracker {
public:
    OutcomeTracker(std::size_t total, ProgressCallback progress);

    // Thread-safe; calls the progress callback.
    void record(TenantOutcome outcome);
    // The outcomes in tenant order.
    std::vector<TenantOutcome> take();

private:
    std::mutex mutex_;
    std::vector<TenantOutcome> outcomes_;
    Progress progress_;
    ProgressCallback callback_;
    std::chrono::steady_clock::time_point started_;
};

// Sets ok = false and the error fields from the exception being handled.
void set_failure(TenantOutcome& outcome, const std::exception& e);

// Seconds since `start`.
double seconds_since(std::chrono::steady_clock::time_point start);

}  // namespace tenancy::orchestration
