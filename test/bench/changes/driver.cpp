// Change-landing benchmark driver (test/bench/changes/run.sh runs it; not a
// test: nothing here asserts timings).
//
//   changes_bench generate EVENTS SEED FILE      the in-order stream, JSON lines
//   changes_bench MODE FILE SEED WORKERS          lands the stream, prints one result line
//
// MODE is one of
//   inorder    one connection, each table's events in stream order,
//              apply_changes in batches of 100: the reference state (by the
//              convergence property the interleaving of the two tables does
//              not change it; test_changes_property.cpp checks that);
//   orm        the ORM pattern done well by hand, per event one transaction:
//              SELECT the entity (and the referenced category), INSERT the
//              missing placeholder category, INSERT or UPDATE the entity, a
//              delete is a soft delete (isactive = false), an upsert makes
//              the entity active again; no versions: the last arrival wins;
//              on a unique violation (or a deadlock) roll back and retry, at
//              most 3 times;
//   batch1     apply_changes, one call per event;
//   batch100   apply_changes, batches of 100 events per table;
//   pipelined  batches of 100, 16 calls in flight (libpq pipeline mode).
// The non-reference modes shuffle the stream (SEED) and split it round-robin
// over WORKERS connections (the PG* environment), each landing its share.
// Result line: mode events seconds events_per_second retries failures
// server_cpu_us_per_event client_cpu_us_per_event.  CPU times come from
// /proc (the backends' utime + stime) and getrusage (this process): unlike
// events/s they hardly depend on what else runs on the machine.
#include <libpq-fe.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "tenancy/client.hpp"

namespace {

using nlohmann::json;

// CPU seconds (user + system) the process `pid` has used so far.
double process_cpu_seconds(int pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // Fields after the command name (which is in parentheses): 14 utime, 15 stime.
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i)
        if (i >= 14)
            ticks += std::stod(field);
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

constexpr int kCategories = 4000;
constexpr int kProducts = 30000;
// Of the product upserts that carry a category, the share that picks one
// not created yet: tuned so that 20% of all events do.
constexpr double kForwardReference = 0.45;

// The in-order stream: about 12% category events, 10% deletes, and 20% of
// all events are product upserts that reference a category whose create is
// still to come.
int generate(std::size_t count, std::uint64_t seed, const std::string& path) {
    std::mt19937_64 rng(seed);
    auto chance = [&](double p) { return std::uniform_real_distribution<>(0, 1)(rng) < p; };
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    // Per table: versions so far, and the live keys (for deletes).
    struct Keys {
        std::vector<int> version;
        std::vector<int> live;                 // live keys, in no order
        std::vector<std::size_t> live_slot;    // key -> position in live, or npos
    };
    auto make_keys = [](int n) {
        return Keys{std::vector<int>(static_cast<std::size_t>(n) + 1, 0), {},
                    std::vector<std::size_t>(static_cast<std::size_t>(n) + 1, std::string::npos)};
    };
    Keys categories = make_keys(kCategories), products = make_keys(kProducts);
    auto set_live = [](Keys& keys, int id, bool live) {
        std::size_t& slot = keys.live_slot[static_cast<std::size_t>(id)];
        if (live && slot == std::string::npos) {
            slot = keys.live.size();
            keys.live.push_back(id);
        } else if (!live && slot != std::string::npos) {
            const int last = keys.live.back();
            keys.live[slot] = last;
            keys.live_slot[static_cast<std::size_t>(last)] = slot;
            keys.live.pop_back();
            slot = std::string::npos;
        }
    };
    std::vector<int> uncreated, created;
    for (int c = 1; c <= kCategories; ++c)
        uncreated.push_back(c);
    std::shuffle(uncreated.begin(), uncreated.end(), rng);

    std::ofstream out(path);
    std::size_t deletes = 0, forward_references = 0, category_events = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const bool category = chance(0.12);
        Keys& keys = category ? categories : products;
        json event;
        if (!keys.live.empty() && chance(0.10)) {
            const int id = keys.live[static_cast<std::size_t>(pick(0, static_cast<int>(keys.live.size()) - 1))];
            const int version = ++keys.version[static_cast<std::size_t>(id)];
            event = {{"op", "delete"}, {"key", {{"id", id}}}, {"version", version}};
            set_live(keys, id, false);
            ++deletes;
        } else if (category) {
            int id;
            // Creates spread over the whole stream, so that references to
            // categories still to come occur until its end.
            const double expected_upserts = 0.108 * static_cast<double>(count - i);
            if (!uncreated.empty() &&
                (created.empty() || chance(static_cast<double>(uncreated.size()) / std::max(expected_upserts, 1.0)))) {
                id = uncreated.back();
                uncreated.pop_back();
                created.push_back(id);
            } else {
                id = created[static_cast<std::size_t>(pick(0, static_cast<int>(created.size()) - 1))];
            }
            const int version = ++keys.version[static_cast<std::size_t>(id)];
            event = {{"op", "upsert"}, {"key", {{"id", id}}}, {"version", version},
                     {"data", {{"name", fmt::format("category {} v{}", id, version)}}}};
            set_live(keys, id, true);
        } else {
            const int id = pick(1, kProducts);
            const int version = ++keys.version[static_cast<std::size_t>(id)];
            const bool create = keys.live_slot[static_cast<std::size_t>(id)] == std::string::npos;
            json data = json::object();
            if (create || chance(0.5))
                data["name"] = fmt::format("product {} v{}", id, version);
            if (create || chance(0.5))
                data["price"] = pick(1, 10000);
            if (create || chance(0.4)) {
                if (!uncreated.empty() && chance(kForwardReference)) {
                    data["category_id"] = uncreated[static_cast<std::size_t>(pick(0, static_cast<int>(uncreated.size()) - 1))];
                    ++forward_references;
                } else if (!created.empty()) {
                    data["category_id"] = created[static_cast<std::size_t>(pick(0, static_cast<int>(created.size()) - 1))];
                }
            }
            event = {{"op", "upsert"}, {"key", {{"id", id}}}, {"version", version}, {"data", data}};
            set_live(keys, id, true);
        }
        category_events += category ? 1 : 0;
        event["table"] = category ? "categories" : "products";
        out << event.dump() << '\n';
    }
    fmt::print("stream: {} events, {:.1f}% category events, {:.1f}% deletes, {:.1f}% referencing a category not yet created\n",
               count, 100.0 * static_cast<double>(category_events) / static_cast<double>(count),
               100.0 * static_cast<double>(deletes) / static_cast<double>(count),
               100.0 * static_cast<double>(forward_references) / static_cast<double>(count));
    return 0;
}

