// tenancy.storage and tenancy.set_storage_quota: reading a tenant's storage
// and setting its quota.  Touches tenancy.tenant.
#include "shared/errcodes.hpp"
#include "registry/registry.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
}

// The (used, quota, available) row both functions return.  available is 0,
// not negative, for a tenant whose quota was lowered below its use.
#define STORAGE_COLUMNS "storage_used, storage_quota, greatest(storage_quota - storage_used, 0)"

using namespace tenancy;

// tenancy.storage(tenant bigint) RETURNS TABLE (used bigint, quota bigint, available bigint)
TENANCY_FUNCTION(tenancy_storage)
{
    static spi::Statement select("SELECT " STORAGE_COLUMNS " FROM tenancy.tenant WHERE id = $1", {INT8OID});

    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    srf::Materialized out(fcinfo);
    spi::Connection spi;
    if (select.execute({spi::int8_param(tenant)}, true) == 0)
        registry::throw_tenant_not_found(tenant);
    srf::put_spi_rows(out, 1);
    return (Datum)0;
}

// tenancy.set_storage_quota(tenant bigint, quota bigint)
//   RETURNS TABLE (used bigint, quota bigint, available bigint)
// A quota below current use is allowed (an operator may shrink a plan before
// the tenant has cleaned up); it is reported with a NOTICE, and from then on
// settle() refuses every positive delta until use falls below the quota.
TENANCY_FUNCTION(tenancy_set_storage_quota)
{
    static spi::Statement update(
        "UPDATE tenancy.tenant SET storage_quota = $2, updated_at = now()"
        " WHERE id = $1"
        " RETURNING " STORAGE_COLUMNS,
        {INT8OID, INT8OID});

    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    int64_t quota = args::required_int64(fcinfo, 1, "quota");
    if (quota < 0)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "quota must be zero or more bytes, not " + std::to_string(quota));

    srf::Materialized out(fcinfo);
    spi::Connection spi;
    if (update.execute({spi::int8_param(tenant), spi::int8_param(quota)}, false) == 0)
        registry::throw_tenant_not_found(tenant);
    int64_t used = *spi::get_int64(0, 1);
    if (used > quota) {
        std::string message = "tenant " + std::to_string(tenant) + " uses " + std::to_string(used) +
                              " bytes, " + std::to_string(used - quota) + " more than its new quota of " +
                              std::to_string(quota);
        pg_call([&] {
            ereport(NOTICE, (errmsg_internal("%s", message.c_str()),
                             errdetail("Storage can only shrink until use is below the quota.")));
        });
    }
    srf::put_spi_rows(out, 1);
    return (Datum)0;
}
