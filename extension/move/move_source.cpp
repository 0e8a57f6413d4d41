// The source's side of a move: prepare_move_out, freeze_for_move,
// unfreeze_for_move, mark_moved and the guard trigger move_guard.
//
// Runs in the database that holds the tenant's data before the move: its own
// database (a database tenant, whose claim records the move's state) or the
// registry database (a schema tenant, whose move state is the registry's
// tenancy.tenant_move).  Freezing puts a statement trigger that refuses every
// write on each of the tenant's tables, in one transaction whose locks wait
// for writes in flight; a tenant database is also made read-only for new
// sessions and its other sessions are ended.  The trigger stays on a moved
// copy, so it can never be written to again.
#include "move/move.hpp"

#include "placement/placement.hpp"
#include "placement/tenant_database.hpp"
#include "shared/errcodes.hpp"
#include "shared/quoting.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "utils/builtins.h"
}

namespace tenancy::move {

std::vector<std::string> schema_tables(const std::string &schema)
{
    static spi::Statement query("SELECT c.oid::pg_catalog.int8 FROM pg_catalog.pg_class c"
                                "  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
                                " WHERE n.nspname OPERATOR(pg_catalog.=) $1"
                                "   AND c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p']::\"char\"[])"
                                " ORDER BY c.relname",
                                {TEXTOID});
    std::vector<Oid> relids;
    uint64 rows = query.execute({spi::text_param(schema)}, false);
    for (uint64 i = 0; i < rows; ++i)
        relids.push_back(static_cast<Oid>(spi::get_int64(i, 1).value_or(0)));
    std::vector<std::string> tables;
    for (Oid relid : relids)
        tables.push_back(quoted_relation_name(relid));
    return tables;
}

} // namespace tenancy::move

using namespace tenancy;

