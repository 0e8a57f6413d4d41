// Link sync: turning the caller's values into values of the link table's
// key column types, and the per-owner lock key.
//
// sync_links accepts its owner and targets in whatever types the call
// resolved to (an integer literal, a uuid, a text literal, an int[] for a
// bigint column, ...).  Converting them here, once, before the statement runs
// means the statement always takes parameters of the column types (one
// cached plan per table, whatever the callers pass) and that equal owners
// always take the same lock, however they were spelled.
#pragma once

#include "shared/boundary.hpp"

#include <string>

namespace tenancy::links {

// `value` (of type `from`) converted as CAST(value AS to) would (without a
// type modifier: the INSERT applies the column's own length limits).  No cast
// from `from` to `to` is 22023; a value the cast rejects keeps the cast's
// 22P02 (invalid text representation), any other data exception (out of
// range, ...) becomes 22023.  `what` names the value in messages.
Datum convert_value(Datum value, Oid from, Oid to, const std::string &what);

// The second key of the transaction advisory lock that serialises syncs of
// one owner: a hash of the owner value (already of the column type) that is
// equal for values the column type's hash opclass considers equal (0 for a
// type without one, so that all its owners share one lock).
int32 owner_lock_hash(Datum owner, Oid type, Oid collation);

// The SQL name of a type, for messages.
std::string type_name(Oid type);

} // namespace tenancy::links
