// Change landing: refusing one event without failing the whole call.
//
// apply_changes reports a bad event (a value its column type rejects, a row
// a constraint or trigger refuses) as "refused" and lands the others.  The
// failing work runs in a subtransaction, as a PL/pgSQL EXCEPTION block
// would: rolling the subtransaction back undoes exactly that work and
// releases whatever the failed call held, so the transaction can go on.
//
// Only errors that are about the data are turned into refusals (classes 22
// and 23, 42501 insufficient privilege, which row-level security and the
// tenant guard raise, and P0001 raised by a user trigger).  Anything else (a
// cancelled query, a serialization failure, a deadlock, out of memory, a
// dropped table) is re-raised: those concern the call, not one event.
#pragma once

#include "shared/boundary.hpp"

#include <functional>
#include <optional>
#include <string>

namespace tenancy::changes {

// What a refused piece of work failed with.
struct Failure {
    int sqlstate = 0;
    std::string message;
    std::string detail;
};

// Thrown (inside a subtransaction) when an insert found a row another
// session had created: handled by retrying event by event (see apply).
class InsertConflict : public std::exception {
public:
    const char *what() const noexcept override { return "insert conflict"; }
};

// Whether an error with this SQLSTATE refuses the event instead of failing
// the call.
bool is_refusal(int sqlstate);

// Runs fn in a subtransaction.  On success, keeps its work and returns
// nothing.  If fn fails with a refusal (or InsertConflict, reported with
// sqlstate 0), rolls its work back and returns the failure; any other
// failure is rolled back and re-thrown.
std::optional<Failure> in_subtransaction(const std::function<void()> &fn);

} // namespace tenancy::changes
