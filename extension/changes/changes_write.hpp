// Change landing: the statements apply_changes runs on a table.
//
// Each statement is set-based: the rows of a whole batch travel as one
// array parameter per column (of the column's type), unnested in the
// statement.  Statement texts are built from the catalog on each call and
// saved as plans per text, so a changed table gives a new text, never a
// stale plan.  Every name is quoted, every operator schema-qualified, and
// default expressions come deparsed from the catalog.
//
// The statements run with the caller's privileges and row-level security
// (apply_changes is SECURITY INVOKER), and take new snapshots (they are not
// read-only), so under READ COMMITTED they see what a call they waited for
// (changes_locks.hpp) committed.
#pragma once

#include "changes/changes_merge.hpp"

#include <vector>

namespace tenancy::changes {

using Key = std::vector<Datum>;

class TableStatements {
public:
    explicit TableStatements(const Table &table) : table_(table) {}

    // The stored state of the rows with these keys, in the same order.
    std::vector<RowState> read(const std::vector<const Key *> &keys);

    // Inserts the rows (change.insert), skipping keys that exist meanwhile;
    // returns how many it inserted.
    uint64 insert(const std::vector<const Key *> &keys, const std::vector<const RowChange *> &rows);

    // Updates existing rows whose version is still change.old_version;
    // returns how many it updated.
    uint64 update(const std::vector<const Key *> &keys, const std::vector<const RowChange *> &rows);

    // Inserts placeholders (key only, version 0, placeholder column set to
    // now()) for keys that do not exist; returns how many it inserted.
    uint64 insert_placeholders(const std::vector<const Key *> &keys);

private:
    const Table &table_;
};

} // namespace tenancy::changes
