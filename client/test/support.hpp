// Helpers shared by the tests.  Tests run against a real server reached
// through the standard PG* environment variables, in a database where
// CREATE EXTENSION tenancy has been run; every test makes its own uniquely
// named tenants so the suite can run again and again on the same database.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tenancy/client.hpp"

namespace tenancy::test {

// "prefix-" plus a random suffix: unique across runs and processes.
std::string unique_slug(std::string_view prefix);

// A client configured only by the environment, as the harness sets it.
Client connect();

// Creates an active tenant with a unique slug and returns its id.
TenantId make_tenant(Client& client, std::string_view prefix = "t");

// Outcome of running a program to completion.
struct RunResult {
    int exit_code = -1;  // -1 if it did not exit normally
    int signal = 0;      // the signal that ended it, if one did
    std::string out;
    std::string err;
};

// Runs TENANCYCTL_PATH with `args` (no shell involved).  `env` entries set a
// variable, or unset it when the value is std::nullopt; `input` is stdin.
// Everything a failed expectation about a run needs: exit status, signal,
// stdout and stderr.
std::string describe(const RunResult& r);

RunResult run_tenancyctl(const std::vector<std::string>& args,
                         const std::map<std::string, std::optional<std::string>>& env = {},
                         const std::string& input = {});

// Starts TENANCYCTL_PATH with `args` and `input` on stdin (from a file, so
// a large input cannot block) and returns at once with its pid; its output
// is discarded.  For tests that kill it midway.
pid_t spawn_tenancyctl(const std::vector<std::string>& args, const std::string& input);

}  // namespace tenancy::test
