// Tenant-row checks: one call of a tenancy.* SQL function per method
// (docs/rowcheck.md).  Arguments carry explicit casts, as in client.cpp.
#include "tenancy/client.hpp"

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

}  // namespace tenancy
