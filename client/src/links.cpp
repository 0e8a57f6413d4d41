// Client calls of the link sync functions (tenancy.sync_links, dedupe,
// find_duplicates).  Owner and targets are sent as text and text[]: the
// server converts them to the columns' types, so the client needs to know
// nothing about the application's table.
#include "tenancy/client.hpp"

#include <string>

#include "sql_literals.hpp"

namespace tenancy {
using detail::text_array_literal;

LinkSyncResult Client::sync_links(const LinkSync& sync) {
    const Result r = conn_.exec(
        "SELECT added, removed FROM tenancy.sync_links($1::pg_catalog.regclass, $2::pg_catalog.name,"
        " $3::pg_catalog.text, $4::pg_catalog.name, $5::pg_catalog.text[])",
        {sync.table, sync.owner_column, sync.owner, sync.target_column,
         text_array_literal(sync.targets)});
    return LinkSyncResult{r.int64(0, "added"), r.int64(0, "removed")};
}

std::vector<DuplicateKey> Client::find_duplicates(const std::string& table,
                                                  const std::vector<std::string>& key_columns) {
    const Result r = conn_.exec(
        "SELECT key::pg_catalog.text AS key, count FROM tenancy.find_duplicates("
        "$1::pg_catalog.regclass, $2::pg_catalog.name[])",
        {table, text_array_literal(key_columns)});
    std::vector<DuplicateKey> keys;
    for (int row = 0; row < r.rows(); ++row)
        keys.push_back(DuplicateKey{r.text(row, "key"), r.int64(row, "count")});
    return keys;
}

std::int64_t Client::dedupe(const std::string& table, const std::vector<std::string>& key_columns) {
    return conn_
        .exec("SELECT tenancy.dedupe($1::pg_catalog.regclass, $2::pg_catalog.name[]) AS removed",
              {table, text_array_literal(key_columns)})
        .int64(0, "removed");
}

}  // namespace tenancy
