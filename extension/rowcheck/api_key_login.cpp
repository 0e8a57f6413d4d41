// tenancy.set_tenant_by_api_key(key, is_local): makes current the tenant
// whose API key the caller presents, in one call.
//
// The key is the credential: a role granted this function (and not
// tenancy.set_tenant) can become exactly the tenants whose keys it holds.
// Tenant bindings and tenancy.require_binding govern set_tenant, which
// chooses a tenant by its id, and do not apply here (docs/rowcheck.md,
// "Logging in with an API key").
//
// No oracle: an unknown, revoked or malformed key, or the key of a deleted
// tenant, all get the same error (TN050) after the same work
// (registry::live_key_tenant: one digest, one statement).  A valid key of a
// suspended tenant gets TN002, as set_tenant does, from the status that same
// statement read: only the holder of a valid key can learn that.
#include "registry/registry.hpp"
#include "rowcheck/context.hpp"
#include "shared/errcodes.hpp"
#include "shared/spi.hpp"

#include <optional>

using namespace tenancy;

// tenancy.set_tenant_by_api_key(key text, is_local boolean) RETURNS bigint
TENANCY_FUNCTION(tenancy_set_tenant_by_api_key)
{
    std::string key = args::required_text(fcinfo, 0, "key");
    bool is_local = args::required_bool(fcinfo, 1, "is_local");
    std::optional<registry::KeyTenant> found;
    {
        spi::Connection spi;
        found = registry::live_key_tenant(key);
    }
    if (!found)
        throw Error(errcode::kInvalidApiKey, "invalid API key", {},
                    "Check the key; an administrator issues a new one with tenancy.issue_api_key.");
    registry::require_active(found->tenant, found->status);
    context::make_current(found->tenant, is_local, "tenancy.set_tenant_by_api_key");
    PG_RETURN_INT64(found->tenant);
}
