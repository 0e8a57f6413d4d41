// Tenant binding and logging in with an API key: one call of a tenancy.* SQL
// function per method (docs/rowcheck.md, "Tenant binding").
#include "tenancy/client.hpp"

#include <string>

namespace tenancy {

bool Client::bind_role(const std::string& role, TenantId tenant) {
    return conn_.exec("SELECT tenancy.bind_role($1::regrole, $2::bigint)::int AS added",
                      {role, std::to_string(tenant)})
               .int64(0, "added") == 1;
}

bool Client::unbind_role(const std::string& role, TenantId tenant) {
    return conn_.exec("SELECT tenancy.unbind_role($1::regrole, $2::bigint)::int AS removed",
                      {role, std::to_string(tenant)})
               .int64(0, "removed") == 1;
}

std::vector<RoleBinding> Client::role_bindings(const std::optional<std::string>& role,
                                               std::optional<TenantId> tenant) {
    const Result r = conn_.exec(
        "SELECT role::text AS role, role_exists::int AS role_exists, tenant, slug, status,"
        "       pg_catalog.to_json(bound_at) OPERATOR(pg_catalog.#>>) '{}' AS bound_at"
        "  FROM tenancy.role_bindings"
        " WHERE ($1::regrole IS NULL OR role OPERATOR(pg_catalog.=) $1::regrole)"
        "   AND ($2::bigint IS NULL OR tenant OPERATOR(pg_catalog.=) $2::bigint)"
        " ORDER BY role::text, tenant",
        {role, tenant ? Param(std::to_string(*tenant)) : Param(std::nullopt)});
    std::vector<RoleBinding> bindings;
    bindings.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row)
        bindings.push_back(RoleBinding{r.text(row, "role"), r.int64(row, "role_exists") == 1,
                                       r.int64(row, "tenant"), r.text(row, "slug"),
                                       parse_tenant_status(r.text(row, "status")), r.text(row, "bound_at")});
    return bindings;
}

TenantId Client::set_tenant_by_api_key(const std::string& key, bool is_local) {
    return conn_.exec("SELECT tenancy.set_tenant_by_api_key($1::text, $2::boolean) AS tenant",
                      {key, is_local ? "true" : "false"})
        .int64(0, "tenant");
}

}  // namespace tenancy
