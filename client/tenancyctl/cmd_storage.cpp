// tenancyctl storage ...: storage accounting (adjust, show, set-quota, stripes).
#include <memory>
#include <string>

#include <fmt/core.h>

#include "commands.hpp"
#include "output.hpp"

namespace tenancyctl {
namespace {

using tenancy::StorageInfo;
using tenancy::TenantId;

void print_storage(const Context& c, TenantId tenant, const StorageInfo& s) {
    if (c.json) {
        print_json({{"tenant_id", tenant}, {"used", s.used}, {"quota", s.quota}, {"available", s.available}});
        return;
    }
    print_fields({
        {"tenant", std::to_string(tenant)},
        {"used", fmt::format("{} ({})", s.used, human_bytes(s.used))},
        {"quota", fmt::format("{} ({})", s.quota, human_bytes(s.quota))},
        {"available", fmt::format("{} ({})", s.available, human_bytes(s.available))},
    });
}

struct AdjustArgs {
    TenantId tenant = 0;
    std::int64_t delta = 0;
    tenancy::StorageAdjustOptions options;
};

void register_adjust(CLI::App& group, Context& ctx) {
    auto args = std::make_shared<AdjustArgs>();
    CLI::App* cmd = add_action(group, "adjust", "Add (or, negative, free) bytes; prints the new usage", ctx,
                               [args](Context& c) {
        const std::int64_t used = c.client().adjust_storage(args->tenant, args->delta, args->options);
        if (c.json)
            print_json({{"tenant_id", args->tenant}, {"used", used}});
        else
            fmt::print("{}\n", used);
    });
    cmd->add_option("TENANT_ID", args->tenant, "Tenant id")->required();
    // Negative deltas look like options: "--" before them, or --delta=-5.
    cmd->add_option("DELTA", args->delta, "Bytes to add; negative to free (write -- -1024)")->required();
    cmd->add_option_function<std::string>(
        "--key", [args](const std::string& v) { args->options.idempotency_key = v; },
        "Idempotency key: a retry with the same key is not counted again");
    cmd->add_option_function<std::string>(
           "--on-underflow",
           [args](const std::string& v) {
               args->options.on_underflow =
                   v == "error" ? tenancy::UnderflowPolicy::Error : tenancy::UnderflowPolicy::Clamp;
           },
           "clamp (default: store 0 and record it) or error")
        ->check(CLI::IsMember({"clamp", "error"}));
}

void register_show(CLI::App& group, Context& ctx) {
    auto tenant = std::make_shared<TenantId>();
    CLI::App* cmd = add_action(group, "show", "Show a tenant's storage use, quota and available bytes", ctx,
                               [tenant](Context& c) { print_storage(c, *tenant, c.client().storage(*tenant)); });
    cmd->add_option("TENANT_ID", *tenant, "Tenant id")->required();
}

void register_set_quota(CLI::App& group, Context& ctx) {
    auto tenant = std::make_shared<TenantId>();
    auto quota = std::make_shared<std::int64_t>();
    CLI::App* cmd = add_action(group, "set-quota", "Set a tenant's storage quota in bytes", ctx,
                               [tenant, quota](Context& c) {
        const StorageInfo s = c.client().set_storage_quota(*tenant, *quota);
        if (!c.json && s.used > s.quota)
            fmt::print(stderr, "note: tenant {} uses {} bytes more than its new quota; it cannot grow until it frees them\n",
                       *tenant, s.used - s.quota);
        print_storage(c, *tenant, s);
    });
    cmd->add_option("TENANT_ID", *tenant, "Tenant id")->required();
    cmd->add_option("QUOTA", *quota, "Quota in bytes")->required();
}

void register_stripes(CLI::App& group, Context& ctx) {
    auto tenant = std::make_shared<TenantId>();
    auto stripes = std::make_shared<int>();
    CLI::App* cmd = add_action(group, "stripes", "Spread a busy tenant's counter over 1 to 64 rows (1: one row)", ctx,
                               [tenant, stripes](Context& c) {
        const int before = c.client().set_storage_stripes(*tenant, *stripes);
        if (c.json)
            print_json({{"tenant_id", *tenant}, {"stripes", *stripes}, {"stripes_before", before}});
        else
            print_fields({{"tenant", std::to_string(*tenant)}, {"stripes", std::to_string(*stripes)},
                          {"stripes_before", std::to_string(before)}});
    });
    cmd->add_option("TENANT_ID", *tenant, "Tenant id")->required();
    cmd->add_option("STRIPES", *stripes, "Number of counter rows, 1 to 64")->required();
}

}  // namespace

void register_storage_commands(CLI::App& app, Context& ctx) {
    CLI::App* group = app.add_subcommand("storage", "Account tenants' storage against their quotas");
    group->require_subcommand(1);
    register_adjust(*group, ctx);
    register_show(*group, ctx);
    register_set_quota(*group, ctx);
    register_stripes(*group, ctx);
}

}  // namespace tenancyctl
