// Tenant-row checks: one call of a tenancy.* SQL function per method
// (docs/rowcheck.md).  Arguments carry explicit casts, as in client.cpp.
#include "tenancy/client.hpp"
#include "tenancy/pipeline.hpp"

#include <string>

namespace tenancy {

void Client::set_tenant(TenantId tenant, bool is_local) {
    conn_.exec("SELECT tenancy.set_tenant($1::bigint, $2::boolean)",
               {std::to_string(tenant), is_local ? "true" : "false"});
}

std::optional<TenantId> Client::current_tenant() {
    return conn_.exec("SELECT tenancy.current_tenant() AS tenant").optional_int64(0, "tenant");
}

void Client::clear_tenant() { conn_.exec("SELECT tenancy.clear_tenant()"); }

void Client::protect(const std::string& table, const std::string& tenant_column) {
    conn_.exec("SELECT tenancy.protect($1::regclass, $2::name)", {table, tenant_column});
}

bool Client::unprotect(const std::string& table) {
    return conn_.exec("SELECT tenancy.unprotect($1::regclass)::int AS done", {table}).int64(0, "done") == 1;
}

std::int64_t Client::require_row(const std::string& table, const std::string& template_json) {
    return conn_.exec("SELECT tenancy.require_row($1::regclass, $2::jsonb) AS id", {table, template_json})
        .int64(0, "id");
}

bool Client::unrequire_row(const std::string& table, const std::string& template_json) {
    return conn_.exec("SELECT tenancy.unrequire_row($1::regclass, $2::jsonb)::int AS done",
                      {table, template_json})
               .int64(0, "done") == 1;
}

std::vector<CheckProblem> Client::check(bool repair) {
    const Result r = conn_.exec(
        "SELECT tenant, problem, object, detail, repaired::int AS repaired FROM tenancy.check($1::boolean)",
        {repair ? "true" : "false"});
    std::vector<CheckProblem> problems;
    problems.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row)
        problems.push_back(CheckProblem{r.optional_int64(row, "tenant"), r.text(row, "problem"),
                                        r.text(row, "object"), r.text(row, "detail"),
                                        r.int64(row, "repaired") == 1});
    return problems;
}

Result Client::in_tenant(TenantId tenant, std::string_view sql, const Params& params) {
    std::vector<Result> results = in_tenant(tenant, {Statement{std::string(sql), params}});
    return std::move(results.front());
}

// BEGIN, set_tenant, the statements and COMMIT go out in one pipeline and
// come back after one sync.  If anything fails, the server skips the rest up
// to the sync and leaves the transaction block aborted; it is rolled back
// here (a second round trip, on failure only) before the error is thrown.
std::vector<Result> Client::in_tenant(TenantId tenant, const std::vector<Statement>& statements) {
    if (PQtransactionStatus(conn_.get()) != PQTRANS_IDLE)
        raise_error(ErrorInfo{"25001", "in_tenant must be called outside a transaction block", "",
                              "It runs its own BEGIN ... COMMIT; call set_tenant inside your transaction instead."});
    std::vector<Result> results;
    try {
        Pipeline batch(conn_);
        batch.send("BEGIN");
        batch.send("SELECT tenancy.set_tenant($1::bigint)", {std::to_string(tenant)});
        for (const Statement& statement : statements)
            batch.send(statement.sql, statement.params);
        batch.send("COMMIT");
        results = batch.sync();
    } catch (...) {
        if (PQtransactionStatus(conn_.get()) != PQTRANS_IDLE)
            conn_.exec("ROLLBACK");
        throw;
    }
    std::vector<Result> own;
    own.reserve(statements.size());
    for (std::size_t i = 2; i + 1 < results.size(); ++i)
        own.push_back(std::move(results[i]));
    return own;
}

}  // namespace tenancy
