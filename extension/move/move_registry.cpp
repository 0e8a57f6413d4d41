// The registry's side of moving a tenant: begin_move, tenant_moves,
// record_move_step, lock_move, switch_placement, finish_move, abort_move, and
// what migrations, purge, remove_server and check ask about moves.
//
// A move is a row of tenancy.tenant_move: running (the source is
// authoritative), switched (the placement points at the target, which is
// authoritative; clean-up remains), done or aborted.  The switch is one
// transaction that moves the placement and bumps its epoch, so routers see
// either the source or the target, never both and never neither.
#include "move/move.hpp"

#include "placement/placement.hpp"
#include "shared/errcodes.hpp"
#include "shared/quoting.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
}

namespace tenancy::move {

namespace {

// Whether a client holds the move's session lock (kLockKey, id mod 2^31).
constexpr const char *kMoverRunning =
    "EXISTS (SELECT FROM pg_catalog.pg_locks l"
    "         WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.granted"
    "           AND l.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d"
    "                                    WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())"
    "           AND l.classid OPERATOR(pg_catalog.=) 1414417750::pg_catalog.oid"
    "           AND l.objid OPERATOR(pg_catalog.=) (m.id OPERATOR(pg_catalog.%) 2147483648)::pg_catalog.oid"
    "           AND l.objsubid OPERATOR(pg_catalog.=) 2)";

static_assert(kLockKey == 1414417750, "kMoverRunning names the lock key as a literal");

} // namespace

std::optional<int64_t> unfinished_move(int64_t tenant)
{
    static spi::Statement query("SELECT id FROM tenancy.tenant_move WHERE tenant_id OPERATOR(pg_catalog.=) $1"
                                "   AND state OPERATOR(pg_catalog.=) ANY (ARRAY['running', 'switched'])",
                                {INT8OID});
    if (query.execute({spi::int8_param(tenant)}, false) == 0)
        return std::nullopt;
    return spi::get_int64(0, 1);
}

void refuse_while_moving(int64_t tenant, const std::string &what)
{
    if (std::optional<int64_t> move = unfinished_move(tenant))
        throw Error(errcode::kTenantMoving,
                    "tenant " + std::to_string(tenant) + " is being moved (move " + std::to_string(*move) +
                        ") and cannot be " + what + " now",
                    "A move copies the tenant's schema once; changes to it must wait until the move ends.",
                    "Finish the move (tenancyctl tenant move " + std::to_string(tenant) +
                        " --resume) or roll it back (--abort), then retry.");
}

std::vector<std::string> moves_needing_server(const std::string &server)
{
    static spi::Statement query(
        "SELECT id, tenant_id, state FROM tenancy.tenant_move"
        " WHERE (state OPERATOR(pg_catalog.=) ANY (ARRAY['running', 'switched'])"
        "        AND (source_server OPERATOR(pg_catalog.=) $1 OR target_server OPERATOR(pg_catalog.=) $1))"
        "    OR (state OPERATOR(pg_catalog.=) 'done' AND NOT source_dropped"
        "        AND source_server OPERATOR(pg_catalog.=) $1)"
        " ORDER BY id",
        {TEXTOID});
    std::vector<std::string> found;
    uint64 rows = query.execute({spi::text_param(server)}, false);
    for (uint64 i = 0; i < rows; ++i) {
        std::string state = spi::get_text(i, 3).value_or("");
        found.push_back("move " + std::to_string(spi::get_int64(i, 1).value_or(0)) + " of tenant " +
                        std::to_string(spi::get_int64(i, 2).value_or(0)) +
                        (state == "done" ? " kept its source there" : " is unfinished"));
    }
    return found;
}

std::vector<StoppedMove> stopped_moves()
{
    static std::string sql =
        std::string("SELECT m.id, m.tenant_id, m.state, m.step, m.target_server, m.error, m.step_changed_at::pg_catalog.text"
                    "  FROM tenancy.tenant_move m"
                    " WHERE m.state OPERATOR(pg_catalog.=) ANY (ARRAY['running', 'switched']) AND NOT ") +
        kMoverRunning + " ORDER BY m.id";
    static spi::Statement query(sql.c_str(), {});
    std::vector<StoppedMove> found;
    uint64 rows = query.execute({}, false);
    for (uint64 i = 0; i < rows; ++i)
        found.push_back({spi::get_int64(i, 1).value_or(0), spi::get_int64(i, 2).value_or(0),
                         spi::get_text(i, 3).value_or(""), spi::get_text(i, 4).value_or(""),
                         spi::get_text(i, 5).value_or(""), spi::get_text(i, 6), spi::get_text(i, 7).value_or("")});
    return found;
}

std::vector<std::string> schemas_of_moves()
{
    static spi::Statement query("SELECT DISTINCT schema_name FROM tenancy.tenant_move"
                                " WHERE source_isolation OPERATOR(pg_catalog.=) 'schema' AND NOT source_dropped"
                                "   AND state OPERATOR(pg_catalog.=) ANY (ARRAY['switched', 'done'])",
                                {});
    std::vector<std::string> schemas;
    uint64 rows = query.execute({}, false);
    for (uint64 i = 0; i < rows; ++i)
        schemas.push_back(spi::get_text(i, 1).value_or(""));
    return schemas;
}

} // namespace tenancy::move

