// Striped storage counters: one tenant's usage spread over several rows of
// tenancy.storage_stripe, so that concurrent adjustments of one busy tenant
// stop queuing on one row lock.  docs/storage.md ("Striped counters") has the
// design and the invariants; in short, each stripe holds part of the usage
// and an escrowed share of the headroom, so
//
//   (I1) 0 <= used_i and 0 <= headroom_i for every stripe,
//   (I2) tenant.storage_used + sum(used_i + headroom_i) <= quota, or every
//        headroom_i is 0 (use above a lowered quota),
//
// and an adjustment that one stripe can take alone (delta <= headroom_i, or
// used_i + delta >= 0) changes only that stripe: positive deltas move bytes
// from its headroom to its use, negative ones free use without creating
// headroom, so I2's sum never grows and the quota is never exceeded.  Every
// other adjustment, quota change and stripe-count change locks the tenant
// row and then every stripe in stripe order, sees the exact total, decides,
// and spreads use and headroom again ("rebalance").
//
// Touches tenancy.storage_stripe and tenancy.tenant.  Needs an open
// spi::Connection and the caller's CatalogOnlySearchPath (or a pinned path).
#pragma once

#include "storage/storage.hpp"

#include <cstdint>
#include <optional>

namespace tenancy::storage::stripes {

inline constexpr int32_t kMaxStripes = 64;

// The fast path for a striped tenant believed to have `stripes` stripes:
// applies `delta` to one stripe that can take it alone and returns the
// tenant's usage after it (this adjustment plus every one committed before
// the statement began), or nullopt when the tenant no longer has that many
// stripes, is not active for a positive delta, or no stripe could take the
// delta alone: then the caller settles it with the tenant locked.  Each
// attempt runs in a subtransaction that is rolled back when it fails, so a
// call that falls through holds no lock on any of the tenant's stripes and
// cannot deadlock with a rebalance that waits for them.
std::optional<int64_t> try_adjust(int64_t tenant, int64_t delta, int32_t stripes);

// A per-backend hint of which tenants are striped, so that their adjustments
// skip the single-row UPDATE.  known_stripes: the count last seen, if the
// tenant was seen striped; remember_stripes: records a count seen (1 forgets
// the tenant); read_stripes: reads the count (nullopt for an unknown tenant)
// and records it.
std::optional<int32_t> known_stripes(int64_t tenant);
void remember_stripes(int64_t tenant, int32_t stripes);
std::optional<int32_t> read_stripes(int64_t tenant);

// For a tenant row locked by lock_tenants with stripes > 1: locks every
// stripe in stripe order (waiting for adjustments in flight to end) and
// returns the exact usage, storage_used plus every stripe's use.
int64_t lock_total(const TenantStorage &row);

// For a tenant whose row and stripes the caller has locked: stores `used` as
// its usage, spread evenly over its `stripes` stripes (which must exist),
// with the headroom max(quota - used, 0) spread the same way, and
// storage_used 0.
void rebalance(int64_t tenant, int32_t stripes, int64_t used, int64_t quota);

} // namespace tenancy::storage::stripes
