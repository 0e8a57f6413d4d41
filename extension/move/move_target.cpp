// The target's side of a move: claim_moved_database and finish_move_in.
//
// Runs in the new database of the tenant on the target server.  The claim is
// written before any of the tenant's data arrives, as provisioning does, and
// says that the database is the incoming copy of one move: a database of the
// same name that is anything else (another tenant's or registry's, a copy an
// earlier move kept, or unclaimed but holding relations) is refused (TN024),
// never written to.  The tenant's migration ledger is copied with the claim:
// its schema comes from the source as it is, migrations included.
#include "move/move.hpp"

#include "placement/placement.hpp"
#include "placement/tenant_database.hpp"
#include "shared/errcodes.hpp"
#include "shared/quoting.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
}

using namespace tenancy;

namespace {

// Relations outside the system's and the extension's schemas.
int64_t relations_here()
{
    static spi::Statement count(
        "SELECT pg_catalog.count(*) FROM pg_catalog.pg_class c"
        "  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
        " WHERE n.nspname OPERATOR(pg_catalog.<>) ALL (ARRAY['pg_catalog', 'information_schema', 'tenancy'])"
        "   AND n.nspname OPERATOR(pg_catalog.!~) '^pg_(toast|temp_|toast_temp_)'",
        {});
    count.execute({}, false);
    return spi::get_int64(0, 1).value_or(0);
}

[[noreturn]] void refuse_occupied(int64_t tenant, int64_t move, const std::string &what)
{
    throw Error(errcode::kMoveTargetOccupied,
                "database \"" + tenant_database::current_database_name() + "\" on the target server " + what +
                    ": it is not the incoming copy of move " + std::to_string(move) + " of tenant " +
                    std::to_string(tenant),
                "Nothing was written to it.",
                "Drop or rename that database (or, if it is a copy an earlier move of this tenant kept, drop it with "
                "tenancyctl tenant move " + std::to_string(tenant) + " --drop-source), then move again.");
}

} // namespace

// tenancy.claim_moved_database(tenant, registry, slug, move, ledger) RETURNS boolean
TENANCY_FUNCTION(tenancy_claim_moved_database)
{
    static spi::Statement claim("INSERT INTO tenancy.database_claim (tenant_id, registry, slug, move_state, move_id,"
                                "                                     move_state_at)"
                                " VALUES ($1, $2::pg_catalog.uuid, $3, 'incoming', $4, pg_catalog.now())"
                                " ON CONFLICT DO NOTHING",
                                {INT8OID, TEXTOID, TEXTOID, INT8OID});
    static spi::Statement ledger_rows(
        "INSERT INTO tenancy.applied_migration (tenant_id, version, name, checksum, applied_at, duration, applied_by)"
        " SELECT $1, l.version, l.name, l.checksum, l.applied_at, l.duration, l.applied_by"
        "   FROM pg_catalog.jsonb_to_recordset($2) AS l (version bigint, name text, checksum text,"
        "        applied_at timestamptz, duration interval, applied_by name)"
        " ON CONFLICT (tenant_id, version) DO NOTHING",
        {INT8OID, JSONBOID});
    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    std::string registry = args::required_uuid(fcinfo, 1, "registry");
    std::string slug = args::required_text(fcinfo, 2, "slug");
    int64_t move = args::required_int64(fcinfo, 3, "move");
    if (args::is_null(fcinfo, 4))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "ledger must not be NULL", {}, "Pass '[]' for none.");
    Datum ledger = PG_GETARG_DATUM(4);
    Jsonb *jb = pg_call([&] { return DatumGetJsonbP(ledger); });
    if (!JB_ROOT_IS_ARRAY(jb) || JB_ROOT_IS_SCALAR(jb))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "ledger must be a JSON array of applied migrations");

    spi::Connection spi;
    bool claimed_now = false;
    std::optional<tenant_database::Claim> existing = tenant_database::read_claim(true);
    if (!existing) {
        int64_t relations = relations_here();
        if (relations > 0)
            refuse_occupied(tenant, move, "holds " + std::to_string(relations) + " relation(s) and belongs to no tenant");
        // A racing claim of the same database waits here and then finds it taken.
        claim.execute({spi::int8_param(tenant), spi::text_param(registry), spi::text_param(slug), spi::int8_param(move)},
                      false);
        claimed_now = SPI_processed == 1;
        existing = tenant_database::read_claim(true);
    }
    if (existing->tenant != tenant || existing->registry != registry)
        refuse_occupied(tenant, move,
                        "belongs to tenant " + std::to_string(existing->tenant) + " of registry " + existing->registry);
    if (existing->move_state != std::optional<std::string>("incoming") || existing->move_id != move)
        refuse_occupied(tenant, move,
                        existing->move_state == std::optional<std::string>("moved")
                            ? "is the copy move " + std::to_string(existing->move_id.value_or(0)) + " kept"
                        : existing->move_state ? "is in move state " + *existing->move_state + " of move " +
                                                     std::to_string(existing->move_id.value_or(0))
                                               : "is the tenant's database already");
    try {
        ledger_rows.execute({spi::int8_param(tenant), spi::datum_param(JSONBOID, ledger, false)}, false);
    } catch (const PgError &e) {
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, std::string("invalid ledger argument: ") + e.what(), {},
                    "Pass tenancy.applied_migrations(tenant) of the source as a JSON array.");
    }
    std::string comment = "COMMENT ON DATABASE " + quoted_identifier(tenant_database::current_database_name()) +
                          " IS " + quoted_literal(tenant_database::claim_comment(tenant, registry));
    spi::execute_once(comment.c_str(), {}, false);
    PG_RETURN_BOOL(claimed_now);
}

// tenancy.finish_move_in(tenant, registry, move) RETURNS void
TENANCY_FUNCTION(tenancy_finish_move_in)
{
    static spi::Statement settle("UPDATE tenancy.database_claim SET move_state = NULL, move_id = NULL, moved_to = NULL,"
                                 "       move_state_at = pg_catalog.now()",
                                 {});
    static spi::Statement remove_fence("DELETE FROM tenancy.move_fence WHERE move_id OPERATOR(pg_catalog.=) $1",
                                       {INT8OID});
    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    std::string registry = args::required_uuid(fcinfo, 1, "registry");
    int64_t move = args::required_int64(fcinfo, 2, "move");
    spi::Connection spi;
    tenant_database::Claim c = tenant_database::require_claim(tenant, registry, true);
    if (c.move_state == std::optional<std::string>("incoming") && c.move_id == move)
        settle.execute({}, false);
    else if (c.move_state)
        throw Error(errcode::kMoveStepRefused,
                    "finish_move_in: database \"" + tenant_database::current_database_name() + "\" is in move state " +
                        *c.move_state + " of move " + std::to_string(c.move_id.value_or(0)) + ", not the target of move " +
                        std::to_string(move));
    remove_fence.execute({spi::int8_param(move)}, false);
    PG_RETURN_VOID();
}
