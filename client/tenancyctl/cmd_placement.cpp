// tenancyctl provision | migrate | connect: the work on tenants that live
// apart, driven by the library's orchestration module (docs/placement.md).
// Exit status 3 when some tenants failed (each is listed), as for check.
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "commands.hpp"
#include "output.hpp"
#include "tenancy/orchestration/endpoints.hpp"
#include "tenancy/orchestration/migrator.hpp"
#include "tenancy/orchestration/provisioner.hpp"

namespace tenancyctl {
namespace {

namespace orch = tenancy::orchestration;

constexpr int kExitSomeFailed = 3;

void report_outcomes(Context& c, const std::vector<orch::TenantOutcome>& outcomes, const char* verb) {
    const std::size_t failed = orch::failures(outcomes);
    if (c.json) {
        nlohmann::json rows = nlohmann::json::array();
        for (const auto& o : outcomes)
            rows.push_back({{"tenant", o.tenant},
                            {"isolation", std::string(tenancy::to_string(o.isolation))},
                            {"server", o.server ? nlohmann::json(*o.server) : nlohmann::json()},
                            {"ok", o.ok},
                            {"action", o.action},
                            {"from_version", o.from_version},
                            {"to_version", o.to_version},
                            {"sqlstate", o.sqlstate.empty() ? nlohmann::json() : nlohmann::json(o.sqlstate)},
                            {"error", o.error.empty() ? nlohmann::json() : nlohmann::json(o.error)},
                            {"seconds", o.seconds}});
        print_json({{"tenants", rows}, {"failed", failed}, {"succeeded", outcomes.size() - failed}});
    } else {
        for (const auto& o : outcomes)
            if (!o.ok)
                fmt::print("tenant {} ({}{}): FAILED {}: {}\n", o.tenant, tenancy::to_string(o.isolation),
                           o.server ? " on " + *o.server : "", o.sqlstate, o.error);
        fmt::print("{} tenant(s) {}, {} failed\n", outcomes.size() - failed, verb, failed);
    }
    c.exit_code = failed == 0 ? 0 : kExitSomeFailed;
}

void register_provision(CLI::App& app, Context& ctx) {
    auto jobs = std::make_shared<int>(1);
    CLI::App* cmd = add_action(app, "provision",
                               "Finish every database tenant that is not ready (create, claim, migrate); "
                               "exit 3 if some failed",
                               ctx, [jobs](Context& c) {
        ProgressBar bar("provisioning", !c.json);
        auto outcomes = orch::Provisioner(c.connect).provision_all(*jobs, [&](const orch::Progress& p) {
            bar.update(p.done, p.failed, p.total, std::chrono::duration<double>(p.elapsed).count());
        });
        report_outcomes(c, outcomes, "provisioned");
    });
    cmd->add_option("-j,--jobs", *jobs, "Tenants provisioned at once")->check(CLI::Range(1, 64))->capture_default_str();
}

void register_migrate(CLI::App& app, Context& ctx) {
    auto options = std::make_shared<orch::MigrateOptions>();
    CLI::App* cmd = add_action(app, "migrate",
                               "Migrate every schema and database tenant that is behind, on every server; "
                               "exit 3 if some failed",
                               ctx, [options](Context& c) {
        ProgressBar bar("migrating", !c.json);
        options->progress = [&](const orch::Progress& p) {
            bar.update(p.done, p.failed, p.total, std::chrono::duration<double>(p.elapsed).count());
        };
        auto outcomes = orch::Migrator(c.connect).run(*options);
        report_outcomes(c, outcomes, "migrated or up to date");
    });
    cmd->add_option("-j,--jobs", options->jobs, "Connections to tenants at once (plus one to the registry)")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    cmd->add_option("--tenant", options->tenants, "Only this tenant (repeatable)");
}

void register_connect(CLI::App& app, Context& ctx) {
    struct Args {
        tenancy::TenantId tenant = 0;
        bool psql = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = add_action(app, "connect", "Print the conninfo of a tenant's data (or run psql there)", ctx,
                               [args](Context& c) {
        tenancy::Client& registry = c.client();
        const tenancy::TenantLocation location = registry.tenant_location(args->tenant);
        const orch::Endpoints endpoints(registry.connection());
        const std::string conninfo = endpoints.tenant_database(location).conninfo;
        const bool shared = location.isolation == tenancy::Isolation::Shared;
        if (args->psql) {
            if (shared)
                fmt::print(stderr, "tenant {} is shared: run SELECT tenancy.set_tenant({}) in your transaction\n",
                           args->tenant, args->tenant);
            execlp("psql", "psql", conninfo.c_str(), static_cast<char*>(nullptr));
            throw CommandFailure(std::string("cannot run psql: ") + std::strerror(errno));
        }
        if (c.json) {
            print_json({{"tenant", args->tenant},
                        {"conninfo", conninfo},
                        {"state", location.state},
                        {"set_tenant", shared}});
            return;
        }
        fmt::print("{}\n", conninfo);
        if (shared)
            fmt::print(stderr, "(shared tenant: call tenancy.set_tenant({}) in each transaction)\n", args->tenant);
        if (!location.ready())
            fmt::print(stderr, "(not ready: placement state {})\n", location.state);
    });
    cmd->add_option("TENANT", args->tenant, "Tenant id")->required();
    cmd->add_flag("--psql", args->psql, "Run psql connected there instead of printing");
}

}  // namespace

void register_placement_commands(CLI::App& app, Context& ctx) {
    register_provision(app, ctx);
    register_migrate(app, ctx);
    register_connect(app, ctx);
}

}  // namespace tenancyctl
