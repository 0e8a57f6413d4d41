// tenancy.storage and tenancy.set_storage_quota: reading a tenant's storage
// and setting its quota.  Touches tenancy.tenant and, for a striped tenant,
// tenancy.storage_stripe (storage_stripes.hpp).
#include "shared/errcodes.hpp"
#include "registry/registry.hpp"
#include "shared/spi.hpp"
#include "storage/storage_stripes.hpp"

extern "C" {
#include "catalog/pg_type.h"
}

using namespace tenancy;

namespace {

// Returns the (used, quota, available) row both functions return.  available
// is 0, not negative, for a tenant whose quota was lowered below its use.
void put_storage_row(srf::Materialized &out, int64_t used, int64_t quota)
{
    Datum values[3] = {Int64GetDatum(used), Int64GetDatum(quota), Int64GetDatum(used < quota ? quota - used : 0)};
    bool nulls[3] = {false, false, false};
    out.put_values(values, nulls);
}

} // namespace

// tenancy.storage(tenant bigint) RETURNS TABLE (used bigint, quota bigint, available bigint)
// One statement, so one snapshot: the tenant row's part and every stripe's
// are read as of the same moment.
TENANCY_FUNCTION(tenancy_storage)
{
    static spi::Statement select(
        "SELECT (t.storage_used + coalesce((SELECT sum(s.used) FROM tenancy.storage_stripe s"
        "                                    WHERE s.tenant_id = t.id), 0))::bigint,"
        "       t.storage_quota"
        "  FROM tenancy.tenant t WHERE t.id = $1",
        {INT8OID});

    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    srf::Materialized out(fcinfo);
    int64_t used = 0, quota = 0;
    {
        spi::Connection spi;
        if (select.execute({spi::int8_param(tenant)}, true) == 0)
            registry::throw_tenant_not_found(tenant);
        used = *spi::get_int64(0, 1);
        quota = *spi::get_int64(0, 2);
    }
    put_storage_row(out, used, quota);
    return (Datum)0;
}

// tenancy.set_storage_quota(tenant bigint, quota bigint)
//   RETURNS TABLE (used bigint, quota bigint, available bigint)
// A quota below current use is allowed (an operator may shrink a plan before
// the tenant has cleaned up); it is reported with a NOTICE, and from then on
// settle() refuses every positive delta until use falls below the quota.  A
// striped tenant's stripes are locked and their escrowed headroom spread
// again under the new quota, so none of them keeps headroom the new quota
// does not have.
TENANCY_FUNCTION(tenancy_set_storage_quota)
{
    static spi::Statement update(
        "UPDATE tenancy.tenant SET storage_quota = $2, updated_at = now()"
        " WHERE id = $1"
        " RETURNING storage_used, storage_stripes::bigint",
        {INT8OID, INT8OID});

    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    int64_t quota = args::required_int64(fcinfo, 1, "quota");
    if (quota < 0)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "quota must be zero or more bytes, not " + std::to_string(quota));

    srf::Materialized out(fcinfo);
    int64_t used = 0;
    {
        spi::Connection spi;
        if (update.execute({spi::int8_param(tenant), spi::int8_param(quota)}, false) == 0)
            registry::throw_tenant_not_found(tenant);
        storage::TenantStorage row{tenant, {}, *spi::get_int64(0, 1), quota,
                                   static_cast<int32_t>(*spi::get_int64(0, 2))};
        used = row.used;
        if (row.stripes > 1) {
            used = storage::stripes::lock_total(row);
            storage::stripes::rebalance(tenant, row.stripes, used, quota);
        }
    }
    if (used > quota) {
        std::string message = "tenant " + std::to_string(tenant) + " uses " + std::to_string(used) +
                              " bytes, " + std::to_string(used - quota) + " more than its new quota of " +
                              std::to_string(quota);
        pg_call([&] {
            ereport(NOTICE, (errmsg_internal("%s", message.c_str()),
                             errdetail("Storage can only shrink until use is below the quota.")));
        });
    }
    put_storage_row(out, used, quota);
    return (Datum)0;
}
