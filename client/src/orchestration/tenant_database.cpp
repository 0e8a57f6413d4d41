#include "tenant_database.hpp"

#include "json_text.hpp"

namespace tenancy::orchestration::tenant_database {

void ensure_extension(Connection& db) {
    if (db.exec("SELECT count(*) AS n FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'tenancy'")
            .int64(0, "n") > 0)
        return;
    try {
        db.exec("CREATE EXTENSION tenancy");
    } catch (const Error& e) {
        // Two provisioners of one tenant raced and the other one created it
        // (duplicate_object, or a unique violation in the catalog).
        if (e.sqlstate() != "42710" && e.sqlstate() != "23505")
            throw;
    }
}

std::optional<Claim> claim_of(Connection& db) {
    const Result installed =
        db.exec("SELECT count(*) AS n FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'tenancy'");
    if (installed.int64(0, "n") == 0)
        return std::nullopt;
    // Every column: an extension older than 0.9.0 has no move_state.
    const Result r = db.exec("SELECT c.*, c.registry::text AS registry_text FROM tenancy.database_claim() c");
    if (r.rows() == 0)
        return std::nullopt;
    Claim claim{r.int64(0, "tenant"), r.text(0, "registry_text"), std::nullopt, std::nullopt};
    if (PQfnumber(r.get(), "move_state") >= 0) {
        claim.move_state = r.optional_text(0, "move_state");
        claim.move_id = r.optional_int64(0, "move_id");
    }
    return claim;
}

bool claim(Connection& db, TenantId tenant, const std::string& registry, const std::string& slug) {
    return db.exec("SELECT tenancy.claim_database($1::bigint, $2::uuid, $3::text)::int AS claimed",
                   {std::to_string(tenant), registry, slug})
               .int64(0, "claimed") == 1;
}

std::int64_t apply_migrations(Connection& db, TenantId tenant, const std::string& registry,
                              const std::vector<Migration>& migrations) {
    return db.exec("SELECT tenancy.apply_migrations($1::bigint, $2::uuid, $3::jsonb) AS version",
                   {std::to_string(tenant), registry, migrations_json(migrations)})
        .int64(0, "version");
}

std::vector<std::pair<std::int64_t, std::string>> applied(Connection& db, TenantId tenant) {
    const Result r = db.exec("SELECT version, checksum FROM tenancy.applied_migrations($1::bigint) ORDER BY version",
                             {std::to_string(tenant)});
    std::vector<std::pair<std::int64_t, std::string>> versions;
    for (int row = 0; row < r.rows(); ++row)
        versions.emplace_back(r.int64(row, "version"), r.text(row, "checksum"));
    return versions;
}

std::vector<CheckProblem> check_data(Connection& db, TenantId tenant, const std::string& registry,
                                     std::int64_t latest_version, const std::string& rules_json, bool repair) {
    const Result r = db.exec(
        "SELECT tenant, problem, object, detail, repaired::int AS repaired"
        "  FROM tenancy.check_tenant_data($1::bigint, $2::uuid, $3::bigint, $4::jsonb, $5::boolean)",
        {std::to_string(tenant), registry, std::to_string(latest_version), rules_json, repair ? "true" : "false"});
    std::vector<CheckProblem> problems;
    for (int row = 0; row < r.rows(); ++row)
        problems.push_back({r.optional_int64(row, "tenant"), r.text(row, "problem"), r.text(row, "object"),
                            r.text(row, "detail"), r.int64(row, "repaired") == 1});
    return problems;
}

std::int64_t foreign_relations(Connection& db, TenantId tenant) {
    return db.exec("SELECT count(*) AS n FROM pg_catalog.pg_class c"
                   "  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
                   " WHERE n.nspname OPERATOR(pg_catalog.<>) ALL"
                   "       (ARRAY['pg_catalog', 'information_schema', 'tenancy', $1::text])"
                   "   AND n.nspname OPERATOR(pg_catalog.!~) '^pg_(toast|temp_|toast_temp_)'",
                   {"tenant_" + std::to_string(tenant)})
        .int64(0, "n");
}

}  // namespace tenancy::orchestration::tenant_database
