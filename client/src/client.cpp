// Each method is exactly one call of a tenancy.* SQL function.  Arguments
// carry explicit casts so overload resolution never depends on the session.
#include "tenancy/client.hpp"

#include <string>
#include <utility>

namespace tenancy {
namespace {

Param param(std::int64_t n) { return std::to_string(n); }
Param param(const std::optional<std::int64_t>& n) {
    return n ? param(*n) : std::nullopt;
}

// Timestamps go through to_json so they arrive in ISO 8601 whatever the
// session's DateStyle is.
constexpr const char* kSearchSql =
    "SELECT id, slug, name, status, storage_quota, storage_used, settings,"
    " pg_catalog.to_json(created_at) OPERATOR(pg_catalog.#>>) '{}' AS created_at,"
    " pg_catalog.to_json(updated_at) OPERATOR(pg_catalog.#>>) '{}' AS updated_at,"
    " pg_catalog.to_json(deleted_at) OPERATOR(pg_catalog.#>>) '{}' AS deleted_at,"
    " total"
    " FROM tenancy.search_tenants($1::text, $2::bigint, $3::integer, $4::integer, $5::boolean)";

Tenant tenant_from_row(const Result& r, int row) {
    Tenant t;
    t.id = r.int64(row, "id");
    t.slug = r.text(row, "slug");
    t.name = r.optional_text(row, "name");
    t.status = parse_tenant_status(r.text(row, "status"));
    t.storage_quota = r.int64(row, "storage_quota");
    t.storage_used = r.int64(row, "storage_used");
    t.settings = r.text(row, "settings");
    t.created_at = r.text(row, "created_at");
    t.updated_at = r.text(row, "updated_at");
    t.deleted_at = r.optional_text(row, "deleted_at");
    return t;
}

}  // namespace

Client::Client(std::string conninfo) : Client(ConnectOptions{std::move(conninfo), {}, {}, {}}) {}

Client::Client(const ConnectOptions& options) : conn_(options) {}

TenantId Client::create_tenant(const NewTenant& tenant) {
    // Named notation naming only the arguments the caller set keeps the SQL
    // defaults (quota, settings) the single source of truth.  Only fixed
    // argument names are appended to the statement; values stay parameters.
    std::string sql = "SELECT tenancy.create_tenant(slug => $1::text";
    Params params{tenant.slug};
    auto add = [&](const char* argument, const char* type, Param value) {
        if (!value)
            return;
        params.push_back(std::move(value));
        sql += std::string(", ") + argument + " => $" + std::to_string(params.size()) + "::" + type;
    };
    add("name", "text", tenant.name);
    add("storage_quota", "bigint", param(tenant.storage_quota));
    add("settings", "jsonb", tenant.settings);
    add("isolation", "text", tenant.isolation);
    add("server", "text", tenant.server);
    sql += ") AS id";
    return conn_.exec(sql, params).int64(0, "id");
}

TenantPage Client::search_tenants(const TenantQuery& query) {
    const Result r = conn_.exec(
        kSearchSql, {query.keyword, param(query.tenant), std::to_string(query.page),
                     std::to_string(query.page_size), query.include_deleted ? "true" : "false"});
    TenantPage page;
    page.tenants.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row)
        page.tenants.push_back(tenant_from_row(r, row));
    // total is repeated on every row; an empty page (e.g. past the end) has
    // no row to carry it, and the count is then unknown here: report 0.
    if (r.rows() > 0)
        page.total = r.int64(0, "total");
    return page;
}

Tenant Client::get_tenant(TenantId id) {
    TenantQuery query;
    query.tenant = id;
    query.page_size = 1;
    query.include_deleted = true;
    TenantPage page = search_tenants(query);
    if (page.tenants.empty())
        raise_error(ErrorInfo{"TN001", "tenant " + std::to_string(id) + " does not exist", "", ""});
    return std::move(page.tenants.front());
}

void Client::call_void(std::string_view function, TenantId id) {
    // `function` is one of the fixed names below, never user input.
    conn_.exec("SELECT tenancy." + std::string(function) + "($1::bigint)", {param(id)});
}

void Client::delete_tenant(TenantId id) { call_void("delete_tenant", id); }
void Client::restore_tenant(TenantId id) { call_void("restore_tenant", id); }
void Client::suspend_tenant(TenantId id) { call_void("suspend_tenant", id); }
void Client::activate_tenant(TenantId id) { call_void("activate_tenant", id); }

std::string Client::issue_api_key(TenantId tenant) {
    return conn_.exec("SELECT tenancy.issue_api_key($1::bigint) AS api_key", {param(tenant)})
        .text(0, "api_key");
}

std::optional<TenantId> Client::tenant_for_api_key(const std::string& key) {
    return conn_.exec("SELECT tenancy.tenant_for_api_key($1::text) AS tenant", {key})
        .optional_int64(0, "tenant");
}

std::int64_t Client::revoke_api_keys(TenantId tenant) {
    return conn_.exec("SELECT tenancy.revoke_api_keys($1::bigint) AS revoked", {param(tenant)})
        .int64(0, "revoked");
}

}  // namespace tenancy
