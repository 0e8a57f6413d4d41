// Striped storage counters (see storage_stripes.hpp and docs/storage.md,
// "Striped counters"), and tenancy.set_storage_stripes.
#include "storage/storage_stripes.hpp"

#include "shared/errcodes.hpp"
#include "shared/subtransaction_scope.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "miscadmin.h"
}

#include <unordered_map>
#include <vector>

namespace tenancy::storage::stripes {

namespace {

// The rule of adjust_storage's fast path, for one stripe: a positive delta
// must fit in the stripe's escrowed headroom, a negative one in its use.
// Nothing here can overflow: both columns are >= 0 and delta <= headroom.
#define STRIPE_CAN_TAKE(s) \
    "CASE WHEN $2 > 0 THEN $2 <= " s ".headroom ELSE " s ".used + $2 >= 0 END"
#define STRIPE_TAKE "used = s.used + $2, headroom = s.headroom - greatest($2, 0)"
// Stripes in the order this backend tries them: each backend starts at its
// own stripe ($3, from its process id), so concurrent callers spread out.
#define STRIPE_ORDER(s) "(" s ".stripe + $3) % $4"

// The tenant is still striped as the caller believes ($4 stripes) and, for a
// positive delta, active; read in the statement's snapshot, without a lock
// (docs/storage.md, "What differs from one row").
#define STRIPED_AND_ALLOWED \
    "EXISTS (SELECT FROM tenancy.tenant t WHERE t.id = $1 AND t.storage_stripes = $4" \
    "        AND ($2 <= 0 OR t.status = 'active'))"

// The exact usage of a tenant in one snapshot: its row's part (0 for a
// striped tenant) plus its stripes.  Not read-only, so in a new snapshot that
// sees this call's own stripe update and every adjustment committed before;
// a value computed inside the UPDATE could mix a stripe re-spread by a
// rebalance that committed meanwhile with the others' older values.
int64_t usage_now(int64_t tenant)
{
    static spi::Statement total(
        "SELECT (t.storage_used + coalesce((SELECT sum(s.used) FROM tenancy.storage_stripe s"
        "                                    WHERE s.tenant_id = t.id), 0))::bigint"
        "  FROM tenancy.tenant t WHERE t.id = $1",
        {INT8OID});
    total.execute({spi::int8_param(tenant)}, false);
    return *spi::get_int64(0, 1);
}

// One attempt in its own subtransaction: kept if the statement changed a
// stripe (then returns the usage after it), rolled back (with any row lock
// it took) if not.
std::optional<int64_t> attempt(spi::Statement &statement, int64_t tenant, const std::vector<spi::Param> &params)
{
    SubTransaction sub;
    if (statement.execute(params, false) == 1) {
        sub.commit();
        return usage_now(tenant);
    }
    sub.rollback();
    return std::nullopt;
}

// Which tenants this backend has seen striped, and into how many stripes: a
// hint that lets adjust_storage skip the single-row UPDATE for them.  A stale
// entry costs a failed attempt (the statements check the count), never a
// wrong result; the locked path corrects it.
std::unordered_map<int64_t, int32_t> striped_hint;
constexpr size_t kMaxHints = 4096;

} // namespace

std::optional<int32_t> known_stripes(int64_t tenant)
{
    auto found = striped_hint.find(tenant);
    if (found == striped_hint.end())
        return std::nullopt;
    return found->second;
}

void remember_stripes(int64_t tenant, int32_t stripes)
{
    if (stripes <= 1) {
        striped_hint.erase(tenant);
        return;
    }
    if (striped_hint.size() >= kMaxHints)
        striped_hint.clear();
    striped_hint[tenant] = stripes;
}

std::optional<int32_t> read_stripes(int64_t tenant)
{
    static spi::Statement state("SELECT storage_stripes::bigint FROM tenancy.tenant WHERE id = $1", {INT8OID});
    if (state.execute({spi::int8_param(tenant)}, true) == 0)
        return std::nullopt;
    int32_t stripes = static_cast<int32_t>(*spi::get_int64(0, 1));
    remember_stripes(tenant, stripes);
    return stripes;
}

std::optional<int64_t> try_adjust(int64_t tenant, int64_t delta, int32_t stripes)
{
    // Takes the first stripe in this backend's order that can take the delta
    // and that no other transaction holds.  MATERIALIZED keeps the locking
    // pick a separate step that runs once.  A stripe changed since the
    // snapshot is re-checked on its newest version before it is picked.
    static spi::Statement take_free(
        "WITH pick AS MATERIALIZED ("
        "  SELECT c.stripe FROM tenancy.storage_stripe c"
        "   WHERE c.tenant_id = $1 AND " STRIPE_CAN_TAKE("c") " AND " STRIPED_AND_ALLOWED
        "   ORDER BY " STRIPE_ORDER("c") " LIMIT 1"
        "     FOR NO KEY UPDATE OF c SKIP LOCKED)"
        " UPDATE tenancy.storage_stripe s SET " STRIPE_TAKE
        "  FROM pick"
        " WHERE s.tenant_id = $1 AND s.stripe = pick.stripe AND " STRIPE_CAN_TAKE("s")
        " RETURNING s.stripe",
        {INT8OID, INT8OID, INT4OID, INT4OID});
    // Every stripe that could take it is busy: wait for the first of them,
    // then take it if it still can.
    static spi::Statement take_waiting(
        "UPDATE tenancy.storage_stripe s SET " STRIPE_TAKE
        " WHERE s.tenant_id = $1 AND " STRIPE_CAN_TAKE("s")
        "   AND s.stripe = (SELECT c.stripe FROM tenancy.storage_stripe c"
        "                    WHERE c.tenant_id = $1 AND " STRIPE_CAN_TAKE("c") " AND " STRIPED_AND_ALLOWED
        "                    ORDER BY " STRIPE_ORDER("c") " LIMIT 1)"
        " RETURNING s.stripe",
        {INT8OID, INT8OID, INT4OID, INT4OID});

    if (stripes <= 1)
        return std::nullopt;
    std::vector<spi::Param> params = {spi::int8_param(tenant), spi::int8_param(delta),
                                      spi::int4_param(static_cast<int32_t>(MyProcPid % stripes)),
                                      spi::int4_param(stripes)};
    if (std::optional<int64_t> used = attempt(take_free, tenant, params))
        return used;
    return attempt(take_waiting, tenant, params);
}

int64_t lock_total(const TenantStorage &row)
{
    // ORDER BY puts the Sort below LockRows: the stripes are locked in
    // stripe order, the one order every rebalance uses.
    static spi::Statement lock(
        "SELECT used FROM tenancy.storage_stripe WHERE tenant_id = $1 ORDER BY stripe FOR NO KEY UPDATE",
        {INT8OID});

    uint64 rows = lock.execute({spi::int8_param(row.id)}, false);
    int64_t total = row.used;
    for (uint64 i = 0; i < rows; ++i)
        if (__builtin_add_overflow(total, *spi::get_int64(i, 1), &total))
            throw Error(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                        "storage of tenant " + std::to_string(row.id) + " exceeds the bigint range");
    return total;
}

void rebalance(int64_t tenant, int32_t stripes, int64_t used, int64_t quota)
{
    static spi::Statement upsert(
        "INSERT INTO tenancy.storage_stripe AS s (tenant_id, stripe, used, headroom)"
        " SELECT $1, v.stripe, v.used, v.headroom FROM unnest($2, $3, $4) AS v (stripe, used, headroom)"
        " ON CONFLICT (tenant_id, stripe) DO UPDATE SET used = excluded.used, headroom = excluded.headroom",
        {INT8OID, INT4ARRAYOID, INT8ARRAYOID, INT8ARRAYOID});
    static spi::Statement drop_beyond(
        "DELETE FROM tenancy.storage_stripe WHERE tenant_id = $1 AND stripe >= $2", {INT8OID, INT4OID});
    static spi::Statement tenant_row(
        "UPDATE tenancy.tenant SET storage_used = 0, storage_stripes = $2"
        " WHERE id = $1 AND (storage_used <> 0 OR storage_stripes <> $2)",
        {INT8OID, INT4OID});

    // Spread evenly; the first stripes take the remainders.  headroom is 0
    // when use is above the quota (I2's second case).
    int64_t headroom = used < quota ? quota - used : 0;
    std::vector<int32_t> ids;
    std::vector<int64_t> uses, headrooms;
    for (int32_t i = 0; i < stripes; ++i) {
        ids.push_back(i);
        uses.push_back(used / stripes + (i < used % stripes ? 1 : 0));
        headrooms.push_back(headroom / stripes + (i < headroom % stripes ? 1 : 0));
    }
    upsert.execute({spi::int8_param(tenant), spi::int4_array_param(ids), spi::int8_array_param(uses),
                    spi::int8_array_param(headrooms)},
                   false);
    drop_beyond.execute({spi::int8_param(tenant), spi::int4_param(stripes)}, false);
    tenant_row.execute({spi::int8_param(tenant), spi::int4_param(stripes)}, false);
}

} // namespace tenancy::storage::stripes

