// The command groups of tenancyctl.  A capability adds its group by writing
// cmd_<group>.cpp and adding one declaration and one list entry here.
#pragma once

#include <CLI/CLI.hpp>

#include "context.hpp"

namespace tenancyctl {

void register_tenant_commands(CLI::App& app, Context& ctx);  // cmd_tenant.cpp
void register_apikey_commands(CLI::App& app, Context& ctx);  // cmd_apikey.cpp
void register_storage_commands(CLI::App& app, Context& ctx); // cmd_storage.cpp
void register_links_commands(CLI::App& app, Context& ctx);   // cmd_links.cpp
void register_check_commands(CLI::App& app, Context& ctx);   // cmd_check.cpp
void register_server_commands(CLI::App& app, Context& ctx);  // cmd_server.cpp
void register_migrations_commands(CLI::App& app, Context& ctx);  // cmd_migrations.cpp
void register_placement_commands(CLI::App& app, Context& ctx);   // cmd_placement.cpp
void register_binding_commands(CLI::App& app, Context& ctx); // cmd_binding.cpp
void register_audit_commands(CLI::App& app, Context& ctx);   // cmd_audit.cpp
void register_changes_commands(CLI::App& app, Context& ctx); // cmd_changes.cpp

using RegisterCommands = void (*)(CLI::App&, Context&);

// In the order they appear in --help.
inline constexpr RegisterCommands kCommandGroups[] = {
    register_tenant_commands,
    register_apikey_commands,
    register_storage_commands,
    register_links_commands,
    register_check_commands,
    register_server_commands,
    register_migrations_commands,
    register_placement_commands,
    register_binding_commands,
    register_audit_commands,
    register_changes_commands,
};

}  // namespace tenancyctl
