// Moving tenants: one call of a tenancy.* SQL function per Client method
// (docs/placement.md, "Moving a tenant"); the move itself is driven by
// tenancy::orchestration::Mover.
#include "tenancy/client.hpp"

#include <string>

namespace tenancy {
namespace {

Param param(std::int64_t n) { return std::to_string(n); }

constexpr const char* kMoveColumns =
    "move, tenant, slug, source_isolation, source_server, source_conninfo, source_database, schema_name,"
    " target_server, target_conninfo, target_database, from_epoch, drop_source::int AS drop_source, state, step,"
    " error, write_pause_ms, source_dropped::int AS source_dropped, registry::text AS registry,"
    " started_at::text AS started_at, step_changed_at::text AS step_changed_at,"
    " finished_at::text AS finished_at, mover_running::int AS mover_running";

TenantMove move_from_row(const Result& r, int row) {
    TenantMove m;
    m.move = r.int64(row, "move");
    m.tenant = r.int64(row, "tenant");
    m.slug = r.text(row, "slug");
    m.source_isolation = parse_isolation(r.text(row, "source_isolation"));
    m.source_server = r.optional_text(row, "source_server");
    m.source_conninfo = r.optional_text(row, "source_conninfo");
    m.source_database = r.optional_text(row, "source_database");
    m.schema = r.text(row, "schema_name");
    m.target_server = r.text(row, "target_server");
    m.target_conninfo = r.optional_text(row, "target_conninfo").value_or("");
    m.target_database = r.text(row, "target_database");
    m.from_epoch = r.int64(row, "from_epoch");
    m.drop_source = r.int64(row, "drop_source") == 1;
    m.state = r.text(row, "state");
    m.step = r.text(row, "step");
    m.error = r.optional_text(row, "error");
    if (auto pause = r.optional_text(row, "write_pause_ms"))
        m.write_pause_ms = std::stod(*pause);
    m.source_dropped = r.int64(row, "source_dropped") == 1;
    m.registry = r.optional_text(row, "registry").value_or("");
    m.started_at = r.text(row, "started_at");
    m.step_changed_at = r.text(row, "step_changed_at");
    m.finished_at = r.optional_text(row, "finished_at");
    m.mover_running = r.int64(row, "mover_running") == 1;
    return m;
}

}  // namespace

TenantMove Client::begin_move(TenantId tenant, const std::string& target_server, bool drop_source) {
    const Result r = conn_.exec(std::string("SELECT ") + kMoveColumns +
                                    " FROM tenancy.begin_move($1::bigint, $2::text, $3::boolean)",
                                {param(tenant), target_server, drop_source ? "true" : "false"});
    return move_from_row(r, 0);
}

std::vector<TenantMove> Client::tenant_moves(TenantId tenant) {
    const Result r =
        conn_.exec(std::string("SELECT ") + kMoveColumns + " FROM tenancy.tenant_moves($1::bigint)", {param(tenant)});
    std::vector<TenantMove> moves;
    for (int row = 0; row < r.rows(); ++row)
        moves.push_back(move_from_row(r, row));
    return moves;
}

void Client::record_move_step(std::int64_t move, const std::string& step, const std::optional<std::string>& error) {
    conn_.exec("SELECT tenancy.record_move_step($1::bigint, $2::text, $3::text)", {param(move), step, error});
}

bool Client::lock_move(std::int64_t move) {
    return conn_.exec("SELECT tenancy.lock_move($1::bigint)::int AS locked", {param(move)}).int64(0, "locked") == 1;
}

std::int64_t Client::switch_placement(std::int64_t move, double write_pause_ms, const std::string& verification_json) {
    return conn_
        .exec("SELECT tenancy.switch_placement($1::bigint, $2::float8, $3::jsonb) AS epoch",
              {param(move), std::to_string(write_pause_ms), verification_json})
        .int64(0, "epoch");
}

void Client::finish_move(std::int64_t move, bool source_dropped) {
    conn_.exec("SELECT tenancy.finish_move($1::bigint, $2::boolean)", {param(move), source_dropped ? "true" : "false"});
}

void Client::abort_move(std::int64_t move) { conn_.exec("SELECT tenancy.abort_move($1::bigint)", {param(move)}); }

}  // namespace tenancy
