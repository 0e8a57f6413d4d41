// Types of the change-landing calls (tenancy.enable_changes, apply_changes,
// placeholders; docs/changes.md).  Events travel as JSON text, so this
// library needs no JSON dependency: an event is one JSON object
//   {"op": "upsert"|"delete", "key": {...}, "version": N, "data": {...}}
// and a batch is a JSON array of them (events_array builds one).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tenancy/errors.hpp"

namespace tenancy {

// Arguments of tenancy.enable_changes; unset fields take the SQL defaults.
struct ChangeSetup {
    std::string table;                     // regclass text
    std::vector<std::string> key_columns;  // the unique key events are matched by
    std::string version_column = "version";
    std::string deleted_column = "deleted_at";
    std::string placeholder_column = "placeholder_since";
    std::string versions_column = "column_versions";
    std::optional<std::string> live_view;  // default <table>_live; "" for none
};

enum class ChangeStatus { Applied, Stale, Refused };

std::string_view to_string(ChangeStatus status) noexcept;
// Throws tenancy::Error for a value the server should never return.
ChangeStatus parse_change_status(std::string_view text);

// What apply_changes did with one event.
struct ChangeOutcome {
    int index = 0;  // position in the batch, from 0
    ChangeStatus status = ChangeStatus::Applied;
    std::string sqlstate;  // refused only: why, as a documented SQLSTATE
    std::string reason;    // refused only: names the event and the column

    // The refusal as the exception type its SQLSTATE maps to (errors.hpp);
    // does nothing unless refused.
    void raise_if_refused() const;
};

// The outcome of one batch of apply_changes_pipelined: the event outcomes,
// or the error that failed the whole call (e.g. ChangesNotEnabled).
struct ChangeBatchResult {
    std::vector<ChangeOutcome> outcomes;
    std::optional<ErrorInfo> error;

    std::size_t count(ChangeStatus status) const noexcept;
};

// The outcome of landing a whole stream of events (Client::land_changes):
// one outcome per event, `index` being its position in the stream.
struct ChangeLanding {
    std::vector<ChangeOutcome> outcomes;
    std::size_t batches = 0;  // calls made

    std::size_t count(ChangeStatus status) const noexcept;
};

// One placeholder row: a parent referenced by events whose own create event
// has not arrived.
struct Placeholder {
    std::string table;
    std::string key;    // JSON object of the key columns
    std::string since;  // timestamptz text
};

// "[e1,e2,...]" from event objects given as JSON texts (e.g. the lines of a
// JSON-lines file); the texts are not parsed here, the server checks them.
std::string events_array(const std::vector<std::string>& events, std::size_t begin = 0,
                         std::size_t end = static_cast<std::size_t>(-1));

}  // namespace tenancy
