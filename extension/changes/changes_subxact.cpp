// Change landing: subtransactions around work that may refuse an event (see
// changes_subxact.hpp).  The sequence (begin, run, roll back or release,
// restore the memory context and resource owner) is PL/pgSQL's.
#include "changes/changes_subxact.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/elog.h"
#include "utils/errcodes.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
}

#include <exception>

namespace tenancy::changes {

bool is_refusal(int sqlstate)
{
    int category = ERRCODE_TO_CATEGORY(sqlstate);
    return category == ERRCODE_DATA_EXCEPTION || category == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION ||
           sqlstate == ERRCODE_INSUFFICIENT_PRIVILEGE || sqlstate == ERRCODE_RAISE_EXCEPTION;
}

std::optional<Failure> in_subtransaction(const std::function<void()> &fn)
{
    MemoryContext context = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    pg_call([] { BeginInternalSubTransaction(nullptr); });
    // Work of the subtransaction allocates in the caller's context, so that
    // what it returns survives the subtransaction's end.
    MemoryContextSwitchTo(context);

    std::optional<Failure> failure;
    std::exception_ptr rethrow;
    try {
        fn();
    } catch (const PgError &e) {
        if (is_refusal(e.sqlstate()))
            failure = Failure{e.sqlstate(), e.what(), e.data()->detail ? e.data()->detail : ""};
        else
            rethrow = std::current_exception();
    } catch (const Error &e) {
        if (is_refusal(e.sqlstate()))
            failure = Failure{e.sqlstate(), e.what(), e.detail()};
        else
            rethrow = std::current_exception();
    } catch (const InsertConflict &) {
        failure = Failure{0, "insert conflict", ""};
    } catch (...) {
        rethrow = std::current_exception();
    }

    if (failure || rethrow)
        pg_call([] { RollbackAndReleaseCurrentSubTransaction(); });
    else
        pg_call([] { ReleaseCurrentSubTransaction(); });
    MemoryContextSwitchTo(context);
    CurrentResourceOwner = owner;
    if (rethrow)
        std::rethrow_exception(rethrow);
    return failure;
}

} // namespace tenancy::changes
