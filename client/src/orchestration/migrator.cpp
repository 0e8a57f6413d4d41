#include "tenancy/orchestration/migrator.hpp"

#include <optional>
#include <set>

#include "parallel.hpp"
#include "provision_steps.hpp"
#include "tenancy/orchestration/crash_points.hpp"
#include "tenant_database.hpp"
#include "tracker.hpp"

namespace tenancy::orchestration {
namespace {

// A worker's one connection, kept while consecutive tenants share a
// database (schema tenants all live in the registry database).
struct WorkerConnection {
    std::optional<Connection> connection;
    std::string key;

    Connection& to(const ConnectOptions& options) {
        if (!connection || key != options.conninfo) {
            connection.reset();  // close first: at most one connection per worker
            connection.emplace(options);
            key = options.conninfo;
        }
        return *connection;
    }
    void drop() { connection.reset(); }
    void drop_if_broken() {
        if (connection && PQstatus(connection->get()) != CONNECTION_OK)
            drop();
    }
};

// The tenants to migrate, located in one registry query.
std::vector<TenantLocation> tenants_to_migrate(SharedRegistry& registry, const MigrateOptions& options) {
    return registry.call([&](Client& c) {
        if (!options.tenants.empty())
            return c.tenant_locations(options.tenants, true);
        std::vector<TenantId> behind;
        for (const PendingMigration& p : c.pending_migrations())
            behind.push_back(p.tenant);
        if (behind.empty())
            return std::vector<TenantLocation>{};
        return c.tenant_locations(behind, true);
    });
}

}  // namespace

Migrator::Migrator(ConnectOptions registry) : registry_(std::move(registry)) {}

std::vector<TenantOutcome> Migrator::run(const MigrateOptions& options) {
    SharedRegistry registry(registry_);
    const Endpoints endpoints = registry.call([](Client& c) { return Endpoints(c.connection()); });
    const RegistryView view = registry.call([](Client& c) { return RegistryView::load(c); });
    std::vector<TenantLocation> work = tenants_to_migrate(registry, options);

    std::vector<TenantOutcome> unknown;
    std::set<TenantId> found;
    for (const TenantLocation& l : work)
        found.insert(l.tenant);
    for (TenantId t : options.tenants)
        if (!found.count(t))
        {
            TenantOutcome missing;
            missing.tenant = t;
            missing.sqlstate = "TN001";
            missing.error = "tenant " + std::to_string(t) + " does not exist";
            unknown.push_back(std::move(missing));
        }

    OutcomeTracker tracker(work.size() + unknown.size(), options.progress);
    for (TenantOutcome& u : unknown)
        tracker.record(std::move(u));

    for_each_parallel<TenantLocation, WorkerConnection>(
        work, options.jobs, [] { return WorkerConnection{}; },
        [&](const TenantLocation& location, WorkerConnection& worker) {
            TenantOutcome outcome = outcome_for(location);
            const auto started = std::chrono::steady_clock::now();
            try {
                if (location.isolation == Isolation::Shared) {
                    outcome.action = "shared tenant: no migrations of its own";
                } else if (location.isolation == Isolation::Schema) {
                    Connection& db = worker.to(endpoints.registry_database());
                    crash_point("migrate.before_apply");
                    outcome.to_version = db.exec("SELECT tenancy.migrate_tenant($1::bigint) AS version",
                                                 {std::to_string(location.tenant)})
                                             .int64(0, "version");
                    crash_point("migrate.after_apply");
                } else if (location.state == "provisioning") {
                    worker.drop();  // provisioning opens its own, one at a time
                    outcome.to_version = provision_database_tenant(registry, endpoints, view, location);
                    outcome.action = "provisioned";
                } else if (!location.ready()) {
                    raise_error(ErrorInfo{"TN010",
                                          "tenant " + std::to_string(location.tenant) + " is in placement state " +
                                              location.state + " and is not migrated",
                                          "", ""});
                } else {
                    Connection& db = worker.to(endpoints.tenant_database(location));
                    crash_point("migrate.before_apply");
                    outcome.to_version = tenant_database::apply_migrations(
                        db, location.tenant, view.registry_id, view.after(location.migrated_version));
                    crash_point("migrate.after_apply");
                    registry.call([&](Client& c) {
                        return c.record_migration_progress(location.tenant, location.epoch, outcome.to_version);
                    });
                    crash_point("migrate.after_record");
                }
                if (outcome.action.empty())
                    outcome.action = outcome.to_version == outcome.from_version ? "up to date" : "migrated";
                outcome.ok = true;
            } catch (const std::exception& e) {
                set_failure(outcome, e);
                worker.drop_if_broken();  // a server that went away
            }
            outcome.seconds = seconds_since(started);
            tracker.record(std::move(outcome));
        });
    return tracker.take();
}

}  // namespace tenancy::orchestration
