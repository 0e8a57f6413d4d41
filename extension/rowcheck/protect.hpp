// Protected tables: the parts tenancy.protect gives a table, shared by
// protect itself and by the repair in tenancy.check.
#pragma once

extern "C" {
#include "postgres.h"
}

#include <optional>
#include <string>
#include <vector>

namespace tenancy::protect {

// Fixed names, so that protect, unprotect, check and people can find them.
inline constexpr const char *kPolicyName = "tenancy_isolation";
inline constexpr const char *kTriggerName = "tenancy_tenant_guard";
inline constexpr const char *kTruncateTriggerName = "tenancy_truncate_guard";

// One part of a table's protection; named like the columns of the view
// tenancy.protected_tables that says whether the part is present.
enum class Part { NotNull, ForeignKey, Index, RlsEnabled, RlsForced, Policy, Trigger, TruncateGuard };

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

// Takes the ACCESS EXCLUSIVE lock every protection change needs (after the
// ownership check, so that nobody can lock a table they could not change)
// and makes sure the table did not disappear while we waited.
void lock_table(const Table &table);

// Refuses what cannot be protected (42809, 42703, 42804); returns the
// relkind (RELKIND_RELATION or RELKIND_PARTITIONED_TABLE).
char validate_protectable(const Table &table);

// Records the table in tenancy.protected_table (or checks that its record
// names the same column, 22023 otherwise) with the protected partitioned
// table it is protected through, if any.  Needs an spi::Connection.
void register_table(const Table &table, std::optional<Oid> partition_of);

// register_table, then restores every missing part: protects one table, not
// its partitions.  Needs an spi::Connection and the table's lock.
void protect_one(const Table &table, std::optional<Oid> partition_of);

// Removes what protect added to one table (not its partitions) and its
// record; false if it was not protected.  Needs an spi::Connection and the
// table's lock.
bool unprotect_one(Oid relid);

} // namespace tenancy::protect
