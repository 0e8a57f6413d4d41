// State shared by tenancyctl's command groups: global options, the lazily
// opened connection and the action chosen on the command line.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>

#include "tenancy/client.hpp"

namespace tenancyctl {

struct Context {
    tenancy::ConnectOptions connect;  // -d, -h, -p, -U
    bool json = false;                // --json

    // Set by the leaf command that was parsed; run by main() after parsing
    // so that usage errors never reach the server.
    std::function<void(Context&)> action;
    // What main() returns when the action ends normally; a command whose
    // outcome is not simply success (e.g. check finding problems) sets it.
    int exit_code = 0;

    // Connects on first use, so --help and usage errors need no server.
    tenancy::Client& client();

private:
    std::optional<tenancy::Client> client_;
};

// A failure found by tenancyctl itself (no SQLSTATE), e.g. an unknown API key.
class CommandFailure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Adds a leaf subcommand whose callback records `action` in the context.
CLI::App* add_action(CLI::App& parent, const std::string& name, const std::string& description,
                     Context& ctx, std::function<void(Context&)> action);

}  // namespace tenancyctl
