// Move benchmark (docs/benchmarks.md, "Moving a tenant"): not a test, nothing
// here asserts a timing.  Run by test/bench/move/run.sh, which starts two
// clusters with wal_level = logical and passes their conninfos.
//
// One database tenant of ROWS rows in 10 tables, moved back and forth
// between the two servers MOVES times (with --drop-source) while writers
// keep writing to it through the Router at a steady rate: for each move the
// total time, the write pause the Mover measured (freeze to switch) and
// where it went, the longest a single write took during the move (what a
// writer sees of the pause), and the writers' throughput in the 5 seconds
// before, during, and the 5 seconds after.  Then the alternative a user
// would write: stop writing, pg_dump the tenant's database and pg_restore it
// on the other server (its write pause is the whole copy).
//
//   move_bench ROWS MOVES WRITERS RATE SERVER2 SERVER3
// with PGHOST/PGPORT/PGUSER naming the cluster where the registry goes;
// RATE is each writer's transactions per second (0: as fast as it goes).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tenancy/client.hpp"
#include "tenancy/orchestration/mover.hpp"
#include "tenancy/orchestration/provisioner.hpp"
#include "tenancy/orchestration/router.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using tenancy::Client;
using tenancy::ConnectOptions;
namespace orch = tenancy::orchestration;

constexpr int kTables = 10;

double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

ConnectOptions database(const std::string& name, const std::string& server = "") {
    return ConnectOptions{server + " dbname=" + name, {}, {}, {}};
}

struct Write {
    Clock::time_point done;
    double ms;  // from the first attempt to the acknowledged COMMIT
};

// A writer at a steady rate: one transaction (an insert and an update) per
// slot; a failed one (the cutover ended its session) is retried until done.
struct Writer {
    std::vector<Write> writes;
    long failures = 0;
    // `seeded`: rows per table loaded before (writer_key -1 .. -seeded); the
    // updates spread over them, so no row becomes a hot spot of dead versions.
    void run(orch::Router& router, tenancy::TenantId tenant, int id, double rate, long seeded,
             const std::atomic<bool>& stop) {
        const std::string schema = "tenant_" + std::to_string(tenant);
        // rate 0: as fast as one connection goes (closed loop).
        const auto interval = std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(rate > 0 ? 1.0 / rate : 0.0));
        Clock::time_point next = Clock::now();
        for (long k = 1; !stop; ++k) {
            if (rate > 0)
                std::this_thread::sleep_until(next);
            next += interval;
            const Clock::time_point start = Clock::now();
            const long key = static_cast<long>(id) * 1'000'000'000L + k;
            for (;;) {
                try {
                    auto lease = router.acquire(tenant);
                    tenancy::Connection& c = lease.connection();
                    try {
                        c.exec("BEGIN");
                        c.exec("INSERT INTO " + schema + ".t" + std::to_string(k % kTables + 1) +
                                   " (writer_key, payload) VALUES ($1, 'bench')",
                               {std::to_string(key)});
                        c.exec("UPDATE " + schema + ".t" + std::to_string((k + 5) % kTables + 1) +
                                   " SET updates = updates + 1 WHERE writer_key = $1",
                               {std::to_string(-((k * 7919 + id * 104729) % seeded + 1))});
                        c.exec("COMMIT");
                    } catch (const tenancy::Error&) {
                        lease.discard();
                        throw;
                    }
                    break;
                } catch (const tenancy::Error&) {
                    ++failures;
                    router.invalidate(tenant);
                }
            }
            const Clock::time_point done = Clock::now();
            writes.push_back({done, std::chrono::duration<double, std::milli>(done - start).count()});
        }
    }
};

struct Window {
    double tps = 0;
    double max_ms = 0;
    double p50_ms = 0;
};

