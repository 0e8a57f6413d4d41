// The guard trigger of protected tables, tenancy.tenant_guard(column).
//
// BEFORE INSERT OR UPDATE, FOR EACH ROW.  It exists for two reasons the
// row-level security policy cannot serve: it fills the tenant column of an
// inserted row that leaves it NULL, and it refuses a wrong row with a message
// that names the table, the row's tenant and the current tenant (the policy
// alone only says "new row violates row-level security policy").  The policy
// stays the actual guarantee: a user trigger that runs after this one and
// changes the tenant is still caught by its WITH CHECK.
//
// Roles that bypass the table's row-level security (superusers, BYPASSRLS
// roles, tenancy.check's repair) are trusted like the policy trusts them:
// their rows are filled when a tenant is set but never refused.
//
// Called for every written row, so the common case (a row of the current
// tenant) costs one attribute read and one comparison.
#include "rowcheck/context.hpp"

#include "shared/boundary.hpp"
#include "shared/quoting.hpp"

extern "C" {
#include "access/htup_details.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/rel.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
}

#include <optional>
#include <string>

namespace {

using tenancy::Error;
using tenancy::pg_call;

std::string table_name(Relation rel) { return tenancy::quoted_relation_name(RelationGetRelid(rel)); }

std::string tenant_text(std::optional<int64_t> tenant) { return tenant ? std::to_string(*tenant) : "none"; }

std::optional<int64_t> tenant_of(HeapTuple tuple, int attnum, TupleDesc desc)
{
    bool is_null = false;
    Datum value = heap_getattr(tuple, attnum, desc, &is_null);
    if (is_null)
        return std::nullopt;
    return DatumGetInt64(value);
}

TriggerData *require_guard_call(FunctionCallInfo fcinfo)
{
    auto *data = reinterpret_cast<TriggerData *>(fcinfo->context);
    if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(data->tg_event) || !TRIGGER_FIRED_FOR_ROW(data->tg_event) ||
        !(TRIGGER_FIRED_BY_INSERT(data->tg_event) || TRIGGER_FIRED_BY_UPDATE(data->tg_event)) ||
        data->tg_trigger->tgnargs != 1)
        throw Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                    "tenancy.tenant_guard must be a BEFORE INSERT OR UPDATE row trigger with the tenant column as "
                    "its argument",
                    {}, "Create it with tenancy.protect.");
    return data;
}

} // namespace

TENANCY_FUNCTION(tenancy_tenant_guard)
{
    TriggerData *data = require_guard_call(fcinfo);
    Relation rel = data->tg_relation;
    TupleDesc desc = RelationGetDescr(rel);
    const char *column = data->tg_trigger->tgargs[0];
    int attnum = pg_call([&] { return SPI_fnumber(desc, column); });
    if (attnum <= 0)
        throw Error(ERRCODE_UNDEFINED_COLUMN,
                    std::string("tenant column \"") + column + "\" of table " + table_name(rel) + " does not exist",
                    {}, "Run tenancy.check() to see the damage, then unprotect and protect the table again.");

    bool is_insert = TRIGGER_FIRED_BY_INSERT(data->tg_event);
    HeapTuple row = is_insert ? data->tg_trigtuple : data->tg_newtuple;
    std::optional<int64_t> row_tenant = tenant_of(row, attnum, desc);
    std::optional<int64_t> old_tenant = is_insert ? row_tenant : tenant_of(data->tg_trigtuple, attnum, desc);
    std::optional<int64_t> current = tenancy::context::current_tenant();

    if (current && row_tenant == current && old_tenant == current)
        return PointerGetDatum(row); // the common case: a row of the current tenant

    if (is_insert && !row_tenant && current) {
        Datum value = Int64GetDatum(*current);
        bool is_null = false;
        HeapTuple filled = pg_call([&] { return heap_modify_tuple_by_cols(row, desc, 1, &attnum, &value, &is_null); });
        return PointerGetDatum(filled);
    }

    bool subject_to_policy =
        pg_call([&] { return check_enable_rls(RelationGetRelid(rel), InvalidOid, true) == RLS_ENABLED; });
    if (!subject_to_policy)
        return PointerGetDatum(row); // a trusted role

    std::string table = table_name(rel);
    if (!current)
        throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "no tenant is set: cannot write a row of table " + table,
                    "The row's tenant is " + tenant_text(row_tenant) + "; the current tenant is none.",
                    "Call tenancy.set_tenant(tenant) in the same transaction first.");
    if (!row_tenant)
        return PointerGetDatum(row); // an UPDATE to NULL, which NOT NULL refuses
    if (old_tenant != row_tenant)
        throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
                    "cannot move a row of table " + table + " from tenant " + tenant_text(old_tenant) +
                        " to tenant " + tenant_text(row_tenant),
                    "The current tenant is " + tenant_text(current) + ".");
    throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
                "row of table " + table + " belongs to tenant " + tenant_text(row_tenant) +
                    ", not to the current tenant " + tenant_text(current),
                {}, "A tenant can only write its own rows; leave the tenant column NULL to fill it in.");
}