struct Event {
    bool product = true;
    std::string text;  // the event object without its "table" field
    json parsed;
};

std::vector<Event> read_stream(const std::string& path) {
    std::vector<Event> events;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        json e = json::parse(line);
        Event event;
        event.product = e["table"] == "products";
        e.erase("table");
        event.text = e.dump();
        event.parsed = std::move(e);
        events.push_back(std::move(event));
    }
    return events;
}

std::string table_of(bool product) { return product ? "products" : "categories"; }

// apply_changes in batches of `batch` events of one table, in the order
// given: a per-table buffer is sent when full (and at the end).
void land_batches(tenancy::Client& client, const std::vector<const Event*>& events, std::size_t batch,
                  std::size_t window) {
    std::map<bool, std::vector<std::string>> buffers;
    std::map<bool, std::vector<std::string>> pending;  // batches, for pipelined mode
    auto flush = [&](bool product) {
        std::vector<std::string>& buffer = buffers[product];
        if (buffer.empty())
            return;
        const std::string array = tenancy::events_array(buffer);
        buffer.clear();
        if (window > 0) {
            pending[product].push_back(array);
            if (pending[product].size() >= window) {
                for (const auto& result : client.apply_changes_pipelined(table_of(product), pending[product], window))
                    if (result.error)
                        throw std::runtime_error(result.error->message);
                pending[product].clear();
            }
            return;
        }
        for (const auto& outcome : client.apply_changes(table_of(product), array))
            if (outcome.status == tenancy::ChangeStatus::Refused)
                throw std::runtime_error("refused: " + outcome.reason);
    };
    for (const Event* e : events) {
        buffers[e->product].push_back(e->text);
        if (buffers[e->product].size() >= batch)
            flush(e->product);
    }
    flush(false);
    flush(true);
    for (auto& [product, batches] : pending)
        if (!batches.empty())
            for (const auto& result : client.apply_changes_pipelined(table_of(product), batches, window))
                if (result.error)
                    throw std::runtime_error(result.error->message);
}

