// High-level client of the tenancy extension: one method per SQL function.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tenancy/connection.hpp"
#include "tenancy/errors.hpp"
#include "tenancy/types.hpp"

namespace tenancy {

// ---- Tenant-row checks: types (docs/rowcheck.md) ----------------------------
// One row of tenancy.check().
struct CheckProblem {
    std::optional<TenantId> tenant;  // NULL for table-level problems
    std::string problem;             // missing_row, missing_part, ...
    std::string object;              // table, constraint or dropped table OID
    std::string detail;
    bool repaired = false;
};
// ---- end of tenant-row checks ------------------------------------------------

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

    // ---- Tenant-row checks (client/src/rowcheck.cpp, docs/rowcheck.md) ----
    // The current tenant of this connection; is_local = true lasts until the
    // end of the current transaction.  TenantNotFound / TenantNotActive.
    void set_tenant(TenantId tenant, bool is_local = true);
    std::optional<TenantId> current_tenant();
    void clear_tenant();
    // `table` is a table name as SQL would resolve it (regclass input).
    void protect(const std::string& table, const std::string& tenant_column = "tenant_id");
    bool unprotect(const std::string& table);  // false if it was not protected
    // template_json: a JSON object of column values; returns the rule id.
    std::int64_t require_row(const std::string& table, const std::string& template_json);
    bool unrequire_row(const std::string& table, const std::string& template_json);
    std::vector<CheckProblem> check(bool repair = false);
    // ---- end of tenant-row checks ----

    // For statements this class does not wrap and for Pipeline.
    Connection& connection() noexcept { return conn_; }

private:
    void call_void(std::string_view function, TenantId id);

    Connection conn_;
};

}  // namespace tenancy