using namespace tenancy;

// tenancy.set_storage_stripes(tenant bigint, stripes integer) RETURNS integer
// (the number of stripes before the change).  Online: it locks the tenant
// row and every stripe, so adjustments in flight finish first and later ones
// see the new layout; the usage moves over unchanged.
TENANCY_FUNCTION(tenancy_set_storage_stripes)
{
    static spi::Statement collapse_stripes(
        "DELETE FROM tenancy.storage_stripe WHERE tenant_id = $1", {INT8OID});
    static spi::Statement single_row(
        "UPDATE tenancy.tenant SET storage_used = $2, storage_stripes = 1 WHERE id = $1", {INT8OID, INT8OID});

    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    int32_t stripes = args::required_int32(fcinfo, 1, "stripes");
    if (stripes < 1 || stripes > storage::stripes::kMaxStripes)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                    "stripes must be between 1 and 64, not " + std::to_string(stripes),
                    {}, "1 keeps the tenant's usage in its tenancy.tenant row, as by default.");

    int32_t before = 1;
    {
        spi::Connection spi;
        storage::TenantStorage row = storage::lock_tenants({tenant}).front();
        before = row.stripes;
        storage::stripes::remember_stripes(tenant, stripes);
        int64_t used = row.stripes > 1 ? storage::stripes::lock_total(row) : row.used;
        if (stripes == 1) {
            collapse_stripes.execute({spi::int8_param(tenant)}, false);
            single_row.execute({spi::int8_param(tenant), spi::int8_param(used)}, false);
        } else {
            storage::stripes::rebalance(tenant, stripes, used, row.quota);
        }
    }
    PG_RETURN_INT32(before);
}
