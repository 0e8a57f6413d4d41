// Change landing: the rules that make the result independent of delivery
// order (docs/changes.md, "Rules").
//
// Every data column is a last-writer-wins register: it holds the value of
// the highest-versioned event that set it, and the row's versions column
// records that version per column.  An upsert sets the columns it carries
// (a full upsert sets all of them, missing ones to their defaults); a delete
// resets every data column to its default at its version and leaves a
// tombstone.  The row's version is the highest version of any event applied
// to it, and the row is deleted exactly when that event was a delete.  Since
// every part of the state is a maximum over the events received, any order,
// any split into batches and any repetition give the same state.
//
// Within one call, the events of one key are merged here, in C++, against
// the row as it is now, into at most one write per row; the statements then
// write each row once.
#pragma once

#include "changes/changes_events.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tenancy::changes {

// Orders, compares and hashes keys exactly as the table's unique index does.
class KeyOrder {
public:
    explicit KeyOrder(const Table &table);
    int compare(const std::vector<Datum> &a, const std::vector<Datum> &b) const;
    uint32 hash(const std::vector<Datum> &key) const;

private:
    const Table &table_;
    mutable std::vector<FmgrInfo> compare_;
    mutable std::vector<FmgrInfo> hash_;
};

// The accepted events of one key, in the order they were given.
struct KeyGroup {
    std::vector<Datum> key;
    std::vector<int> events;
};

// Groups the accepted events among `which` by key; groups come in key order.
std::vector<KeyGroup> group_by_key(const std::vector<Event> &events, const std::vector<int> &which, const Table &table);

// A row as it is stored.
struct RowState {
    bool exists = false;
    int64_t version = 0;
    bool deleted = false;
    bool placeholder = false;
    std::map<std::string, int64_t> versions; // per data column name; absent = 0
};

enum class Action : int16 { Keep = 0, Set = 1, Reset = 2 };
enum class DeletedChange : int16 { Keep = 0, Set = 1, Clear = 2 };
enum class Status { Applied, Stale, Refused };

// What a group's events do to its row.
struct RowChange {
    bool write = false;  // false: every event was stale
    bool insert = false; // there is no row yet
    std::vector<Action> actions; // per data column
    std::vector<const Value *> values; // per data column: the value to set (Action::Set)
    int64_t version = 0;
    bool deleted = false;
    DeletedChange deleted_change = DeletedChange::Keep;
    std::map<std::string, int64_t> versions;
    int64_t old_version = 0;
};

// Applies the group's events, in order, to `old`; sets the status
// of each event (applied if it changed anything, stale otherwise) in
// `statuses` (indexed like `events`).
RowChange merge(const Table &table, const RowState &old, const std::vector<Event> &events, const KeyGroup &group,
                std::vector<Status> &statuses);

} // namespace tenancy::changes
