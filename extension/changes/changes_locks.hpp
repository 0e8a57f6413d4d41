// Change landing: the lock order that keeps concurrent apply_changes calls
// free of deadlocks and unique violations (docs/changes.md, "Concurrency").
//
// Before it reads or writes any row, a call takes transaction-level advisory
// locks on every key it will touch: exclusive for each key of its own
// events and for each parent key it may have to create as a placeholder,
// shared for each parent key that already exists and that it only
// references.  It takes them all at once, in one global order (table OID,
// then key hash), and keeps them until the transaction ends.
//
// Every row-level conflict between two calls (inserting or updating the
// same row, a placeholder and the parent's real create, two placeholders of
// one parent, a foreign-key check against a parent another call updates)
// involves one key locked exclusively by one call and by the other in any
// mode.  So the second call waits for the first on the advisory lock, before
// it has touched any row, and meets no row lock of the first at all.  A call
// only ever waits while acquiring its advisory locks, for a lock that sorts
// after every lock it holds: a cycle of waits would need some call to wait
// for a lock sorting before one it holds, which never happens.
//
// The locks live in the advisory-lock space with field 4 (pg_locks.objsubid)
// set to 3 (a whole table) or 4 (one key hash), values SQL's own advisory
// lock functions never use.  A call that would lock more than
// kMaxKeyLocksPerTable keys of one table locks the whole table instead, so
// that large batches cannot exhaust the shared lock table; every other call
// holds that table lock in shared mode (it sorts first among the table's
// locks).
#pragma once

extern "C" {
#include "postgres.h"
}

#include <vector>

namespace tenancy::changes {

inline constexpr size_t kMaxKeyLocksPerTable = 512;

struct KeyLock {
    Oid table = InvalidOid;
    uint32 hash = 0;
    bool exclusive = false;
};

// Acquires `locks` (in any order, duplicates allowed) as described above.
void acquire_key_locks(std::vector<KeyLock> locks);

} // namespace tenancy::changes
