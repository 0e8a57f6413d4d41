// Tenant binding: the rule set_tenant applies before it makes a tenant
// current (binding.hpp), and the setting tenancy.require_binding.
//
// Whose bindings count.  Two identities, each of which must be allowed:
//  * the session user (the role that logged in, or one a superuser chose
//    with SET SESSION AUTHORIZATION), which a non-superuser cannot change;
//  * the current role chosen with SET ROLE (PostgreSQL's "outer" user),
//    which can only become a role the session user is a member of.
// So SET ROLE can add a binding's restriction but never lift the session
// user's.  The current user inside a SECURITY DEFINER function is not
// consulted: set_tenant itself runs as the extension owner, and a function of
// someone else that calls set_tenant neither lifts nor adds a restriction.
// A role's bindings are its own and those of every role it is a member of,
// directly or indirectly, as pg_has_role(..., 'MEMBER') counts them, so a
// group role can be bound once for all its members.
//
// Reads tenancy.role_binding and pg_auth_members; changes nothing.
#include "rowcheck/binding.hpp"

#include "shared/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "catalog/namespace.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
}

#include <string>
#include <vector>

namespace tenancy::binding {

namespace {

bool require_binding = false;

constexpr const char *kAdminRole = "tenancy_admin";

// The roles a role is a member of, directly or indirectly, itself included:
// the recursive part of the statements below ($1 is the role).
#define TENANCY_MEMBER_OF(identities)                                                        \
    "WITH RECURSIVE member_of (identity, role) AS ("                                         \
    "    SELECT i.role, i.role FROM (VALUES " identities ") AS i (role)"                     \
    "  UNION"                                                                                \
    "    SELECT m.identity, a.roleid FROM member_of m"                                       \
    "      JOIN pg_catalog.pg_auth_members a ON a.member OPERATOR(pg_catalog.=) m.role"     \
    ")"

struct Identity {
    Oid role;
    const char *what; // for messages: which identity this is
};

std::string role_name(Oid role)
{
    return pg_call([&] { return std::string(GetUserNameFromId(role, false)); });
}

bool bindings_installed()
{
    return pg_call([] {
        Oid schema = get_namespace_oid("tenancy", true);
        return OidIsValid(schema) && OidIsValid(get_relname_relid("role_binding", schema));
    });
}

[[noreturn]] void refuse(const Identity &who, int64_t tenant, bool has_bindings)
{
    std::string name = role_name(who.role);
    std::string message = "role \"" + name + "\" may not act as tenant " + std::to_string(tenant);
    if (has_bindings)
        throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, message,
                    "Role \"" + name + "\" (" + who.what + ") is bound to other tenants only.",
                    "A role with tenant bindings may act only as its bound tenants; an administrator adds one "
                    "with tenancy.bind_role.");
    throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, message,
                "Role \"" + name + "\" (" + who.what + ") has no tenant binding and tenancy.require_binding is on.",
                "Bind it with tenancy.bind_role, or grant it tenancy_admin to let it act as any tenant.");
}

} // namespace

void define_settings()
{
    DefineCustomBoolVariable(
        "tenancy.require_binding", "Whether every role needs a tenant binding to call tenancy.set_tenant.",
        "When on, a role that is neither a superuser nor a member of tenancy_admin may make a tenant current "
        "only if it is bound to it (tenancy.bind_role).  Only superusers can change it.",
        &require_binding, false, PGC_SUSET, 0, nullptr, nullptr, nullptr);
}

void require_may_act_as(int64_t tenant)
{
    // For each identity (the same role twice when no SET ROLE is in effect):
    // how many bindings it has through its memberships, and whether one of
    // them is `tenant`.
    static spi::Statement bindings(
        TENANCY_MEMBER_OF("($1), ($2)")
        "SELECT m.identity::pg_catalog.int8, pg_catalog.count(b.tenant_id),"
        "       coalesce(pg_catalog.bool_or(b.tenant_id OPERATOR(pg_catalog.=) $3), false)"
        "  FROM member_of m"
        "  LEFT JOIN tenancy.role_binding b ON b.role::pg_catalog.oid OPERATOR(pg_catalog.=) m.role"
        " GROUP BY m.identity",
        {OIDOID, OIDOID, INT8OID});

    std::vector<Identity> identities;
    Identity session{GetSessionUserId(), "the session user"};
    Identity outer{GetOuterUserId(), "the role set with SET ROLE"};
    if (!acts_as_any_tenant(session.role))
        identities.push_back(session);
    if (outer.role != session.role && !acts_as_any_tenant(outer.role))
        identities.push_back(outer);
    if (identities.empty())
        return;
    // Between installing this module and ALTER EXTENSION tenancy UPDATE the
    // installed tables are an older version's, without bindings: applications
    // keep working, and no role has a binding yet.
    if (!bindings_installed()) {
        if (require_binding)
            refuse(identities.front(), tenant, false);
        return;
    }

    Oid first = identities.front().role;
    Oid second = identities.back().role;
    uint64 rows = bindings.execute({spi::datum_param(OIDOID, ObjectIdGetDatum(first), false),
                                    spi::datum_param(OIDOID, ObjectIdGetDatum(second), false),
                                    spi::int8_param(tenant)},
                                   true);
    for (const Identity &who : identities) {
        for (uint64 i = 0; i < rows; ++i) {
            if (static_cast<Oid>(spi::get_int64(i, 1).value_or(0)) != who.role)
                continue;
            int64_t count = spi::get_int64(i, 2).value_or(0);
            bool bound_here = spi::get_bool(i, 3).value_or(false);
            if (bound_here)
                break;
            if (count > 0 || require_binding)
                refuse(who, tenant, count > 0);
        }
    }
}

bool acts_as_any_tenant(Oid role)
{
    return pg_call([&] {
        if (superuser_arg(role))
            return true;
        Oid admin = get_role_oid(kAdminRole, true);
        return OidIsValid(admin) && is_member_of_role(role, admin);
    });
}

bool has_bindings(Oid role)
{
    static spi::Statement any(
        TENANCY_MEMBER_OF("($1)")
        "SELECT EXISTS (SELECT FROM member_of m JOIN tenancy.role_binding b"
        "                 ON b.role::pg_catalog.oid OPERATOR(pg_catalog.=) m.role)",
        {OIDOID});
    return any.execute({spi::datum_param(OIDOID, ObjectIdGetDatum(role), false)}, false) == 1 &&
           spi::get_bool(0, 1).value_or(false);
}

bool binding_required() { return require_binding; }

#undef TENANCY_MEMBER_OF

} // namespace tenancy::binding
