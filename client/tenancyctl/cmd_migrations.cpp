// tenancyctl migrations ...: the migrations of tenant schemas and databases
// (docs/placement.md, "Migrations").
#include <memory>
#include <string>

#include <fmt/core.h>

#include "commands.hpp"
#include "output.hpp"
#include "tenancy/orchestration/migration_files.hpp"

namespace tenancyctl {
namespace {

namespace orch = tenancy::orchestration;

void register_add(CLI::App& group, Context& ctx) {
    auto directory = std::make_shared<std::string>();
    CLI::App* cmd = add_action(group, "add",
                               "Register a folder of V<version>__<name>.sql files in one transaction "
                               "(files registered before with the same SQL are skipped)",
                               ctx, [directory](Context& c) {
        const auto files = orch::read_migration_files(*directory);
        const auto registered = orch::register_migration_files(c.client(), files);
        if (c.json) {
            print_json({{"added", registered.added}, {"unchanged", registered.unchanged}});
            return;
        }
        for (const auto& f : files) {
            const bool added = std::find(registered.added.begin(), registered.added.end(), f.version) !=
                               registered.added.end();
            fmt::print("{:>6} {:<40} {}\n", f.version, f.name, added ? "added" : "already registered");
        }
        fmt::print("{} added, {} already registered\n", registered.added.size(), registered.unchanged.size());
    });
    cmd->add_option("DIR", *directory, "Folder of migration files")->required();
}

void register_list(CLI::App& group, Context& ctx) {
    add_action(group, "list", "List the registered migrations in the order they apply", ctx, [](Context& c) {
        const auto migrations = c.client().migrations();
        if (c.json) {
            nlohmann::json rows = nlohmann::json::array();
            for (const auto& m : migrations)
                rows.push_back({{"version", m.version}, {"name", m.name}, {"checksum", m.checksum}});
            print_json(rows);
            return;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& m : migrations)
            rows.push_back({std::to_string(m.version), m.name, m.checksum.substr(0, 12)});
        print_table({"version", "name", "checksum"}, rows);
    });
}

void register_pending(CLI::App& group, Context& ctx) {
    add_action(group, "pending", "Which tenants are behind the latest migration, and by how much", ctx,
               [](Context& c) {
        const auto pending = c.client().pending_migrations();
        if (c.json) {
            nlohmann::json rows = nlohmann::json::array();
            for (const auto& p : pending)
                rows.push_back({{"tenant", p.tenant},
                                {"isolation", std::string(tenancy::to_string(p.isolation))},
                                {"server", p.server ? nlohmann::json(*p.server) : nlohmann::json()},
                                {"state", p.state},
                                {"migrated_version", p.migrated_version},
                                {"latest_version", p.latest_version},
                                {"pending", p.pending}});
            print_json(rows);
            return;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& p : pending)
            rows.push_back({std::to_string(p.tenant), std::string(tenancy::to_string(p.isolation)),
                            p.server.value_or(""), p.state, std::to_string(p.migrated_version),
                            std::to_string(p.pending)});
        if (!rows.empty())
            print_table({"tenant", "isolation", "server", "state", "version", "pending"}, rows);
        fmt::print("{} tenant(s) behind\n", pending.size());
    });
}

void register_remove(CLI::App& group, Context& ctx) {
    auto version = std::make_shared<std::int64_t>(0);
    CLI::App* cmd = add_action(group, "remove", "Remove the latest migration while no tenant has applied it", ctx,
                               [version](Context& c) {
        c.client().remove_migration(*version);
        if (c.json)
            print_json({{"version", *version}, {"removed", true}});
        else
            fmt::print("migration {} removed\n", *version);
    });
    cmd->add_option("VERSION", *version, "The latest migration's version")->required();
}

}  // namespace

void register_migrations_commands(CLI::App& app, Context& ctx) {
    CLI::App* group = app.add_subcommand("migrations", "Register and list tenant migrations");
    group->require_subcommand(1);
    register_add(*group, ctx);
    register_list(*group, ctx);
    register_pending(*group, ctx);
    register_remove(*group, ctx);
}

}  // namespace tenancyctl
