// Placement benchmark (docs/benchmarks.md, "Placement"): not a test, nothing
// here asserts a timing.  Run by test/bench/placement/run.sh, which starts
// the clusters and passes their conninfos.
//
//  (a) "anything pending?" with nothing pending: tenancy.pending_migrations()
//      over N schema tenants, against the common tools' check (a connection
//      and a version query per tenant);
//  (b) one ALTER TABLE ... ADD COLUMN plus one CREATE INDEX applied to every
//      schema tenant by the Migrator with --jobs 1, 2 and 4;
//  (c) the same work done the way the common tools do it: one client loop,
//      per tenant a new connection, a version-table query, the migration in a
//      transaction with the version row;
//  (d) provisioning time per database tenant over three clusters, and (b)
//      and (c) again for those database tenants.
//
//   placement_bench SCHEMA_TENANTS DATABASE_TENANTS SERVER2 SERVER3
// with PGHOST/PGPORT/PGUSER naming the main cluster.
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tenancy/client.hpp"
#include "tenancy/orchestration/migrator.hpp"
#include "tenancy/orchestration/provisioner.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using tenancy::Client;
using tenancy::ConnectOptions;
namespace orch = tenancy::orchestration;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

ConnectOptions database(const std::string& name, const std::string& server = "") {
    return ConnectOptions{server + " dbname=" + name, {}, {}, {}};
}

void fresh_database(const std::string& name) {
    Client admin(database("postgres"));
    admin.connection().exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    admin.connection().exec("CREATE DATABASE " + name);
    Client(database(name)).connection().exec("CREATE EXTENSION tenancy");
}

// Ten small tables, as a tenant schema of a typical application has.
std::string ten_tables() {
    std::string sql;
    for (int t = 1; t <= 10; ++t)
        sql += "CREATE TABLE t" + std::to_string(t) + " (id bigint PRIMARY KEY, name text, created timestamptz);";
    return sql;
}

std::string step_sql(int step) {
    const std::string column = "c" + std::to_string(step);
    return "ALTER TABLE t1 ADD COLUMN " + column + " integer; CREATE INDEX ON t1 (" + column + ")";
}

double migrate(const std::string& registry, int jobs) {
    orch::MigrateOptions options;
    options.jobs = jobs;
    const auto start = Clock::now();
    const auto outcomes = orch::Migrator(database(registry)).run(options);
    const double seconds = seconds_since(start);
    if (orch::failures(outcomes) != 0) {
        std::fprintf(stderr, "migrate failed for %zu tenants\n", orch::failures(outcomes));
        std::exit(1);
    }
    return seconds;
}

// The common tools' loop: for each tenant a new connection, its version
// table, and the migration with its version row in one transaction.
// `targets` are conninfos (with search_path set to the tenant's legacy schema).
double legacy_loop(const std::vector<std::string>& targets, int version, const std::string& sql) {
    const auto start = Clock::now();
    for (const std::string& conninfo : targets) {
        PGconn* c = PQconnectdb(conninfo.c_str());
        if (PQstatus(c) != CONNECTION_OK) {
            std::fprintf(stderr, "connect: %s", PQerrorMessage(c));
            std::exit(1);
        }
        PGresult* r = PQexec(c, "SELECT coalesce(max(version), 0) FROM schema_version");
        const int current = std::atoi(PQgetvalue(r, 0, 0));
        PQclear(r);
        if (current < version) {
            const std::string tx = "BEGIN; " + sql + "; INSERT INTO schema_version VALUES (" +
                                   std::to_string(version) + "); COMMIT";
            r = PQexec(c, tx.c_str());
            if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                std::fprintf(stderr, "legacy migration: %s", PQerrorMessage(c));
                std::exit(1);
            }
            PQclear(r);
        }
        PQfinish(c);
    }
    return seconds_since(start);
}

double median_ms(std::vector<double> samples) {
    std::sort(samples.begin(), samples.end());
    return samples[samples.size() / 2] * 1000;
}

