// Change landing: client calls of tenancy.enable_changes, disable_changes,
// apply_changes and placeholders (docs/changes.md), and the pipelined
// landing of many batches.  Arguments carry explicit casts, as elsewhere.
#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "libpq_support.hpp"
#include "sql_literals.hpp"
#include "tenancy/client.hpp"

namespace tenancy {
namespace {

constexpr const char* kApplySql =
    "SELECT index, status, sqlstate, reason FROM tenancy.apply_changes($1::pg_catalog.regclass, $2::pg_catalog.jsonb)";

std::vector<ChangeOutcome> outcomes_of(const Result& r) {
    std::vector<ChangeOutcome> outcomes;
    outcomes.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row)
        outcomes.push_back(ChangeOutcome{static_cast<int>(r.int64(row, "index")),
                                         parse_change_status(r.text(row, "status")),
                                         r.optional_text(row, "sqlstate").value_or(""),
                                         r.optional_text(row, "reason").value_or("")});
    return outcomes;
}

// Leaves pipeline mode on every exit, including an exception, after
// draining what is still in flight, so the connection stays usable.
class PipelineMode {
public:
    explicit PipelineMode(PGconn* conn) : conn_(conn) {
        if (PQenterPipelineMode(conn_) != 1)
            detail::raise_libpq_error(conn_);
    }
    ~PipelineMode() {
        // After a broken connection this may fail; nothing else to do then.
        while (PQpipelineStatus(conn_) != PQ_PIPELINE_OFF && PQexitPipelineMode(conn_) != 1) {
            PGresult* res = PQgetResult(conn_);
            if (res == nullptr && PQstatus(conn_) != CONNECTION_OK)
                break;
            PQclear(res);
        }
    }
    PipelineMode(const PipelineMode&) = delete;
    PipelineMode& operator=(const PipelineMode&) = delete;

private:
    PGconn* conn_;
};

// Reads one batch's results: its statement's result (and the null that
// ends it), then the sync that ends its transaction.
ChangeBatchResult read_batch(PGconn* conn) {
    ChangeBatchResult batch;
    Result result(PQgetResult(conn));
    if (result.get() == nullptr)
        detail::raise_libpq_error(conn);
    if (result.status() == PGRES_TUPLES_OK)
        batch.outcomes = outcomes_of(result);
    else
        batch.error = detail::error_info(result.get(), conn);
    while (PGresult* extra = PQgetResult(conn))
        PQclear(extra);
    const Result sync(PQgetResult(conn));
    if (sync.get() == nullptr || sync.status() != PGRES_PIPELINE_SYNC)
        detail::raise_libpq_error(conn);
    return batch;
}

// Whether `text` is one JSON object and nothing else, judged by its
// brackets and strings only (the server parses it): this keeps a line such
// as `{...}, {...}` from becoming two events of a batch.
bool is_single_object(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    const auto last = text.find_last_not_of(" \t\r\n");
    if (first == std::string_view::npos || text[first] != '{' || text[last] != '}')
        return false;
    int depth = 0;
    bool in_string = false, escaped = false;
    for (std::size_t i = first; i <= last; ++i) {
        const char c = text[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"')
            in_string = true;
        else if (c == '{' || c == '[')
            ++depth;
        else if ((c == '}' || c == ']') && --depth == 0 && i != last)
            return false;
        if (depth < 0)
            return false;
    }
    return depth == 0 && !in_string;
}

}  // namespace

std::string_view to_string(ChangeStatus status) noexcept {
    switch (status) {
        case ChangeStatus::Applied:
            return "applied";
        case ChangeStatus::Stale:
            return "stale";
        case ChangeStatus::Refused:
            return "refused";
    }
    return "refused";
}

ChangeStatus parse_change_status(std::string_view text) {
    for (ChangeStatus s : {ChangeStatus::Applied, ChangeStatus::Stale, ChangeStatus::Refused})
        if (to_string(s) == text)
            return s;
    raise_error(ErrorInfo{"", "unknown change status '" + std::string(text) + "'", "", ""});
}

void ChangeOutcome::raise_if_refused() const {
    if (status == ChangeStatus::Refused)
        raise_error(ErrorInfo{sqlstate, reason, "", ""});
}

std::size_t ChangeBatchResult::count(ChangeStatus status) const noexcept {
    std::size_t n = 0;
    for (const ChangeOutcome& outcome : outcomes)
        n += outcome.status == status ? 1 : 0;
    return n;
}

std::size_t ChangeLanding::count(ChangeStatus status) const noexcept {
    std::size_t n = 0;
    for (const ChangeOutcome& outcome : outcomes)
        n += outcome.status == status ? 1 : 0;
    return n;
}

std::string events_array(const std::vector<std::string>& events, std::size_t begin, std::size_t end) {
    end = std::min(end, events.size());
    std::string array = "[";
    for (std::size_t i = begin; i < end; ++i) {
        if (i > begin)
            array += ',';
        array += events[i];
    }
    return array + "]";
}

void Client::enable_changes(const ChangeSetup& setup) {
    conn_.exec(
        "SELECT tenancy.enable_changes($1::pg_catalog.regclass, $2::pg_catalog.name[], $3::pg_catalog.name,"
        " $4::pg_catalog.name, $5::pg_catalog.name, $6::pg_catalog.name, $7::pg_catalog.name)",
        {setup.table, detail::text_array_literal(setup.key_columns), setup.version_column, setup.deleted_column,
         setup.placeholder_column, setup.versions_column, setup.live_view});
}

bool Client::disable_changes(const std::string& table, bool drop_columns) {
    return conn_
               .exec("SELECT tenancy.disable_changes($1::pg_catalog.regclass, $2::boolean)::int AS done",
                     {table, drop_columns ? "true" : "false"})
               .int64(0, "done") == 1;
}

std::vector<ChangeOutcome> Client::apply_changes(const std::string& table, const std::string& events_json) {
    return outcomes_of(conn_.exec(kApplySql, {table, events_json}));
}

std::vector<ChangeBatchResult> Client::apply_changes_pipelined(const std::string& table,
                                                               const std::vector<std::string>& batches,
                                                               std::size_t window) {
    window = std::max<std::size_t>(window, 1);
    std::vector<ChangeBatchResult> results;
    results.reserve(batches.size());
    PGconn* conn = conn_.get();
    PipelineMode pipeline(conn);
    std::size_t sent = 0;
    while (results.size() < batches.size()) {
        // Keep up to `window` batches in flight; a sync after each makes
        // each batch its own implicit transaction.
        while (sent < batches.size() && sent - results.size() < window) {
            const Params params{table, batches[sent]};
            const detail::ParamArray values(params);
            if (PQsendQueryParams(conn, kApplySql, values.size(), nullptr, values.values(), nullptr, nullptr, 0) != 1 ||
                PQpipelineSync(conn) != 1)
                detail::raise_libpq_error(conn);
            ++sent;
        }
        results.push_back(read_batch(conn));
    }
    return results;
}

ChangeLanding Client::land_changes(const std::string& table, const std::vector<std::string>& events,
                                  std::size_t batch_size, std::size_t window) {
    batch_size = std::max<std::size_t>(batch_size, 1);
    ChangeLanding landing;
    landing.outcomes.resize(events.size());
    // Texts that are not one object are refused here; the others are sent,
    // and `sent[i]` is the stream position of the i-th event sent.
    std::vector<std::string> valid;
    std::vector<std::size_t> sent;
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (is_single_object(events[i])) {
            valid.push_back(events[i]);
            sent.push_back(i);
        } else {
            landing.outcomes[i] = ChangeOutcome{static_cast<int>(i), ChangeStatus::Refused, "TN041",
                                                "event " + std::to_string(i) + ": not one JSON object"};
        }
    }
    std::vector<std::string> batches;
    for (std::size_t begin = 0; begin < valid.size(); begin += batch_size)
        batches.push_back(events_array(valid, begin, begin + batch_size));