using namespace tenancy;

namespace {

// The columns begin_move and tenant_moves return, for the moves WHERE selects.
std::string move_rows_sql(const char *where)
{
    return std::string(
               "SELECT m.id, m.tenant_id, t.slug, m.source_isolation, m.source_server, ss.conninfo, m.source_database,"
               "       m.schema_name, m.target_server, ts.conninfo, m.target_database, m.from_epoch, m.drop_source,"
               "       m.state, m.step, m.error,"
               "       pg_catalog.date_part('epoch', m.write_pause) OPERATOR(pg_catalog.*) 1000,"
               "       m.source_dropped, (SELECT r.id FROM tenancy.registry r), m.started_at, m.step_changed_at,"
               "       m.finished_at, ") +
           move::kMoverRunning +
           "  FROM tenancy.tenant_move m"
           "  JOIN tenancy.tenant t ON t.id OPERATOR(pg_catalog.=) m.tenant_id"
           "  LEFT JOIN tenancy.server ss ON ss.name OPERATOR(pg_catalog.=) m.source_server"
           "  LEFT JOIN tenancy.server ts ON ts.name OPERATOR(pg_catalog.=) m.target_server"
           " WHERE " +
           where + " ORDER BY m.id DESC";
}

// A move's row, locked.
struct MoveRow {
    int64_t id = 0;
    int64_t tenant = 0;
    std::string state;
    std::string source_isolation;
    std::optional<std::string> source_server;
    std::optional<std::string> source_database;
    std::string target_server;
    std::string target_database;
    int64_t from_epoch = 0;
};

MoveRow lock_move_row(int64_t move)
{
    static spi::Statement query(
        "SELECT id, tenant_id, state, source_isolation, source_server, source_database, target_server,"
        "       target_database, from_epoch"
        "  FROM tenancy.tenant_move WHERE id OPERATOR(pg_catalog.=) $1 FOR UPDATE",
        {INT8OID});
    if (query.execute({spi::int8_param(move)}, false) == 0)
        throw Error(errcode::kMoveStepRefused, "move " + std::to_string(move) + " does not exist", {},
                    "See tenancy.moves for the moves of every tenant.");
    return MoveRow{spi::get_int64(0, 1).value_or(0), spi::get_int64(0, 2).value_or(0), spi::get_text(0, 3).value_or(""),
                   spi::get_text(0, 4).value_or(""),  spi::get_text(0, 5),              spi::get_text(0, 6),
                   spi::get_text(0, 7).value_or(""),  spi::get_text(0, 8).value_or(""), spi::get_int64(0, 9).value_or(0)};
}

[[noreturn]] void refuse_state(const MoveRow &m, const std::string &what)
{
    std::string hint = m.state == "running"    ? "Resume it (tenancyctl tenant move " + std::to_string(m.tenant) +
                                                     " --resume) or roll it back (--abort)."
                       : m.state == "switched" ? "The target is authoritative now: finish the move with tenancyctl "
                                                 "tenant move " + std::to_string(m.tenant) + " --resume."
                                               : "Start a new move with tenancyctl tenant move " +
                                                     std::to_string(m.tenant) + " --to SERVER.";
    throw Error(errcode::kMoveStepRefused,
                "move " + std::to_string(m.id) + " of tenant " + std::to_string(m.tenant) + " is " + m.state + ": " + what,
                {}, hint);
}

// The steps a move records, in order (docs/placement.md, "Moving a tenant");
// the last four are those of a roll-back.
constexpr const char *kSteps[] = {
    "begun",          "creating_target",   "target_claimed",      "schema_copied", "source_prepared",
    "publication_created", "slot_created", "subscribed",          "synced",        "freezing",
    "frozen",         "caught_up",         "sequences_copied",    "verified",      "switched",
    "source_marked",  "target_finished",   "replication_dropped", "source_dropping", "source_dropped",
    "aborting",       "source_unfrozen",   "target_dropped",      "aborted",
};

void require_known_step(const std::string &step)
{
    for (const char *s : kSteps)
        if (step == s)
            return;
    std::string list;
    for (const char *s : kSteps)
        list += (list.empty() ? "" : ", ") + std::string(s);
    throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "unknown move step \"" + step + "\"", {}, "The steps are: " + list + ".");
}

