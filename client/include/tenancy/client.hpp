// High-level client of the tenancy extension: one method per SQL function.
#pragma once

#include <optional>
#include <string>

#include "tenancy/connection.hpp"
#include "tenancy/errors.hpp"
#include "tenancy/storage.hpp"
#include "tenancy/types.hpp"

namespace tenancy {

class Client {
public:
    // conninfo may be empty (PG* environment only), a "key=value" string or
    // a postgresql:// URI.  application_name defaults to "tenancyctl".
    explicit Client(std::string conninfo = {});
    explicit Client(const ConnectOptions& options);

    // Registry (tenancy.create_tenant, tenancy.search_tenants, ...).
    TenantId create_tenant(const NewTenant& tenant);
    // Includes deleted tenants; throws TenantNotFound for an unknown id.
    Tenant get_tenant(TenantId id);
    TenantPage search_tenants(const TenantQuery& query = {});

    // Lifecycle transitions; TenantNotFound or InvalidTransition on failure.
    void delete_tenant(TenantId id);    // active|suspended -> deleted
    void restore_tenant(TenantId id);   // deleted -> active
    void suspend_tenant(TenantId id);   // active -> suspended
    void activate_tenant(TenantId id);  // suspended -> active

    // API keys.  The key text is returned once and never stored in clear.
    std::string issue_api_key(TenantId tenant);
    // std::nullopt when the key is unknown, revoked or its tenant deleted.
    std::optional<TenantId> tenant_for_api_key(const std::string& key);
    std::int64_t revoke_api_keys(TenantId tenant);  // number revoked

    // ---- Storage accounting (client/src/storage.cpp, docs/storage.md) ----
    // Adds `delta` bytes (negative frees) and returns the new usage.  Throws
    // QuotaExceeded, TenantNotActive (delta > 0 only), TenantNotFound,
    // StorageUnderflow (UnderflowPolicy::Error), IdempotencyKeyReused, or
    // DataError (bigint overflow, bad argument).
    std::int64_t adjust_storage(TenantId tenant, std::int64_t delta,
                                const StorageAdjustOptions& options = {});
    // tenancy.adjust_storage_many: all or nothing, one row per adjustment in
    // order.  A tenant may appear only once (DataError otherwise).
    std::vector<StorageUsage> adjust_storage_many(const std::vector<StorageAdjustment>& adjustments,
                                                  UnderflowPolicy on_underflow = UnderflowPolicy::Clamp);
    // One adjust_storage call per adjustment, all sent in one round trip with
    // libpq pipeline mode and run as one implicit transaction: all or
    // nothing, the first failure is thrown.  Returns the new usage after
    // each adjustment, in order; a tenant may appear several times.
    std::vector<std::int64_t> adjust_storage_batch(const std::vector<StorageAdjustment>& adjustments,
                                                   UnderflowPolicy on_underflow = UnderflowPolicy::Clamp);
    StorageInfo storage(TenantId tenant);
    // A quota below current use is accepted; the result then shows
    // available == 0 and used > quota.
    StorageInfo set_storage_quota(TenantId tenant, std::int64_t quota);
    // Deletes idempotency keys older than `older_than`; returns how many.
    std::int64_t purge_idempotency_keys(std::chrono::seconds older_than = std::chrono::hours(24));
    // ---- end of storage accounting ----

    // For statements this class does not wrap and for Pipeline.
    Connection& connection() noexcept { return conn_; }

private:
    void call_void(std::string_view function, TenantId id);

    Connection conn_;
};

}  // namespace tenancy
