// Running a step in a subtransaction so that its failure is reported instead
// of aborting the whole call (tenancy.check's repairs, purge's deletes).
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace tenancy {

// Runs fn in a subtransaction.  Returns the error message (with its detail)
// if a PostgreSQL or tenancy error ended it, after rolling the
// subtransaction back, which also undoes what fn did.  Other exceptions
// propagate.
std::optional<std::string> in_subtransaction(const std::function<void()> &fn);

} // namespace tenancy
