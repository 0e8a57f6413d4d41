#include "tenancy/orchestration/placement_check.hpp"

#include <map>
#include <mutex>
#include <regex>
#include <set>

#include "parallel.hpp"
#include "provision_steps.hpp"
#include "tenant_database.hpp"

namespace tenancy::orchestration {
namespace {

class Problems {
public:
    void add(CheckProblem p) {
        std::lock_guard<std::mutex> lock(mutex_);
        problems_.push_back(std::move(p));
    }
    std::vector<CheckProblem> take() {
        std::lock_guard<std::mutex> lock(mutex_);
        return std::move(problems_);
    }

private:
    std::mutex mutex_;
    std::vector<CheckProblem> problems_;
};

std::string message_of(const std::exception& e) {
    const auto* error = dynamic_cast<const Error*>(&e);
    return error && !error->sqlstate().empty() ? error->sqlstate() + ": " + e.what() : e.what();
}

struct Context {
    SharedRegistry& registry;
    const Endpoints& endpoints;
    const RegistryView& view;
    bool repair;
    Problems& problems;
};

// The migrations in the database against the registry's: edited since
// applied (drift), and whether the registry's record of the version agrees.
void compare_ledgers(const Context& ctx, Connection& db, const TenantLocation& l) {
    std::map<std::int64_t, std::string> registered;
    for (const Migration& m : ctx.view.migrations)
        registered[m.version] = m.checksum;
    std::int64_t newest = 0;
    for (const auto& [version, checksum] : tenant_database::applied(db, l.tenant)) {
        newest = std::max(newest, version);
        auto found = registered.find(version);
        if (found != registered.end() && found->second != checksum)
            ctx.problems.add({l.tenant, "migration_drift", *l.database,
                              "migration " + std::to_string(version) +
                                  " was applied with another checksum than the registry's: it was edited after "
                                  "being applied",
                              false});
    }
    if (newest == l.migrated_version)
        return;
    if (ctx.repair)
        ctx.registry.call([&](Client& c) { return c.record_migration_progress(l.tenant, l.epoch, newest); });
    ctx.problems.add({l.tenant, "migration_progress_mismatch", *l.database,
                      "the registry records migration " + std::to_string(l.migrated_version) + ", the database " +
                          std::to_string(newest) + (ctx.repair ? "; the registry now records the database's" : ""),
                      ctx.repair});
}

void check_ready_tenant(const Context& ctx, const TenantLocation& l) {
    Connection db(ctx.endpoints.tenant_database(l));
    std::vector<CheckProblem> found =
        tenant_database::check_data(db, l.tenant, ctx.view.registry_id, ctx.view.latest_version(), ctx.view.rules_json,
                                    ctx.repair);
    bool not_ours = false;
    for (CheckProblem& p : found) {
        not_ours = not_ours || p.problem == "claimed_by_other" || p.problem == "database_not_claimed";
        if (p.problem == "migrations_behind" && ctx.repair) {
            try {
                const std::int64_t version = tenant_database::apply_migrations(
                    db, l.tenant, ctx.view.registry_id, ctx.view.after(0));
                ctx.registry.call([&](Client& c) { return c.record_migration_progress(l.tenant, l.epoch, version); });
                p.repaired = true;
                p.detail += "; migrated to " + std::to_string(version);
            } catch (const std::exception& e) {
                p.detail += "; migrating failed: " + message_of(e);
            }
        }
        ctx.problems.add(std::move(p));
    }
    if (!not_ours)
        compare_ledgers(ctx, db, l);
}

void check_database_tenant(const Context& ctx, const TenantLocation& l) {
    const std::string where = l.database.value_or("") + " on server " + l.server.value_or("");
    try {
        if (l.state == "provisioning" && ctx.repair) {
            provision_database_tenant(ctx.registry, ctx.endpoints, ctx.view, l);
            ctx.problems.add({l.tenant, "not_provisioned", where, "provisioning finished", true});
        } else if (l.ready()) {
            check_ready_tenant(ctx, l);
        }
    } catch (const std::exception& e) {
        const bool unreachable = dynamic_cast<const ConnectionError*>(&e) != nullptr;
        ctx.problems.add({l.tenant, unreachable ? "server_unreachable" : "check_failed", where, message_of(e), false});
    }
}

// Databases named like a tenant's on a registered server that no placement
// of this registry puts there.  claim_database mirrors each claim in the
// database's comment, so one query per server reads them all; a database
// claimed for another registry is that registry's business.
void check_orphan_databases(const Context& ctx, const std::vector<TenantLocation>& placed) {
    std::map<std::string, std::set<std::string>> expected;  // server conninfo -> databases
    for (const TenantLocation& l : placed)
        if (l.isolation == Isolation::Database && l.database)
            expected[ctx.view.conninfo_of(*l.server)].insert(*l.database);
    // The databases of moves: both copies of an unfinished one (reported as
    // move_unfinished by tenancy.check), the source a finished one kept.
    const Result moves = ctx.registry.call([](Client& c) {
        return c.connection().exec(
            "SELECT source_server, source_database, target_server, target_database, state"
            "  FROM tenancy.moves"
            " WHERE state IN ('running', 'switched') OR (state = 'done' AND NOT source_dropped)");
    });
    auto expect = [&](const std::optional<std::string>& server, const std::optional<std::string>& database) {
        if (server && database && ctx.view.server_conninfo.count(*server))
            expected[ctx.view.conninfo_of(*server)].insert(*database);
    };
    for (int row = 0; row < moves.rows(); ++row) {
        expect(moves.optional_text(row, "source_server"), moves.optional_text(row, "source_database"));
        if (moves.text(row, "state") != "done")
            expect(moves.optional_text(row, "target_server"), moves.optional_text(row, "target_database"));
    }
    std::set<std::string> conninfos;
    for (const auto& [name, conninfo] : ctx.view.server_conninfo)
        conninfos.insert(conninfo);
    const std::regex claim_comment(R"(tenancy: database of tenant ([0-9]+) of registry ([0-9a-f-]+))");
    for (const std::string& conninfo : conninfos) {
        Result databases;
        try {
            Connection server(ctx.endpoints.server(conninfo));
            databases = server.exec(
                "SELECT datname, pg_catalog.shobj_description(oid, 'pg_database') AS comment"
                "  FROM pg_catalog.pg_database WHERE datname OPERATOR(pg_catalog.~) '^tenant_[0-9]+$' ORDER BY 1");
        } catch (const ConnectionError&) {
            continue;  // reported per tenant as server_unreachable
        }
        for (int row = 0; row < databases.rows(); ++row) {
            const std::string database = databases.text(row, "datname");
            if (expected[conninfo].count(database))
                continue;
            const std::string comment = databases.optional_text(row, "comment").value_or("");
            std::smatch claim;
            const bool claimed = std::regex_match(comment, claim, claim_comment);
            if (claimed && claim[2].str() != ctx.view.registry_id)
                continue;
            ctx.problems.add({claimed ? std::optional<TenantId>(std::stoll(claim[1].str())) : std::nullopt,
                              "orphan_database", database,
                              "no tenant of this registry is placed in it" +
                                  std::string(claimed ? " though it is claimed for tenant " + claim[1].str()
                                                      : " and it has no claim") +
                                  "; it is kept (check never deletes)",
                              false});
        }
    }
}

}  // namespace

PlacementChecker::PlacementChecker(ConnectOptions registry) : registry_(std::move(registry)) {}

std::vector<CheckProblem> PlacementChecker::run(const CheckOptions& options) {
    SharedRegistry registry(registry_);
    const Endpoints endpoints = registry.call([](Client& c) { return Endpoints(c.connection()); });
    Problems problems;
    for (CheckProblem& p : registry.call([&](Client& c) { return c.check(options.repair); }))
        if (!(options.repair && p.problem == "not_provisioned"))  // provisioned below
            problems.add(std::move(p));
    const RegistryView view = registry.call([](Client& c) { return RegistryView::load(c); });
    std::vector<TenantLocation> placed = registry.call([](Client& c) { return c.tenant_locations(); });
    std::vector<TenantLocation> databases;
    for (const TenantLocation& l : placed)
        if (l.isolation == Isolation::Database)
            databases.push_back(l);

    const Context ctx{registry, endpoints, view, options.repair, problems};
    struct NoState {};
    for_each_parallel<TenantLocation, NoState>(
        databases, options.jobs, [] { return NoState{}; },
        [&](const TenantLocation& l, NoState&) { check_database_tenant(ctx, l); });
    check_orphan_databases(ctx, placed);
    return problems.take();
}

}  // namespace tenancy::orchestration