void schema_tenants(int count) {
    const std::string registry = "bench_placement_schemas";
    fresh_database(registry);
    Client reg(database(registry));
    reg.add_migration(1, "ten tables", ten_tables());
    // In chunks: each tenant's tables are locked until its transaction ends,
    // and a thousand tenants of ten tables in one would exhaust the lock table.
    constexpr int kChunk = 50;
    auto start = Clock::now();
    for (int first = 1; first <= count; first += kChunk) {
        const std::string range = std::to_string(first) + ", " + std::to_string(std::min(count, first + kChunk - 1));
        reg.connection().exec("SELECT count(tenancy.create_tenant('s-' || i, isolation => 'schema'))"
                              "  FROM generate_series(" + range + ") i");
    }
    std::printf("created %d schema tenants of 10 tables in %.1f s\n", count, seconds_since(start));
    // The same schemas for the common tools' loop, each with its version table.
    for (int first = 1; first <= count; first += kChunk)
        reg.connection().exec("DO $$ BEGIN FOR i IN " + std::to_string(first) + ".." +
                              std::to_string(std::min(count, first + kChunk - 1)) + " LOOP"
                              "  EXECUTE format('CREATE SCHEMA legacy_%s', i);"
                              "  EXECUTE format('SET LOCAL search_path = legacy_%s', i);"
                              "  EXECUTE $q$" + ten_tables() + "$q$;"
                              "  CREATE TABLE schema_version (version int PRIMARY KEY);"
                              "  INSERT INTO schema_version VALUES (1);"
                              " END LOOP; END $$");
    std::vector<std::string> legacy;
    for (int i = 1; i <= count; ++i)
        legacy.push_back("dbname=" + registry + " options='-csearch_path=legacy_" + std::to_string(i) + "'");

    // (a) nothing pending
    std::vector<double> samples;
    for (int i = 0; i < 21; ++i) {
        start = Clock::now();
        reg.connection().exec("SELECT count(*) FROM tenancy.pending_migrations()");
        samples.push_back(seconds_since(start));
    }
    const double legacy_idle = legacy_loop(legacy, 1, "");
    std::printf("(a) nothing pending, %d schema tenants: pending_migrations() %.2f ms (median of 21); "
                "the loop's check %.0f ms; ratio %.0fx\n",
                count, median_ms(samples), legacy_idle * 1000, legacy_idle * 1000 / median_ms(samples));

    // (b) and (c): one ALTER TABLE ... ADD COLUMN and one CREATE INDEX.
    std::printf("(b) migrator, %d schema tenants:", count);
    double jobs1 = 0;
    for (int jobs : {1, 2, 4}) {
        const int step = jobs + 1;
        reg.add_migration(step, "step " + std::to_string(step), step_sql(step));
        const double s = migrate(registry, jobs);
        if (jobs == 1)
            jobs1 = s;
        std::printf(" --jobs %d %.2f s;", jobs, s);
    }
    std::printf("\n");
    const double loop = legacy_loop(legacy, 2, step_sql(2));
    std::printf("(c) the common tools' loop: %.2f s; (c)/(b --jobs 1) = %.2f\n", loop, loop / jobs1);
}

void database_tenants(int count, const std::string& server2, const std::string& server3) {
    const std::string registry = "bench_placement_databases";
    fresh_database(registry);
    // Tenant databases of an earlier run on the other servers would collide.
    for (const std::string& server : {std::string(), server2, server3}) {
        Client s(database("postgres", server));
        const tenancy::Result old = s.connection().exec(
            "SELECT datname FROM pg_database WHERE datname ~ '^tenant_[0-9]+$'");
        for (int r = 0; r < old.rows(); ++r)
            s.connection().exec("DROP DATABASE " + old.text(r, "datname") + " WITH (FORCE)");
    }
    Client reg(database(registry));
    reg.add_server({"main", "", true, std::nullopt});
    reg.add_server({"s2", server2, true, std::nullopt});
    reg.add_server({"s3", server3, true, std::nullopt});
    reg.add_migration(1, "ten tables", ten_tables());
    for (int i = 1; i <= count; ++i)
        reg.connection().exec("SELECT tenancy.create_tenant('d-" + std::to_string(i) + "', isolation => 'database')");
    auto start = Clock::now();
    const auto outcomes = orch::Provisioner(database(registry)).provision_all(4);
    const double provisioning = seconds_since(start);
    std::printf("(d) provisioned %d database tenants over 3 servers with --jobs 4 in %.1f s: %.0f ms per tenant\n",
                count, provisioning, provisioning * 1000 / count);
    if (orch::failures(outcomes) != 0)
        std::exit(1);

    std::vector<std::string> legacy;
    for (const tenancy::TenantLocation& l : reg.tenant_locations()) {
        const std::string server = l.server == "s2" ? server2 : l.server == "s3" ? server3 : "";
        Client db(database(*l.database, server));
        db.connection().exec("CREATE SCHEMA legacy");
        db.connection().exec("SET search_path = legacy");
        for (int t = 1; t <= 10; ++t)
            db.connection().exec("CREATE TABLE t" + std::to_string(t) +
                                 " (id bigint PRIMARY KEY, name text, created timestamptz)");
        db.connection().exec("CREATE TABLE schema_version (version int PRIMARY KEY)");
        db.connection().exec("INSERT INTO schema_version VALUES (1)");
        legacy.push_back(server + " dbname=" + *l.database + " options='-csearch_path=legacy'");
    }
    std::printf("(b) migrator, %d database tenants:", count);
    double jobs1 = 0;
    for (int jobs : {1, 2, 4}) {
        const int step = jobs + 1;
        reg.add_migration(step, "step " + std::to_string(step), step_sql(step));
        const double s = migrate(registry, jobs);
        if (jobs == 1)
            jobs1 = s;
        std::printf(" --jobs %d %.2f s;", jobs, s);
    }
    std::printf("\n");
    const double loop = legacy_loop(legacy, 2, step_sql(2));
    std::printf("(c) the common tools' loop over the same databases: %.2f s; (c)/(b --jobs 1) = %.2f\n", loop,
                loop / jobs1);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s SCHEMA_TENANTS DATABASE_TENANTS SERVER2 SERVER3\n", argv[0]);
        return 2;
    }
    try {
        schema_tenants(std::atoi(argv[1]));
        database_tenants(std::atoi(argv[2]), argv[3], argv[4]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
