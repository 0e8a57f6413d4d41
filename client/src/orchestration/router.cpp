#include "tenancy/orchestration/router.hpp"

#include <algorithm>
#include <cstdio>
#include <condition_variable>
#include <list>
#include <mutex>
#include <optional>
#include <thread>

#include "provision_steps.hpp"
#include "tenancy/client.hpp"
#include "tenancy/orchestration/endpoints.hpp"

namespace tenancy::orchestration {
namespace {

using Clock = std::chrono::steady_clock;

// Where a tenant's lease must connect, and what its session must be set to.
struct Target {
    ConnectOptions options;
    std::string server;   // for the per-server bound
    std::string session;  // "search_path:<schema>" or "tenant:<id>"
    bool database_tenant = false;
};

constexpr const char* kRegistryServer = "(registry)";

// A pooled connection's notices go to stderr as libpq's would, except the
// server's FATAL parting message of a session it ended (a move's cutover
// ends the sessions of the tenant's old database): the next use of the
// connection reports that as a ConnectionError anyway.
void quiet_parting_messages(Connection& c) {
    PQsetNoticeReceiver(
        c.get(),
        [](void*, const PGresult* notice) {
            const char* severity = PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
            if (severity && std::string(severity) == "FATAL")
                return;
            std::fputs(PQresultErrorMessage(notice), stderr);
        },
        nullptr);
}

// A tenant database whose claim says it is frozen for a move's cutover, or
// moved away: the tenant's location must be read again (and, while the
// registry still points there, waited for).
struct CopyNotWritable {
    std::string state;
};

// How often acquire reads a frozen tenant's location again.
constexpr std::chrono::milliseconds kMovePoll{10};

Target target_for(const TenantLocation& l, const Endpoints& endpoints) {
    Target t;
    if (l.isolation == Isolation::Database) {
        t.options = endpoints.tenant_database(l);
        // Search path and tenant are set per session below, not per conninfo,
        // so that every tenant of one database shares one pool.
        t.server = l.on_registry_server ? kRegistryServer : *l.server;
        t.session = "search_path:" + *l.schema;
        t.database_tenant = true;
    } else {
        t.options = endpoints.registry_database();
        t.server = kRegistryServer;
        t.session = l.isolation == Isolation::Schema ? "search_path:" + *l.schema
                                                     : "tenant:" + std::to_string(l.tenant);
    }
    return t;
}

}  // namespace

struct Router::Pooled {
    std::unique_ptr<Connection> connection;  // null while being opened
    std::string key;                         // the database's conninfo
    std::string server;
    std::string session;  // what the session is set up for ("" when new)
    TenantId verified = 0;  // the tenant whose claim this database was checked for
    bool in_use = true;
    Clock::time_point last_used = Clock::now();
};

struct Router::Pool {
    explicit Pool(RouterOptions o) : options(std::move(o)), registry(options.registry), endpoints(registry.connection()) {}

    RouterOptions options;

    std::mutex mutex;  // guards everything below but `registry`
    std::condition_variable freed;
    std::list<Pooled> connections;
    std::size_t peak = 0;
    std::map<std::string, std::size_t> peak_per_server;
    struct Cached {
        TenantLocation location;
        Clock::time_point read_at;
    };
    std::map<TenantId, Cached> locations;

    std::mutex registry_mutex;  // guards `registry`
    Client registry;
    const Endpoints endpoints;

    std::size_t open_on(const std::string& server) const {
        return static_cast<std::size_t>(std::count_if(connections.begin(), connections.end(),
                                                      [&](const Pooled& p) { return p.server == server; }));
    }

    void erase(const Pooled* p) {
        connections.remove_if([p](const Pooled& c) { return &c == p; });
    }

    void note_peaks(const std::string& server) {
        peak = std::max(peak, connections.size());
        std::size_t& per = peak_per_server[server];
        per = std::max(per, open_on(server));
    }

    // Whether the server has ended an idle connection: reads what it sent.
    static bool ended(const Pooled& c) {
        if (!c.connection)
            return false;
        PGconn* conn = c.connection->get();
        return PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK;
    }