// Raises TN013 when `server` has no room for one more tenant: its placements
// and the moves on their way there count.
void require_room(const std::string &server)
{
    static spi::Statement query(
        "SELECT s.capacity,"
        "       (SELECT pg_catalog.count(*) FROM tenancy.placement p WHERE p.server OPERATOR(pg_catalog.=) s.name)"
        "     OPERATOR(pg_catalog.+)"
        "       (SELECT pg_catalog.count(*) FROM tenancy.tenant_move m"
        "         WHERE m.target_server OPERATOR(pg_catalog.=) s.name"
        "           AND m.state OPERATOR(pg_catalog.=) 'running')"
        "  FROM tenancy.server s WHERE s.name OPERATOR(pg_catalog.=) $1",
        {TEXTOID});
    query.execute({spi::text_param(server)}, false);
    std::optional<int64_t> capacity = spi::get_int64(0, 1);
    int64_t used = spi::get_int64(0, 2).value_or(0);
    if (capacity && used >= *capacity)
        throw Error(errcode::kNoServerAvailable,
                    "server \"" + server + "\" is full: it holds (or is receiving) " + std::to_string(used) +
                        " tenant(s), its capacity",
                    {}, "Choose another server, or remove and add this one again with a larger capacity.");
}

void lock_server(const std::string &server)
{
    static spi::Statement lock("SELECT FROM tenancy.server WHERE name OPERATOR(pg_catalog.=) $1 FOR UPDATE", {TEXTOID});
    if (lock.execute({spi::text_param(server)}, false) == 0)
        throw Error(ERRCODE_UNDEFINED_OBJECT, "server \"" + server + "\" is not registered", {},
                    "See tenancy.servers for the registered servers.");
}

} // namespace

// tenancy.begin_move(tenant, target_server, drop_source) RETURNS TABLE (...)
// The placement row's lock serialises two moves of one tenant begun at once:
// the second finds the first and is refused.
TENANCY_FUNCTION(tenancy_begin_move)
{
    static spi::Statement insert(
        "INSERT INTO tenancy.tenant_move (tenant_id, source_isolation, source_server, source_database, schema_name,"
        "                                 target_server, target_database, from_epoch, drop_source)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT8OID, BOOLOID});
    static std::string rows_sql = move_rows_sql("m.id OPERATOR(pg_catalog.=) $1");
    static spi::Statement rows(rows_sql.c_str(), {INT8OID});

    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    std::string target = args::required_text(fcinfo, 1, "target_server");
    bool drop_source = args::required_bool(fcinfo, 2, "drop_source");
    srf::Materialized out(fcinfo);
    spi::Connection spi;
    placement::Placement p = placement::load(tenant, true);
    std::string who = "tenant " + std::to_string(tenant);
    if (p.status == "deleted")
        throw Error(errcode::kTenantNotActive, who + " is deleted and is not moved", {},
                    "Purge it (tenancyctl tenant purge), or restore it first.");
    if (p.isolation == placement::Isolation::Shared)
        throw Error(errcode::kNotMovable, who + " is a shared tenant: its rows live in the shared tables",
                    "Moves copy a schema or a database of the tenant's own.",
                    "Only schema and database tenants can be moved.");
    if (p.state != "ready")
        throw Error(errcode::kTenantNotReady, who + " is not ready (placement state " + p.state + ") and is not moved",
                    {}, p.state == "provisioning" ? "Finish provisioning first: tenancyctl provision." : "");
    if (std::optional<int64_t> running = move::unfinished_move(tenant))
        throw Error(errcode::kTenantMoving, who + " is being moved already (move " + std::to_string(*running) + ")",
                    {}, "Resume that move (tenancyctl tenant move " + std::to_string(tenant) +
                            " --resume) or roll it back (--abort) first.");
    lock_server(target);
    if (p.isolation == placement::Isolation::Database && p.server == target)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, who + " is on server \"" + target + "\" already", {},
                    "Name another server.");
    require_room(target);
    placement::registry_id(); // the target database will name this registry
    bool from_database = p.isolation == placement::Isolation::Database;
    insert.execute({spi::int8_param(tenant), spi::text_param(placement::isolation_name(p.isolation)),
                    from_database ? spi::optional_text_param(p.server) : spi::null_param(TEXTOID),
                    from_database ? spi::optional_text_param(p.database_name) : spi::null_param(TEXTOID),
                    spi::optional_text_param(p.schema_name), spi::text_param(target),
                    spi::text_param(placement::database_name_for(tenant)), spi::int8_param(p.epoch),
                    spi::bool_param(drop_source)},
                   false);
    int64_t move_id = spi::get_int64(0, 1).value_or(0);
    srf::put_spi_rows(out, rows.execute({spi::int8_param(move_id)}, false));
    return (Datum)0;
}

