// Entry points that exist only so the test suite can exercise the error
// boundary (boundary.hpp) from SQL.  The install script does not declare
// them; test/sql/boundary.sql creates them with CREATE FUNCTION ... AS
// 'MODULE_PATHNAME', which needs superuser, so they are unreachable in a
// normal installation.
#include "shared/errcodes.hpp"
#include "shared/spi.hpp"

#include <new>
#include <stdexcept>

namespace {

// Counts live instances, so a test can see that C++ destructors ran after a
// PostgreSQL error unwound through the frames that owned them.
int live_guards = 0;

struct CountedGuard {
    CountedGuard() { ++live_guards; }
    ~CountedGuard() { --live_guards; }
    CountedGuard(const CountedGuard &) = delete;
    CountedGuard &operator=(const CountedGuard &) = delete;
};

} // namespace

using namespace tenancy;

// tenancy_selftest_throw(kind text) RETURNS void: throws a C++ exception of
// the given kind from inside a guarded function.
TENANCY_FUNCTION(tenancy_selftest_throw)
{
    std::string kind = args::required_text(fcinfo, 0, "kind");
    CountedGuard guard;
    if (kind == "tenancy")
        throw Error(errcode::kTenantNotFound, "selftest: tenancy::Error", "a detail", "a hint");
    if (kind == "bad_alloc")
        throw std::bad_alloc();
    if (kind == "std")
        throw std::runtime_error("selftest: std::runtime_error");
    if (kind == "other")
        throw 42;
    throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "unknown selftest kind \"" + kind + "\"");
}

// tenancy_selftest_spi(sql text) RETURNS bigint: runs sql through SPI while
// C++ objects that own resources (a std::string, a guard, an SPI connection)
// are alive; returns the number of rows processed.  If sql fails, the
// PostgreSQL error must come back unchanged and every destructor must run.
TENANCY_FUNCTION(tenancy_selftest_spi)
{
    std::string sql = args::required_text(fcinfo, 0, "sql");
    CountedGuard guard;
    uint64 rows = 0;
    {
        spi::Connection spi;
        rows = spi::execute_once(sql.c_str(), {}, false);
    }
    PG_RETURN_INT64(static_cast<int64_t>(rows));
}

// tenancy_selftest_live_guards() RETURNS int: CountedGuard objects alive now
// (0 unless a destructor was skipped).
TENANCY_FUNCTION(tenancy_selftest_live_guards)
{
    PG_RETURN_INT32(live_guards);
}
