#include "move_support.hpp"

#include <gtest/gtest.h>

#include <fmt/core.h>

#include "tenancy/orchestration/provisioner.hpp"
#include "tenancy/orchestration/router.hpp"

namespace tenancy::test {

namespace orch = orchestration;

std::string db_name(TenantId tenant) { return "tenant_" + std::to_string(tenant); }

void add_move_migrations(const TestRegistry& reg) {
    reg.client().add_migration(1, "items and notes",
                               "CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text);"
                               "CREATE TABLE notes (id int PRIMARY KEY, body text)");
}

TenantId movable_tenant(TestRegistry& reg, const std::string& server, int rows) {
    const TenantId t = reg.create_tenants("mv", 1, "database", server).front();
    orch::Provisioner(reg.options()).provision(t);
    Connection db = reg.connect_to(server, db_name(t));
    db.exec(fmt::format("INSERT INTO {}.items (name) SELECT 'item ' || g FROM generate_series(1, {}) g", db_name(t),
                        rows));
    db.exec(fmt::format("INSERT INTO {}.notes SELECT g, 'note ' || g FROM generate_series(1, {}) g", db_name(t), rows));
    return t;
}

std::int64_t items_on(const TestRegistry& reg, TenantId tenant, const std::string& server) {
    Connection db = reg.connect_to(server, db_name(tenant));
    return db.exec("SELECT count(*) AS n FROM " + db_name(tenant) + ".items").int64(0, "n");
}

int expect_authoritative(const TestRegistry& reg, TenantId tenant, const std::string& server, bool frozen) {
    Client registry = reg.client();
    const TenantLocation l = registry.tenant_location(tenant);
    EXPECT_EQ(l.server, server) << "the placement names the authoritative copy";
    EXPECT_EQ(l.state, "ready");

    orch::RouterOptions options;
    options.registry = reg.options();
    options.acquire_timeout = std::chrono::milliseconds(frozen ? 300 : 10000);
    orch::Router router(options);
    if (frozen) {
        EXPECT_THROW(router.acquire(tenant), TenantMoving) << "a cutover in progress: the Router waits, then says so";
    } else {
        const std::int64_t before = items_on(reg, tenant, server);
        {
            auto lease = router.acquire(tenant);
            EXPECT_EQ(lease.location().server, server) << "routing points at the authoritative copy";
            lease.connection().exec("INSERT INTO items (name) VALUES ('routed write')");
        }
        EXPECT_EQ(items_on(reg, tenant, server), before + 1) << "the routed write landed on " << server;
    }

    int others = 0;
    for (const std::string other : {"main", "s2", "s3"}) {
        if (other == server || !reg.database_exists(other, db_name(tenant)))
            continue;
        ++others;
        Connection db = reg.connect_to(other, db_name(tenant));
        const Result claim = db.exec(
            "SELECT count(*) AS n FROM pg_extension WHERE extname = 'tenancy'");
        if (claim.int64(0, "n") == 0)
            continue;  // created, not claimed yet: nothing of the tenant there
        const Result c = db.exec("SELECT tenant, move_state FROM tenancy.database_claim()");
        if (c.rows() == 0)
            continue;
        EXPECT_EQ(c.int64(0, "tenant"), tenant);
        const std::optional<std::string> state = c.optional_text(0, "move_state");
        // incoming: a target before its switch; frozen: a source between
        // its switch and being marked moved; moved.
        EXPECT_TRUE(state == "incoming" || state == "frozen" || state == "moved")
            << "the copy on " << other << " is " << state.value_or("an ordinary database") << ", yet not placed";
        if (state == "moved" || state == "frozen") {
            db.exec("BEGIN READ WRITE");
            EXPECT_THROW(db.exec("INSERT INTO " + db_name(tenant) + ".items (name) VALUES ('x')"), CopyFrozen)
                << "a frozen or moved copy refuses writes";
            db.exec("ROLLBACK");
        }
    }
    return others;
}

}  // namespace tenancy::test