Window window(const std::vector<Writer>& writers, Clock::time_point from, Clock::time_point to) {
    std::vector<double> ms;
    for (const Writer& w : writers)
        for (const Write& x : w.writes)
            if (x.done >= from && x.done < to)
                ms.push_back(x.ms);
    Window result;
    result.tps = static_cast<double>(ms.size()) / seconds_between(from, to);
    if (!ms.empty()) {
        std::sort(ms.begin(), ms.end());
        result.max_ms = ms.back();
        result.p50_ms = ms[ms.size() / 2];
    }
    return result;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

void shell(const std::string& command) {
    if (std::system(command.c_str()) != 0) {
        std::fprintf(stderr, "failed: %s\n", command.c_str());
        std::exit(1);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 7) {
        std::fprintf(stderr, "usage: move_bench ROWS MOVES WRITERS RATE SERVER2 SERVER3\n");
        return 2;
    }
    const long rows = std::atol(argv[1]);
    const int moves = std::atoi(argv[2]);
    const int writer_count = std::atoi(argv[3]);
    const double rate = std::atof(argv[4]);
    const std::string servers[2] = {argv[5], argv[6]};
    const std::string registry = "bench_move_registry";
    {
        Client admin(database("postgres"));
        admin.connection().exec("DROP DATABASE IF EXISTS " + registry + " WITH (FORCE)");
        admin.connection().exec("CREATE DATABASE " + registry);
    }
    Client reg(database(registry));
    reg.connection().exec("CREATE EXTENSION tenancy");
    reg.add_server({"b2", servers[0], true, std::nullopt});
    reg.add_server({"b3", servers[1], true, std::nullopt});
    std::string tables;
    for (int n = 1; n <= kTables; ++n)
        tables += "CREATE TABLE t" + std::to_string(n) +
                  " (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, writer_key bigint NOT NULL UNIQUE,"
                  " payload text, updates int NOT NULL DEFAULT 0, at timestamptz NOT NULL DEFAULT now());";
    reg.add_migration(1, "ten tables", tables);
    tenancy::NewTenant nt;
    nt.slug = "bench-move";
    nt.isolation = "database";
    nt.server = "b2";
    const tenancy::TenantId tenant = reg.create_tenant(nt);
    orch::Provisioner(database(registry)).provision(tenant);
    const std::string db = "tenant_" + std::to_string(tenant);
    auto start = Clock::now();
    {
        tenancy::Connection c(database(db, servers[0]));
        for (int n = 1; n <= kTables; ++n)
            c.exec("INSERT INTO " + db + ".t" + std::to_string(n) +
                   " (writer_key, payload) SELECT -g, md5(g::text) FROM generate_series(1, " +
                   std::to_string(rows / kTables) + ") g");
        c.exec("VACUUM ANALYZE");
    }
    std::printf("tenant of %ld rows in %d tables loaded in %.1f s\n", rows, kTables,
                seconds_between(start, Clock::now()));

    orch::RouterOptions ro;
    ro.registry = database(registry);
    ro.acquire_timeout = std::chrono::seconds(60);
    orch::Router router(ro);
    std::atomic<bool> stop{false};
    std::vector<Writer> writers(static_cast<std::size_t>(writer_count));
    std::vector<std::thread> threads;
    for (int w = 0; w < writer_count; ++w)
        threads.emplace_back(
            [&, w] { writers[static_cast<std::size_t>(w)].run(router, tenant, w + 1, rate, rows / kTables, stop); });

    if (rate > 0)
        std::printf("%d writer(s) at %.0f transactions/s each (an insert and an update per transaction)\n",
                    writer_count, rate);
    else
        std::printf("%d writer(s) as fast as each goes (an insert and an update per transaction)\n", writer_count);
    std::printf("move  total_s  pause_ms  (freeze catch-up seq verify switch)  writer_max_ms  tps_before  tps_during  "
                "tps_after\n");
    std::vector<double> pauses, totals, writer_max;
    std::this_thread::sleep_for(std::chrono::seconds(5));
    for (int m = 0; m < moves; ++m) {
        orch::MoveOptions options;
        options.to = m % 2 == 0 ? "b3" : "b2";
        options.drop_source = true;
        const Clock::time_point began = Clock::now();
        const orch::MoveReport r = orch::Mover(database(registry)).move(tenant, options);
        const Clock::time_point ended = Clock::now();
        std::this_thread::sleep_for(std::chrono::seconds(5));
        const Window before = window(writers, began - std::chrono::seconds(5), began);
        const Window during = window(writers, began, ended);
        const Window after = window(writers, ended, ended + std::chrono::seconds(5));
        std::printf("%4d  %7.1f  %8.0f  (%6.0f %8.0f %3.0f %6.0f %6.0f)  %13.0f  %10.1f  %10.1f  %9.1f\n", m + 1,
                    r.seconds, r.write_pause_ms, r.freeze_ms, r.catch_up_ms, r.sequences_ms, r.verify_ms, r.switch_ms,
                    during.max_ms, before.tps, during.tps, after.tps);
        std::fflush(stdout);
        pauses.push_back(r.write_pause_ms);
        totals.push_back(r.seconds);
        writer_max.push_back(during.max_ms);
    }
    stop = true;
    for (std::thread& t : threads)
        t.join();
    long failures = 0, acknowledged = 0;
    for (const Writer& w : writers) {
        failures += w.failures;
        acknowledged += static_cast<long>(w.writes.size());
    }
    std::printf("write pause over %d moves: median %.0f ms, max %.0f ms; writer's longest write during a move: "
                "median %.0f ms, max %.0f ms\n",
                moves, median(pauses), *std::max_element(pauses.begin(), pauses.end()), median(writer_max),
                *std::max_element(writer_max.begin(), writer_max.end()));
    std::printf("total move time: median %.1f s; %ld writes acknowledged, %ld failed attempts retried\n",
                median(totals), acknowledged, failures);

    // The alternative: writes stopped for a pg_dump of the database and a
    // pg_restore on the other server.
    const tenancy::TenantLocation l = reg.tenant_location(tenant);
    const std::string from = l.server == "b2" ? servers[0] : servers[1];
    const std::string to = l.server == "b2" ? servers[1] : servers[0];
    {
        Client target(database("postgres", to));
        target.connection().exec("DROP DATABASE IF EXISTS bench_move_offline WITH (FORCE)");
        target.connection().exec("CREATE DATABASE bench_move_offline");
    }
    start = Clock::now();
    shell("pg_dump --format=custom --dbname='" + from + " dbname=" + db +
          "' | pg_restore --single-transaction --dbname='" + to + " dbname=bench_move_offline'");
    const double offline = seconds_between(start, Clock::now());
    std::printf("offline dump and restore of the tenant's database (writes stopped throughout): %.1f s; "
                "its write pause is %.0fx the median online one\n",
                offline, offline * 1000 / median(pauses));
    {
        Client target(database("postgres", to));
        target.connection().exec("DROP DATABASE bench_move_offline WITH (FORCE)");
    }
    return 0;
}
