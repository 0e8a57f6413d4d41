// Storage accounting calls of tenancy::Client: each method is one call of a
// tenancy.* storage function (adjust_storage_batch: many calls, one round
// trip).  Arguments carry explicit casts so that overload resolution never
// depends on the session.
#include <string>

#include "tenancy/client.hpp"
#include "tenancy/pipeline.hpp"

namespace tenancy {
namespace {

constexpr const char* kAdjustSql =
    "SELECT tenancy.adjust_storage($1::bigint, $2::bigint, $3::text, $4::text) AS used";

const char* policy_text(UnderflowPolicy policy) {
    return policy == UnderflowPolicy::Error ? "error" : "clamp";
}

Params adjust_params(TenantId tenant, std::int64_t delta, const std::optional<std::string>& key,
                     UnderflowPolicy policy) {
    return {std::to_string(tenant), std::to_string(delta), key, std::string(policy_text(policy))};
}

// A bigint[] literal; the values are integers, so nothing needs quoting.
std::string bigint_array(const std::vector<StorageAdjustment>& adjustments,
                         std::int64_t StorageAdjustment::*field) {
    std::string text = "{";
    for (const StorageAdjustment& a : adjustments) {
        if (text.size() > 1)
            text += ',';
        text += std::to_string(a.*field);
    }
    return text + "}";
}

StorageInfo storage_info(const Result& r) {
    return StorageInfo{r.int64(0, "used"), r.int64(0, "quota"), r.int64(0, "available")};
}

}  // namespace

std::int64_t Client::adjust_storage(TenantId tenant, std::int64_t delta,
                                    const StorageAdjustOptions& options) {
    return conn_.exec(kAdjustSql, adjust_params(tenant, delta, options.idempotency_key, options.on_underflow))
        .int64(0, "used");
}

std::vector<StorageUsage> Client::adjust_storage_many(const std::vector<StorageAdjustment>& adjustments,
                                                      UnderflowPolicy on_underflow) {
    for (const StorageAdjustment& a : adjustments)
        if (a.idempotency_key)
            raise_error(ErrorInfo{"22023", "adjust_storage_many takes no idempotency keys",
                                  "", "Use adjust_storage_batch for keyed adjustments."});
    const Result r = conn_.exec(
        "SELECT tenant, storage_used FROM tenancy.adjust_storage_many($1::bigint[], $2::bigint[], $3::text)",
        {bigint_array(adjustments, &StorageAdjustment::tenant), bigint_array(adjustments, &StorageAdjustment::delta),
         std::string(policy_text(on_underflow))});
    std::vector<StorageUsage> usage;
    usage.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row)
        usage.push_back(StorageUsage{r.int64(row, "tenant"), r.int64(row, "storage_used")});
    return usage;
}

std::vector<std::int64_t> Client::adjust_storage_batch(const std::vector<StorageAdjustment>& adjustments,
                                                       UnderflowPolicy on_underflow) {
    std::vector<Result> results;
    {
        Pipeline batch(conn_);
        for (const StorageAdjustment& a : adjustments)
            batch.send(kAdjustSql, adjust_params(a.tenant, a.delta, a.idempotency_key, on_underflow));
        results = batch.sync();
    }
    std::vector<std::int64_t> used;
    used.reserve(results.size());
    for (const Result& r : results)
        used.push_back(r.int64(0, "used"));
    return used;
}

StorageInfo Client::storage(TenantId tenant) {
    return storage_info(conn_.exec("SELECT used, quota, available FROM tenancy.storage($1::bigint)",
                                   {std::to_string(tenant)}));
}

StorageInfo Client::set_storage_quota(TenantId tenant, std::int64_t quota) {
    return storage_info(conn_.exec("SELECT used, quota, available FROM tenancy.set_storage_quota($1::bigint, $2::bigint)",
                                   {std::to_string(tenant), std::to_string(quota)}));
}

std::int64_t Client::purge_idempotency_keys(std::chrono::seconds older_than) {
    return conn_.exec("SELECT tenancy.purge_idempotency_keys(pg_catalog.make_interval(secs => $1::double precision)) AS purged",
                      {std::to_string(older_than.count())})
        .int64(0, "purged");
}

int Client::set_storage_stripes(TenantId tenant, int stripes) {
    return static_cast<int>(conn_.exec("SELECT tenancy.set_storage_stripes($1::bigint, $2::integer) AS before",
                                       {std::to_string(tenant), std::to_string(stripes)})
                                .int64(0, "before"));
}

}  // namespace tenancy