// tenancy.tenant_moves(tenant bigint) RETURNS TABLE (...), newest first.
TENANCY_FUNCTION(tenancy_tenant_moves)
{
    static std::string rows_sql = move_rows_sql("m.tenant_id OPERATOR(pg_catalog.=) $1");
    static spi::Statement rows(rows_sql.c_str(), {INT8OID});
    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    srf::Materialized out(fcinfo);
    spi::Connection spi;
    placement::load(tenant, false); // TN001 for an unknown tenant
    srf::put_spi_rows(out, rows.execute({spi::int8_param(tenant)}, true));
    return (Datum)0;
}

// tenancy.record_move_step(move bigint, step text, error text) RETURNS void
TENANCY_FUNCTION(tenancy_record_move_step)
{
    static spi::Statement update("UPDATE tenancy.tenant_move SET step = $2, error = $3,"
                                 "       step_changed_at = pg_catalog.clock_timestamp()"
                                 " WHERE id OPERATOR(pg_catalog.=) $1",
                                 {INT8OID, TEXTOID, TEXTOID});
    int64_t move = args::required_int64(fcinfo, 0, "move");
    std::string step = args::required_text(fcinfo, 1, "step");
    std::optional<std::string> error = args::optional_text(fcinfo, 2);
    require_known_step(step);
    spi::Connection spi;
    MoveRow m = lock_move_row(move);
    if (m.state != "running" && m.state != "switched")
        refuse_state(m, "no step is recorded for it any more");
    update.execute({spi::int8_param(move), spi::text_param(step), spi::optional_text_param(error)}, false);
    PG_RETURN_VOID();
}

// tenancy.lock_move(move bigint) RETURNS boolean: the session lock that says
// a client is running the move (released when its session ends).
TENANCY_FUNCTION(tenancy_lock_move)
{
    static spi::Statement lock("SELECT pg_catalog.pg_try_advisory_lock($1, ($2 OPERATOR(pg_catalog.%) 2147483648)::int4)",
                               {INT4OID, INT8OID});
    int64_t move = args::required_int64(fcinfo, 0, "move");
    spi::Connection spi;
    lock_move_row(move);
    lock.execute({spi::int4_param(move::kLockKey), spi::int8_param(move)}, false);
    PG_RETURN_BOOL(spi::get_bool(0, 1).value_or(false));
}