// The ORM pattern, with prepared statements on one connection.
class Orm {
public:
    Orm() : conn_(PQconnectdb("")) {
        if (PQstatus(conn_) != CONNECTION_OK)
            throw std::runtime_error(PQerrorMessage(conn_));
        prepare("find_product", "SELECT isactive FROM orm_products WHERE id = $1::int");
        prepare("find_category", "SELECT isactive FROM orm_categories WHERE id = $1::int");
        prepare("insert_placeholder", "INSERT INTO orm_categories (id) VALUES ($1::int)");
        prepare("insert_category", "INSERT INTO orm_categories (id, name, isactive) VALUES ($1::int, $2, $3::boolean)");
        // An upsert makes the entity active: whatever arrives last wins.
        prepare("update_category",
                "UPDATE orm_categories SET name = coalesce($2, name), isactive = true WHERE id = $1::int");
        prepare("soft_delete_category", "UPDATE orm_categories SET isactive = false WHERE id = $1::int");
        prepare("insert_product",
                "INSERT INTO orm_products (id, name, price, category_id, isactive)"
                " VALUES ($1::int, $2, $3::int, $4::int, $5::boolean)");
        prepare("update_product",
                "UPDATE orm_products SET name = CASE WHEN $5::boolean THEN $2 ELSE name END,"
                " price = CASE WHEN $6::boolean THEN $3::int ELSE price END,"
                " category_id = CASE WHEN $7::boolean THEN $4::int ELSE category_id END, isactive = true"
                " WHERE id = $1::int");
        prepare("soft_delete_product", "UPDATE orm_products SET isactive = false WHERE id = $1::int");
    }
    ~Orm() { PQfinish(conn_); }
    int backend_pid() const { return PQbackendPID(conn_); }

    std::size_t retries = 0;
    std::size_t failures = 0;

    void land(const Event& e) {
        for (int attempt = 0;; ++attempt) {
            const std::string error = attempt_event(e);
            if (error.empty())
                return;
            exec("ROLLBACK");
            if ((error == "23505" || error == "40P01") && attempt < 3) {
                ++retries;
                continue;
            }
            ++failures;  // the event is lost
            return;
        }
    }

private:
    void prepare(const char* name, const char* sql) {
        PGresult* r = PQprepare(conn_, name, sql, 0, nullptr);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            throw std::runtime_error(PQerrorMessage(conn_));
        PQclear(r);
    }
    void exec(const char* sql) { PQclear(PQexec(conn_, sql)); }

    // Runs a prepared statement; returns its rows, or -1 and the SQLSTATE.
    int run(const char* name, const std::vector<std::optional<std::string>>& params, std::string& error) {
        std::vector<const char*> values;
        for (const auto& p : params)
            values.push_back(p ? p->c_str() : nullptr);
        PGresult* r = PQexecPrepared(conn_, name, static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0);
        int rows = -1;
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            rows = PQntuples(r);
        else if (PQresultStatus(r) == PGRES_COMMAND_OK)
            rows = std::atoi(PQcmdTuples(r));
        else
            error = PQresultErrorField(r, PG_DIAG_SQLSTATE) ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : "?????";
        PQclear(r);
        return rows;
    }

    static std::optional<std::string> field(const json& data, const char* name) {
        if (!data.contains(name) || data[name].is_null())
            return std::nullopt;
        return data[name].is_string() ? data[name].get<std::string>() : data[name].dump();
    }

