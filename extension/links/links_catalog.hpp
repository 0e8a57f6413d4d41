// Link sync and dedupe: what the catalog says about the application's table.
//
// sync_links, dedupe and find_duplicates work on a table the application owns,
// named by regclass and column names.  This file turns those names into the
// facts the generated statements are built from (attribute numbers, types,
// quoted names, the unique index and its equality operators) and refuses
// anything they cannot work on, with the SQLSTATE documented in docs/links.md.
#pragma once

#include "shared/quoting.hpp"

#include "shared/boundary.hpp"

extern "C" {
#include "access/attnum.h"
#include "storage/lockdefs.h"
}

#include <string>
#include <vector>

namespace tenancy::links {

// One key column of the link table, as the generated SQL needs it.
struct KeyColumn {
    AttrNumber attnum = InvalidAttrNumber;
    std::string name;        // as stored in the catalog
    std::string quoted_name; // quote_identifier(name): the only form spliced into SQL
    Oid type = InvalidOid;
    Oid collation = InvalidOid;
};

// Locks the relation `relid` in `mode` (before anything else reads its
// catalog entries, so concurrent DDL cannot change them under us) and checks
// that it still exists (42P01) and is a table: an ordinary one, or a
// partitioned one if `allow_partitioned` (42809 / 0A000 otherwise).
void lock_table(Oid relid, LOCKMODE mode, bool allow_partitioned);

// The user column `name` of `relid`.  An unknown or dropped column is 42703,
// a system column (ctid, xmin, ...) 22023; `parameter` names the argument in
// the message.
KeyColumn resolve_column(Oid relid, const std::string &name, const char *parameter);

// A valid, immediate, non-partial unique index of `relid` whose key columns
// are exactly `columns` (in any order, no expressions); InvalidOid if none.
// Exactly such an index is what makes duplicate keys impossible and what
// ON CONFLICT (columns) infers as its arbiter.
Oid find_unique_index(Oid relid, const std::vector<AttrNumber> &columns);

// Whether `relid` also has a deferrable unique index on exactly `columns`.
// ON CONFLICT refuses to run when such an index would be one of its arbiters.
bool has_deferrable_unique_index(Oid relid, const std::vector<AttrNumber> &columns);

// `OPERATOR(schema.=)` for column `attnum` of unique index `index`: the
// equality that defines a duplicate for that index, schema-qualified so the
// generated SQL does not depend on search_path.
std::string index_equality_operator(Oid index, AttrNumber attnum);

// `text` as an SQL string literal (for SQL shown in hints and for

// The name of a relation (for messages).
std::string relation_name(Oid relid);

} // namespace tenancy::links
