// The tenancy module's one-per-library declarations.
extern "C" {
#include "postgres.h"
#include "fmgr.h"

PG_MODULE_MAGIC;
}

#include "placement/sandbox.hpp"
#include "rowcheck/binding.hpp"
#include "rowcheck/context.hpp"

// Runs once when a backend loads the library.  Nothing here may throw: each
// capability's definitions are plain PostgreSQL calls.
extern "C" void _PG_init(void)
{
    // Before the context's settings, which reserve the tenancy. prefix.
    tenancy::binding::define_settings();
    tenancy::context::define_settings();
    tenancy::sandbox::install_hooks();
}
