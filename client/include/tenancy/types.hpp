// Plain values exchanged with the tenancy SQL API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tenancy {

using TenantId = std::int64_t;

// Mirrors the CHECK constraint on tenancy.tenant.status.
enum class TenantStatus { Active, Suspended, Deleted };

std::string_view to_string(TenantStatus status) noexcept;
// Throws tenancy::Error for a value the server should never return.
TenantStatus parse_tenant_status(std::string_view text);

// One row of tenancy.tenant.  JSON and timestamps are kept as the text the
// server sent (timestamps in ISO 8601) so this library needs nothing but
// libpq; callers parse them with whatever they already use.
struct Tenant {
    TenantId id = 0;
    std::string slug;
    std::optional<std::string> name;
    TenantStatus status = TenantStatus::Active;
    std::int64_t storage_quota = 0;  // bytes
    std::int64_t storage_used = 0;   // bytes
    std::string settings;            // jsonb text
    std::string created_at;
    std::string updated_at;
    std::optional<std::string> deleted_at;
};

// Arguments of tenancy.create_tenant; unset fields take the SQL defaults.
struct NewTenant {
    std::string slug;
    std::optional<std::string> name;
    std::optional<std::int64_t> storage_quota;
    std::optional<std::string> settings;  // JSON text
    std::optional<std::string> isolation;  // "shared" (default), "schema" or "database"
    std::optional<std::string> server;     // a database tenant's server; unset: placement chooses
};

// Arguments of tenancy.search_tenants; defaults equal the SQL defaults.
struct TenantQuery {
    std::optional<std::string> keyword;
    std::optional<TenantId> tenant;
    int page = 1;
    int page_size = 20;
    bool include_deleted = false;
};

struct TenantPage {
    std::vector<Tenant> tenants;  // ordered by id
    std::int64_t total = 0;       // all matches, not just this page
};

}  // namespace tenancy
