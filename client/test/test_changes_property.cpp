// Change landing: the convergence property against a real server.
//
// A random stream of events (creates, partial and full updates, deletes,
// re-creates, products that reference categories before or without their
// create, categories that reference parent categories) is applied in order,
// one connection, to one pair of tables.  Then, many times, the same stream
// shuffled, with duplicates, is split over 8 connections that land it
// concurrently in batches of random sizes into a fresh pair of tables.
// Every time the final rows, tombstones and placeholders must be identical
// to the in-order result, and both must equal what an independent model of
// the rules (docs/changes.md) predicts.  No call may fail and no event may
// be refused.
//
// TENANCY_PROPERTY_RUNS (default 8) and TENANCY_PROPERTY_SEED make longer
// soaks and reproductions possible; the seed is printed on failure.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "support.hpp"

namespace tenancy {
namespace {

using nlohmann::json;

constexpr int kCategories = 8;  // ids 1..8 get events; 9..11 are only referenced
constexpr int kProducts = 40;
constexpr int kConnections = 8;

struct Event {
    bool product = true;  // else category
    int id = 0;
    std::int64_t version = 0;
    bool is_delete = false;
    bool full = false;
    std::map<std::string, std::optional<std::string>> data;  // column -> SQL text value, nullopt = NULL

