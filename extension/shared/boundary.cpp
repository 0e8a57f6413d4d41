// Implementation of the C++/PostgreSQL error boundary (see boundary.hpp).
//
// The two functions here are written so that their own frames hold nothing
// with a destructor: a longjmp may leave run_catching_pg_error's frame, and
// call_guarded ends in ereport, which longjmps out of it.
#include "shared/boundary.hpp"

#include <cstring>
#include <new>

extern "C" {
#include "utils/elog.h"
#include "utils/memutils.h"
}

namespace tenancy {

const char *PgError::what() const noexcept
{
    return data_ && data_->message ? data_->message : "PostgreSQL error";
}

namespace detail {

ErrorData *run_catching_pg_error(void (*callback)(void *), void *arg) noexcept
{
    MemoryContext caller_context = CurrentMemoryContext;
    ErrorData *volatile error = nullptr;

    PG_TRY();
    {
        callback(arg);
    }
    PG_CATCH();
    {
        // CopyErrorData must not run in ErrorContext, which FlushErrorState resets.
        MemoryContextSwitchTo(caller_context);
        error = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();

    return error;
}

namespace {

// Fixed-size, trivially destructible buffers: the error text has to survive
// the end of the catch block without any C++ object that ereport would skip.
constexpr size_t kTextSize = 1024;

struct PendingError {
    int sqlstate = 0;
    char message[kTextSize] = {};
    char detail[kTextSize] = {};
    char hint[kTextSize] = {};
};

void copy_text(char (&target)[kTextSize], const char *source) noexcept
{
    if (source)
        strlcpy(target, source, kTextSize);
}

} // namespace

Datum call_guarded(Datum (*impl)(FunctionCallInfo), FunctionCallInfo fcinfo)
{
    ErrorData *pg_error = nullptr;
    PendingError pending;

    try {
        return impl(fcinfo);
    } catch (const PgError &e) {
        pg_error = e.data();
    } catch (const Error &e) {
        pending.sqlstate = e.sqlstate();
        copy_text(pending.message, e.what());
        copy_text(pending.detail, e.detail().c_str());
        copy_text(pending.hint, e.hint().c_str());
    } catch (const std::bad_alloc &) {
        pending.sqlstate = ERRCODE_OUT_OF_MEMORY;
        copy_text(pending.message, "out of memory in the tenancy extension");
    } catch (const std::exception &e) {
        // Reaching here is a bug in the extension, not a user error.
        pending.sqlstate = ERRCODE_INTERNAL_ERROR;
        copy_text(pending.message, "unexpected C++ exception in the tenancy extension");
        copy_text(pending.detail, e.what());
    } catch (...) {
        pending.sqlstate = ERRCODE_INTERNAL_ERROR;
        copy_text(pending.message, "unexpected non-standard C++ exception in the tenancy extension");
    }

    // Every exception object is gone now; raising the PostgreSQL error is safe.
    if (pg_error)
        ReThrowError(pg_error);

    ereport(ERROR,
            (errcode(pending.sqlstate), errmsg_internal("%s", pending.message),
             pending.detail[0] ? errdetail_internal("%s", pending.detail) : 0,
             pending.hint[0] ? errhint("%s", pending.hint) : 0));
    pg_unreachable();
}

} // namespace detail
} // namespace tenancy
