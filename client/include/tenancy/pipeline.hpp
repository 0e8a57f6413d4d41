// Batches many parameterised statements into one network round trip using
// libpq pipeline mode (PostgreSQL 14+ client library).
//
//   tenancy::Pipeline batch(connection);
//   for (...) batch.send("SELECT tenancy.adjust_storage($1, $2)", {id, delta});
//   std::vector<tenancy::Result> results = batch.sync();
//
// Everything queued before one sync() runs in one implicit transaction on the
// server: if any statement fails, none of them takes effect, and sync()
// throws the mapped error of the first failure.
#pragma once

#include <string_view>
#include <vector>

#include "tenancy/connection.hpp"

namespace tenancy {

class Pipeline {
public:
    // Enters pipeline mode; the connection must be idle.
    explicit Pipeline(Connection& connection);
    // Drains anything still queued (e.g. after an exception) and leaves
    // pipeline mode, so the connection is usable again afterwards.
    ~Pipeline();

    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    // Queues one statement; nothing is waited for.
    void send(std::string_view sql, const Params& params = {});

    // Sends everything queued, then returns one Result per send() in order,
    // or throws the first error after the whole batch has been read.
    std::vector<Result> sync();

    std::size_t queued() const noexcept { return queued_; }

private:
    PGconn* conn_;
    std::size_t queued_ = 0;
};

}  // namespace tenancy
