// Change landing: reading the events of one apply_changes call.
//
//   {"op": "upsert" | "delete", "key": {...}, "version": N, "data": {...}, "full": false}
//
// parse_events checks each event's shape and names against the table;
// convert_events turns every key and data value into a Datum of its
// column's type, in C++, with the type's own input function.  An event that
// fails either step is refused (kept in the list with its SQLSTATE and a
// reason naming the event's position and the column), never the whole call.
#pragma once

#include "changes/changes_table.hpp"

extern "C" {
#include "utils/jsonb.h"
}

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tenancy::changes {

enum class Op { Upsert, Delete };

struct Refusal {
    int sqlstate = 0;
    std::string reason;
};

// One data value of an event, for data column `column` of the table.
struct Value {
    int column = -1;
    Datum datum = Datum(0);
    bool is_null = false;
};

struct Event {
    int index = 0; // position in the array, from 0 as in JSON
    Op op = Op::Upsert;
    int64_t version = 0;
    bool full = false; // an upsert that sets every data column (missing ones to their defaults)
    std::vector<Datum> key;  // one per key column, of the column types; never NULL
    std::vector<Value> data; // sorted by column
    std::optional<Refusal> refusal;

    // The JSON values, until convert_events has converted them.  They point
    // into the changes argument, which outlives the call.
    std::vector<JsonbValue> json_key;
    std::vector<std::pair<int, JsonbValue>> json_data;

    bool accepted() const { return !refusal; }
    const Value *value_of(int column) const;
};

// Every element of `changes`.  An argument that is not a JSON array is
// 22023 (for the whole call); a malformed element is a refused event.
std::vector<Event> parse_events(Jsonb *changes, const Table &table);

// Converts the values of every accepted event (see the file comment).
void convert_events(std::vector<Event> &events, const Table &table);

// Refuses `event` with `sqlstate`; the reason is prefixed with its position.
void refuse(Event &event, int sqlstate, const std::string &reason);

} // namespace tenancy::changes
