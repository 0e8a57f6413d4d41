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

// The tenant of an API key presented to log in with: nothing when the key is
// unknown, revoked, malformed or its tenant deleted.  Every key takes the
// same path (digest, one index lookup, a format check that does not stop
// early), so neither the result nor the time it takes tells those cases
// apart.  Needs an open spi::Connection.
std::optional<int64_t> tenant_for_login_key(const std::string &key);

} // namespace tenancy::registry
