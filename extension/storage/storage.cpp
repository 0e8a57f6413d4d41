// Storage accounting rules shared by every adjustment (see storage.hpp).
#include "storage/storage.hpp"

#include "shared/errcodes.hpp"
#include "registry/registry.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
}

#include <algorithm>
#include <limits>

namespace tenancy::storage {

namespace {

std::string str(int64_t value) { return std::to_string(value); }

} // namespace

UnderflowPolicy underflow_policy_arg(FunctionCallInfo fcinfo, int n)
{
    std::string value = args::required_text(fcinfo, n, "on_underflow");
    if (value == "clamp")
        return UnderflowPolicy::Clamp;
    if (value == "error")
        return UnderflowPolicy::Error;
    throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "on_underflow must be 'clamp' or 'error', not '" + value + "'");
}

Settlement settle(const TenantStorage &row, int64_t delta, UnderflowPolicy policy)
{
    const std::string tenant = "tenant " + str(row.id);
    if (delta > 0) {
        if (row.status != "active")
            throw Error(errcode::kTenantNotActive, tenant + " is " + row.status + "; only an active tenant can add storage",
                        {}, "Freeing storage (a negative delta) is allowed in every status.");
        if (row.used > std::numeric_limits<int64_t>::max() - delta)
            throw Error(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                        "storage of " + tenant + " would exceed the bigint range: " + str(row.used) + " used + " +
                            str(delta) + " added");
        if (row.used + delta > row.quota)
            throw Error(errcode::kQuotaExceeded,
                        "storage quota of " + tenant + " exceeded: " + str(row.used) + " used + " + str(delta) +
                            " added > " + str(row.quota) + " allowed",
                        str(std::max<int64_t>(row.quota - row.used, 0)) + " bytes are available; nothing was changed.",
                        "Free storage first, or raise the quota with tenancy.set_storage_quota.");
        return {row.used + delta, false};
    }

    // No overflow possible: used >= 0 and delta <= 0.
    int64_t result = row.used + delta;
    if (result >= 0)
        return {result, false};
    if (policy == UnderflowPolicy::Error)
        throw Error(errcode::kStorageUnderflow,
                    "storage of " + tenant + " would fall below zero: " + str(row.used) + " used, " + str(delta) +
                        " freed",
                    "More bytes were freed than were counted; nothing was changed.",
                    "Look for a deletion counted twice or an upload never counted; on_underflow => 'clamp' stores 0 "
                    "instead and records the event in tenancy.storage_anomaly.");
    return {0, true};
}

std::vector<TenantStorage> lock_tenants(const std::vector<int64_t> &ids)
{
    // ORDER BY puts the Sort below LockRows, so rows are locked in id order.
    static spi::Statement lock(
        "SELECT id, status, storage_used, storage_quota, storage_stripes::bigint"
        "  FROM tenancy.tenant"
        " WHERE id = ANY ($1)"
        " ORDER BY id"
        "   FOR NO KEY UPDATE",
        {INT8ARRAYOID});

    uint64 rows = lock.execute({spi::int8_array_param(ids)}, false);
    std::vector<TenantStorage> locked;
    locked.reserve(rows);
    for (uint64 i = 0; i < rows; ++i)
        locked.push_back({*spi::get_int64(i, 1), spi::get_text(i, 2).value_or(""), *spi::get_int64(i, 3),
                          *spi::get_int64(i, 4), static_cast<int32_t>(*spi::get_int64(i, 5))});

    // Both lists are sorted: the first position where they differ is the
    // smallest id that does not exist.
    for (size_t i = 0; i < ids.size(); ++i)
        if (i >= locked.size() || locked[i].id != ids[i])
            registry::throw_tenant_not_found(ids[i]);
    return locked;
}

void write_usage(const std::vector<NewUsage> &changes)
{
    static spi::Statement update(
        "UPDATE tenancy.tenant t"
        "   SET storage_used = u.used"
        "  FROM unnest($1::bigint[], $2::bigint[]) AS u (id, used)"
        " WHERE t.id = u.id",
        {INT8ARRAYOID, INT8ARRAYOID});

    std::vector<int64_t> tenants, used;
    for (const NewUsage &c : changes) {
        tenants.push_back(c.tenant);
        used.push_back(c.used);
    }
    update.execute({spi::int8_array_param(tenants), spi::int8_array_param(used)}, false);
}

void record_clamp(int64_t tenant, int64_t delta, int64_t used_before)
{
    static spi::Statement insert(
        "INSERT INTO tenancy.storage_anomaly (tenant_id, attempted_delta, used_before) VALUES ($1, $2, $3)",
        {INT8OID, INT8OID, INT8OID});

    // used_before >= 0 > used_before + delta, so the sum fits in a bigint and
    // its magnitude (up to 2^63) in an unsigned one.
    uint64_t lost = uint64_t{0} - static_cast<uint64_t>(used_before + delta);
    std::string message = "storage of tenant " + str(tenant) + " clamped to 0: " + std::to_string(lost) +
                          " freed bytes were never counted";
    std::string detail = "storage_used was " + str(used_before) + ", delta " + str(delta) +
                         "; the event is recorded in tenancy.storage_anomaly.";
    pg_call([&] {
        ereport(WARNING, (errmsg_internal("%s", message.c_str()), errdetail_internal("%s", detail.c_str()),
                          errhint("A negative balance means a deletion was counted twice or an upload never was.")));
    });
    insert.execute({spi::int8_param(tenant), spi::int8_param(delta), spi::int8_param(used_before)}, false);
}

} // namespace tenancy::storage
