// tenancy.adjust_storage: one tenant's storage adjustment, the hot path.
//
// The common case is a single saved UPDATE that applies the delta only when
// every rule allows it (storage.hpp: settle) and returns the new usage, so an
// adjustment costs one statement and holds the row lock for no longer than
// that statement.  Only when the UPDATE declines the row (unknown tenant,
// not active, over quota, overflow, underflow) does a second statement lock
// the row and let settle() say why, or clamp.  Idempotency keys add their
// statements only when a key is given.
#include "shared/errcodes.hpp"
#include "shared/search_path.hpp"
#include "storage/storage.hpp"
#include "storage/storage_idempotency.hpp"
#include "storage/storage_stripes.hpp"

extern "C" {
#include "catalog/pg_type.h"
}

namespace tenancy::storage {

namespace {

// Applies delta if settle() would allow it without clamping; returns the new
// usage, or nullopt if the row is missing or the delta needs settle().  The
// WHERE clause is settle()'s rules in SQL, written so that nothing in it can
// overflow: storage_quota - storage_used and storage_used + delta (delta <= 0)
// stay within bigint since both columns are >= 0.  CASE (unlike AND/OR) fixes
// the evaluation order, so the ELSE sum is never computed for a delta > 0.
std::optional<int64_t> try_fast_adjust(int64_t tenant, int64_t delta)
{
    static spi::Statement update(
        "UPDATE tenancy.tenant"
        "   SET storage_used = storage_used + $2"
        " WHERE id = $1 AND storage_stripes = 1"
        "   AND CASE WHEN $2 > 0 THEN status = 'active' AND $2 <= storage_quota - storage_used"
        "            ELSE storage_used + $2 >= 0"
        "       END"
        " RETURNING storage_used",
        {INT8OID, INT8OID});

    if (update.execute_in_caller_snapshot({spi::int8_param(tenant), spi::int8_param(delta)}) == 0)
        return std::nullopt;
    return spi::get_int64(0, 1);
}

// The fallback: lock the row, settle the delta, write the result.  The row
// may have changed since the fast UPDATE declined it (another session freed
// space, say); settle() judges it as it is now, under the lock.
// For a striped tenant the lock covers its stripes too, so settle() judges
// the exact total; the result is then spread over the stripes again.
int64_t adjust_locked(int64_t tenant, int64_t delta, UnderflowPolicy policy)
{
    TenantStorage row = lock_tenants({tenant}).front();
    stripes::remember_stripes(tenant, row.stripes);
    TenantStorage counted = row;
    if (row.stripes > 1)
        counted.used = stripes::lock_total(row);
    Settlement result = settle(counted, delta, policy);
    if (result.clamped)
        record_clamp(tenant, delta, counted.used);
    if (row.stripes > 1)
        stripes::rebalance(tenant, row.stripes, result.used, row.quota);
    else
        write_usage({{tenant, result.used}});
    return result.used;
}

// The single-row UPDATE declines a striped tenant (storage_stripes = 1 is
// part of its rule); the striped fast path then tries one stripe.  Tenants
// this backend has seen striped go to the striped path first.
int64_t adjust(int64_t tenant, int64_t delta, UnderflowPolicy policy)
{
    std::optional<int32_t> striped = stripes::known_stripes(tenant);
    if (!striped) {
        if (std::optional<int64_t> used = try_fast_adjust(tenant, delta))
            return *used;
        striped = stripes::read_stripes(tenant);
    }
    if (striped && *striped > 1)
        if (std::optional<int64_t> used = stripes::try_adjust(tenant, delta, *striped))
            return *used;
    return adjust_locked(tenant, delta, policy);
}

int64_t adjust_with_key(int64_t tenant, int64_t delta, const std::string &key, UnderflowPolicy policy)
{
    if (std::optional<int64_t> earlier = idempotency::claim_key(tenant, key, delta))
        return *earlier;
    int64_t used = adjust(tenant, delta, policy);
    idempotency::remember_result(tenant, key, used);
    return used;
}

} // namespace
} // namespace tenancy::storage

using namespace tenancy;

// tenancy.adjust_storage(tenant bigint, delta bigint, idempotency_key text,
//                        on_underflow text) RETURNS bigint
TENANCY_FUNCTION(tenancy_adjust_storage)
{
    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    int64_t delta = args::required_int64(fcinfo, 1, "delta");
    std::optional<std::string> key = args::optional_text(fcinfo, 2);
    storage::UnderflowPolicy policy = storage::underflow_policy_arg(fcinfo, 3);
    if (key)
        storage::idempotency::validate_key(*key);

    int64_t used = 0;
    {
        // No SET clause on this function: the path is pinned here instead.
        CatalogOnlySearchPath pinned;
        spi::Connection spi;
        used = key ? storage::adjust_with_key(tenant, delta, *key, policy) : storage::adjust(tenant, delta, policy);
    }
    PG_RETURN_INT64(used);
}