// tenancy.switch_placement(move, write_pause_ms, verification) RETURNS bigint
TENANCY_FUNCTION(tenancy_switch_placement)
{
    static spi::Statement place(
        "UPDATE tenancy.placement SET isolation = 'database', server = $2, database_name = $3,"
        "       epoch = epoch OPERATOR(pg_catalog.+) 1, state = 'ready', state_changed_at = pg_catalog.now()"
        " WHERE tenant_id OPERATOR(pg_catalog.=) $1 RETURNING epoch",
        {INT8OID, TEXTOID, TEXTOID});
    static spi::Statement record(
        "UPDATE tenancy.tenant_move SET state = 'switched', step = 'switched', error = NULL,"
        "       step_changed_at = pg_catalog.clock_timestamp(),"
        "       write_pause = pg_catalog.make_interval(secs => $2 OPERATOR(pg_catalog./) 1000), verification = $3"
        " WHERE id OPERATOR(pg_catalog.=) $1",
        {INT8OID, FLOAT8OID, JSONBOID});
    int64_t move = args::required_int64(fcinfo, 0, "move");
    if (args::is_null(fcinfo, 1))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "write_pause_ms must not be NULL");
    double pause = PG_GETARG_FLOAT8(1);
    if (args::is_null(fcinfo, 2))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "verification must not be NULL",
                    "The switch records what was verified.", "Pass the tables' counts and checksums.");
    Datum verification = PG_GETARG_DATUM(2);
    if (!(pause >= 0))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "write_pause_ms must be 0 or more");

    spi::Connection spi;
    MoveRow m = lock_move_row(move);
    if (m.state == "switched" || m.state == "done")
        PG_RETURN_INT64(placement::load(m.tenant, false).epoch); // a repeated switch after a crash
    if (m.state != "running")
        refuse_state(m, "it cannot switch");
    placement::Placement p = placement::load(m.tenant, true);
    bool same_place = p.epoch == m.from_epoch &&
                      (m.source_isolation == "schema"
                           ? p.isolation == placement::Isolation::Schema
                           : p.isolation == placement::Isolation::Database && p.server == m.source_server &&
                                 p.database_name == m.source_database);
    if (!same_place || p.state != "ready")
        throw Error(errcode::kPlacementStepRefused,
                    "tenant " + std::to_string(m.tenant) + "'s placement changed since move " + std::to_string(move) +
                        " began (epoch " + std::to_string(p.epoch) + ", state " + p.state + ")",
                    "The switch would overwrite a placement the move did not copy from.",
                    "Roll the move back (tenancyctl tenant move " + std::to_string(m.tenant) + " --abort).");
    place.execute({spi::int8_param(m.tenant), spi::text_param(m.target_server), spi::text_param(m.target_database)},
                  false);
    int64_t epoch = spi::get_int64(0, 1).value_or(0);
    record.execute({spi::int8_param(move), spi::Param{FLOAT8OID, Float8GetDatum(pause), false},
                    spi::datum_param(JSONBOID, verification, false)},
                   false);
    PG_RETURN_INT64(epoch);
}

// tenancy.finish_move(move bigint, source_dropped boolean) RETURNS void
TENANCY_FUNCTION(tenancy_finish_move)
{
    static spi::Statement finish("UPDATE tenancy.tenant_move SET state = 'done', step = $2, error = NULL,"
                                 "       source_dropped = $3, finished_at = pg_catalog.clock_timestamp(),"
                                 "       step_changed_at = pg_catalog.clock_timestamp()"
                                 " WHERE id OPERATOR(pg_catalog.=) $1",
                                 {INT8OID, TEXTOID, BOOLOID});
    static spi::Statement dropped("UPDATE tenancy.tenant_move SET source_dropped = true"
                                  " WHERE id OPERATOR(pg_catalog.=) $1",
                                  {INT8OID});
    int64_t move = args::required_int64(fcinfo, 0, "move");
    bool source_dropped = args::required_bool(fcinfo, 1, "source_dropped");
    spi::Connection spi;
    MoveRow m = lock_move_row(move);
    if (m.state == "switched")
        finish.execute({spi::int8_param(move), spi::text_param("done"), spi::bool_param(source_dropped)}, false);
    else if (m.state == "done") {
        if (source_dropped)
            dropped.execute({spi::int8_param(move)}, false);
    } else
        refuse_state(m, "it has not switched to its target");
    PG_RETURN_VOID();
}

// tenancy.abort_move(move bigint) RETURNS void
TENANCY_FUNCTION(tenancy_abort_move)
{
    static spi::Statement abort_it("UPDATE tenancy.tenant_move SET state = 'aborted', step = 'aborted',"
                                   "       finished_at = pg_catalog.clock_timestamp(),"
                                   "       step_changed_at = pg_catalog.clock_timestamp()"
                                   " WHERE id OPERATOR(pg_catalog.=) $1",
                                   {INT8OID});
    int64_t move = args::required_int64(fcinfo, 0, "move");
    spi::Connection spi;
    MoveRow m = lock_move_row(move);
    if (m.state == "running")
        abort_it.execute({spi::int8_param(move)}, false);
    else if (m.state != "aborted")
        refuse_state(m, "it cannot be rolled back: the target became authoritative at its switch");
    PG_RETURN_VOID();
}
