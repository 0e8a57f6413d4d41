#include "tenancy/pipeline.hpp"

#include <optional>
#include <string>
#include <utility>

#include "libpq_support.hpp"

namespace tenancy {

Pipeline::Pipeline(Connection& connection) : conn_(connection.get()) {
    // Blocking mode is safe for large batches: while libpq waits to write it
    // also reads, so a server blocked on sending results cannot deadlock us
    // (test_pipeline.cpp LargeBatchDoesNotDeadlock).
    if (PQenterPipelineMode(conn_) != 1)
        detail::raise_libpq_error(conn_);
}

Pipeline::~Pipeline() {
    if (queued_ > 0) {
        try {
            sync();
        } catch (...) {
            // Draining after an earlier failure; that failure is what the
            // caller sees, and a destructor must not throw.
        }
    }
    PQexitPipelineMode(conn_);
}

void Pipeline::send(std::string_view sql, const Params& params) {
    const std::string statement(sql);
    const detail::ParamArray values(params);
    if (PQsendQueryParams(conn_, statement.c_str(), values.size(), nullptr, values.values(),
                          nullptr, nullptr, /*resultFormat=*/0) != 1)
        detail::raise_libpq_error(conn_);
    ++queued_;
}

std::vector<Result> Pipeline::sync() {
    const std::size_t expected = std::exchange(queued_, 0);
    // Marks the end of the batch and flushes everything queued.
    if (PQpipelineSync(conn_) != 1)
        detail::raise_libpq_error(conn_);
    std::vector<Result> results;
    results.reserve(expected);
    std::optional<ErrorInfo> first_error;
    for (std::size_t i = 0; i < expected; ++i) {
        Result result(PQgetResult(conn_));
        if (result.get() == nullptr)
            detail::raise_libpq_error(conn_);
        // Statements after a failure come back PGRES_PIPELINE_ABORTED; only
        // the failure itself says what went wrong.
        if (result.status() == PGRES_FATAL_ERROR && !first_error)
            first_error = detail::error_info(result.get(), conn_);
        // Each statement's result is terminated by a null result.
        while (PGresult* extra = PQgetResult(conn_))
            PQclear(extra);
        results.push_back(std::move(result));
    }
    const Result sync_point(PQgetResult(conn_));
    if (sync_point.get() == nullptr || sync_point.status() != PGRES_PIPELINE_SYNC)
        detail::raise_libpq_error(conn_);
    if (first_error)
        raise_error(std::move(*first_error));
    return results;
}

}  // namespace tenancy
