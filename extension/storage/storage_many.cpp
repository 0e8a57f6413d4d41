// tenancy.adjust_storage_many: several tenants' adjustments, all or nothing.
//
// All rows are locked first, in ascending id order (storage.hpp:
// lock_tenants), so that two calls over overlapping tenants, in whatever
// order their arrays list them, queue behind each other instead of
// deadlocking.  Then every delta is settled before anything is written or
// warned about, so a refusal leaves no trace.
#include "shared/errcodes.hpp"
#include "storage/storage_stripes.hpp"
#include "storage/storage.hpp"

#include <algorithm>
#include <numeric>

namespace tenancy::storage {

namespace {

// Positions of `tenants` sorted by tenant id; refuses a tenant listed twice,
// since the result of two deltas for one tenant would depend on which is
// applied first (e.g. +10 then -10 at a full quota).
std::vector<size_t> positions_by_tenant(const std::vector<int64_t> &tenants)
{
    std::vector<size_t> order(tenants.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tenants[a] < tenants[b]; });
    for (size_t i = 1; i < order.size(); ++i)
        if (tenants[order[i]] == tenants[order[i - 1]])
            throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        "tenant " + std::to_string(tenants[order[i]]) + " appears more than once in tenants",
                        {}, "Add up the deltas of one tenant into a single element.");
    return order;
}

} // namespace
} // namespace tenancy::storage

using namespace tenancy;

// tenancy.adjust_storage_many(tenants bigint[], deltas bigint[], on_underflow text)
//   RETURNS TABLE (tenant bigint, storage_used bigint), one row per element,
//   in the order of the arrays.
TENANCY_FUNCTION(tenancy_adjust_storage_many)
{
    std::vector<int64_t> tenants = args::required_int8_array(fcinfo, 0, "tenants");
    std::vector<int64_t> deltas = args::required_int8_array(fcinfo, 1, "deltas");
    storage::UnderflowPolicy policy = storage::underflow_policy_arg(fcinfo, 2);
    if (tenants.size() != deltas.size())
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                    "tenants and deltas must have the same length, not " + std::to_string(tenants.size()) + " and " +
                        std::to_string(deltas.size()));
    std::vector<size_t> order = storage::positions_by_tenant(tenants);

    srf::Materialized out(fcinfo);
    if (tenants.empty())
        return (Datum)0;

    std::vector<int64_t> sorted_ids;
    for (size_t pos : order)
        sorted_ids.push_back(tenants[pos]);

    std::vector<int64_t> new_used(tenants.size());
    {
        spi::Connection spi;
        std::vector<storage::TenantStorage> rows = storage::lock_tenants(sorted_ids);
        // Striped tenants: every stripe locked too (after all tenant rows,
        // in id order), and settled on the exact total.
        std::vector<storage::TenantStorage> counted = rows;
        for (storage::TenantStorage &row : counted)
            if (row.stripes > 1)
                row.used = storage::stripes::lock_total(row);

        std::vector<storage::Settlement> settled;
        for (size_t i = 0; i < counted.size(); ++i)
            settled.push_back(storage::settle(counted[i], deltas[order[i]], policy));

        std::vector<storage::NewUsage> changes;
        for (size_t i = 0; i < counted.size(); ++i) {
            if (settled[i].clamped)
                storage::record_clamp(counted[i].id, deltas[order[i]], counted[i].used);
            if (counted[i].stripes > 1)
                storage::stripes::rebalance(counted[i].id, counted[i].stripes, settled[i].used, counted[i].quota);
            else
                changes.push_back({counted[i].id, settled[i].used});
            new_used[order[i]] = settled[i].used;
        }
        if (!changes.empty())
            storage::write_usage(changes);
    }

    for (size_t i = 0; i < tenants.size(); ++i) {
        Datum values[2] = {Int64GetDatum(tenants[i]), Int64GetDatum(new_used[i])};
        bool nulls[2] = {false, false};
        out.put_values(values, nulls);
    }
    return (Datum)0;
}