    // An idle connection to the target's database, a new one, or a wait.
    Pooled* take(const Target& t) {
        std::unique_lock<std::mutex> lock(mutex);
        const Clock::time_point deadline = Clock::now() + options.acquire_timeout;
        for (;;) {
            // An idle connection the server has ended (a move's cutover ends
            // every session of the tenant's old database) is dropped here
            // rather than lent: reading what the server sent shows it.
            connections.remove_if([&](const Pooled& c) { return !c.in_use && c.key == t.options.conninfo && ended(c); });
            Pooled* reusable = nullptr;
            for (Pooled& c : connections) {
                if (c.in_use || !c.connection || c.key != t.options.conninfo)
                    continue;
                reusable = &c;
                if (c.session == t.session)
                    break;  // already set up for this tenant: no round trip
            }
            if (reusable) {
                reusable->in_use = true;
                return reusable;
            }
            const bool server_full = open_on(t.server) >= options.max_per_server;
            if (connections.size() < options.max_connections && !server_full) {
                Pooled& reserved = connections.emplace_back();
                reserved.key = t.options.conninfo;
                reserved.server = t.server;
                note_peaks(t.server);
                lock.unlock();
                try {
                    reserved.connection = std::make_unique<Connection>(t.options);
                    quiet_parting_messages(*reserved.connection);
                } catch (...) {
                    lock.lock();
                    erase(&reserved);
                    freed.notify_all();
                    throw;
                }
                return &reserved;
            }
            // Make room by closing the least recently used idle connection
            // (of the same server when that server is at its bound).
            Pooled* victim = nullptr;
            for (Pooled& c : connections)
                if (!c.in_use && c.connection && (!server_full || c.server == t.server) &&
                    (!victim || c.last_used < victim->last_used))
                    victim = &c;
            if (victim) {
                erase(victim);
                continue;
            }
            if (freed.wait_until(lock, deadline) == std::cv_status::timeout)
                raise_error(ErrorInfo{"53300",
                                      "no connection to " + t.server + " became free within " +
                                          std::to_string(options.acquire_timeout.count()) + " ms",
                                      "The router holds at most " + std::to_string(options.max_connections) +
                                          " connections, " + std::to_string(options.max_per_server) + " per server.",
                                      "Return leases sooner or raise the router's bounds."});
        }
    }

    void give_back(Pooled* p, bool discard, TenantId tenant = 0) {
        const bool broken = !p->connection || PQstatus(p->connection->get()) != CONNECTION_OK;
        const bool unusable = discard || broken || PQtransactionStatus(p->connection->get()) != PQTRANS_IDLE;
        std::lock_guard<std::mutex> lock(mutex);
        // A connection ended under a lease (a move's cutover ends the
        // sessions of the tenant's database): read the location again.
        if (broken && tenant != 0)
            locations.erase(tenant);
        if (unusable) {
            erase(p);
        } else {
            p->in_use = false;
            p->last_used = Clock::now();
        }
        freed.notify_all();
    }

