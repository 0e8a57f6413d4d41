#include "tenancy/orchestration/migration_files.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace tenancy::orchestration {
namespace {

[[noreturn]] void refuse(const std::string& message, const std::string& hint = {}) {
    raise_error(ErrorInfo{"22023", message, "", hint});
}

}  // namespace

std::vector<MigrationFile> read_migration_files(const std::string& directory) {
    namespace fs = std::filesystem;
    static const std::regex pattern(R"(V([0-9]{1,18})__([A-Za-z0-9_.-]+)\.sql)");
    std::error_code error;
    fs::directory_iterator entries(directory, error);
    if (error)
        refuse("cannot read migration folder " + directory + ": " + error.message());
    std::vector<MigrationFile> files;
    for (const fs::directory_entry& entry : entries) {
        const std::string file = entry.path().filename().string();
        if (!entry.is_regular_file() || file.empty() || file[0] != 'V' || entry.path().extension() != ".sql")
            continue;
        std::smatch match;
        if (!std::regex_match(file, match, pattern))
            refuse("migration file " + file + " is not named V<version>__<description>.sql",
                   "For example V3__add_orders_index.sql; the version is a whole number.");
        std::ifstream in(entry.path(), std::ios::binary);
        std::ostringstream sql;
        sql << in.rdbuf();
        if (!in.good() && !in.eof())
            refuse("cannot read migration file " + entry.path().string());
        std::string name = match[2].str();
        std::replace(name.begin(), name.end(), '_', ' ');
        files.push_back({std::stoll(match[1].str()), name, entry.path().string(), sql.str()});
    }
    std::sort(files.begin(), files.end(),
              [](const MigrationFile& a, const MigrationFile& b) { return a.version < b.version; });
    for (std::size_t i = 1; i < files.size(); ++i)
        if (files[i].version == files[i - 1].version)
            refuse("two migration files have version " + std::to_string(files[i].version) + ": " +
                   files[i - 1].path + " and " + files[i].path);
    return files;
}

RegisteredFiles register_migration_files(Client& registry, const std::vector<MigrationFile>& files) {
    RegisteredFiles result;
    Connection& c = registry.connection();
    c.exec("BEGIN");
    try {
        for (const MigrationFile& f : files)
            (registry.add_migration(f.version, f.name, f.sql) ? result.added : result.unchanged).push_back(f.version);
        c.exec("COMMIT");
    } catch (...) {
        if (PQtransactionStatus(c.get()) != PQTRANS_IDLE && PQstatus(c.get()) == CONNECTION_OK)
            c.exec("ROLLBACK");
        throw;
    }
    return result;
}

}  // namespace tenancy::orchestration
