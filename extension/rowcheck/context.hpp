// The tenant context: which tenant the current transaction or session acts
// for.  It is the custom setting tenancy.tenant_id, which only
// tenancy.set_tenant and tenancy.clear_tenant may change (docs/rowcheck.md,
// "Threat model").
#pragma once

#include <cstdint>
#include <optional>

namespace tenancy::context {

// Defines tenancy.tenant_id; called once per backend from _PG_init.
void define_settings();

// The current tenant, or nothing when none is set.  Cheap: the setting is
// parsed when it changes, not when it is read.
std::optional<int64_t> current_tenant();

// Makes `tenant` current, for the transaction (with the warning SET LOCAL
// gives outside a transaction block, naming `function`) or the session.  The
// caller has checked that it may: tenancy.set_tenant_by_api_key uses it.
void make_current(int64_t tenant, bool is_local, const char *function);

} // namespace tenancy::context
