// A folder of migration files named as Flyway names them,
// V<version>__<description>.sql (e.g. V3__add_orders_index.sql), registered
// in one transaction (tenancyctl migrations add DIR).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tenancy/client.hpp"

namespace tenancy::orchestration {

struct MigrationFile {
    std::int64_t version = 0;
    std::string name;  // the description, underscores turned into spaces
    std::string path;
    std::string sql;
};

// Every V*.sql file of `directory` in version order.  Throws DataError for a
// file named V... that does not follow the pattern, two files of one
// version, or an unreadable folder; other files are ignored.
std::vector<MigrationFile> read_migration_files(const std::string& directory);

struct RegisteredFiles {
    std::vector<std::int64_t> added;
    std::vector<std::int64_t> unchanged;  // registered before with the same SQL
};

// Registers the files in one transaction: all or none.  A version registered
// with other SQL (MigrationChecksumMismatch) or older than the latest
// (MigrationOutOfOrder) fails the whole folder.
RegisteredFiles register_migration_files(Client& registry, const std::vector<MigrationFile>& files);

}  // namespace tenancy::orchestration
