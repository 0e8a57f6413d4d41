// tenancyctl audit: the isolation hazards row-level security leaves open
// (docs/security.md, "The isolation audit").  Meant for CI and for a review
// of a schema: the exit code says whether an error-level hazard was found.
#include <memory>
#include <optional>
#include <string>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "output.hpp"

namespace tenancyctl {
namespace {

// Error-level hazards found: distinct from errors (1) and usage (2); the
// same code check uses for problems left.
constexpr int kExitHazards = 3;

void register_audit(CLI::App& app, Context& ctx) {
    auto schema = std::make_shared<std::optional<std::string>>();
    CLI::App* cmd = add_action(
        app, "audit",
        "Report what row-level security leaves open (unprotected tables, keys without the tenant column, views "
        "and functions that bypass it, ...); exit 3 if an error-level hazard is found",
        ctx, [schema](Context& c) {
            const std::vector<tenancy::AuditFinding> findings = c.client().audit(*schema);
            std::size_t errors = 0, warnings = 0, info = 0;
            for (const auto& f : findings)
                (f.severity == "error" ? errors : f.severity == "warning" ? warnings : info) += 1;
            if (c.json) {
                nlohmann::json rows = nlohmann::json::array();
                for (const auto& f : findings)
                    rows.push_back({{"severity", f.severity},
                                    {"hazard", f.hazard},
                                    {"object", f.object},
                                    {"explanation", f.explanation},
                                    {"fix", f.fix ? nlohmann::json(*f.fix) : nlohmann::json()}});
                print_json({{"findings", rows}, {"errors", errors}, {"warnings", warnings}, {"info", info}});
            } else {
                // One block per finding: the explanations are sentences, too
                // long for a table.
                for (const auto& f : findings) {
                    fmt::print("{:<8}{}  {}\n", f.severity, f.hazard, f.object);
                    fmt::print("        {}\n", f.explanation);
                    if (f.fix)
                        fmt::print("        fix: {}\n", *f.fix);
                }
                fmt::print("{} finding(s): {} error(s), {} warning(s), {} info\n", findings.size(), errors, warnings,
                           info);
            }
            c.exit_code = errors == 0 ? 0 : kExitHazards;
        });
    cmd->add_option("--schema", *schema, "Audit this schema only (default: every schema, and role bindings)");
}

}  // namespace

void register_audit_commands(CLI::App& app, Context& ctx) { register_audit(app, ctx); }

}  // namespace tenancyctl
