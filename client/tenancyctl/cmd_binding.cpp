// tenancyctl binding ...: which tenants a role may make current with
// tenancy.set_tenant (docs/rowcheck.md, "Tenant binding").
#include <memory>
#include <optional>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "output.hpp"

namespace tenancyctl {
namespace {

using tenancy::TenantId;

struct BindingArgs {
    std::string role;
    TenantId tenant = 0;
};

void add_binding_options(CLI::App* cmd, BindingArgs& args) {
    cmd->add_option("ROLE", args.role, "Role name, as SQL resolves it (quote mixed case: '\"Reports\"')")
        ->required();
    cmd->add_option("TENANT_ID", args.tenant, "Tenant id")->required();
}

void register_add(CLI::App& group, Context& ctx) {
    auto args = std::make_shared<BindingArgs>();
    CLI::App* cmd = add_action(group, "add", "Let a role (and its members) act as a tenant; once bound, only as its bound tenants",
                               ctx, [args](Context& c) {
        const bool added = c.client().bind_role(args->role, args->tenant);
        if (c.json)
            print_json({{"role", args->role}, {"tenant", args->tenant}, {"added", added}});
        else
            fmt::print(added ? "bound {} to tenant {}\n" : "{} was already bound to tenant {}\n", args->role,
                       args->tenant);
    });
    add_binding_options(cmd, *args);
}

void register_remove(CLI::App& group, Context& ctx) {
    auto args = std::make_shared<BindingArgs>();
    CLI::App* cmd = add_action(group, "remove", "Remove a role's binding to a tenant", ctx, [args](Context& c) {
        const bool removed = c.client().unbind_role(args->role, args->tenant);
        if (c.json)
            print_json({{"role", args->role}, {"tenant", args->tenant}, {"removed", removed}});
        else
            fmt::print(removed ? "unbound {} from tenant {}\n" : "{} was not bound to tenant {}\n", args->role,
                       args->tenant);
    });
    add_binding_options(cmd, *args);
}

void register_list(CLI::App& group, Context& ctx) {
    struct Args {
        std::optional<std::string> role;
        std::optional<TenantId> tenant;
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = add_action(group, "list", "List role bindings", ctx, [args](Context& c) {
        const auto bindings = c.client().role_bindings(args->role, args->tenant);
        if (c.json) {
            nlohmann::json rows = nlohmann::json::array();
            for (const auto& b : bindings)
                rows.push_back({{"role", b.role},
                                {"role_exists", b.role_exists},
                                {"tenant", b.tenant},
                                {"slug", b.slug},
                                {"status", std::string(tenancy::to_string(b.status))},
                                {"bound_at", b.bound_at}});
            print_json({{"bindings", rows}});
            return;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& b : bindings)
            rows.push_back({b.role + (b.role_exists ? "" : " (dropped)"), std::to_string(b.tenant), b.slug,
                            std::string(tenancy::to_string(b.status)), b.bound_at});
        if (!rows.empty())
            print_table({"role", "tenant", "slug", "status", "bound_at"}, rows);
        fmt::print("{} binding(s)\n", bindings.size());
    });
    cmd->add_option("--role", args->role, "Only this role's bindings");
    cmd->add_option("--tenant", args->tenant, "Only bindings to this tenant");
}

}  // namespace

void register_binding_commands(CLI::App& app, Context& ctx) {
    CLI::App* group = app.add_subcommand("binding", "Bind roles to the tenants they may act as");
    group->require_subcommand(1);
    register_add(*group, ctx);
    register_remove(*group, ctx);
    register_list(*group, ctx);
}

}  // namespace tenancyctl
