// Moving a tenant to another server online (docs/placement.md, "Moving a
// tenant"): PostgreSQL's own logical replication copies the data while the
// tenant keeps working, and writes pause only for the cutover.
//
//   tenancy::orchestration::Mover mover(registry_options);
//   MoveOptions options;
//   options.to = "eu-2";
//   MoveReport report = mover.move(42, options);   // report.write_pause_ms
//
// The steps, each recorded in the registry (tenancy.tenant_move) and each
// safe to repeat, so that a move stopped anywhere is finished by resume()
// or rolled back by abort():
//   1. the source stops taking migrations (tenancy.prepare_move_out);
//   2. the tenant's database is created on the target and claimed as the
//      move's incoming copy, with the tenant's migration ledger;
//   3. the tenant's schema is copied with pg_dump --schema-only and
//      pg_restore (PostgreSQL's own tools);
//   4. a publication of the schema on the source, a replication slot, and a
//      subscription on the target copy the data and then follow every
//      change;
//   5. cutover: the source is frozen (a trigger on every table refuses
//      writes; a tenant database is also made read-only for new sessions
//      and its other sessions are ended), the target catches up (a fence
//      row written by the freeze arrives), sequences are copied, every
//      table is verified on both sides (row count and content checksum),
//      then the placement switches to the target and its epoch grows, in
//      one registry transaction.  Writes pause from the freeze to the
//      switch; routers that find the source frozen wait for the switch;
//   6. the source is marked moved (it stays frozen and read-only), the
//      target becomes the tenant's ordinary database, the replication is
//      dropped, and with drop_source the source is dropped too.
// Before the switch the source is authoritative, after it the target.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tenancy/connection.hpp"
#include "tenancy/placement.hpp"

namespace tenancy::orchestration {

struct MoveOptions {
    std::string to;             // the target server (move() only)
    bool drop_source = false;   // drop the source after the switch instead of keeping it read-only
    bool dry_run = false;       // check everything and report the plan; change nothing (move() only)
    // The initial copy of the data (step 4) may take this long.
    std::chrono::milliseconds sync_timeout{std::chrono::minutes(60)};
    // Freezing waits this long for the writes in flight, and the target
    // this long to catch up, before the cutover is given up (the source
    // takes writes again; resume() retries).
    std::chrono::milliseconds lock_timeout{std::chrono::seconds(5)};
    std::chrono::milliseconds catch_up_timeout{std::chrono::seconds(30)};
    // Where pg_dump and pg_restore are; empty: $TENANCY_PG_BINDIR, else PATH.
    std::string pg_bindir;
    // Called after each step with its name (from the thread that runs it).
    std::function<void(const std::string& step)> progress;
};

// Row count and content checksum of one table, as verified on both sides.
struct TableCheck {
    std::string table;
    std::int64_t rows = 0;
    std::string checksum;
    std::string method;  // "hash" (the row's hash) or "text" (of its text form)
};

struct MoveReport {
    std::int64_t move = 0;  // 0 for a dry run
    TenantId tenant = 0;
    std::string from;       // "database tenant_42 on server s2" or "schema tenant_42 of the registry database"
    std::string to;         // "database tenant_42 on server s3"
    std::string state;      // done, aborted, planned (dry run)
    bool source_kept = false;    // the source stays, frozen and read-only, marked moved
    bool source_dropped = false;
    std::vector<TableCheck> tables;  // what was verified before the switch
    std::int64_t rows = 0;
    double write_pause_ms = 0;  // freeze to switch, when this run did the cutover
    // Where the pause went: freezing (ending sessions, waiting for writes in
    // flight), the target catching up, copying sequences, verifying, switching.
    double freeze_ms = 0, catch_up_ms = 0, sequences_ms = 0, verify_ms = 0, switch_ms = 0;
    double seconds = 0;         // this run
    std::vector<std::string> steps;  // what this run did (a dry run: what it would do)
};

class Mover {
public:
    explicit Mover(ConnectOptions registry);

    // Moves a database or schema tenant to options.to.  Refused, before
    // anything changes: TenantMoving (a move is unfinished), NotMovable (a
    // table without a primary key or replica identity, an unlogged table, a
    // shared tenant), ServerNotReadyForMove (wal_level below logical on the
    // source, no free replication slot, a role missing on the target, the
    // extension or pg_dump missing), MoveTargetOccupied (the target holds a
    // database of that name), NoServerAvailable (the target is full).  A
    // failure later leaves the move recorded: resume() or abort().
    // MoveVerificationFailed: the copies differ, nothing switched, the
    // source takes writes again.
    MoveReport move(TenantId tenant, const MoveOptions& options);

    // Finishes the tenant's unfinished move from wherever it stopped.
    // MoveStepRefused if there is none; TenantMoving if another client
    // runs it.
    MoveReport resume(TenantId tenant, const MoveOptions& options);

    // Rolls the tenant's unfinished move back: the source takes writes
    // again and the target's database is dropped.  MoveStepRefused once the
    // move has switched (the target is authoritative: resume() instead).
    MoveReport abort(TenantId tenant, const MoveOptions& options);

    // Drops the source that a finished move of the tenant kept: `move`, or
    // else the last one that kept its source.
    MoveReport drop_kept_source(TenantId tenant, const MoveOptions& options,
                                std::optional<std::int64_t> move = std::nullopt);

private:
    ConnectOptions registry_;
};

}  // namespace tenancy::orchestration
