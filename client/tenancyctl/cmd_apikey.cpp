// tenancyctl apikey ...: issue, resolve and revoke tenants' API keys.
#include <iostream>
#include <memory>
#include <string>

#include <fmt/core.h>

#include "commands.hpp"
#include "output.hpp"

namespace tenancyctl {
namespace {

using tenancy::TenantId;

void register_issue(CLI::App& group, Context& ctx) {
    auto tenant = std::make_shared<TenantId>();
    CLI::App* cmd = add_action(group, "issue", "Issue a new API key; it is shown only once", ctx,
                               [tenant](Context& c) {
        const std::string key = c.client().issue_api_key(*tenant);
        if (c.json)
            print_json({{"tenant_id", *tenant}, {"api_key", key}});
        else
            fmt::print("{}\n", key);  // alone on its line, for scripts
    });
    cmd->add_option("TENANT_ID", *tenant, "Tenant id")->required();
}

void register_resolve(CLI::App& group, Context& ctx) {
    auto key = std::make_shared<std::string>();
    CLI::App* cmd = add_action(group, "resolve", "Print the tenant id an API key belongs to", ctx,
                               [key](Context& c) {
        // "-" reads the key from stdin so it need not appear in `ps` output.
        if (*key == "-" && !std::getline(std::cin, *key))
            throw CommandFailure("no API key on standard input");
        const std::optional<TenantId> tenant = c.client().tenant_for_api_key(*key);
        if (!tenant)
            throw CommandFailure("API key is unknown, revoked, or its tenant is deleted");
        if (c.json)
            print_json({{"tenant_id", *tenant}});
        else
            fmt::print("{}\n", *tenant);
    });
    cmd->add_option("KEY", *key, "API key, or - to read it from standard input")->required();
}

void register_revoke(CLI::App& group, Context& ctx) {
    auto tenant = std::make_shared<TenantId>();
    CLI::App* cmd = add_action(group, "revoke", "Revoke all API keys of a tenant", ctx,
                               [tenant](Context& c) {
        const std::int64_t revoked = c.client().revoke_api_keys(*tenant);
        if (c.json)
            print_json({{"tenant_id", *tenant}, {"revoked", revoked}});
        else
            fmt::print("revoked {} API key(s) of tenant {}\n", revoked, *tenant);
    });
    cmd->add_option("TENANT_ID", *tenant, "Tenant id")->required();
}

}  // namespace

void register_apikey_commands(CLI::App& app, Context& ctx) {
    CLI::App* group = app.add_subcommand("apikey", "Manage tenants' API keys");
    group->require_subcommand(1);
    register_issue(*group, ctx);
    register_resolve(*group, ctx);
    register_revoke(*group, ctx);
}

}  // namespace tenancyctl
