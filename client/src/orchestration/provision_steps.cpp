#include "provision_steps.hpp"

#include <memory>

#include "tenancy/orchestration/crash_points.hpp"
#include "tenant_database.hpp"

namespace tenancy::orchestration {

std::string quoted_identifier(Connection& connection, const std::string& name) {
    std::unique_ptr<char, decltype(&PQfreemem)> quoted(
        PQescapeIdentifier(connection.get(), name.c_str(), name.size()), &PQfreemem);
    if (!quoted)
        raise_error(ErrorInfo{"22023", "cannot quote \"" + name + "\": " + PQerrorMessage(connection.get()), "", ""});
    return quoted.get();
}

void create_database_if_missing(Connection& server, const std::string& database) {
    const Result found = server.exec(
        "SELECT count(*) AS n FROM pg_catalog.pg_database WHERE datname OPERATOR(pg_catalog.=) $1", {database});
    if (found.int64(0, "n") > 0)
        return;
    try {
        server.exec("CREATE DATABASE " + quoted_identifier(server, database));
    } catch (const Error& e) {
        if (e.sqlstate() != "42P04")  // duplicate_database: a concurrent provisioner made it
            throw;
    }
}

std::int64_t provision_database_tenant(SharedRegistry& registry, const Endpoints& endpoints,
                                       const RegistryView& view, const TenantLocation& location) {
    if (location.isolation != Isolation::Database || location.ready())
        return location.migrated_version;
    if (location.state != "provisioning")
        raise_error(ErrorInfo{"TN015",
                              "tenant " + std::to_string(location.tenant) + " is being purged (placement state " +
                                  location.state + "), not provisioned",
                              "", "Finish the purge: tenancyctl tenant purge " + std::to_string(location.tenant)});
    const std::string slug = registry.call([&](Client& c) { return c.get_tenant(location.tenant).slug; });
    {
        Connection server(endpoints.server(view.conninfo_of(*location.server)));
        create_database_if_missing(server, *location.database);
    }
    crash_point("provision.after_create_database");

    Connection db(endpoints.tenant_database(location));
    tenant_database::ensure_extension(db);
    crash_point("provision.after_create_extension");
    tenant_database::claim(db, location.tenant, view.registry_id, slug);
    crash_point("provision.after_claim");
    const std::int64_t version =
        tenant_database::apply_migrations(db, location.tenant, view.registry_id, view.migrations);
    crash_point("provision.after_migrate");
    // A rule that cannot be satisfied does not keep the tenant from being
    // ready: tenancyctl check reports it.
    tenant_database::check_data(db, location.tenant, view.registry_id, view.latest_version(), view.rules_json, true);
    crash_point("provision.after_required_rows");
    registry.call([&](Client& c) { return c.placement_ready(location.tenant, location.epoch, version); });
    crash_point("provision.after_ready");
    return version;
}

}  // namespace tenancy::orchestration
