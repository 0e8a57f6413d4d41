// Saved plans of statements the extension builds at run time (their text
// names a user's table, columns and operators as they are now), kept by
// statement text and parameter types.  A renamed or recreated table, column
// or type gives another text, never a stale plan; for the same text
// PostgreSQL's plan cache re-plans by itself after DDL.  Entries whose text
// no longer occurs are merely unused: the cache is dropped whole when it
// reaches its bound.  One per statement family, declared at namespace scope.
#pragma once

#include "shared/boundary.hpp"

extern "C" {
#include "executor/spi.h"
}

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace tenancy::spi {

class PlanCache {
public:
    explicit PlanCache(size_t max_plans) : max_plans_(max_plans) {}

    // The kept plan for (sql, types); `prepare` makes one (returning a plan
    // already passed to SPI_keepplan) when there is none.  Needs an open
    // spi::Connection.
    SPIPlanPtr get(const std::string &sql, const std::vector<Oid> &types,
                   const std::function<SPIPlanPtr()> &prepare);

    // The common `prepare`: SPI_prepare and SPI_keepplan.
    static SPIPlanPtr prepare_kept(const std::string &sql, const std::vector<Oid> &types);

private:
    void clear();

    size_t max_plans_;
    std::unordered_map<std::string, SPIPlanPtr> plans_;
};

} // namespace tenancy::spi
