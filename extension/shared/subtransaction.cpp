// Subtransactions for steps that may fail (see subtransaction.hpp).
#include "shared/subtransaction.hpp"

#include "shared/boundary.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
}

namespace tenancy {

std::optional<std::string> in_subtransaction(const std::function<void()> &fn)
{
    MemoryContext context = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    pg_call([] { BeginInternalSubTransaction(nullptr); });
    MemoryContextSwitchTo(context);
    std::optional<std::string> failure;
    try {
        fn();
    } catch (const PgError &e) {
        failure = e.what();
        if (e.data()->detail)
            *failure += std::string(" (") + e.data()->detail + ")";
    } catch (const Error &e) {
        failure = e.what();
    }
    if (failure)
        pg_call([] { RollbackAndReleaseCurrentSubTransaction(); });
    else
        pg_call([] { ReleaseCurrentSubTransaction(); });
    MemoryContextSwitchTo(context);
    CurrentResourceOwner = owner;
    return failure;
}

} // namespace tenancy
