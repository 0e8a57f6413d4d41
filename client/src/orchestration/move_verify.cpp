#include "move_verify.hpp"

#include <future>
#include <map>

#include "json_text.hpp"

namespace tenancy::orchestration {
namespace {

std::vector<TableCheck> checksums(Connection& c, const std::string& schema) {
    const Result r = c.exec("SELECT table_name, rows, checksum, method FROM tenancy.table_checksums($1)", {schema});
    std::vector<TableCheck> tables;
    for (int row = 0; row < r.rows(); ++row)
        tables.push_back({r.text(row, "table_name"), r.int64(row, "rows"), r.text(row, "checksum"),
                          r.text(row, "method")});
    return tables;
}

std::string describe(const TableCheck& t) {
    return std::to_string(t.rows) + " rows, checksum " + t.checksum;
}

}  // namespace

Verification verify_copies(Connection& source, Connection& target, const std::string& schema) {
    auto on_target = std::async(std::launch::async, [&] { return checksums(target, schema); });
    std::vector<TableCheck> source_tables;
    try {
        source_tables = checksums(source, schema);
    } catch (...) {
        on_target.wait();  // never leave the thread using `target` behind
        throw;
    }
    const std::vector<TableCheck> target_tables = on_target.get();

    std::map<std::string, TableCheck> theirs;
    for (const TableCheck& t : target_tables)
        theirs[t.table] = t;
    Verification v;
    for (const TableCheck& mine : source_tables) {
        auto found = theirs.find(mine.table);
        if (found == theirs.end()) {
            v.differences.push_back("table " + mine.table + ": missing on the target (" + describe(mine) +
                                    " on the source)");
            continue;
        }
        if (found->second.rows != mine.rows || found->second.checksum != mine.checksum ||
            found->second.method != mine.method)
            v.differences.push_back("table " + mine.table + ": source " + describe(mine) + ", target " +
                                    describe(found->second));
        theirs.erase(found);
    }
    for (const auto& [name, t] : theirs)
        v.differences.push_back("table " + name + ": only on the target (" + describe(t) + ")");
    if (v.ok())
        v.tables = source_tables;
    return v;
}

std::string verification_json(const std::vector<TableCheck>& tables) {
    std::string out = "[";
    for (const TableCheck& t : tables) {
        if (out.size() > 1)
            out += ",";
        out += "{\"table\":" + json_string(t.table) + ",\"rows\":" + std::to_string(t.rows) +
               ",\"checksum\":" + json_string(t.checksum) + ",\"method\":" + json_string(t.method) + "}";
    }
    return out + "]";
}

}  // namespace tenancy::orchestration
