// tenancyctl tenant ...: the registry capability (create, show, list and the
// lifecycle transitions).
#include <unistd.h>

#include <memory>
#include <string>

#include <fmt/core.h>

#include "commands.hpp"
#include "output.hpp"
#include "tenancy/orchestration/mover.hpp"
#include "tenancy/orchestration/provisioner.hpp"
#include "tenancy/orchestration/purger.hpp"

namespace tenancyctl {
namespace {

using tenancy::Client;
using tenancy::Tenant;
using tenancy::TenantId;

std::string or_empty(const std::optional<std::string>& s) { return s.value_or(""); }

void register_create(CLI::App& group, Context& ctx) {
    auto args = std::make_shared<tenancy::NewTenant>();
    CLI::App* cmd = add_action(group, "create",
                               "Create a tenant and print its id; a database tenant is provisioned too", ctx,
                               [args](Context& c) {
        const TenantId id = c.client().create_tenant(*args);
        // A database tenant's database is created, claimed and migrated now;
        // if that fails the tenant stays registered in state provisioning and
        // tenancyctl provision (or check --repair) finishes it.
        std::optional<std::int64_t> version;
        if (args->isolation == std::optional<std::string>("database"))
            version = tenancy::orchestration::Provisioner(c.connect).provision(id);
        if (c.json) {
            nlohmann::json out = {{"id", id}, {"slug", args->slug}, {"isolation", args->isolation.value_or("shared")}};
            if (version)
                out["migrated_version"] = *version;
            print_json(out);
        } else {
            fmt::print("created tenant {} ({}, {})\n", id, args->slug, args->isolation.value_or("shared"));
        }
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
    cmd->add_option_function<std::string>(
           "--isolation", [args](const std::string& v) { args->isolation = v; },
           "shared (rows in protected tables, the default), schema (a schema of its own) or database "
           "(a database of its own on a registered server)")
        ->check(CLI::IsMember({"shared", "schema", "database"}));
    cmd->add_option_function<std::string>(
        "--server", [args](const std::string& v) { args->server = v; },
        "The server of a database tenant (default: the accepting one with the most free places)");
}

void register_location(CLI::App& group, Context& ctx) {
    auto id = std::make_shared<TenantId>();
    CLI::App* cmd = add_action(group, "location", "Where a tenant's data lives and its placement state", ctx,
                               [id](Context& c) {
        const tenancy::TenantLocation l = c.client().tenant_location(*id);
        auto opt = [](const std::optional<std::string>& s) { return s ? nlohmann::json(*s) : nlohmann::json(); };
        if (c.json) {
            print_json({{"tenant", l.tenant},
                        {"isolation", std::string(tenancy::to_string(l.isolation))},
                        {"server", opt(l.server)},
                        {"conninfo", l.conninfo},
                        {"database", opt(l.database)},
                        {"schema", opt(l.schema)},
                        {"state", l.state},
                        {"epoch", l.epoch},
                        {"migrated_version", l.migrated_version},
                        {"latest_version", l.latest_version}});
            return;
        }
        print_fields({{"tenant", std::to_string(l.tenant)},
                      {"isolation", std::string(tenancy::to_string(l.isolation))},
                      {"server", l.server.value_or("(registry)")},
                      {"conninfo", l.conninfo},
                      {"database", l.database.value_or("(registry database)")},
                      {"schema", l.schema.value_or("")},
                      {"state", l.state},
                      {"epoch", std::to_string(l.epoch)},
                      {"migrations", fmt::format("{} of {}", l.migrated_version, l.latest_version)}});
    });
    cmd->add_option("ID", *id, "Tenant id")->required();
}

void register_purge(CLI::App& group, Context& ctx) {
    auto id = std::make_shared<TenantId>();
    CLI::App* cmd = add_action(group, "purge",
                               "Erase a deleted tenant completely (its schema or database, its rows, keys, "
                               "storage records); keeps an erasure record; re-run to finish an interrupted one",
                               ctx, [id](Context& c) {
        const std::string record = tenancy::orchestration::Purger(c.connect).purge(*id);
        if (c.json)
            print_json(nlohmann::json::parse(record));
        else
            fmt::print("tenant {} purged: {}\n", *id, record);
    });
    cmd->add_option("ID", *id, "Tenant id (must be soft-deleted)")->required();
}

void print_move(Context& c, const tenancy::orchestration::MoveReport& r) {
    if (c.json) {
        nlohmann::json tables = nlohmann::json::array();
        for (const auto& t : r.tables)
            tables.push_back({{"table", t.table}, {"rows", t.rows}, {"checksum", t.checksum}, {"method", t.method}});
        print_json({{"move", r.move},
                    {"tenant", r.tenant},
                    {"from", r.from},
                    {"to", r.to},
                    {"state", r.state},
                    {"source", r.source_dropped ? nlohmann::json("dropped")
                               : r.source_kept    ? nlohmann::json("kept")
                                                  : nlohmann::json()},
                    {"tables", tables},
                    {"rows", r.rows},
                    {"write_pause_ms", r.write_pause_ms},
                    {"cutover_ms",
                     {{"freeze", r.freeze_ms},
                      {"catch_up", r.catch_up_ms},
                      {"sequences", r.sequences_ms},
                      {"verify", r.verify_ms},
                      {"switch", r.switch_ms}}},
                    {"seconds", r.seconds},
                    {"steps", r.steps}});
        return;
    }
    if (r.state == "planned") {
        fmt::print("tenant {} can be moved from {} to {}; the move would:\n", r.tenant, r.from, r.to);
        for (std::size_t i = 0; i < r.steps.size(); ++i)
            fmt::print("  {}. {}\n", i + 1, r.steps[i]);
        return;
    }
    if (r.state == "aborted") {
        fmt::print("move {} of tenant {} rolled back: {} is authoritative and takes writes; the target's database "
                   "is dropped\n",
                   r.move, r.tenant, r.from);
        return;
    }
    if (r.tables.empty() && r.source_dropped && r.write_pause_ms == 0) {
        fmt::print("tenant {}: the copy move {} kept ({}) is dropped\n", r.tenant, r.move, r.from);
        return;
    }
    fmt::print("moved tenant {} from {} to {} (move {})\n", r.tenant, r.from, r.to, r.move);
    if (!r.tables.empty())
        fmt::print("verified {} table(s), {} row(s): counts and checksums agree on both sides\n", r.tables.size(),
                   r.rows);
    if (r.write_pause_ms > 0)
        fmt::print("writes paused {:.0f} ms (freeze {:.0f}, catch-up {:.0f}, sequences {:.0f}, verify {:.0f}, switch "
                   "{:.0f}); ",
                   r.write_pause_ms, r.freeze_ms, r.catch_up_ms, r.sequences_ms, r.verify_ms, r.switch_ms);
    fmt::print("this run took {:.1f} s\n", r.seconds);
    if (r.source_kept)
        fmt::print("source kept: frozen, read-only, marked moved (tenancyctl tenant move {} --drop-source drops it)\n",
                   r.tenant);
    else if (r.source_dropped)
        fmt::print("source dropped\n");
}

void register_move(CLI::App& group, Context& ctx) {
    struct Args {
        TenantId id = 0;
        tenancy::orchestration::MoveOptions options;
        bool resume = false;
        bool abort = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = group.add_subcommand(
        "move",
        "Move a database or schema tenant to another server online (logical replication; writes pause only "
        "for the cutover); --resume or --abort a move that stopped");
    cmd->add_option("ID", args->id, "Tenant id")->required();
    CLI::Option* to = cmd->add_option("--to", args->options.to, "The server to move the tenant to");
    CLI::Option* drop = cmd->add_flag(
        "--drop-source", args->options.drop_source,
        "Drop the source after the switch (default: keep it frozen, read-only, marked moved); without --to, "
        "drop the source the tenant's last move kept");
    CLI::Option* dry = cmd->add_flag("--dry-run", args->options.dry_run,
                                     "Check that the tenant can be moved and print the plan; change nothing");
    CLI::Option* resume = cmd->add_flag("--resume", args->resume, "Finish the tenant's unfinished move");
    CLI::Option* abort = cmd->add_flag("--abort", args->abort,
                                       "Roll the tenant's unfinished move back (refused once it has switched)");
    dry->needs(to);
    resume->excludes(to)->excludes(abort)->excludes(dry)->excludes(drop);
    abort->excludes(to)->excludes(dry)->excludes(drop);
    cmd->callback([args, drop, to, resume, abort, &ctx]() {
        if (to->count() == 0 && drop->count() == 0 && resume->count() == 0 && abort->count() == 0)
            throw CLI::ValidationError("tenant move", "give --to SERVER, --resume, --abort or --drop-source");
        ctx.action = [args](Context& c) {
            namespace orch = tenancy::orchestration;
            orch::MoveOptions options = args->options;
            if (!c.json && isatty(STDERR_FILENO) == 1)
                options.progress = [](const std::string& step) { fmt::print(stderr, "  {}\n", step); };
            orch::Mover mover(c.connect);
            if (args->abort)
                print_move(c, mover.abort(args->id, options));
            else if (args->resume)
                print_move(c, mover.resume(args->id, options));
            else if (options.to.empty())
                print_move(c, mover.drop_kept_source(args->id, options));
            else
                print_move(c, mover.move(args->id, options));
        };
    });
    cmd->add_option_function<long>(
           "--catch-up-timeout",
           [args](const long& ms) { args->options.catch_up_timeout = std::chrono::milliseconds(ms); },
           "Milliseconds the cutover waits for the target to catch up (default 30000)")
        ->check(CLI::PositiveNumber);
    cmd->add_option_function<long>(
           "--sync-timeout",
           [args](const long& ms) { args->options.sync_timeout = std::chrono::milliseconds(ms); },
           "Milliseconds the initial copy of the data may take (default 3600000)")
        ->check(CLI::PositiveNumber);
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
    register_location(*group, ctx);
    register_purge(*group, ctx);
    register_move(*group, ctx);
    for (const Transition& tr : kTransitions)
        register_transition(*group, ctx, tr);
}

}  // namespace tenancyctl