    // Verifies a new connection to a tenant database and sets the session
    // up for the tenant.
    void prepare(Pooled& p, const TenantLocation& l, const Target& t) {
        Connection& c = *p.connection;
        // A tenant database holds one tenant: its claim is checked once per
        // connection and tenant, so even a registry that sends two tenants
        // to one database is caught on reuse.
        if (t.database_tenant && p.verified != l.tenant) {
            // Every column: an extension older than 0.9.0 has no move_state.
            const Result claim = c.exec("SELECT *, registry::text AS registry_id FROM tenancy.database_claim()");
            if (claim.rows() != 1 || claim.int64(0, "tenant") != l.tenant ||
                claim.optional_text(0, "registry_id") != l.registry)
                raise_error(ErrorInfo{"TN014",
                                      "database " + l.database.value_or("") + " is not tenant " +
                                          std::to_string(l.tenant) + "'s",
                                      "Its claim names another tenant or registry, or none.",
                                      "Run tenancyctl check to see what the registry and the database say."});
            if (PQfnumber(claim.get(), "move_state") >= 0) {
                const std::optional<std::string> move_state = claim.optional_text(0, "move_state");
                if (move_state == "frozen" || move_state == "moved")
                    throw CopyNotWritable{*move_state};
            }
            p.verified = l.tenant;
        }
        if (p.session == t.session)
            return;
        if (t.session.rfind("tenant:", 0) == 0) {
            if (p.session.rfind("search_path:", 0) == 0)
                c.exec("RESET search_path");
            c.exec("SELECT tenancy.set_tenant($1::bigint, false)", {std::to_string(l.tenant)});
        } else {
            if (p.session.rfind("tenant:", 0) == 0)
                c.exec("SELECT tenancy.clear_tenant()");
            c.exec("SELECT pg_catalog.set_config('search_path', $1, false)", {quoted_identifier(c, *l.schema)});
        }
        p.session = t.session;
    }
};

Router::Router(RouterOptions options) : pool_(std::make_unique<Pool>(std::move(options))) {}

Router::~Router() = default;

Router::Lease::Lease(Pool* pool, Pooled* pooled, TenantLocation location)
    : pool_(pool), pooled_(pooled), location_(std::move(location)) {}

Router::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      pooled_(std::exchange(other.pooled_, nullptr)),
      location_(std::move(other.location_)),
      discard_(other.discard_) {}

Router::Lease::~Lease() {
    if (pool_ && pooled_)
        pool_->give_back(pooled_, discard_, location_.tenant);
}

Connection& Router::Lease::connection() { return *pooled_->connection; }

TenantLocation Router::locate(TenantId tenant) {
    {
        std::lock_guard<std::mutex> lock(pool_->mutex);
        auto cached = pool_->locations.find(tenant);
        if (cached != pool_->locations.end() &&
            Clock::now() - cached->second.read_at < pool_->options.location_ttl)
            return cached->second.location;
    }
    TenantLocation fresh;
    {
        std::lock_guard<std::mutex> lock(pool_->registry_mutex);
        try {
            fresh = pool_->registry.tenant_location(tenant);
        } catch (const ConnectionError&) {
            pool_->registry = Client(pool_->options.registry);  // the registry restarted: one retry
            fresh = pool_->registry.tenant_location(tenant);
        }
    }
    std::lock_guard<std::mutex> lock(pool_->mutex);
    auto& cached = pool_->locations[tenant];
    if (cached.location.tenant == tenant && cached.location.epoch != fresh.epoch &&
        cached.location.isolation == Isolation::Database) {
        // The tenant moved: its old database's idle connections are useless.
        const std::string old_key = target_for(cached.location, pool_->endpoints).options.conninfo;
        pool_->connections.remove_if([&](const Pooled& p) { return !p.in_use && p.key == old_key; });
    }
    cached = {fresh, Clock::now()};
    return fresh;
}

Router::Lease Router::acquire(TenantId tenant) {
    // A tenant whose move is cutting over is waited for: its database is
    // frozen until the registry switches it to the target (a new epoch).
    const Clock::time_point deadline = Clock::now() + pool_->options.acquire_timeout;
    for (;;) {
        TenantLocation location = locate(tenant);
        check_routable(location);
        const Target target = target_for(location, pool_->endpoints);
        Pooled* pooled = pool_->take(target);
        try {
            pool_->prepare(*pooled, location, target);
        } catch (const CopyNotWritable& frozen) {
            pool_->give_back(pooled, /*discard=*/true);
            invalidate(tenant);
            if (Clock::now() >= deadline)
                raise_error(ErrorInfo{"TN020",
                                      "tenant " + std::to_string(tenant) + " is being moved: its database is " +
                                          frozen.state + " and the registry has not switched it within " +
                                          std::to_string(pool_->options.acquire_timeout.count()) + " ms",
                                      "Writes pause while a move cuts over; a move stopped during its cutover "
                                      "leaves them paused until it is resumed or rolled back.",
                                      "Retry; if it lasts, see tenancyctl check (move_unfinished)."});
            std::this_thread::sleep_for(kMovePoll);
            continue;
        } catch (...) {
            pool_->give_back(pooled, /*discard=*/true);
            throw;
        }
        return Lease(pool_.get(), pooled, std::move(location));
    }
}

void Router::check_routable(const TenantLocation& location) {
    const TenantId tenant = location.tenant;
    if (location.status != TenantStatus::Active)
        raise_error(ErrorInfo{"TN002",
                              "tenant " + std::to_string(tenant) + " is " + std::string(to_string(location.status)) +
                                  ", not active",
                              "", ""});
    if (!location.ready())
        raise_error(ErrorInfo{"TN010",
                              "tenant " + std::to_string(tenant) + " is not ready (placement state " + location.state +
                                  ")",
                              "", location.state == "provisioning" ? "Run tenancyctl provision." : ""});
}

void Router::invalidate(TenantId tenant) {
    std::lock_guard<std::mutex> lock(pool_->mutex);
    pool_->locations.erase(tenant);
}

Router::Stats Router::stats() const {
    std::lock_guard<std::mutex> lock(pool_->mutex);
    Stats s;
    s.open = pool_->connections.size();
    for (const Pooled& p : pool_->connections) {
        s.in_use += p.in_use ? 1 : 0;
        ++s.open_per_server[p.server];
    }
    s.peak_open = pool_->peak;
    s.peak_per_server = pool_->peak_per_server;
    return s;
}

}  // namespace tenancy::orchestration