namespace {

constexpr const char *kGuardTrigger = "tenancy_move_guard";

// The copy of a tenant's data in this database.
struct LocalCopy {
    std::string schema;
    std::optional<tenant_database::Claim> claim; // set for a tenant database
};

// The arguments every function here starts with: (tenant, registry, move).
struct MoveCall {
    int64_t tenant;
    std::string registry;
    int64_t move;
};

MoveCall read_call(FunctionCallInfo fcinfo)
{
    return {args::required_int64(fcinfo, 0, "tenant"), args::required_uuid(fcinfo, 1, "registry"),
            args::required_int64(fcinfo, 2, "move")};
}

// The tenant's copy here: a tenant database claimed for it by `registry`, or
// the registry database itself with the tenant's marked schema.  TN014 for
// anything else: nothing is changed in a database that is not the tenant's.
LocalCopy require_copy(int64_t tenant, const std::string &registry)
{
    static spi::Statement this_registry("SELECT id::pg_catalog.text FROM tenancy.registry", {});
    static spi::Statement marker("SELECT pg_catalog.obj_description(n.oid, 'pg_namespace')"
                                 "  FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) $1",
                                 {TEXTOID});
    LocalCopy copy{placement::schema_name_for(tenant), std::nullopt};
    if (tenant_database::read_claim(false)) {
        copy.claim = tenant_database::require_claim(tenant, registry, true);
        return copy;
    }
    bool registry_here = this_registry.execute({}, false) == 1 && spi::get_text(0, 1) == registry;
    bool marked = registry_here && marker.execute({spi::text_param(copy.schema)}, false) == 1 &&
                  spi::get_text(0, 1) == placement::schema_marker(tenant, registry);
    if (!marked)
        throw Error(errcode::kDatabaseNotTenants,
                    "database \"" + tenant_database::current_database_name() + "\" holds no copy of tenant " +
                        std::to_string(tenant) + " of registry " + registry,
                    "It is neither a tenant database claimed for it nor the registry database with its marked schema.",
                    "Check the move's source (tenancy.tenant_moves) and the servers' conninfos.");
    return copy;
}

void set_move_state(const char *state, int64_t move, const std::optional<std::string> &moved_to)
{
    static spi::Statement update("UPDATE tenancy.database_claim SET move_state = $1, move_id = $2, moved_to = $3,"
                                 "       move_state_at = pg_catalog.now()",
                                 {TEXTOID, INT8OID, TEXTOID});
    update.execute({state ? spi::text_param(state) : spi::null_param(TEXTOID),
                    state ? spi::int8_param(move) : spi::null_param(INT8OID), spi::optional_text_param(moved_to)},
                   false);
}

// A claim's state that a step of move `move` may start from.
void require_state(const LocalCopy &copy, int64_t move, std::initializer_list<const char *> allowed, const char *step)
{
    const tenant_database::Claim &c = *copy.claim;
    for (const char *state : allowed) {
        bool none = state == nullptr;
        if (none ? !c.move_state : (c.move_state == state && c.move_id == move))
            return;
    }
    std::string now = c.move_state ? *c.move_state + " by move " + std::to_string(c.move_id.value_or(0)) : "not moving";
    throw Error(errcode::kMoveStepRefused,
                std::string(step) + ": database \"" + tenant_database::current_database_name() + "\" of tenant " +
                    std::to_string(c.tenant) + " is " + now + ", not ready for this step of move " +
                    std::to_string(move),
                {}, "See tenancy.moves in the registry for the tenant's moves.");
}

bool has_guard(Oid relid)
{
    static spi::Statement query("SELECT FROM pg_catalog.pg_trigger"
                                " WHERE tgrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid"
                                "   AND tgname OPERATOR(pg_catalog.=) 'tenancy_move_guard'",
                                {INT8OID});
    return query.execute({spi::int8_param(relid)}, false) > 0;
}

Oid relid_of(const std::string &qualified)
{
    static spi::Statement query("SELECT $1::pg_catalog.regclass::pg_catalog.oid::pg_catalog.int8", {TEXTOID});
    query.execute({spi::text_param(qualified)}, false);
    return static_cast<Oid>(spi::get_int64(0, 1).value_or(0));
}

// The guard on every table of the schema.  CREATE TRIGGER takes a lock that
// waits for the writes in flight and holds back new ones until commit; from
// then on the trigger refuses them.
void add_guards(const std::string &schema, int64_t tenant, int64_t move)
{
    for (const std::string &table : move::schema_tables(schema)) {
        if (has_guard(relid_of(table)))
            continue;
        std::string ddl = std::string("CREATE TRIGGER ") + kGuardTrigger +
                          " BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON " + table +
                          " FOR EACH STATEMENT EXECUTE FUNCTION tenancy.move_guard(" +
                          quoted_literal(std::to_string(tenant)) + ", " + quoted_literal(std::to_string(move)) + ")";
        spi::execute_once(ddl.c_str(), {}, false);
    }
}

void drop_guards(const std::string &schema)
{
    for (const std::string &table : move::schema_tables(schema))
        if (has_guard(relid_of(table)))
            spi::execute_once((std::string("DROP TRIGGER ") + kGuardTrigger + " ON " + table).c_str(), {}, false);
}

void set_database_read_only(bool read_only)
{
    std::string ddl = "ALTER DATABASE " + quoted_identifier(tenant_database::current_database_name()) +
                      (read_only ? " SET default_transaction_read_only = on" : " RESET default_transaction_read_only");
    spi::execute_once(ddl.c_str(), {}, false);
}

// Ends every other client session of this database: its transaction, if
// any, is rolled back.  Not waited for here: a session that still holds a
// lock on a tenant table releases it as it exits, and the guard's lock
// below waits for that.  Replication connections (the move's own) are not
// client backends and go on.
void end_other_sessions()
{
    static spi::Statement terminate("SELECT pg_catalog.pg_terminate_backend(a.pid)"
                                    "  FROM pg_catalog.pg_stat_activity a"
                                    " WHERE a.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()"
                                    "   AND a.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()"
                                    "   AND a.backend_type OPERATOR(pg_catalog.=) 'client backend'",
                                    {});
    terminate.execute({}, false);
}

void write_fence(int64_t move)
{
    static spi::Statement insert("INSERT INTO tenancy.move_fence (move_id) VALUES ($1) ON CONFLICT DO NOTHING",
                                 {INT8OID});
    insert.execute({spi::int8_param(move)}, false);
}

void remove_fence(int64_t move)
{
    static spi::Statement remove("DELETE FROM tenancy.move_fence WHERE move_id OPERATOR(pg_catalog.=) $1", {INT8OID});
    remove.execute({spi::int8_param(move)}, false);
}

} // namespace

// tenancy.prepare_move_out(tenant bigint, registry uuid, move bigint) RETURNS void
TENANCY_FUNCTION(tenancy_prepare_move_out)
{
    auto [tenant, registry, move] = read_call(fcinfo);
    spi::Connection spi;
    LocalCopy copy = require_copy(tenant, registry);
    if (copy.claim) {
        require_state(copy, move, {nullptr, "moving", "frozen"}, "prepare_move_out");
        if (!copy.claim->move_state)
            set_move_state("moving", move, std::nullopt);
    }
    PG_RETURN_VOID();
}

