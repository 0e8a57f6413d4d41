#include "tenancy/orchestration/provisioner.hpp"

#include <optional>

#include "parallel.hpp"
#include "provision_steps.hpp"
#include "tracker.hpp"

namespace tenancy::orchestration {

Provisioner::Provisioner(ConnectOptions registry) : registry_(std::move(registry)) {}

std::int64_t Provisioner::provision(TenantId tenant) {
    SharedRegistry registry(registry_);
    const Endpoints endpoints = registry.call([](Client& c) { return Endpoints(c.connection()); });
    const RegistryView view = registry.call([](Client& c) { return RegistryView::load(c); });
    const TenantLocation location = registry.call([&](Client& c) { return c.tenant_location(tenant); });
    return provision_database_tenant(registry, endpoints, view, location);
}

std::vector<TenantOutcome> Provisioner::provision_all(int jobs, const ProgressCallback& progress) {
    SharedRegistry registry(registry_);
    const Endpoints endpoints = registry.call([](Client& c) { return Endpoints(c.connection()); });
    const RegistryView view = registry.call([](Client& c) { return RegistryView::load(c); });
    std::vector<TenantLocation> waiting;
    for (TenantLocation& l : registry.call([](Client& c) { return c.tenant_locations(std::nullopt, false); }))
        if (l.isolation == Isolation::Database && l.state == "provisioning")
            waiting.push_back(std::move(l));

    OutcomeTracker tracker(waiting.size(), progress);
    struct NoState {};
    for_each_parallel<TenantLocation, NoState>(
        waiting, jobs, [] { return NoState{}; },
        [&](const TenantLocation& location, NoState&) {
            TenantOutcome outcome = outcome_for(location);
            const auto started = std::chrono::steady_clock::now();
            try {
                outcome.to_version = provision_database_tenant(registry, endpoints, view, location);
                outcome.ok = true;
                outcome.action = "provisioned";
            } catch (const std::exception& e) {
                set_failure(outcome, e);
            }
            outcome.seconds = seconds_since(started);
            tracker.record(std::move(outcome));
        });
    return tracker.take();
}

}  // namespace tenancy::orchestration
