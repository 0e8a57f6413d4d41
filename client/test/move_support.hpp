// Support for the tests of moving tenants (test_move.cpp,
// test_move_crash.cpp): a small tenant made for moving, and the checks that
// after any step exactly one copy is authoritative and routing points at it.
#pragma once

#include <string>

#include "placement_support.hpp"
#include "tenancy/client.hpp"

namespace tenancy::test {

std::string db_name(TenantId tenant);

// Registers migration 1: tables items (identity key) and notes (natural
// key), in every tenant of `reg`.
void add_move_migrations(const TestRegistry& reg);

// A provisioned database tenant on `server` with `rows` rows in each of its
// two tables.
TenantId movable_tenant(TestRegistry& reg, const std::string& server, int rows);

// Where the tenant's data is authoritative now, as far as a copy can tell:
// the placement's server; the copy there is writable through the Router
// (unless `frozen`: its move is cutting over, so the Router waits and gives
// up with TenantMoving), and a row written so lands there.  Any other copy
// of the tenant on the three servers is not an ordinary database of the
// tenant: it is the incoming copy of an unfinished move, or a moved copy
// (frozen, refusing writes), or absent.  Returns how many other copies exist.
int expect_authoritative(const TestRegistry& reg, TenantId tenant, const std::string& server, bool frozen);

// The number of rows the tenant's items table holds on `server`.
std::int64_t items_on(const TestRegistry& reg, TenantId tenant, const std::string& server);

}  // namespace tenancy::test
