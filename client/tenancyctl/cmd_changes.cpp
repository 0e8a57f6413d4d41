// tenancyctl changes ...: change landing (docs/changes.md).  `changes apply`
// lands a JSON-lines stream of events from stdin; the library batches and
// pipelines it (Client::land_changes).  Exit status 3 when events were
// refused, as `check` does for problems left.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "commands.hpp"
#include "output.hpp"

namespace tenancyctl {
namespace {

constexpr int kExitRefused = 3;

void register_enable(CLI::App& group, Context& ctx) {
    auto setup = std::make_shared<tenancy::ChangeSetup>();
    CLI::App* cmd = add_action(group, "enable",
                               "Prepare a table for change landing (checks its key, adds the change columns)", ctx,
                               [setup](Context& c) {
        c.client().enable_changes(*setup);
        if (c.json)
            print_json({{"enabled", setup->table}});
        else
            fmt::print("{} is enabled for change landing\n", setup->table);
    });
    cmd->add_option("--table", setup->table, "Table (schema-qualified if needed)")->required();
    cmd->add_option("--key", setup->key_columns, "Key column (repeat for a composite key)")->required();
    cmd->add_option("--version-column", setup->version_column, "Column holding the row's version")
        ->capture_default_str();
    cmd->add_option("--deleted-column", setup->deleted_column, "Column marking tombstones")->capture_default_str();
    cmd->add_option("--placeholder-column", setup->placeholder_column, "Column marking placeholders")
        ->capture_default_str();
    cmd->add_option("--versions-column", setup->versions_column, "Column holding the per-column versions")
        ->capture_default_str();
    cmd->add_option_function<std::string>(
        "--live-view", [setup](const std::string& v) { setup->live_view = v; },
        "Name of the view of live rows (default <table>_live; \"\" for none)");
}

void register_disable(CLI::App& group, Context& ctx) {
    struct Args {
        std::string table;
        bool drop_columns = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = add_action(group, "disable", "Forget a table prepared for change landing", ctx,
                               [args](Context& c) {
        const bool done = c.client().disable_changes(args->table, args->drop_columns);
        if (c.json)
            print_json({{"disabled", done}});
        else
            fmt::print("{}\n", done ? args->table + " is no longer enabled" : args->table + " was not enabled");
    });
    cmd->add_option("--table", args->table, "Table")->required();
    cmd->add_flag("--drop-columns", args->drop_columns, "Also drop the columns enable added (loses tombstones)");
}

void register_apply(CLI::App& group, Context& ctx) {
    struct Args {
        std::string table;
        std::size_t batch_size = 100;
        std::size_t window = 16;
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = add_action(
        group, "apply", "Land events from stdin, one JSON object per line; exit 3 if any was refused", ctx,
        [args](Context& c) {
            // Line numbers for messages; blank lines are skipped.
            std::vector<std::string> events;
            std::vector<std::size_t> lines;
            std::string line;
            for (std::size_t number = 1; std::getline(std::cin, line); ++number) {
                if (line.find_first_not_of(" \t\r") == std::string::npos)
                    continue;
                events.push_back(line);
                lines.push_back(number);
            }
            const tenancy::ChangeLanding landing =
                c.client().land_changes(args->table, events, args->batch_size, args->window);
            const std::size_t applied = landing.count(tenancy::ChangeStatus::Applied);
            const std::size_t stale = landing.count(tenancy::ChangeStatus::Stale);
            const std::size_t refused = landing.count(tenancy::ChangeStatus::Refused);
            if (c.json) {
                nlohmann::json refusals = nlohmann::json::array();
                for (const auto& o : landing.outcomes)
                    if (o.status == tenancy::ChangeStatus::Refused)
                        refusals.push_back({{"line", lines[static_cast<std::size_t>(o.index)]},
                                            {"sqlstate", o.sqlstate},
                                            {"reason", o.reason}});
                print_json({{"events", events.size()},
                            {"applied", applied},
                            {"stale", stale},
                            {"refused", refused},
                            {"calls", landing.batches},
                            {"refusals", refusals}});
            } else {
                for (const auto& o : landing.outcomes)
                    if (o.status == tenancy::ChangeStatus::Refused)
                        fmt::print(stderr, "line {}: {} {}\n", lines[static_cast<std::size_t>(o.index)], o.sqlstate,
                                   o.reason);
                fmt::print("{} event(s): {} applied, {} stale, {} refused ({} call(s))\n", events.size(), applied,
                           stale, refused, landing.batches);
            }
            c.exit_code = refused == 0 ? 0 : kExitRefused;
        });
    cmd->add_option("--table", args->table, "Table enabled for change landing")->required();
    cmd->add_option("--batch-size", args->batch_size, "Events per apply_changes call")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    cmd->add_option("--window", args->window, "Calls in flight at once (libpq pipeline mode)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000));
}

void register_placeholders(CLI::App& group, Context& ctx) {
    struct Args {
        std::optional<std::string> table;
        long older_than = 0;
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = add_action(group, "placeholders",
                               "List placeholder parents (referenced, never created) older than --older-than", ctx,
                               [args](Context& c) {
        const auto rows = c.client().placeholders(std::chrono::seconds(args->older_than), args->table);
        if (c.json) {
            nlohmann::json out = nlohmann::json::array();
            for (const auto& p : rows)
                out.push_back({{"table", p.table}, {"key", nlohmann::json::parse(p.key)}, {"since", p.since}});
            print_json(out);
            return;
        }
        std::vector<std::vector<std::string>> table;
        for (const auto& p : rows)
            table.push_back({p.table, p.key, p.since});
        if (!table.empty())
            print_table({"table", "key", "since"}, table);
        fmt::print("{} placeholder(s)\n", rows.size());
    });
    cmd->add_option_function<std::string>(
        "--table", [args](const std::string& v) { args->table = v; }, "Only this table");
    cmd->add_option("--older-than", args->older_than, "Age in seconds (default 0: all)")
        ->check(CLI::NonNegativeNumber);
}

}  // namespace

void register_changes_commands(CLI::App& app, Context& ctx) {
    CLI::App* group = app.add_subcommand("changes", "Land out-of-order change events into enabled tables");
    group->require_subcommand(1);
    register_enable(*group, ctx);
    register_disable(*group, ctx);
    register_apply(*group, ctx);
    register_placeholders(*group, ctx);
}

}  // namespace tenancyctl
