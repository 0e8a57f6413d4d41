// The C-level search path pin of the hot functions (see search_path.hpp).
#include "shared/search_path.hpp"

#include "shared/boundary.hpp"

extern "C" {
#include "catalog/namespace.h"
}

namespace tenancy {

CatalogOnlySearchPath::CatalogOnlySearchPath()
{
    pg_call([] {
        // pg_catalog only: no schema of the caller, and no pg_temp either
        // (the pinned clause lists pg_temp last; every name we use is
        // qualified, so leaving it out changes nothing but closes it).
        OverrideSearchPath path{};
        path.schemas = NIL;
        path.addCatalog = true;
        path.addTemp = false;
        PushOverrideSearchPath(&path);
    });
}

CatalogOnlySearchPath::~CatalogOnlySearchPath()
{
    try {
        pg_call([] { PopOverrideSearchPath(); });
    } catch (...) {
        // Only a stack that is not ours fails to pop ("bogus
        // PopOverrideSearchPath call"): the transaction abort that follows
        // every such error pops it instead.  A destructor must not throw.
    }
}

} // namespace tenancy
