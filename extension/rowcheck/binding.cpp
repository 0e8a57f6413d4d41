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
// Reads tenancy.role_binding and the catalog cache of pg_auth_members;
// changes nothing.
#include "rowcheck/binding.hpp"

#include "shared/boundary.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_auth_members.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/catcache.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

#include <algorithm>

#include <string>
#include <vector>

namespace tenancy::binding {

namespace {

bool require_binding = false;

// Columns of tenancy.role_binding (sql/install/binding.sql), in order.
constexpr AttrNumber Anum_role_binding_role = 1;
constexpr AttrNumber Anum_role_binding_tenant_id = 2;

constexpr const char *kAdminRole = "tenancy_admin";

// The roles `role` is a member of, directly or indirectly, itself included,
// read from the catalog cache as PostgreSQL's own membership checks do: a
// handful of roles, whatever the number of bindings.
std::vector<Oid> member_of(Oid role)
{
    std::vector<Oid> roles{role};
    for (size_t next = 0; next < roles.size(); ++next) {
        Oid member = roles[next];
        int count = 0;
        // Copied out of the cache list inside the PostgreSQL call, so that
        // the list is released before any C++ allocation can throw.
        Oid *granted = pg_call([&] {
            CatCList *list = SearchSysCacheList1(AUTHMEMMEMROLE, ObjectIdGetDatum(member));
            auto *oids = static_cast<Oid *>(palloc(sizeof(Oid) * (list->n_members + 1)));
            for (int i = 0; i < list->n_members; ++i)
                oids[i] = reinterpret_cast<Form_pg_auth_members>(GETSTRUCT(&list->members[i]->tuple))->roleid;
            count = list->n_members;
            ReleaseSysCacheList(list);
            return oids;
        });
        for (int i = 0; i < count; ++i)
            if (std::find(roles.begin(), roles.end(), granted[i]) == roles.end())
                roles.push_back(granted[i]);
        pfree(granted);
    }
    return roles;
}

// Whether any of `roles` has a binding, and whether one is to `tenant`.
struct Found {
    bool any = false;
    bool this_tenant = false;
};

// The relations tenancy.role_binding and its primary key (role, tenant_id),
// or InvalidOid between installing this module and ALTER EXTENSION tenancy
// UPDATE, while the installed tables are an older version's.
struct BindingRelations {
    Oid table = InvalidOid;
    Oid key = InvalidOid;
};

BindingRelations binding_relations()
{
    return pg_call([] {
        BindingRelations r;
        Oid schema = get_namespace_oid("tenancy", true);
        if (OidIsValid(schema)) {
            r.table = get_relname_relid("role_binding", schema);
            r.key = get_relname_relid("role_binding_pkey", schema);
        }
        return r;
    });
}

// Probes the primary key of role_binding directly, as PostgreSQL reads its
// own catalogs: set_tenant runs in every request, and a statement through
// SPI (planning, executor start-up) would cost it several times what the
// rest of set_tenant costs.  Sees what the current statement's snapshot
// sees, as a read-only SPI statement would, or with `latest` what is
// committed now and what this transaction wrote so far (unbind_role's own
// DELETE).
Found probe(const BindingRelations &relations, const std::vector<Oid> &roles, int64_t tenant, bool latest = false)
{
    Found found;
    pg_call([&] {
        Snapshot snapshot = latest ? GetLatestSnapshot()
                                   : ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
        Relation table = table_open(relations.table, AccessShareLock);
        for (Oid role : roles) {
            // First (role, tenant): the answer when it is bound; then (role)
            // alone, unless a binding was found already.
            for (int keys = 2; keys >= 1; --keys) {
                if (keys == 1 && found.any)
                    break;
                ScanKeyData key[2];
                ScanKeyInit(&key[0], Anum_role_binding_role, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(role));
                ScanKeyInit(&key[1], Anum_role_binding_tenant_id, BTEqualStrategyNumber, F_INT8EQ,
                            Int64GetDatum(tenant));
                SysScanDesc scan = systable_beginscan(table, relations.key, true, snapshot, keys, key);
                bool hit = HeapTupleIsValid(systable_getnext(scan));
                systable_endscan(scan);
                if (hit) {
                    found.any = true;
                    found.this_tenant = found.this_tenant || keys == 2;
                }
            }
            if (found.this_tenant)
                break;
        }
        table_close(table, AccessShareLock);
    });
    return found;
}

struct Identity {
    Oid role;
    const char *what; // for messages: which identity this is
};

std::string role_name(Oid role)
{
    return pg_call([&] { return std::string(GetUserNameFromId(role, false)); });
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
    BindingRelations relations = binding_relations();
    if (!OidIsValid(relations.table) || !OidIsValid(relations.key)) {
        if (require_binding)
            refuse(identities.front(), tenant, false);
        return;
    }
    for (const Identity &who : identities) {
        Found found = probe(relations, member_of(who.role), tenant);
        if (!found.this_tenant && (found.any || require_binding))
            refuse(who, tenant, found.any);
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
    BindingRelations relations = binding_relations();
    return OidIsValid(relations.table) && OidIsValid(relations.key) &&
           probe(relations, member_of(role), 0, true).any;
}

bool binding_required() { return require_binding; }


} // namespace tenancy::binding
