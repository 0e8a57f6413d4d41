// Values exchanged with the storage accounting functions (docs/storage.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tenancy/types.hpp"

namespace tenancy {

// tenancy.adjust_storage's on_underflow: what a result below 0 bytes does.
enum class UnderflowPolicy {
    Clamp,  // store 0, warn, record the event in tenancy.storage_anomaly
    Error,  // refuse with StorageUnderflow (TN005)
};

struct StorageAdjustOptions {
    // Makes a retried call return the first call's result instead of
    // counting again (kept until purge_idempotency_keys removes it).
    std::optional<std::string> idempotency_key;
    UnderflowPolicy on_underflow = UnderflowPolicy::Clamp;
};

// One element of a many/batch call.
struct StorageAdjustment {
    TenantId tenant = 0;
    std::int64_t delta = 0;
    // adjust_storage_batch only: adjust_storage_many takes no keys and
    // refuses an adjustment that carries one (DataError).
    std::optional<std::string> idempotency_key;
};

// One result row of adjust_storage_many.
struct StorageUsage {
    TenantId tenant = 0;
    std::int64_t used = 0;
};

// tenancy.storage / tenancy.set_storage_quota.
struct StorageInfo {
    std::int64_t used = 0;
    std::int64_t quota = 0;
    std::int64_t available = 0;  // 0 when used >= quota
};

}  // namespace tenancy
