// High-level client of the tenancy extension: one method per SQL function.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tenancy/connection.hpp"
#include "tenancy/errors.hpp"
#include "tenancy/types.hpp"

namespace tenancy {

// ---- Link sync types (tenancy.sync_links, dedupe, find_duplicates) ----
// Values travel as text and the server converts them to the columns' types,
// so one call shape serves integer, bigint, text and uuid keys alike.
struct LinkSync {
    std::string table;          // regclass text: "role_membership", "app.\"Links\""
    std::string owner_column;   // column names as stored (no quoting)
    std::string owner;          // the owner's value, as text
    std::string target_column;
    std::vector<std::string> targets;  // the owner's complete new set (may be empty)
};

struct LinkSyncResult {
    std::int64_t added = 0;
    std::int64_t removed = 0;
};

struct DuplicateKey {
    std::string key;  // JSON object {"column": value, ...}
    std::int64_t count = 0;
};
// ---- end of link sync types ----

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

    // ---- Link sync (docs/links.md) ----
    // Makes the owner's links exactly `sync.targets`; safe to call
    // concurrently for one owner (calls serialise, the last one wins).
    LinkSyncResult sync_links(const LinkSync& sync);
    // Lists keys of `table` that more than one row carries; changes nothing.
    std::vector<DuplicateKey> find_duplicates(const std::string& table,
                                              const std::vector<std::string>& key_columns);
    // Deletes duplicate rows (keeping one per key), ensures a unique index on
    // the key columns; returns the number of rows deleted.
    std::int64_t dedupe(const std::string& table, const std::vector<std::string>& key_columns);
    // ---- end of link sync ----

    // For statements this class does not wrap and for Pipeline.
    Connection& connection() noexcept { return conn_; }

private:
    void call_void(std::string_view function, TenantId id);

    Connection conn_;
};

}  // namespace tenancy
