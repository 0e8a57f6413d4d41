// Idempotency keys of storage adjustments (tenancy.storage_idempotency_key).
//
// A caller that may retry a request passes a key with it; the first call that
// succeeds with a key is remembered, and every later call with the same
// (tenant, key) returns that call's result without counting again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tenancy::storage::idempotency {

// Refuses an empty key or one longer than 255 bytes (22023).
void validate_key(const std::string &key);

// Claims (tenant, key) for an adjustment of `delta`.  Returns nullopt if this
// call now owns the key and must make the adjustment and then call
// remember_result; or the result of the earlier call that used the key.  A key
// used before with another delta is TN006; an unknown tenant TN001.
//
// The claim inserts the key row first: a concurrent call with the same key
// waits on that uncommitted row until this transaction ends, then sees it
// (commit) or claims the key itself (rollback).  Needs an open spi::Connection.
std::optional<int64_t> claim_key(int64_t tenant, const std::string &key, int64_t delta);

// Stores the result of the adjustment made under a claimed key.
void remember_result(int64_t tenant, const std::string &key, int64_t storage_used);

} // namespace tenancy::storage::idempotency
