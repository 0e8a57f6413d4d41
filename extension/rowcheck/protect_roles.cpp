// Role switching for the row-check capability (see protect_roles.hpp).
#include "rowcheck/protect_roles.hpp"

#include "shared/boundary.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace tenancy::roles {

ActingAs::ActingAs(Oid role, int security_flags)
{
    GetUserIdAndSecContext(&saved_user_, &saved_context_);
    pg_call([&] {
        SetUserIdAndSecContext(role, saved_context_ | security_flags);
        if (security_flags & SECURITY_RESTRICTED_OPERATION)
            guc_nest_level_ = NewGUCNestLevel();
    });
}

ActingAs::~ActingAs()
{
    try {
        pg_call([&] {
            if (guc_nest_level_ > 0)
                AtEOXact_GUC(false, guc_nest_level_);
        });
    } catch (...) {
        // Undoing settings fails only on a corrupt setting stack, which the
        // transaction abort reports; a destructor must not throw.
    }
    SetUserIdAndSecContext(saved_user_, saved_context_);
}

Oid relation_owner(Oid relid)
{
    Oid owner = pg_call([&] {
        HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
        if (!HeapTupleIsValid(tuple))
            return InvalidOid;
        Oid result = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relowner;
        ReleaseSysCache(tuple);
        return result;
    });
    if (owner == InvalidOid)
        throw Error(ERRCODE_UNDEFINED_TABLE, "relation with OID " + std::to_string(relid) + " does not exist");
    return owner;
}

Oid extension_owner()
{
    Oid tenant_table = pg_call([] {
        return get_relname_relid("tenant", get_namespace_oid("tenancy", false));
    });
    return relation_owner(tenant_table);
}

void require_table_owner(Oid relid, const std::string &table_name)
{
    bool owns = pg_call([&] { return pg_class_ownercheck(relid, GetUserId()); });
    if (!owns)
        throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "must be owner of table " + table_name,
                    "Only the owner of a table (or a member of its owning role) can change its tenant protection.");
}

} // namespace tenancy::roles
