// Storage accounting: the rules every storage adjustment follows, shared by
// adjust_storage (storage_adjust.cpp) and adjust_storage_many
// (storage_many.cpp).  docs/storage.md describes them for users.
//
// Touches tenancy.tenant (storage_used) and tenancy.storage_anomaly.  Every
// function here needs an open spi::Connection.
#pragma once

#include "shared/spi.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tenancy::storage {

// What to do when an adjustment would take a tenant below zero bytes.
enum class UnderflowPolicy {
    Clamp, // store 0, warn, and record the event in tenancy.storage_anomaly
    Error, // refuse with TN005
};

// Reads the on_underflow argument ('clamp' or 'error'); anything else is 22023.
UnderflowPolicy underflow_policy_arg(FunctionCallInfo fcinfo, int n);

// A tenant's storage row as read under its row lock.
// For a striped tenant (stripes > 1) `used` is the exact total only once
// stripes::lock_total has locked its stripes and added them up.
struct TenantStorage {
    int64_t id;
    std::string status;
    int64_t used;
    int64_t quota;
    int32_t stripes = 1;
};

// The result of applying one delta to a locked row.
struct Settlement {
    int64_t used;  // the new storage_used
    bool clamped;  // it would have been negative and is 0 instead
};

// Decides what `delta` does to the locked row `row`, or throws the refusal:
//   delta > 0: TN002 unless active, 22003 if used + delta exceeds bigint,
//              TN003 if used + delta exceeds the quota;
//   delta <= 0: always allowed; a negative result is clamped to 0 or refused
//               with TN005, as `policy` says.
// It has no side effects: callers record a clamp with record_clamp once every
// row of their call has been settled, so that no warning is raised for an
// adjustment that is refused after all.
//
// adjust_storage's one-statement fast path (storage_adjust.cpp) encodes the
// same rules in SQL for the common case; this is the authority it falls back
// to whenever that statement declines a row.
Settlement settle(const TenantStorage &row, int64_t delta, UnderflowPolicy policy);

// Locks the rows of `ids` (sorted ascending, no duplicates) FOR NO KEY UPDATE
// in id order and returns them in that order.  Taking the locks in one fixed
// order is what keeps two calls over overlapping tenants from deadlocking.
// Raises TN001 for the first id that does not exist.
std::vector<TenantStorage> lock_tenants(const std::vector<int64_t> &ids);

// Stores new storage_used values for rows the caller has locked.
struct NewUsage {
    int64_t tenant;
    int64_t used;
};
void write_usage(const std::vector<NewUsage> &changes);

// Raises the WARNING for a clamped adjustment and records it in
// tenancy.storage_anomaly.
void record_clamp(int64_t tenant, int64_t delta, int64_t used_before);

} // namespace tenancy::storage