    json to_json() const {
        json e = {{"op", is_delete ? "delete" : "upsert"}, {"key", {{"id", id}}}, {"version", version}};
        if (is_delete)
            return e;
        json d = json::object();
        for (const auto& [column, value] : data) {
            if (!value)
                d[column] = nullptr;
            else if (column == "name")
                d[column] = *value;
            else
                d[column] = std::stoi(*value);
        }
        e["data"] = d;
        if (full)
            e["full"] = true;
        return e;
    }
};

const std::vector<std::string> kProductColumns = {"name", "price", "category_id"};
const std::vector<std::string> kCategoryColumns = {"name", "parent_id"};

std::optional<std::string> default_of(const std::string& column) {
    return column == "name" ? std::optional<std::string>("") : std::nullopt;
}

// Every key's history in version order, then all of them interleaved at
// random (keeping each key's order): the in-order stream.
std::vector<Event> generate_stream(std::mt19937_64& rng) {
    auto chance = [&](double p) { return std::uniform_real_distribution<>(0, 1)(rng) < p; };
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    std::vector<std::vector<Event>> histories;
    auto history = [&](bool product, int id) {
        const auto& columns = product ? kProductColumns : kCategoryColumns;
        std::vector<Event> events;
        std::int64_t version = pick(1, 3);
        const int length = pick(1, product ? 12 : 6);
        for (int i = 0; i < length; ++i, version += pick(1, 3)) {
            Event e;
            e.product = product;
            e.id = id;
            e.version = version;
            e.is_delete = i > 0 && chance(0.15);
            if (!e.is_delete) {
                e.full = chance(0.15);
                for (const std::string& column : columns) {
                    if (!(i == 0 || e.full ? chance(0.8) : chance(0.4)))
                        continue;
                    if (column == "name")
                        e.data[column] = fmt::format("{}{}-v{}", product ? "p" : "c", id, version);
                    else if (column == "price")
                        e.data[column] = chance(0.1) ? std::nullopt : std::optional<std::string>(std::to_string(pick(1, 99)));
                    else if (column == "category_id")
                        e.data[column] = chance(0.1) ? std::nullopt
                                                     : std::optional<std::string>(std::to_string(pick(1, kCategories + 3)));
                    else if (column == "parent_id")
                        e.data[column] = chance(0.3) ? std::nullopt
                                                     : std::optional<std::string>(std::to_string(pick(1, kCategories + 3)));
                }
            }
            events.push_back(e);
        }
        histories.push_back(events);
    };
    for (int id = 1; id <= kCategories; ++id)
        history(false, id);
    for (int id = 1; id <= kProducts; ++id)
        history(true, id);

    std::vector<Event> stream;
    std::vector<std::size_t> next(histories.size(), 0);
    std::vector<std::size_t> open;
    for (std::size_t h = 0; h < histories.size(); ++h)
        open.push_back(h);
    while (!open.empty()) {
        const std::size_t slot = static_cast<std::size_t>(pick(0, static_cast<int>(open.size()) - 1));
        const std::size_t h = open[slot];
        stream.push_back(histories[h][next[h]++]);
        if (next[h] == histories[h].size())
            open.erase(open.begin() + static_cast<long>(slot));
    }
    return stream;
}

// The rules, independently: per column the value of the highest version
// that set it (a delete resets every column at its version), the row's
// version the highest of all, deleted iff that event was a delete, and a
// placeholder for every referenced category that has no event.
std::vector<std::string> model(const std::vector<Event>& stream, bool products) {
    struct Row {
        std::int64_t version = 0;
        bool deleted = false;
        std::map<std::string, std::pair<std::int64_t, std::optional<std::string>>> columns;
    };
    const auto& columns = products ? kProductColumns : kCategoryColumns;
    std::map<int, Row> rows;
    std::vector<Event> sorted = stream;
    std::stable_sort(sorted.begin(), sorted.end(), [](const Event& a, const Event& b) { return a.version < b.version; });
    for (const Event& e : sorted) {
        if (!products && e.product) {
            // Product upserts make category placeholders, stale or not.
            auto ref = e.data.find("category_id");
            if (!e.is_delete && ref != e.data.end() && ref->second)
                rows.try_emplace(std::stoi(*ref->second));
            continue;
        }
        if (e.product != products)
            continue;
        if (!products && !e.is_delete) {
            auto ref = e.data.find("parent_id");
            if (ref != e.data.end() && ref->second)
                rows.try_emplace(std::stoi(*ref->second));
        }
        Row& row = rows[e.id];
        for (const std::string& column : columns) {
            auto& cell = row.columns.try_emplace(column, 0, default_of(column)).first->second;
            const bool carried = e.data.count(column) > 0;
            if ((e.is_delete || carried || e.full) && e.version > cell.first)
                cell = {e.version, e.is_delete || !carried ? default_of(column) : e.data.at(column)};
        }
        if (e.version > row.version) {
            row.version = e.version;
            row.deleted = e.is_delete;
        }
    }
    std::vector<std::string> dump;
    for (auto& [id, row] : rows) {
        std::string line = std::to_string(id);
        for (const std::string& column : columns) {
            auto cell = row.columns.find(column);
            const std::optional<std::string> value = cell == row.columns.end() ? default_of(column) : cell->second.second;
            line += "|" + value.value_or("<null>");
        }
        line += fmt::format("|v{}|{}|{}", row.version, row.deleted ? "deleted" : "live",
                            row.version == 0 ? "placeholder" : "real");
        dump.push_back(line);
    }
    return dump;
}

class PropertyTables {
public:
    PropertyTables(Client& client, const std::string& schema) : client_(client), schema_(schema) {
        client_.connection().exec("SET client_min_messages = warning");
        for (const std::string& sql : {
                 fmt::format("CREATE SCHEMA {}", schema_),
                 fmt::format("CREATE TABLE {0}.categories (id integer PRIMARY KEY, name text NOT NULL DEFAULT '',"
                             " parent_id integer REFERENCES {0}.categories (id))",
                             schema_),
                 fmt::format("CREATE TABLE {0}.products (id integer PRIMARY KEY, name text NOT NULL DEFAULT '',"
                             " price integer, category_id integer REFERENCES {0}.categories (id))",
                             schema_),
             })
            client_.connection().exec(sql);
        for (bool products : {false, true}) {
            ChangeSetup setup;
            setup.table = table(products);
            setup.key_columns = {"id"};
            client_.enable_changes(setup);
        }
    }
    ~PropertyTables() {
        try {
            client_.disable_changes(table(true));
            client_.disable_changes(table(false));
            client_.connection().exec(fmt::format("DROP SCHEMA {} CASCADE", schema_));
        } catch (...) {
        }
    }

    std::string table(bool products) const { return schema_ + (products ? ".products" : ".categories"); }

