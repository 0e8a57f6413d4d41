// Tenant binding: which tenants a role may make current with
// tenancy.set_tenant (docs/rowcheck.md, "Tenant binding").
//
// Kept apart from the tenant context (context.cpp) on purpose: set_tenant
// calls require_may_act_as and nothing else of this file, so the context's
// hot path and the binding rules can change independently.
#pragma once

extern "C" {
#include "postgres.h"
}

#include <cstdint>

namespace tenancy::binding {

// Defines the superuser-only setting tenancy.require_binding; called once per
// backend from _PG_init, before the tenancy. prefix is reserved (a value
// given in postgresql.conf before the module loaded must survive that).
void define_settings();

// Raises 42501, naming the role and the tenant, unless both the session user
// and the role set with SET ROLE may act as `tenant`:
//  * a superuser or a member of tenancy_admin may act as any tenant;
//  * a role that has bindings (its own or those of any role it is a member
//    of) may act only as its bound tenants;
//  * a role without bindings may act as any tenant, unless
//    tenancy.require_binding is on.
// The current user of SECURITY DEFINER functions (set_tenant's own included)
// plays no part.
void require_may_act_as(int64_t tenant);

// Whether `role` acts as any tenant whatever its bindings: a superuser or a
// member of tenancy_admin.
bool acts_as_any_tenant(Oid role);

// Whether `role` has a binding, its own or through a role it is a member of,
// counting what this transaction changed so far.
bool has_bindings(Oid role);

// The value of tenancy.require_binding.
bool binding_required();

} // namespace tenancy::binding
