// tenancyctl links ...: sync an owner's links, find and remove duplicates in
// an application's link table (tenancy.sync_links, find_duplicates, dedupe).
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "output.hpp"

namespace tenancyctl {
namespace {

void register_sync(CLI::App& group, Context& ctx) {
    auto sync = std::make_shared<tenancy::LinkSync>();
    CLI::App* cmd = add_action(group, "sync", "Make an owner's links exactly the given targets", ctx,
                               [sync](Context& c) {
        const tenancy::LinkSyncResult r = c.client().sync_links(*sync);
        if (c.json)
            print_json({{"added", r.added}, {"removed", r.removed}});
        else
            fmt::print("added {}, removed {}\n", r.added, r.removed);
    });
    cmd->add_option("--table", sync->table, "Link table (schema-qualified if needed)")->required();
    cmd->add_option("--owner-column", sync->owner_column, "Owner column")->required();
    cmd->add_option("--owner", sync->owner, "Owner value")->required();
    cmd->add_option("--target-column", sync->target_column, "Target column")->required();
    cmd->add_option("TARGETS", sync->targets, "The owner's complete set of targets (none: remove all)");
}

struct KeyedTable {
    std::string table;
    std::vector<std::string> key_columns;
};

void add_keyed_table_options(CLI::App* cmd, KeyedTable& args) {
    cmd->add_option("--table", args.table, "Table (schema-qualified if needed)")->required();
    cmd->add_option("KEY_COLUMNS", args.key_columns, "Columns that must be unique together")
        ->required();
}

void register_duplicates(CLI::App& group, Context& ctx) {
    auto args = std::make_shared<KeyedTable>();
    CLI::App* cmd = add_action(group, "duplicates", "List duplicated keys (changes nothing)", ctx,
                               [args](Context& c) {
        const auto keys = c.client().find_duplicates(args->table, args->key_columns);
        if (c.json) {
            nlohmann::json rows = nlohmann::json::array();
            for (const auto& k : keys)
                rows.push_back({{"key", nlohmann::json::parse(k.key)}, {"count", k.count}});
            print_json(rows);
            return;
        }
        for (const auto& k : keys)
            fmt::print("{}\t{}\n", k.count, k.key);
    });
    add_keyed_table_options(cmd, *args);
}

void register_dedupe(CLI::App& group, Context& ctx) {
    auto args = std::make_shared<KeyedTable>();
    CLI::App* cmd = add_action(group, "dedupe",
                               "Delete duplicate rows and ensure a unique index on the key", ctx,
                               [args](Context& c) {
        const std::int64_t removed = c.client().dedupe(args->table, args->key_columns);
        if (c.json)
            print_json({{"removed", removed}});
        else
            fmt::print("removed {} duplicate row(s)\n", removed);
    });
    add_keyed_table_options(cmd, *args);
}

}  // namespace

void register_links_commands(CLI::App& app, Context& ctx) {
    CLI::App* group = app.add_subcommand("links", "Sync link tables and repair duplicates");
    group->require_subcommand(1);
    register_sync(*group, ctx);
    register_duplicates(*group, ctx);
    register_dedupe(*group, ctx);
}

}  // namespace tenancyctl
