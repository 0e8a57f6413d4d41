// Saved plans by statement text and parameter types (see plan_cache.hpp).
#include "shared/plan_cache.hpp"

namespace tenancy::spi {

SPIPlanPtr PlanCache::get(const std::string &sql, const std::vector<Oid> &types,
                          const std::function<SPIPlanPtr()> &prepare)
{
    std::string key = sql;
    for (Oid type : types)
        key += ',' + std::to_string(type);
    auto found = plans_.find(key);
    if (found != plans_.end())
        return found->second;
    if (plans_.size() >= max_plans_)
        clear();
    SPIPlanPtr plan = prepare();
    plans_.emplace(std::move(key), plan);
    return plan;
}

SPIPlanPtr PlanCache::prepare_kept(const std::string &sql, const std::vector<Oid> &types)
{
    return pg_call([&] {
        SPIPlanPtr p = SPI_prepare(sql.c_str(), static_cast<int>(types.size()), const_cast<Oid *>(types.data()));
        if (p == nullptr)
            elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql.c_str(), SPI_result_code_string(SPI_result));
        SPI_keepplan(p);
        return p;
    });
}

void PlanCache::clear()
{
    for (auto &entry : plans_) {
        SPIPlanPtr plan = entry.second;
        pg_call([&] { SPI_freeplan(plan); });
    }
    plans_.clear();
}

} // namespace tenancy::spi
