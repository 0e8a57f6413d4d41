// High-level client of the tenancy extension: one method per SQL function.
#pragma once

#include <optional>
#include <string>

#include "tenancy/connection.hpp"
#include "tenancy/errors.hpp"
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

    // For statements this class does not wrap and for Pipeline.
    Connection& connection() noexcept { return conn_; }

private:
    void call_void(std::string_view function, TenantId id);

    Connection conn_;
};

}  // namespace tenancy
