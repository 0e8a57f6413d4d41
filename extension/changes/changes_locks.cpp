// Change landing: acquiring the advisory locks (see changes_locks.hpp).
#include "changes/changes_locks.hpp"

#include "shared/boundary.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
}

#include <map>

namespace tenancy::changes {

namespace {

constexpr uint16 kTableLockField = 3;
constexpr uint16 kKeyLockField = 4;

void acquire(Oid table, uint16 field, uint32 hash, bool exclusive)
{
    pg_call([&] {
        LOCKTAG tag;
        SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, static_cast<uint32>(table), hash, field);
        (void)LockAcquire(&tag, exclusive ? ExclusiveLock : ShareLock, false, false);
    });
}

} // namespace

void acquire_key_locks(std::vector<KeyLock> locks)
{
    // One entry per (table, hash), exclusive if any request is.
    std::map<Oid, std::map<uint32, bool>> by_table;
    for (const KeyLock &lock : locks) {
        bool &exclusive = by_table[lock.table][lock.hash];
        exclusive = exclusive || lock.exclusive;
    }
    // std::map iterates in (table OID, hash) order: the global order.
    for (const auto &[table, keys] : by_table) {
        if (keys.size() > kMaxKeyLocksPerTable) {
            acquire(table, kTableLockField, 0, true);
            continue;
        }
        acquire(table, kTableLockField, 0, false);
        for (const auto &[hash, exclusive] : keys)
            acquire(table, kKeyLockField, hash, exclusive);
    }
}

} // namespace tenancy::changes