    std::vector<ChangeBatchResult> results = apply_changes_pipelined(table, batches, window);
    landing.batches = results.size();
    for (std::size_t b = 0; b < results.size(); ++b) {
        const std::size_t first = b * batch_size;
        const std::size_t end = std::min(first + batch_size, valid.size());
        ChangeBatchResult& result = results[b];
        // 22P02 for the whole call: its text is not JSON, so nothing of it
        // landed; resend its events one by one to find the bad ones.
        if (result.error && result.error->sqlstate == "22P02") {
            std::vector<std::string> singles;
            for (std::size_t i = first; i < end; ++i)
                singles.push_back("[" + valid[i] + "]");
            std::vector<ChangeBatchResult> single_results = apply_changes_pipelined(table, singles, window);
            landing.batches += single_results.size();
            result = ChangeBatchResult{};
            for (std::size_t i = 0; i < single_results.size(); ++i) {
                ChangeBatchResult& single = single_results[i];
                if (single.error && single.error->sqlstate == "22P02")
                    single.outcomes = {ChangeOutcome{0, ChangeStatus::Refused, single.error->sqlstate,
                                                     "event 0: not valid JSON: " + single.error->message}};
                else if (single.error)
                    raise_error(std::move(*single.error));
                ChangeOutcome outcome = single.outcomes.at(0);
                if (outcome.reason.rfind("event 0: ", 0) == 0)
                    outcome.reason = "event " + std::to_string(i) + ": " + outcome.reason.substr(9);
                outcome.index = static_cast<int>(i);
                result.outcomes.push_back(std::move(outcome));
            }
        }
        if (result.error)
            raise_error(std::move(*result.error));
        if (result.outcomes.size() != end - first)
            raise_error(ErrorInfo{"", "apply_changes returned " + std::to_string(result.outcomes.size()) +
                                          " outcomes for a batch of " + std::to_string(end - first),
                                  "", ""});
        for (ChangeOutcome& outcome : result.outcomes) {
            const std::size_t position = sent[first + static_cast<std::size_t>(outcome.index)];
            // The server numbers events within the batch: renumber the
            // reason's "event N" to the stream position as well.
            const std::string prefix = "event " + std::to_string(outcome.index) + ": ";
            if (outcome.reason.rfind(prefix, 0) == 0)
                outcome.reason = "event " + std::to_string(position) + ": " + outcome.reason.substr(prefix.size());
            outcome.index = static_cast<int>(position);
            landing.outcomes[position] = std::move(outcome);
        }
    }
    return landing;
}

std::vector<Placeholder> Client::placeholders(std::chrono::seconds older_than,
                                              const std::optional<std::string>& table) {
    const Result r = conn_.exec(
        "SELECT table_name::pg_catalog.text AS table_name, key::pg_catalog.text AS key,"
        " placeholder_since::pg_catalog.text AS since FROM tenancy.placeholders("
        "pg_catalog.make_interval(secs => $1::double precision), $2::pg_catalog.regclass)",
        {std::to_string(older_than.count()), table});
    std::vector<Placeholder> rows;
    for (int row = 0; row < r.rows(); ++row)
        rows.push_back(Placeholder{r.text(row, "table_name"), r.text(row, "key"), r.text(row, "since")});
    return rows;
}

}  // namespace tenancy