    // One event in one transaction; returns the SQLSTATE of a failure.
    std::string attempt_event(const Event& e) {
        std::string error;
        exec("BEGIN");
        const std::string id = e.parsed["key"]["id"].dump();
        const bool is_delete = e.parsed["op"] == "delete";
        const json data = e.parsed.value("data", json::object());
        const bool product = e.product;
        if (!is_delete && product && data.contains("category_id")) {
            // Cascade persist: a category that has not arrived yet becomes a placeholder.
            const std::string category = data["category_id"].dump();
            const int found = run("find_category", {category}, error);
            if (found == 0 && run("insert_placeholder", {category}, error) < 0)
                return error;
            if (found < 0)
                return error;
        }
        const int found = run(product ? "find_product" : "find_category", {id}, error);
        if (found < 0)
            return error;
        int done;
        if (is_delete) {
            // A delete of an entity not seen yet stores it inactive (a soft
            // delete needs a row to mark).
            done = found == 0 ? (product ? run("insert_product", {id, std::nullopt, std::nullopt, std::nullopt, "false"}, error)
                                         : run("insert_category", {id, std::nullopt, "false"}, error))
                              : run(product ? "soft_delete_product" : "soft_delete_category", {id}, error);
        } else if (found == 0) {
            done = product ? run("insert_product",
                                 {id, field(data, "name"), field(data, "price"), field(data, "category_id"), "true"}, error)
                           : run("insert_category", {id, field(data, "name"), "true"}, error);
        } else {
            done = product ? run("update_product",
                                 {id, field(data, "name"), field(data, "price"), field(data, "category_id"),
                                  data.contains("name") ? "true" : "false", data.contains("price") ? "true" : "false",
                                  data.contains("category_id") ? "true" : "false"},
                                 error)
                           : run("update_category", {id, field(data, "name")}, error);
        }
        if (done < 0)
            return error;
        PGresult* r = PQexec(conn_, "COMMIT");
        const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            error = PQresultErrorField(r, PG_DIAG_SQLSTATE) ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : "?????";
        PQclear(r);
        return ok ? "" : error;
    }

    PGconn* conn_;
};

int land(const std::string& mode, const std::string& path, std::uint64_t seed, int workers) {
    std::vector<Event> events = read_stream(path);
    std::vector<const Event*> order;
    for (const Event& e : events)
        order.push_back(&e);
    if (mode == "inorder")
        workers = 1;
    else
        std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
    std::vector<std::vector<const Event*>> shares(static_cast<std::size_t>(workers));
    for (std::size_t i = 0; i < order.size(); ++i)
        shares[i % shares.size()].push_back(order[i]);

    std::atomic<std::size_t> retries{0}, failures{0};
    std::vector<double> server_cpu(shares.size(), 0.0);
    std::vector<std::string> errors(shares.size());
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (std::size_t w = 0; w < shares.size(); ++w) {
        threads.emplace_back([&, w] {
            try {
                if (mode == "orm") {
                    Orm orm;
                    const double before = process_cpu_seconds(orm.backend_pid());
                    for (const Event* e : shares[w])
                        orm.land(*e);
                    server_cpu[w] = process_cpu_seconds(orm.backend_pid()) - before;
                    retries += orm.retries;
                    failures += orm.failures;
                    return;
                }
                tenancy::Client client{std::string()};
                const int pid = PQbackendPID(client.connection().get());
                const double before = process_cpu_seconds(pid);
                const std::size_t batch = mode == "batch1" ? 1 : 100;
                land_batches(client, shares[w], batch, mode == "pipelined" ? 16 : 0);
                server_cpu[w] = process_cpu_seconds(pid) - before;
            } catch (const std::exception& e) {
                errors[w] = e.what();
            }
        });
    }
    for (std::thread& t : threads)
        t.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (const std::string& error : errors)
        if (!error.empty()) {
            std::cerr << mode << ": " << error << "\n";
            return 1;
        }
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const double client_cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                              static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    double server = 0;
    for (double s : server_cpu)
        server += s;
    const double n = static_cast<double>(events.size());
    fmt::print("{} {} {:.3f} {:.0f} {} {} {:.1f} {:.1f}\n", mode, events.size(), seconds, n / seconds, retries.load(),
               failures.load(), server * 1e6 / n, client_cpu * 1e6 / n);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc == 5 && std::string(argv[1]) == "generate")
            return generate(std::stoul(argv[2]), std::stoull(argv[3]), argv[4]);
        if (argc == 5)
            return land(argv[1], argv[2], std::stoull(argv[3]), std::stoi(argv[4]));
    } catch (const std::exception& e) {
        std::cerr << "changes_bench: " << e.what() << "\n";
        return 1;
    }
    std::cerr << "usage: changes_bench generate EVENTS SEED FILE | changes_bench MODE FILE SEED WORKERS\n";
    return 2;
}
