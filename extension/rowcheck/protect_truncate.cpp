// The TRUNCATE guard of protected tables, tenancy.truncate_guard().
//
// BEFORE TRUNCATE, FOR EACH STATEMENT.  TRUNCATE is not subject to row-level
// security: a role granted TRUNCATE (a common GRANT ALL ON ALL TABLES IN
// SCHEMA public TO app) would remove every tenant's rows in one statement.
// PostgreSQL fires the trigger of every table a TRUNCATE reaches, those
// reached through CASCADE and every partition of a partitioned table
// included, so the statement fails before anything is removed.
//
// Allowed: the table's owner (or a member of the owning role) and
// superusers, i.e. whoever could drop the table anyway.  The current user is
// the one running TRUNCATE (or the owner of the SECURITY DEFINER function
// that runs it).
#include "shared/boundary.hpp"
#include "shared/quoting.hpp"

extern "C" {
#include "commands/trigger.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/rel.h"
}

using namespace tenancy;

TENANCY_FUNCTION(tenancy_truncate_guard)
{
    auto *data = reinterpret_cast<TriggerData *>(fcinfo->context);
    if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(data->tg_event) ||
        !TRIGGER_FIRED_FOR_STATEMENT(data->tg_event) || !TRIGGER_FIRED_BY_TRUNCATE(data->tg_event))
        throw Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                    "tenancy.truncate_guard must be a BEFORE TRUNCATE statement trigger", {},
                    "Create it with tenancy.protect.");
    Oid relid = RelationGetRelid(data->tg_relation);
    bool owns = pg_call([&] { return pg_class_ownercheck(relid, GetUserId()); });
    if (owns)
        return PointerGetDatum(nullptr);
    throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied to truncate protected table " + quoted_relation_name(relid),
                "TRUNCATE is not subject to row-level security: it would remove the rows of every tenant.",
                "Remove the current tenant's rows with DELETE, which row-level security limits to them; only the "
                "table's owner or a superuser may TRUNCATE it.");
}
