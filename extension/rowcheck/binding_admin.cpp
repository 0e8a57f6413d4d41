// tenancy.bind_role and tenancy.unbind_role: the administration of tenant
// bindings (binding.hpp has the rule set_tenant applies).
//
// Both are SECURITY DEFINER (they write tenancy.role_binding, which grants
// nothing to anyone) with EXECUTE revoked from PUBLIC: whoever may change
// bindings decides who may act as which tenant, so a superuser grants it.
#include "registry/registry.hpp"
#include "rowcheck/binding.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/syscache.h"
}

#include <string>

using namespace tenancy;

namespace {

Oid required_role(FunctionCallInfo fcinfo, int n)
{
    if (args::is_null(fcinfo, n))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "role must not be NULL");
    return PG_GETARG_OID(n);
}

bool role_exists(Oid role)
{
    return pg_call([&] { return SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(role)); });
}

// A binding of a role that acts as any tenant anyway is legal (the role may
// lose that right later) but does nothing now: say so.
void warn_if_exempt(Oid role)
{
    if (!binding::acts_as_any_tenant(role))
        return;
    bool superuser = pg_call([&] { return superuser_arg(role); });
    pg_call([&] {
        ereport(WARNING, (errmsg("role \"%s\" acts as any tenant: its bindings restrict nothing",
                                 GetUserNameFromId(role, false)),
                          errdetail(superuser ? "It is a superuser." : "It is a member of tenancy_admin.")));
    });
}

// Removing a role's last binding lifts its restriction (unless
// tenancy.require_binding is on): easy to do by accident, so say so.
void warn_if_unrestricted(Oid role)
{
    if (binding::binding_required() || !role_exists(role) || binding::acts_as_any_tenant(role) ||
        binding::has_bindings(role))
        return;
    pg_call([&] {
        ereport(WARNING,
                (errmsg("role \"%s\" has no tenant binding left: it may now act as any tenant",
                        GetUserNameFromId(role, false)),
                 errdetail("A role without bindings is not restricted while tenancy.require_binding is off."),
                 errhint("To cut it off instead, revoke EXECUTE on tenancy.set_tenant from it, or turn on "
                         "tenancy.require_binding.")));
    });
}

} // namespace

// tenancy.bind_role(role regrole, tenant bigint) RETURNS boolean: true if new.
TENANCY_FUNCTION(tenancy_bind_role)
{
    static spi::Statement insert(
        "INSERT INTO tenancy.role_binding (role, tenant_id) VALUES ($1::pg_catalog.regrole, $2)"
        " ON CONFLICT DO NOTHING RETURNING true",
        {OIDOID, INT8OID});

    Oid role = required_role(fcinfo, 0);
    int64_t tenant = args::required_int64(fcinfo, 1, "tenant");
    if (!role_exists(role))
        throw Error(ERRCODE_UNDEFINED_OBJECT, "role with OID " + std::to_string(role) + " does not exist");
    bool added = false;
    {
        spi::Connection spi;
        // Any status: the binding says who may act as the tenant, set_tenant
        // still refuses a tenant that is not active.
        registry::tenant_status(tenant, registry::RowLock::None); // TN001 if unknown
        added = insert.execute({spi::oid_param(role), spi::int8_param(tenant)}, false) == 1;
    }
    warn_if_exempt(role);
    PG_RETURN_BOOL(added);
}

// tenancy.unbind_role(role regrole, tenant bigint) RETURNS boolean: false if
// there was no such binding.  A dropped role's binding (role_exists false in
// tenancy.role_bindings) can be removed by its OID.
TENANCY_FUNCTION(tenancy_unbind_role)
{
    static spi::Statement remove(
        "DELETE FROM tenancy.role_binding"
        " WHERE role::pg_catalog.oid OPERATOR(pg_catalog.=) $1 AND tenant_id OPERATOR(pg_catalog.=) $2",
        {OIDOID, INT8OID});

    Oid role = required_role(fcinfo, 0);
    int64_t tenant = args::required_int64(fcinfo, 1, "tenant");
    bool removed = false;
    {
        spi::Connection spi;
        registry::tenant_status(tenant, registry::RowLock::None); // TN001 if unknown
        removed = remove.execute({spi::oid_param(role), spi::int8_param(tenant)}, false) == 1;
        if (removed)
            warn_if_unrestricted(role);
    }
    PG_RETURN_BOOL(removed);
}
