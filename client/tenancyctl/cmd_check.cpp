// tenancyctl check | protect | require-row: tenant-row checks
// (docs/rowcheck.md).  `check --repair` is meant for application start-up:
// it repairs what a failed tenant initialisation left missing, and its exit
// code says whether anything is left to do.
#include <memory>
#include <string>
#include <unistd.h>

#include <fmt/core.h>

#include "commands.hpp"
#include "output.hpp"
#include "tenancy/orchestration/placement_check.hpp"

namespace tenancyctl {
namespace {

// Problems found and not repaired: distinct from errors (1) and usage (2).
constexpr int kExitProblemsLeft = 3;

// A check of a large database takes a while and prints nothing until it
// ends: say what is going on, on a terminal only, and erase it afterwards.
class ProgressNote {
public:
    explicit ProgressNote(const char* text) : shown_(isatty(STDERR_FILENO) == 1) {
        if (shown_)
            fmt::print(stderr, "{}", text);
        std::fflush(stderr);
    }
    ~ProgressNote() {
        if (shown_)
            fmt::print(stderr, "\r\033[K");
    }
    ProgressNote(const ProgressNote&) = delete;
    ProgressNote& operator=(const ProgressNote&) = delete;

private:
    bool shown_;
};

void register_check(CLI::App& app, Context& ctx) {
    auto repair = std::make_shared<bool>(false);
    auto jobs = std::make_shared<int>(1);
    CLI::App* cmd = add_action(
        app, "check",
        "Find missing required rows, damaged protection, rows of deleted tenants, and tenants in schemas and "
        "databases that are unfinished, behind or damaged; exit 3 if problems are left",
        ctx, [repair, jobs](Context& c) {
            std::vector<tenancy::CheckProblem> problems;
            {
                ProgressNote note(*repair ? "checking and repairing every tenant..." : "checking every tenant...");
                problems = tenancy::orchestration::PlacementChecker(c.connect).run({*repair, *jobs});
            }
            std::size_t left = 0;
            for (const auto& p : problems)
                left += p.repaired ? 0 : 1;
            if (c.json) {
                nlohmann::json rows = nlohmann::json::array();
                for (const auto& p : problems)
                    rows.push_back({{"tenant", p.tenant ? nlohmann::json(*p.tenant) : nlohmann::json()},
                                    {"problem", p.problem},
                                    {"object", p.object},
                                    {"detail", p.detail},
                                    {"repaired", p.repaired}});
                print_json({{"problems", rows}, {"left", left}});
            } else {
                std::vector<std::vector<std::string>> rows;
                for (const auto& p : problems)
                    rows.push_back({p.tenant ? std::to_string(*p.tenant) : "", p.problem, p.object,
                                    p.repaired ? "yes" : "no", p.detail});
                if (!rows.empty())
                    print_table({"tenant", "problem", "object", "repaired", "detail"}, rows);
                fmt::print("{} problem(s), {} repaired, {} left\n", problems.size(), problems.size() - left, left);
            }
            c.exit_code = left == 0 ? 0 : kExitProblemsLeft;
        });
    cmd->add_flag("--repair", *repair,
                  "Insert missing required rows, restore protection, finish provisioning, apply missing "
                  "migrations (never deletes)");
    cmd->add_option("-j,--jobs", *jobs, "Tenant databases checked at once")->check(CLI::Range(1, 64));
}

void register_protect(CLI::App& app, Context& ctx) {
    struct Args {
        std::string table;
        std::string column = "tenant_id";
        bool undo = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = add_action(app, "protect", "Make a table tenant-isolated (or --undo it)", ctx,
                               [args](Context& c) {
        if (args->undo) {
            const bool was = c.client().unprotect(args->table);
            if (c.json)
                print_json({{"table", args->table}, {"unprotected", was}});
            else
                fmt::print(was ? "unprotected {}\n" : "{} was not protected\n", args->table);
            return;
        }
        c.client().protect(args->table, args->column);
        if (c.json)
            print_json({{"table", args->table}, {"tenant_column", args->column}, {"protected", true}});
        else
            fmt::print("protected {} on column {}\n", args->table, args->column);
    });
    cmd->add_option("TABLE", args->table, "Table name, as SQL resolves it (e.g. public.orders)")->required();
    cmd->add_option("--tenant-column", args->column, "The bigint tenant column (default tenant_id)");
    cmd->add_flag("--undo", args->undo, "Remove exactly what protect added");
}

void register_require_row(CLI::App& app, Context& ctx) {
    struct Args {
        std::string table;
        std::string template_json;
        bool remove = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = add_action(app, "require-row", "Declare (or --remove) a row every active tenant must have",
                               ctx, [args](Context& c) {
        if (args->remove) {
            const bool removed = c.client().unrequire_row(args->table, args->template_json);
            if (c.json)
                print_json({{"table", args->table}, {"removed", removed}});
            else
                fmt::print(removed ? "rule removed\n" : "no such rule\n");
            return;
        }
        const std::int64_t id = c.client().require_row(args->table, args->template_json);
        if (c.json)
            print_json({{"table", args->table}, {"rule_id", id}});
        else
            fmt::print("rule {} on {}\n", id, args->table);
    });
    cmd->add_option("TABLE", args->table, "Protected table")->required();
    cmd->add_option("TEMPLATE", args->template_json, R"(JSON object of column values, e.g. {"name":"public"})")
        ->required();
    cmd->add_flag("--remove", args->remove, "Remove the rule instead");
}

void register_require_tenant_row(CLI::App& app, Context& ctx) {
    struct Args {
        std::string table;
        std::string template_json;
        bool remove = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = add_action(app, "require-tenant-row",
                               "Declare (or --remove) a row every schema and database tenant must have in its "
                               "own table",
                               ctx, [args](Context& c) {
        if (args->remove) {
            const bool removed = c.client().unrequire_tenant_row(args->table, args->template_json);
            if (c.json)
                print_json({{"table", args->table}, {"removed", removed}});
            else
                fmt::print(removed ? "rule removed\n" : "no such rule\n");
            return;
        }
        const std::int64_t id = c.client().require_tenant_row(args->table, args->template_json);
        if (c.json)
            print_json({{"table", args->table}, {"rule_id", id}});
        else
            fmt::print("tenant-row rule {} on {}\n", id, args->table);
    });
    cmd->add_option("TABLE", args->table, "Table name in every tenant's schema, unqualified")->required();
    cmd->add_option("TEMPLATE", args->template_json, R"(JSON object of column values, e.g. {"name":"theme"})")
        ->required();
    cmd->add_flag("--remove", args->remove, "Remove the rule instead");
}

}  // namespace

void register_check_commands(CLI::App& app, Context& ctx) {
    register_check(app, ctx);
    register_protect(app, ctx);
    register_require_row(app, ctx);
    register_require_tenant_row(app, ctx);
}

}  // namespace tenancyctl
