// Change landing: what the catalog and tenancy.change_table say about a table
// prepared by tenancy.enable_changes, in the form the rest of the capability
// works with (docs/changes.md).
//
// apply_changes needs, for every call, the table's key columns with the
// ordering, equality and hash of its unique index, the columns events may
// set with their types, input functions and defaults, the change-state
// columns, its foreign keys and whether it is protected.  Reading all that
// takes several catalog queries, so descriptions are kept in a
// backend-local cache and dropped whenever PostgreSQL invalidates the
// table's relcache entry (any DDL on it, a foreign key added elsewhere that
// references it) or enable_changes / disable_changes change its record
// (they send that invalidation themselves).
#pragma once

#include "shared/boundary.hpp"

extern "C" {
#include "access/attnum.h"
}

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tenancy::changes {

// One column of a table, as conversion, generated statements and lock keys
// need it.
struct Column {
    AttrNumber attnum = InvalidAttrNumber;
    std::string name;   // as stored in the catalog
    std::string quoted; // quote_identifier(name): the only form spliced into SQL
    Oid type = InvalidOid;
    int32 typmod = -1;
    Oid collation = InvalidOid;
    bool not_null = false;
    bool has_default = false;
    std::string default_sql = "NULL"; // the default expression, deparsed; "NULL" when it has none
    // The statements pass a batch's values of a column as one array of the
    // column's type; a type without an array type (itself an array, e.g.
    // text[]) travels as text[] and is cast back to sql_type in SQL.
    Oid array_type = InvalidOid;
    std::string sql_type; // schema-qualified, with the type modifier
    int16 typlen = 0;
    bool typbyval = false;
    char typalign = 'i';
    Oid input_function = InvalidOid; // the type's input function, for event values
    Oid input_param = InvalidOid;
    bool is_jsonb = false;           // exactly jsonb: event values are stored as they are
    bool is_array = false;           // an array type: a JSON array is written as an array literal
};

// A column of the table's change key, with the operator class of its unique
// index: keys are ordered, grouped and hashed exactly as that index compares
// them, so two spellings of one key (1.0 and 1.00 in a numeric key, two
// case variants under a case-insensitive collation) are one key.
struct KeyColumn {
    Column column;
    Oid compare_function = InvalidOid; // btree ordering (support function 1)
    Oid compare_collation = InvalidOid;
    std::string equality;              // OPERATOR(schema.=) of the index's operator class
    Oid hash_function = InvalidOid;    // the type's default hash function; invalid if it has none
};

// A foreign key of the table: (this table's column, referenced column) pairs.
struct ForeignKey {
    Oid referenced = InvalidOid;
    std::vector<std::pair<AttrNumber, AttrNumber>> columns;
};

// Where an event carries a column's value: in its key or in its data.
struct ValueSource {
    enum Kind { None, Key, Data } kind = None;
    int position = -1;
};

struct Table {
    Oid relid = InvalidOid;
    std::string name; // schema.table, quoted, for SQL and messages
    std::vector<KeyColumn> key;
    std::vector<Column> data;                        // the columns events may set
    std::unordered_map<std::string, int> data_by_name;
    // Columns events may not set, and why (key columns, change-state
    // columns, generated and identity columns).
    std::unordered_map<std::string, std::string> not_settable;
    // The change-state columns, quoted.
    std::string version_column, deleted_column, placeholder_column, versions_column;
    // Data columns a delete (and a full upsert) resets: those that are
    // nullable or have a default.  enable_changes refuses other data
    // columns, except a protected table's tenant column, which the guard
    // trigger fills and which a reset must not empty.
    std::vector<int> resettable;
    std::vector<ForeignKey> foreign_keys;
    // A protected table's tenant column, and where events carry it.
    std::optional<std::string> tenant_column;
    ValueSource tenant_source;

    ValueSource source_of(AttrNumber attnum) const;
};

// The description of enabled table `relid`, or nullptr if it is not
// enabled.  The caller holds a lock on the table (so that invalidations have
// been processed) and an SPI connection.  A change-state column that no
// longer exists is 42703; a unique index that no longer exists is 42P10.
std::shared_ptr<const Table> enabled_table(Oid relid);

// enabled_table, or TN040 naming the table.
std::shared_ptr<const Table> require_enabled_table(Oid relid);

// Tells every backend (at commit) that the change setup of `relid` changed.
void invalidate_table(Oid relid);

// Describes column `attnum` of `relid` (no default expression).
Column describe_column(Oid relid, AttrNumber attnum);

// The valid, immediate, non-partial unique index of `relid` whose key
// columns are exactly `attnums` (in any order, no expressions); InvalidOid
// if there is none.
Oid find_unique_index(Oid relid, const std::vector<AttrNumber> &attnums);

// The tenant column of `relid` if tenancy.protect protected it.  Needs an
// SPI connection.
std::optional<std::string> protected_tenant_column(Oid relid);

// The name of `relid` for messages (schema-qualified and quoted).
std::string table_name(Oid relid);

} // namespace tenancy::changes