    std::vector<std::string> dump(bool products) {
        const Result r = client_.connection().exec(fmt::format(
            "SELECT id || '|' || name || '|' || {} || '|v' || version || '|' ||"
            " CASE WHEN deleted_at IS NULL THEN 'live' ELSE 'deleted' END || '|' ||"
            " CASE WHEN placeholder_since IS NULL THEN 'real' ELSE 'placeholder' END AS line FROM {} ORDER BY id",
            products ? "coalesce(price::text, '<null>') || '|' || coalesce(category_id::text, '<null>')"
                     : "coalesce(parent_id::text, '<null>')",
            table(products)));
        std::vector<std::string> lines;
        for (int row = 0; row < r.rows(); ++row)
            lines.push_back(r.text(row, "line"));
        return lines;
    }

private:
    Client& client_;
    std::string schema_;
};

// Lands `events` (in this order) on one connection, in batches of up to
// `max_batch` consecutive events of one table.  Returns the refusals.
std::vector<std::string> land(Client& client, const PropertyTables& tables, const std::vector<Event>& events,
                              std::mt19937_64& rng, int max_batch) {
    std::vector<std::string> problems;
    std::size_t i = 0;
    while (i < events.size()) {
        const int size = std::uniform_int_distribution<int>(1, max_batch)(rng);
        json batch = json::array();
        const bool product = events[i].product;
        while (i < events.size() && events[i].product == product && static_cast<int>(batch.size()) < size)
            batch.push_back(events[i++].to_json());
        for (const ChangeOutcome& o : client.apply_changes(tables.table(product), batch.dump()))
            if (o.status == ChangeStatus::Refused)
                problems.push_back(o.sqlstate + " " + o.reason);
    }
    return problems;
}

int runs() {
    const char* text = std::getenv("TENANCY_PROPERTY_RUNS");
    return text ? std::max(1, std::atoi(text)) : 8;
}

TEST(ChangesProperty, AnyOrderAnySplitAnyDuplicationConvergesToTheInOrderState) {
    std::uint64_t seed = std::random_device{}();
    if (const char* fixed = std::getenv("TENANCY_PROPERTY_SEED"))
        seed = std::strtoull(fixed, nullptr, 10);
    SCOPED_TRACE(fmt::format("TENANCY_PROPERTY_SEED={}", seed));
    std::mt19937_64 rng(seed);

    Client client = test::connect();
    const std::vector<Event> stream = generate_stream(rng);
    const std::string prefix = "prop_" + std::to_string(seed % 1000000007);

    PropertyTables in_order(client, prefix + "_ref");
    EXPECT_TRUE(land(client, in_order, stream, rng, 6).empty());
    const std::vector<std::string> expected_categories = in_order.dump(false);
    const std::vector<std::string> expected_products = in_order.dump(true);
    EXPECT_EQ(expected_categories, model(stream, false)) << "in-order categories differ from the model";
    EXPECT_EQ(expected_products, model(stream, true)) << "in-order products differ from the model";
    // The stream really exercises the rules.
    auto count_with = [](const std::vector<std::string>& lines, const char* word) {
        return std::count_if(lines.begin(), lines.end(),
                             [&](const std::string& l) { return l.find(word) != std::string::npos; });
    };
    EXPECT_GT(count_with(expected_categories, "|placeholder"), 0);
    EXPECT_GT(count_with(expected_products, "|deleted|"), 0);

    for (int run = 0; run < runs(); ++run) {
        SCOPED_TRACE(fmt::format("run {}", run));
        // Shuffled, with about a fifth of the events delivered twice.
        std::vector<Event> delivered = stream;
        for (const Event& e : stream)
            if (std::uniform_real_distribution<>(0, 1)(rng) < 0.2)
                delivered.push_back(e);
        std::shuffle(delivered.begin(), delivered.end(), rng);
        std::vector<std::vector<Event>> shares(kConnections);
        for (const Event& e : delivered)
            shares[std::uniform_int_distribution<int>(0, kConnections - 1)(rng)].push_back(e);

        PropertyTables tables(client, fmt::format("{}_run{}", prefix, run));
        std::vector<std::vector<std::string>> problems(kConnections);
        std::vector<std::thread> threads;
        std::vector<std::uint64_t> seeds;
        for (int c = 0; c < kConnections; ++c)
            seeds.push_back(rng());
        for (int c = 0; c < kConnections; ++c) {
            threads.emplace_back([&, c] {
                std::mt19937_64 own(seeds[static_cast<std::size_t>(c)]);
                try {
                    Client connection = test::connect();
                    problems[static_cast<std::size_t>(c)] = land(connection, tables, shares[static_cast<std::size_t>(c)], own, 8);
                } catch (const std::exception& e) {
                    problems[static_cast<std::size_t>(c)].push_back(std::string("call failed: ") + e.what());
                }
            });
        }
        for (std::thread& t : threads)
            t.join();
        for (const auto& list : problems)
            EXPECT_TRUE(list.empty()) << list.front();
        EXPECT_EQ(tables.dump(false), expected_categories);
        EXPECT_EQ(tables.dump(true), expected_products);
        if (::testing::Test::HasFailure())
            break;
    }
}

}  // namespace
}  // namespace tenancy
