// Whose rights tenancy's table-level functions use, and when.
//
// protect, unprotect, require_row and unrequire_row run with the caller's
// rights and first check that the caller owns the table.  Two things they
// must do with the extension owner's rights instead: write the extension's
// bookkeeping tables, and add the foreign key to tenancy.tenant (which needs
// REFERENCES on it, not something a table owner should have to be granted).
//
// tenancy.check runs as the extension owner (SECURITY DEFINER), but anything
// that may run code a table owner controls (triggers, defaults, constraints,
// the input functions of column types) it runs as that table's owner, in a
// restricted security context and with FORCE ROW LEVEL SECURITY lifted, as
// PostgreSQL itself does for REFRESH MATERIALIZED VIEW and foreign-key checks.
#pragma once

extern "C" {
#include "postgres.h"
#include "miscadmin.h"
}

#include <string>

namespace tenancy::roles {

// Security-context flags for running statements on a table as its owner.
inline constexpr int kAsTableOwner = SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION |
                                     SECURITY_NOFORCE_RLS;
// ... and for running the extension's own statements as the extension owner.
inline constexpr int kAsExtensionOwner = SECURITY_LOCAL_USERID_CHANGE;

// Acts as `role` for the lifetime of a C++ scope, restoring the previous user
// and security context on every exit, including while an exception unwinds
// (tenancy.check carries on after a failed repair step).  In a restricted
// context, settings that the table owner's code changes are undone too.
class ActingAs {
public:
    ActingAs(Oid role, int security_flags);
    ~ActingAs();
    ActingAs(const ActingAs &) = delete;
    ActingAs &operator=(const ActingAs &) = delete;

private:
    Oid saved_user_;
    int saved_context_;
    int guc_nest_level_ = 0;
};

// The owner of the tenancy extension's objects (the superuser who created it).
Oid extension_owner();

// The owner of relation `relid`.
Oid relation_owner(Oid relid);

// Raises 42501 unless the current user owns (or is a member of the owner of)
// the table, naming it.  Call before taking any lock on it.
void require_table_owner(Oid relid, const std::string &table_name);

} // namespace tenancy::roles
