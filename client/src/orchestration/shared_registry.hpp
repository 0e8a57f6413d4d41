// One registry connection shared by the threads of a run (a run uses at most
// `jobs` connections to tenants plus this one), each call serialised.
#pragma once

#include <mutex>
#include <utility>

#include "tenancy/client.hpp"

namespace tenancy::orchestration {

class SharedRegistry {
public:
    explicit SharedRegistry(const ConnectOptions& options) : client_(options) {}

    // Runs fn(Client&) alone on the connection and returns its result.
    template <typename Fn>
    auto call(Fn&& fn) {
        std::lock_guard<std::mutex> lock(mutex_);
        return fn(client_);
    }

private:
    std::mutex mutex_;
    Client client_;
};

}  // namespace tenancy::orchestration
