// An internal subtransaction for the lifetime of a C++ scope, the way
// PL/pgSQL runs a block with an EXCEPTION clause: everything done inside is
// kept by commit() and undone by rollback(), row locks included.  A scope left
// without either (an exception unwinding) rolls back, so that the caller's
// subtransaction is current again before the error is re-raised.
//
// CurrentMemoryContext and CurrentResourceOwner are those of the enclosing
// scope again after every transition, as PL/pgSQL restores them: values
// (and copied ErrorData) allocated inside outlive the subtransaction.
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/resowner.h"
}

namespace tenancy {

class SubTransaction {
public:
    SubTransaction();
    ~SubTransaction();
    SubTransaction(const SubTransaction &) = delete;
    SubTransaction &operator=(const SubTransaction &) = delete;

    void commit();
    void rollback();

private:
    MemoryContext context_;
    ResourceOwner owner_;
    bool open_ = false;
};

} // namespace tenancy
