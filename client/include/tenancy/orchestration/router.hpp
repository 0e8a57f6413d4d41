// Routing: from a tenant id to a ready connection where its data is
// (docs/placement.md, "Routing").
//
//   tenancy::orchestration::Router router({registry_options});
//   auto lease = router.acquire(42);              // ready, verified, set up
//   lease.connection().exec("SELECT * FROM orders");
//   // the connection returns to the pool when `lease` is destroyed
//
// A database tenant gets a connection to its database (the database's claim
// is verified when the connection is opened, and search_path is its schema);
// a schema tenant a registry-database connection with search_path set to its
// schema; a shared tenant one with tenancy.set_tenant(id) for the session.
// Connections are pooled per database and bounded per server and in total;
// when a new one is needed and the bound is reached, the least recently used
// idle connection is closed, else acquire waits (up to acquire_timeout).
// A tenant's location is cached for location_ttl; when it is read again with
// a new placement epoch (the tenant moved), connections to the old place are
// closed.  A tenant that is not ready (TenantNotReady, TN010) or not active
// (TenantNotActive, TN002) is never handed out.
//
// Moves (docs/placement.md, "Moving a tenant"): a database found frozen for
// a move's cutover is waited for, reading the location again every 10 ms
// until the registry switches the tenant to its target (TenantMoving, TN020,
// after acquire_timeout); one found moved away sends acquire to the new
// location at once.  A connection that broke under a lease (the cutover ends
// the sessions of the tenant's old database) makes the next acquire read the
// location again.  A write refused with CopyFrozen (TN021) by a schema
// tenant's frozen copy: call invalidate() and retry.  Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "tenancy/connection.hpp"
#include "tenancy/placement.hpp"

namespace tenancy::orchestration {

struct RouterOptions {
    ConnectOptions registry;  // where the registry is (the router keeps one connection to it for look-ups)
    std::size_t max_connections = 20;  // pooled connections in total
    std::size_t max_per_server = 10;   // pooled connections per server (the registry's own counts as one)
    std::chrono::milliseconds acquire_timeout{10000};
    std::chrono::milliseconds location_ttl{5000};
};

class Router {
    struct Pool;
    struct Pooled;

public:
    explicit Router(RouterOptions options);
    ~Router();
    Router(const Router&) = delete;
    Router& operator=(const Router&) = delete;

    // A pooled connection lent to one tenant's work; returned on destruction.
    class Lease {
    public:
        Lease(Lease&& other) noexcept;
        Lease& operator=(Lease&&) = delete;
        Lease(const Lease&) = delete;
        ~Lease();

        Connection& connection();
        const TenantLocation& location() const { return location_; }
        // Close the connection instead of returning it (e.g. it is unusable).
        void discard() noexcept { discard_ = true; }

    private:
        friend class Router;
        Lease(Pool* pool, Pooled* pooled, TenantLocation location);
        Pool* pool_;
        Pooled* pooled_;
        TenantLocation location_;
        bool discard_ = false;
    };

    // Throws TenantNotFound, TenantNotActive, TenantNotReady,
    // DatabaseNotTenants (the database is not the tenant's), ConnectionError,
    // or InsufficientResources (53300) when no connection frees up in time.
    Lease acquire(TenantId tenant);

    // Forgets a tenant's cached location: the next acquire reads it again.
    void invalidate(TenantId tenant);

    struct Stats {
        std::size_t open = 0;
        std::size_t in_use = 0;
        std::size_t peak_open = 0;
        std::map<std::string, std::size_t> open_per_server;
        std::map<std::string, std::size_t> peak_per_server;
    };
    Stats stats() const;

private:
    TenantLocation locate(TenantId tenant);
    // TenantNotActive or TenantNotReady unless the location may be used.
    static void check_routable(const TenantLocation& location);

    std::unique_ptr<Pool> pool_;
};

}  // namespace tenancy::orchestration
