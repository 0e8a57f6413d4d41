#include "tracker.hpp"

#include <algorithm>

#include "tenancy/errors.hpp"

namespace tenancy::orchestration {

OutcomeTracker::OutcomeTracker(std::size_t total, ProgressCallback progress)
    : callback_(std::move(progress)), started_(std::chrono::steady_clock::now()) {
    progress_.total = total;
}

void OutcomeTracker::record(TenantOutcome outcome) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++progress_.done;
    if (!outcome.ok)
        ++progress_.failed;
    progress_.elapsed = std::chrono::steady_clock::now() - started_;
    outcomes_.push_back(std::move(outcome));
    if (callback_)
        callback_(progress_);
}

std::vector<TenantOutcome> OutcomeTracker::take() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::sort(outcomes_.begin(), outcomes_.end(),
              [](const TenantOutcome& a, const TenantOutcome& b) { return a.tenant < b.tenant; });
    return std::move(outcomes_);
}

void set_failure(TenantOutcome& outcome, const std::exception& e) {
    outcome.ok = false;
    outcome.error = e.what();
    if (const auto* error = dynamic_cast<const Error*>(&e)) {
        outcome.sqlstate = error->sqlstate();
        if (!error->context().empty())
            outcome.error += " (" + error->context() + ")";
    }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace tenancy::orchestration
