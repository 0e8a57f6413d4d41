#include "tenancy/orchestration/purger.hpp"

#include "provision_steps.hpp"
#include "tenancy/client.hpp"
#include "tenancy/orchestration/crash_points.hpp"
#include "tenancy/orchestration/endpoints.hpp"
#include "tenancy/orchestration/mover.hpp"
#include "tenant_database.hpp"

namespace tenancy::orchestration {
namespace {

// Refuses to drop a database that is not demonstrably the tenant's: claimed
// by it, or unclaimed and empty (a provisioning that stopped before its claim).
void require_droppable(const Endpoints& endpoints, const std::string& server_conninfo, const PurgeTarget& target) {
    Connection db(endpoints.database_on_server(server_conninfo, *target.database));
    const std::optional<tenant_database::Claim> claim = tenant_database::claim_of(db);
    if (claim && claim->tenant == target.tenant && claim->registry == target.registry.value_or(""))
        return;
    if (!claim && tenant_database::foreign_relations(db, target.tenant) == 0)
        return;
    raise_error(ErrorInfo{"TN014",
                          "database " + *target.database + " is not tenant " + std::to_string(target.tenant) +
                              "'s and is not dropped",
                          claim ? "It is claimed by tenant " + std::to_string(claim->tenant) + " of registry " +
                                      claim->registry + "."
                                : "It has no claim and holds relations.",
                          "Find out whose database it is; nothing was dropped."});
}

void drop_database(const Endpoints& endpoints, const std::string& server_conninfo, const PurgeTarget& target) {
    Connection server(endpoints.server(server_conninfo));
    const Result found = server.exec(
        "SELECT count(*) AS n FROM pg_catalog.pg_database WHERE datname OPERATOR(pg_catalog.=) $1", {*target.database});
    if (found.int64(0, "n") == 0)
        return;  // dropped by an earlier, interrupted run
    require_droppable(endpoints, server_conninfo, target);
    server.exec("DROP DATABASE IF EXISTS " + quoted_identifier(server, *target.database) + " WITH (FORCE)");
}

}  // namespace

Purger::Purger(ConnectOptions registry) : registry_(std::move(registry)) {}

std::string Purger::purge(TenantId tenant) {
    Client registry(registry_);
    PurgeTarget target;
    try {
        target = registry.begin_purge(tenant);
    } catch (const TenantNotFound&) {
        return registry.purge_tenant(tenant);  // purged already: its record, or TN001
    }
    crash_point("purge.after_begin");
    if (target.isolation == Isolation::Database) {
        if (target.state != "dropped") {
            const Endpoints endpoints(registry.connection());
            drop_database(endpoints, target.server_conninfo.value_or(""), target);
            crash_point("purge.after_drop_database");
            registry.database_dropped(tenant);
        }
        crash_point("purge.after_database_dropped");
    }
    // Databases that finished moves kept are the tenant's data too (a kept
    // schema is in the registry database: purge_tenant drops it).
    for (const TenantMove& m : registry.tenant_moves(tenant))
        if (m.state == "done" && !m.source_dropped && m.source_isolation == Isolation::Database)
            Mover(registry_).drop_kept_source(tenant, MoveOptions{}, m.move);
    crash_point("purge.after_drop_kept_copies");
    std::string record = registry.purge_tenant(tenant);
    crash_point("purge.after_purge");
    return record;
}

}  // namespace tenancy::orchestration
