// Protected tables: the parts tenancy.protect gives a table, shared by
// protect itself and by the repair in tenancy.check.
#pragma once

extern "C" {
#include "postgres.h"
}

#include <string>
#include <vector>

namespace tenancy::protect {

// Fixed names, so that protect, unprotect, check and people can find them.
inline constexpr const char *kPolicyName = "tenancy_isolation";
inline constexpr const char *kTriggerName = "tenancy_tenant_guard";

// One part of a table's protection; named like the columns of the view
// tenancy.protected_tables that says whether the part is present.
enum class Part { NotNull, ForeignKey, Index, RlsEnabled, RlsForced, Policy, Trigger };

const char *part_name(Part part);

// A table and its tenant column, resolved and quoted for SQL.
struct Table {
    Oid relid = InvalidOid;
    std::string name;          // schema-qualified and quoted, for SQL and messages
    std::string column;        // the tenant column, unquoted
    std::string quoted_column; // the tenant column, quoted
};

// Resolves an existing table (no checks beyond existence).
Table describe(Oid relid, const std::string &column);

// The parts the table lacks now, from tenancy.protected_tables.  The table
// must be recorded in tenancy.protected_table.  Needs an spi::Connection.
std::vector<Part> missing_parts(Oid relid);

// Creates one missing part with the current user's rights (the foreign key
// with the extension owner's) and records in tenancy.protected_table that
// protect added it, so unprotect removes it.  Needs an spi::Connection.
void restore_part(const Table &table, Part part);

} // namespace tenancy::protect
