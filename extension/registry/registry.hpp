// Tenant registry helpers that other capabilities use to check a tenant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tenancy::registry {

// Raises TN001 for `tenant`.
[[noreturn]] void throw_tenant_not_found(int64_t tenant);

// How require_tenant locks the tenant row while the caller works with it.
enum class RowLock {
    None,
    Share, // blocks a concurrent status change (suspend, delete) until commit
};

// Returns the tenant's status, raising TN001 if it does not exist.  Needs an
// open spi::Connection.
std::string tenant_status(int64_t tenant, RowLock lock);

// Raises TN001 if the tenant does not exist and TN002 if it is not active.
// Needs an open spi::Connection.
void require_active_tenant(int64_t tenant, RowLock lock);

// Raises TN002 unless `status`, the tenant's status read already, is active.
void require_active(int64_t tenant, const std::string &status);

// The tenant of a live API key and that tenant's status.
struct KeyTenant {
    int64_t tenant;
    std::string status; // active or suspended
};

// The tenant of an API key that is live (not revoked, its tenant not
// deleted); nothing for any other key (unknown, revoked, malformed, of a
// deleted tenant).  Every key takes the same path, one SHA-256 digest and
// one statement that probes the unique index on the digest, so the result
// does not say which of those a key was.  A malformed key needs no check of
// its own: every stored digest is of a key issue_api_key made, so it matches
// none.  Needs an open spi::Connection.
std::optional<KeyTenant> live_key_tenant(const std::string &key);

} // namespace tenancy::registry
