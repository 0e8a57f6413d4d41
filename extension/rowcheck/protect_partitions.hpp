// Partitioned tables under protection: which tables a protected partitioned
// table's protection covers, and keeping that true when partitions are
// created, attached or detached (docs/rowcheck.md, "Partitioned tables").
//
// Row-level security set on a partitioned table applies to queries through
// it, not to a partition queried directly, and statement-level triggers are
// not inherited: so every member of the tree (the partitioned table,
// intermediate partitioned tables and leaves) gets its own policy, forced
// row-level security and TRUNCATE guard, and every leaf its own row guard.
// NOT NULL, the foreign key and the index are created on the partitioned
// table and PostgreSQL gives each partition its copy.
//
// Every member is recorded in tenancy.protected_table with partition_of =
// the protected partitioned table it is protected through (the topmost
// protected ancestor, the "root"); tenancy.unprotect(root) undoes them all.
#pragma once

extern "C" {
#include "postgres.h"
}

#include <optional>
#include <string>
#include <vector>

namespace tenancy::partitions {

struct Root {
    Oid relid = InvalidOid;
    std::string column;
};

// The topmost protected ancestor of `relid` (not `relid` itself), if any.
// Needs an spi::Connection.
std::optional<Root> protected_root_of(Oid relid);

// The partitions below `relid`, every level, parents before children.
// Needs an spi::Connection.
std::vector<Oid> members(Oid relid);

// A partition whose record does not match its place in a protected tree.
struct Pending {
    enum class Kind {
        Unprotected, // in the tree of a protected root, not protected through it
        Detached,    // recorded as protected through a root whose tree it left
    };
    Kind kind;
    Oid relid = InvalidOid;
    Oid root = InvalidOid;
    std::string column;
};

// What needs settling in the trees of the given protected roots (all
// protected partitioned tables when `roots` is empty), detached ones first.
// Needs an spi::Connection.
std::vector<Pending> pending(const std::vector<Oid> &roots);

// Protects an unprotected member through its root (as the current user, who
// must own it), or makes a detached one a protected table of its own (it
// keeps every part; the NOT NULL, foreign key and index it got from the root
// become its own, so unprotecting it later removes them).  Needs an
// spi::Connection.
void settle(const Pending &pending);

// While alive, the event trigger tenancy_protect_partitions does nothing:
// the extension's own DDL (protect, unprotect, check's repair, the trigger
// itself) fires it too, and those callers settle partitions themselves, in
// the right order (a partitioned table's parts before its partitions').
class OwnDdl {
public:
    OwnDdl();
    ~OwnDdl();
    OwnDdl(const OwnDdl &) = delete;
    OwnDdl &operator=(const OwnDdl &) = delete;

private:
    bool saved_;
};

// Whether an OwnDdl is alive.
bool own_ddl();

} // namespace tenancy::partitions