// tenancy.freeze_for_move(tenant bigint, registry uuid, move bigint) RETURNS void
// The first half of the freeze, committed before the second: a tenant
// database's claim says frozen (routers that open a connection now wait for
// the switch instead of writing) and new sessions are read-only.
// Repeating it is harmless.
TENANCY_FUNCTION(tenancy_freeze_for_move)
{
    auto [tenant, registry, move] = read_call(fcinfo);
    spi::Connection spi;
    LocalCopy copy = require_copy(tenant, registry);
    if (copy.claim) {
        require_state(copy, move, {nullptr, "moving", "frozen"}, "freeze_for_move");
        set_move_state("frozen", move, std::nullopt);
        set_database_read_only(true);
    }
    PG_RETURN_VOID();
}

// tenancy.fence_for_move(tenant bigint, registry uuid, move bigint) RETURNS void
// The second half: every other session of a tenant database is ended (so
// none holds a lock below, or writes after its claim said frozen), a guard
// that refuses every write is put on each table (its lock waits for writes
// still in flight), and the fence row is written, after every write that
// committed before it.  Repeating it is harmless: the guards and the fence
// are kept.
TENANCY_FUNCTION(tenancy_fence_for_move)
{
    auto [tenant, registry, move] = read_call(fcinfo);
    spi::Connection spi;
    LocalCopy copy = require_copy(tenant, registry);
    if (copy.claim) {
        require_state(copy, move, {"frozen"}, "fence_for_move");
        end_other_sessions();
    }
    add_guards(copy.schema, tenant, move);
    write_fence(move);
    PG_RETURN_VOID();
}

// tenancy.unfreeze_for_move(tenant, registry, move, keep_moving) RETURNS void
TENANCY_FUNCTION(tenancy_unfreeze_for_move)
{
    auto [tenant, registry, move] = read_call(fcinfo);
    bool keep_moving = args::required_bool(fcinfo, 3, "keep_moving");
    spi::Connection spi;
    LocalCopy copy = require_copy(tenant, registry);
    if (copy.claim) {
        // Never a moved copy: its move switched, and the target is authoritative.
        require_state(copy, move, {nullptr, "moving", "frozen"}, "unfreeze_for_move");
        if (copy.claim->move_state == std::optional<std::string>("frozen"))
            set_database_read_only(false);
        if (copy.claim->move_state || keep_moving)
            set_move_state(keep_moving ? "moving" : nullptr, move, std::nullopt);
    }
    drop_guards(copy.schema);
    remove_fence(move);
    PG_RETURN_VOID();
}

// tenancy.mark_moved(tenant, registry, move, moved_to) RETURNS void
TENANCY_FUNCTION(tenancy_mark_moved)
{
    auto [tenant, registry, move] = read_call(fcinfo);
    std::string moved_to = args::required_text(fcinfo, 3, "moved_to");
    spi::Connection spi;
    LocalCopy copy = require_copy(tenant, registry);
    if (copy.claim) {
        require_state(copy, move, {"frozen", "moved"}, "mark_moved");
        set_move_state("moved", move, moved_to);
    }
    add_guards(copy.schema, tenant, move); // there already: the copy was frozen before the switch
    remove_fence(move);
    PG_RETURN_VOID();
}

// tenancy.move_guard() RETURNS trigger: tgargs are the tenant and the move.
TENANCY_FUNCTION(tenancy_move_guard)
{
    if (!CALLED_AS_TRIGGER(fcinfo))
        throw Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED, "tenancy.move_guard() is a trigger function", {},
                    "It is put on a moving tenant's tables by tenancy.freeze_for_move.");
    auto *trigger = reinterpret_cast<TriggerData *>(fcinfo->context);
    std::string tenant = trigger->tg_trigger->tgnargs > 0 ? trigger->tg_trigger->tgargs[0] : "?";
    std::string move = trigger->tg_trigger->tgnargs > 1 ? trigger->tg_trigger->tgargs[1] : "?";
    std::string table = pg_call([&] { return std::string(RelationGetRelationName(trigger->tg_relation)); });
    throw Error(errcode::kCopyFrozen,
                "tenant " + tenant + "'s table \"" + table +
                    "\" here is frozen for a move to another server, or was moved: the write was not applied",
                "Move " + move + " froze this copy for its cutover; once it switches the tenant lives on the target.",
                "Look the tenant up again (tenancy.tenant_location, or Router::invalidate) and retry the write "
                "there.");
}
