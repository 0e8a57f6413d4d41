// tenancyctl tenant ...: the registry capability (create, show, list and the
// lifecycle transitions).
#include <memory>
#include <string>

#include <fmt/core.h>

#include "commands.hpp"
#include "output.hpp"

namespace tenancyctl {
namespace {

using tenancy::Client;
using tenancy::Tenant;
using tenancy::TenantId;

std::string or_empty(const std::optional<std::string>& s) { return s.value_or(""); }

void register_create(CLI::App& group, Context& ctx) {
    auto args = std::make_shared<tenancy::NewTenant>();
    CLI::App* cmd = add_action(group, "create", "Create a tenant and print its id", ctx,
                               [args](Context& c) {
        const TenantId id = c.client().create_tenant(*args);
        if (c.json)
            print_json({{"id", id}, {"slug", args->slug}});
        else
            fmt::print("created tenant {} ({})\n", id, args->slug);
    });
    cmd->add_option("SLUG", args->slug, "Unique name: lower-case letters, digits, _ and -")
        ->required();
    cmd->add_option_function<std::string>(
        "--name", [args](const std::string& v) { args->name = v; }, "Display name");
    cmd->add_option_function<std::int64_t>(
        "--quota", [args](const std::int64_t& v) { args->storage_quota = v; },
        "Storage quota in bytes (default: the server's, 10 GiB)");
    cmd->add_option_function<std::string>(
        "--settings", [args](const std::string& v) { args->settings = v; },
        "Settings as a JSON object");
}

void register_show(CLI::App& group, Context& ctx) {
    auto id = std::make_shared<TenantId>();
    CLI::App* cmd = add_action(group, "show", "Show one tenant, deleted ones included", ctx,
                               [id](Context& c) {
        const Tenant t = c.client().get_tenant(*id);
        if (c.json) {
            print_json(tenant_json(t));
            return;
        }
        print_fields({
            {"id", std::to_string(t.id)},
            {"slug", t.slug},
            {"name", or_empty(t.name)},
            {"status", std::string(tenancy::to_string(t.status))},
            {"storage_quota", fmt::format("{} ({})", t.storage_quota, human_bytes(t.storage_quota))},
            {"storage_used", fmt::format("{} ({})", t.storage_used, human_bytes(t.storage_used))},
            {"settings", t.settings},
            {"created_at", t.created_at},
            {"updated_at", t.updated_at},
            {"deleted_at", or_empty(t.deleted_at)},
        });
    });
    cmd->add_option("ID", *id, "Tenant id")->required();
}

void register_list(CLI::App& group, Context& ctx) {
    auto query = std::make_shared<tenancy::TenantQuery>();
    CLI::App* cmd = add_action(group, "list", "List tenants, a page at a time, ordered by id", ctx,
                               [query](Context& c) {
        const tenancy::TenantPage page = c.client().search_tenants(*query);
        if (c.json) {
            nlohmann::json tenants = nlohmann::json::array();
            for (const Tenant& t : page.tenants)
                tenants.push_back(tenant_json(t));
            print_json({{"total", page.total},
                        {"page", query->page},
                        {"page_size", query->page_size},
                        {"tenants", std::move(tenants)}});
            return;
        }
        std::vector<std::vector<std::string>> rows;
        for (const Tenant& t : page.tenants)
            rows.push_back({std::to_string(t.id), t.slug, or_empty(t.name),
                            std::string(tenancy::to_string(t.status)),
                            human_bytes(t.storage_used), human_bytes(t.storage_quota),
                            t.created_at});
        print_table({"id", "slug", "name", "status", "used", "quota", "created_at"}, rows);
        fmt::print("({} of {} tenants, page {})\n", page.tenants.size(), page.total, query->page);
    });
    cmd->add_option_function<std::string>(
        "--search", [query](const std::string& v) { query->keyword = v; },
        "Keyword to look for in slug and name");
    cmd->add_option("--page", query->page, "Page number, from 1")->capture_default_str();
    cmd->add_option("--page-size", query->page_size, "Rows per page, 1 to 1000")
        ->capture_default_str();
    cmd->add_flag("--include-deleted", query->include_deleted, "Also list deleted tenants");
}

// The four lifecycle transitions differ only in the function they call and
// the status they lead to, so one table drives their registration.
struct Transition {
    const char* command;
    void (Client::*call)(TenantId);
    tenancy::TenantStatus result;
    const char* description;
};

constexpr Transition kTransitions[] = {
    {"delete", &Client::delete_tenant, tenancy::TenantStatus::Deleted,
     "Soft-delete an active or suspended tenant"},
    {"restore", &Client::restore_tenant, tenancy::TenantStatus::Active,
     "Bring a deleted tenant back to active"},
    {"suspend", &Client::suspend_tenant, tenancy::TenantStatus::Suspended,
     "Suspend an active tenant"},
    {"activate", &Client::activate_tenant, tenancy::TenantStatus::Active,
     "Re-activate a suspended tenant"},
};

void register_transition(CLI::App& group, Context& ctx, const Transition& tr) {
    auto id = std::make_shared<TenantId>();
    CLI::App* cmd = add_action(group, tr.command, tr.description, ctx, [id, &tr](Context& c) {
        (c.client().*tr.call)(*id);
        const std::string status(tenancy::to_string(tr.result));
        if (c.json)
            print_json({{"id", *id}, {"status", status}});
        else
            fmt::print("tenant {} is now {}\n", *id, status);
    });
    cmd->add_option("ID", *id, "Tenant id")->required();
}

}  // namespace

void register_tenant_commands(CLI::App& app, Context& ctx) {
    CLI::App* group = app.add_subcommand("tenant", "Create, inspect and change tenants");
    group->require_subcommand(1);
    register_create(*group, ctx);
    register_show(*group, ctx);
    register_list(*group, ctx);
    for (const Transition& tr : kTransitions)
        register_transition(*group, ctx, tr);
}

}  // namespace tenancyctl
