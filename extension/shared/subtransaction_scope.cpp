// Internal subtransactions as a C++ scope (see subtransaction_scope.hpp).
#include "shared/subtransaction_scope.hpp"

#include "shared/boundary.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/memutils.h"
}

namespace tenancy {

SubTransaction::SubTransaction() : context_(CurrentMemoryContext), owner_(CurrentResourceOwner)
{
    pg_call([&] {
        BeginInternalSubTransaction(nullptr);
        MemoryContextSwitchTo(context_);
    });
    open_ = true;
}

void SubTransaction::commit()
{
    open_ = false;
    pg_call([&] {
        ReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(context_);
        CurrentResourceOwner = owner_;
    });
}

void SubTransaction::rollback()
{
    open_ = false;
    pg_call([&] {
        RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(context_);
        CurrentResourceOwner = owner_;
    });
}

SubTransaction::~SubTransaction()
{
    if (!open_)
        return;
    try {
        rollback();
    } catch (...) {
        // Rolling back fails only if the transaction is already broken; its
        // abort, which the error on its way up causes, cleans up instead.
    }
}

} // namespace tenancy
