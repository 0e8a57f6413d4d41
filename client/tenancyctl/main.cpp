// tenancyctl: command-line front end of the tenancy client library.
//
// Exit status: 0 success, 1 an error reported by the server or found by
// tenancyctl (message on stderr), 2 a usage error.
#include <iostream>

#include <fmt/core.h>

#include "commands.hpp"

namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

// psql-like report: "ERROR <SQLSTATE>: message" then DETAIL and HINT lines.
void report(const tenancy::Error& e) {
    if (e.sqlstate().empty())
        fmt::print(stderr, "tenancyctl: ERROR: {}\n", e.what());
    else
        fmt::print(stderr, "tenancyctl: ERROR {}: {}\n", e.sqlstate(), e.what());
    if (!e.detail().empty())
        fmt::print(stderr, "DETAIL: {}\n", e.detail());
    if (!e.hint().empty())
        fmt::print(stderr, "HINT: {}\n", e.hint());
}

void add_global_options(CLI::App& app, tenancyctl::Context& ctx) {
    // -h is the host, as in psql, so help moves to --help and -?.  Set before
    // any subcommand exists: subcommands copy the parent's help flag.
    app.set_help_flag("-?,--help", "Print this help message and exit");
    // Lets global options follow the subcommand: tenancyctl tenant list --json
    app.fallthrough();
    app.require_subcommand(1);

    auto& connect = ctx.connect;
    app.add_option("-d,--dbname", connect.conninfo,
                   "Database name, conninfo string or postgresql:// URI (default: PGDATABASE)");
    app.add_option_function<std::string>(
        "-h,--host", [&connect](const std::string& v) { connect.host = v; },
        "Server host or socket directory (default: PGHOST)");
    app.add_option_function<std::string>(
        "-p,--port", [&connect](const std::string& v) { connect.port = v; },
        "Server port (default: PGPORT)");
    app.add_option_function<std::string>(
        "-U,--username", [&connect](const std::string& v) { connect.user = v; },
        "User name (default: PGUSER)");
    app.add_flag("--json", ctx.json, "Machine-readable JSON output");
}

}  // namespace

int main(int argc, char** argv) {
    tenancyctl::Context ctx;
    CLI::App app{"Manage the tenants of the pg_tenancy extension.", "tenancyctl"};
    add_global_options(app, ctx);
    for (const auto register_group : tenancyctl::kCommandGroups)
        register_group(app, ctx);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // app.exit prints help (exit code 0) or the usage error (non-zero).
        return app.exit(e) == 0 ? 0 : kExitUsage;
    }

    try {
        ctx.action(ctx);
        return ctx.exit_code;
    } catch (const tenancy::Error& e) {
        report(e);
    } catch (const tenancyctl::CommandFailure& e) {
        fmt::print(stderr, "tenancyctl: ERROR: {}\n", e.what());
    } catch (const std::exception& e) {  // e.g. invalid JSON in settings
        fmt::print(stderr, "tenancyctl: ERROR: {}\n", e.what());
    }
    return kExitError;
}
