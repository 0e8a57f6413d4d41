// tenancyctl server ...: the servers database tenants are placed on
// (docs/placement.md).
#include <memory>
#include <string>

#include <fmt/core.h>

#include "commands.hpp"
#include "output.hpp"

namespace tenancyctl {
namespace {

nlohmann::json server_json(const tenancy::ServerInfo& s) {
    return {{"name", s.name},
            {"conninfo", s.conninfo},
            {"accepting", s.accepting},
            {"capacity", s.capacity ? nlohmann::json(*s.capacity) : nlohmann::json()},
            {"tenants", s.tenants},
            {"provisioning", s.provisioning},
            {"ready", s.ready},
            {"purging", s.purging},
            {"free", s.free ? nlohmann::json(*s.free) : nlohmann::json()}};
}

void register_add(CLI::App& group, Context& ctx) {
    auto spec = std::make_shared<tenancy::ServerSpec>();
    auto not_accepting = std::make_shared<bool>(false);
    CLI::App* cmd = add_action(group, "add", "Register a server for database tenants", ctx,
                               [spec, not_accepting](Context& c) {
        spec->accepting = !*not_accepting;
        c.client().add_server(*spec);
        if (c.json)
            print_json({{"name", spec->name}, {"added", true}});
        else
            fmt::print("server {} added\n", spec->name);
    });
    cmd->add_option("NAME", spec->name, "Server name: lower-case letters, digits, _ and -")->required();
    cmd->add_option("CONNINFO", spec->conninfo,
                    "libpq conninfo or URI of the server, without a password (~/.pgpass has it); "
                    "omit it for the registry's own server");
    cmd->add_option_function<int>(
        "--capacity", [spec](const int& v) { spec->capacity = v; }, "Most tenants placed here (default: no limit)");
    cmd->add_flag("--not-accepting", *not_accepting, "Register it without placing new tenants there");
}

void register_list(CLI::App& group, Context& ctx) {
    add_action(group, "list", "List servers with their tenants by placement state", ctx, [](Context& c) {
        const auto servers = c.client().servers();
        if (c.json) {
            nlohmann::json rows = nlohmann::json::array();
            for (const auto& s : servers)
                rows.push_back(server_json(s));
            print_json(rows);
            return;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& s : servers)
            rows.push_back({s.name, s.conninfo.empty() ? "(registry's own)" : s.conninfo, s.accepting ? "yes" : "no",
                            s.capacity ? std::to_string(*s.capacity) : "-", std::to_string(s.tenants),
                            std::to_string(s.ready), std::to_string(s.provisioning), std::to_string(s.purging)});
        print_table({"name", "conninfo", "accepting", "capacity", "tenants", "ready", "provisioning", "purging"},
                    rows);
    });
}

void register_accepting(CLI::App& group, Context& ctx) {
    struct Args {
        std::string name;
        std::string state;
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = add_action(group, "accepting", "Let placement choose the server for new tenants (on) or not (off)",
                               ctx, [args](Context& c) {
        c.client().set_server_accepting(args->name, args->state == "on");
        if (c.json)
            print_json({{"name", args->name}, {"accepting", args->state == "on"}});
        else
            fmt::print("server {} {} new tenants\n", args->name, args->state == "on" ? "accepts" : "takes no");
    });
    cmd->add_option("NAME", args->name, "Server name")->required();
    cmd->add_option("STATE", args->state, "on or off")->required()->check(CLI::IsMember({"on", "off"}));
}

void register_remove(CLI::App& group, Context& ctx) {
    auto name = std::make_shared<std::string>();
    CLI::App* cmd = add_action(group, "remove", "Forget a server that holds no tenants", ctx, [name](Context& c) {
        c.client().remove_server(*name);
        if (c.json)
            print_json({{"name", *name}, {"removed", true}});
        else
            fmt::print("server {} removed\n", *name);
    });
    cmd->add_option("NAME", *name, "Server name")->required();
}

}  // namespace

void register_server_commands(CLI::App& app, Context& ctx) {
    CLI::App* group = app.add_subcommand("server", "Register and inspect the servers of database tenants");
    group->require_subcommand(1);
    register_add(*group, ctx);
    register_list(*group, ctx);
    register_accepting(*group, ctx);
    register_remove(*group, ctx);
}

}  // namespace tenancyctl
