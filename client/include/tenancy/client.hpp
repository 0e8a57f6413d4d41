// High-level client of the tenancy extension: one method per SQL function.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tenancy/changes.hpp"
#include "tenancy/connection.hpp"
#include "tenancy/errors.hpp"
#include "tenancy/placement.hpp"
#include "tenancy/storage.hpp"
#include "tenancy/types.hpp"

namespace tenancy {

// ---- Link sync types (tenancy.sync_links, dedupe, find_duplicates) ----
// Values travel as text and the server converts them to the columns' types,
// so one call shape serves integer, bigint, text and uuid keys alike.
struct LinkSync {
    std::string table;          // regclass text: "role_membership", "app.\"Links\""
    std::string owner_column;   // column names as stored (no quoting)
    std::string owner;          // the owner's value, as text
    std::string target_column;
    std::vector<std::string> targets;  // the owner's complete new set (may be empty)
};

struct LinkSyncResult {
    std::int64_t added = 0;
    std::int64_t removed = 0;
};

struct DuplicateKey {
    std::string key;  // JSON object {"column": value, ...}
    std::int64_t count = 0;
};
// ---- end of link sync types ----
// ---- Tenant-row checks: types (docs/rowcheck.md) ----------------------------
// One row of tenancy.check().
struct CheckProblem {
    std::optional<TenantId> tenant;  // NULL for table-level problems
    std::string problem;             // missing_row, missing_part, ...
    std::string object;              // table, constraint or dropped table OID
    std::string detail;
    bool repaired = false;
};
// ---- end of tenant-row checks ------------------------------------------------
// ---- Tenant binding: types (docs/rowcheck.md, "Tenant binding") ------------
// One row of tenancy.role_bindings.
struct RoleBinding {
    std::string role;          // the role's name, or its OID if it was dropped
    bool role_exists = true;
    TenantId tenant = 0;
    std::string slug;
    TenantStatus status = TenantStatus::Active;
    std::string bound_at;      // ISO 8601
};
// ---- end of tenant binding types ---------------------------------------------
// ---- Isolation audit: types (docs/security.md, "The isolation audit") -------
// One row of tenancy.audit().
struct AuditFinding {
    std::string severity;             // "error", "warning" or "info"
    std::string hazard;               // stable short code, e.g. "unprotected_tenant_table"
    std::string object;
    std::string explanation;
    std::optional<std::string> fix;   // a statement to run, or none when a person must decide
};
// ---- end of isolation audit types --------------------------------------------

class Client {
public:
    // conninfo may be empty (PG* environment only), a "key=value" string or
    // a postgresql:// URI.  application_name defaults to "tenancyctl".
    explicit Client(std::string conninfo = {});
    explicit Client(const ConnectOptions& options);

    // Registry (tenancy.create_tenant, tenancy.search_tenants, ...).
    TenantId create_tenant(const NewTenant& tenant);
    // Includes deleted tenants; throws TenantNotFound for an unknown id.
    Tenant get_tenant(TenantId id);
    TenantPage search_tenants(const TenantQuery& query = {});

    // Lifecycle transitions; TenantNotFound or InvalidTransition on failure.
    void delete_tenant(TenantId id);    // active|suspended -> deleted
    void restore_tenant(TenantId id);   // deleted -> active
    void suspend_tenant(TenantId id);   // active -> suspended
    void activate_tenant(TenantId id);  // suspended -> active

    // API keys.  The key text is returned once and never stored in clear.
    std::string issue_api_key(TenantId tenant);
    // std::nullopt when the key is unknown, revoked or its tenant deleted.
    std::optional<TenantId> tenant_for_api_key(const std::string& key);
    std::int64_t revoke_api_keys(TenantId tenant);  // number revoked

    // ---- Storage accounting (client/src/storage.cpp, docs/storage.md) ----
    // Adds `delta` bytes (negative frees) and returns the new usage.  Throws
    // QuotaExceeded, TenantNotActive (delta > 0 only), TenantNotFound,
    // StorageUnderflow (UnderflowPolicy::Error), IdempotencyKeyReused, or
    // DataError (bigint overflow, bad argument).
    std::int64_t adjust_storage(TenantId tenant, std::int64_t delta,
                                const StorageAdjustOptions& options = {});
    // tenancy.adjust_storage_many: all or nothing, one row per adjustment in
    // order.  A tenant may appear only once (DataError otherwise).
    std::vector<StorageUsage> adjust_storage_many(const std::vector<StorageAdjustment>& adjustments,
                                                  UnderflowPolicy on_underflow = UnderflowPolicy::Clamp);
    // One adjust_storage call per adjustment, all sent in one round trip with
    // libpq pipeline mode and run as one implicit transaction: all or
    // nothing, the first failure is thrown.  Returns the new usage after
    // each adjustment, in order; a tenant may appear several times.
    std::vector<std::int64_t> adjust_storage_batch(const std::vector<StorageAdjustment>& adjustments,
                                                   UnderflowPolicy on_underflow = UnderflowPolicy::Clamp);
    StorageInfo storage(TenantId tenant);
    // A quota below current use is accepted; the result then shows
    // available == 0 and used > quota.
    StorageInfo set_storage_quota(TenantId tenant, std::int64_t quota);
    // Deletes idempotency keys older than `older_than`; returns how many.
    std::int64_t purge_idempotency_keys(std::chrono::seconds older_than = std::chrono::hours(24));
    // Spreads the tenant's counter over `stripes` rows (1 to 64; 1 is the
    // default single row) so that concurrent adjustments of one busy tenant
    // stop queuing on one row lock; online.  Returns the previous count.
    int set_storage_stripes(TenantId tenant, int stripes);
    // ---- end of storage accounting ----
    // ---- Link sync (docs/links.md) ----
    // Makes the owner's links exactly `sync.targets`; safe to call
    // concurrently for one owner (calls serialise, the last one wins).
    LinkSyncResult sync_links(const LinkSync& sync);
    // Lists keys of `table` that more than one row carries; changes nothing.
    std::vector<DuplicateKey> find_duplicates(const std::string& table,
                                              const std::vector<std::string>& key_columns);
    // Deletes duplicate rows (keeping one per key), ensures a unique index on
    // the key columns; returns the number of rows deleted.
    std::int64_t dedupe(const std::string& table, const std::vector<std::string>& key_columns);
    // ---- end of link sync ----
    // ---- Tenant-row checks (client/src/rowcheck.cpp, docs/rowcheck.md) ----
    // The current tenant of this connection; is_local = true lasts until the
    // end of the current transaction.  TenantNotFound / TenantNotActive.
    void set_tenant(TenantId tenant, bool is_local = true);
    std::optional<TenantId> current_tenant();
    void clear_tenant();
    // `table` is a table name as SQL would resolve it (regclass input).
    void protect(const std::string& table, const std::string& tenant_column = "tenant_id");
    bool unprotect(const std::string& table);  // false if it was not protected
    // template_json: a JSON object of column values; returns the rule id.
    std::int64_t require_row(const std::string& table, const std::string& template_json);
    bool unrequire_row(const std::string& table, const std::string& template_json);
    std::vector<CheckProblem> check(bool repair = false);
    // Runs `sql` for `tenant` in one round trip (libpq pipeline mode):
    // BEGIN; tenancy.set_tenant(tenant); sql; COMMIT.  The tenant lasts for
    // that transaction only, so a pooled connection never carries it on.
    // Returns the statement's result; throws the first error (everything is
    // rolled back then), TenantNotFound / TenantNotActive for the tenant.
    // Must be called outside a transaction block (25001 otherwise).
    Result in_tenant(TenantId tenant, std::string_view sql, const Params& params = {});
    // Several statements in the same transaction and round trip; one result
    // each, in order.
    struct Statement {
        std::string sql;
        Params params;
    };
    std::vector<Result> in_tenant(TenantId tenant, const std::vector<Statement>& statements);
    // ---- end of tenant-row checks ----
    // ---- Placement (client/src/placement.cpp, docs/placement.md) ----
    // One call of a tenancy.* SQL function each; provisioning, migrating,
    // routing and purging across servers are in tenancy/orchestration/.
    void add_server(const ServerSpec& server);
    void set_server_accepting(const std::string& name, bool accepting);
    void remove_server(const std::string& name);  // refused while tenants are placed there
    std::vector<ServerInfo> servers();
    std::string registry_id();
    TenantLocation tenant_location(TenantId tenant);  // TenantNotFound
    // Every schema and database tenant when `tenants` is unset.
    std::vector<TenantLocation> tenant_locations(const std::optional<std::vector<TenantId>>& tenants = {},
                                                 bool include_ready = true);
    // true if added, false if the same version and SQL were there already;
    // MigrationChecksumMismatch, MigrationOutOfOrder, DataError (syntax).
    bool add_migration(std::int64_t version, const std::string& name, const std::string& sql);
    void remove_migration(std::int64_t version);
    std::vector<Migration> migrations(std::int64_t after_version = 0);
    std::vector<PendingMigration> pending_migrations();
    std::int64_t migrate_tenant(TenantId tenant);  // schema tenants; returns the version
    std::int64_t require_tenant_row(const std::string& table, const std::string& template_json);
    bool unrequire_tenant_row(const std::string& table, const std::string& template_json);
    // The registry's steps of provisioning and purging database tenants.
    bool placement_ready(TenantId tenant, std::int64_t epoch, std::int64_t migrated_version);
    std::int64_t record_migration_progress(TenantId tenant, std::int64_t epoch, std::int64_t migrated_version);
    PurgeTarget begin_purge(TenantId tenant);
    void database_dropped(TenantId tenant);
    // The erasure record (JSON text); the same record when purged already.
    std::string purge_tenant(TenantId tenant);
    // ---- end of placement ----
    // ---- Tenant binding (client/src/binding.cpp, docs/rowcheck.md) ----
    // `role` is a role name as SQL would resolve it (regrole input: quote
    // mixed case, e.g. "\"Reports\"").  bind_role returns false if the
    // binding existed, unbind_role false if there was none.
    bool bind_role(const std::string& role, TenantId tenant);
    bool unbind_role(const std::string& role, TenantId tenant);
    // Every binding, or those of one role / one tenant; ordered by role, tenant.
    std::vector<RoleBinding> role_bindings(const std::optional<std::string>& role = std::nullopt,
                                           std::optional<TenantId> tenant = std::nullopt);
    // Makes the key's tenant current and returns it; InvalidApiKey (TN050)
    // for every key that is not valid, TenantNotActive if it is suspended.
    TenantId set_tenant_by_api_key(const std::string& key, bool is_local = true);
    // ---- end of tenant binding ----
    // ---- Isolation audit (client/src/audit.cpp, docs/security.md) ----
    // Every schema of the application (and findings about role bindings and
    // grants) when `schema` is empty; errors first.
    std::vector<AuditFinding> audit(const std::optional<std::string>& schema = std::nullopt);
    // ---- end of isolation audit ----
    // ---- Change landing (client/src/changes.cpp, docs/changes.md) ----
    // Prepares a table for apply_changes (idempotent); AccessError 42P10
    // without a unique key on the key columns, ColumnCannotBeEmpty (TN042).
    void enable_changes(const ChangeSetup& setup);
    // false if the table was not prepared.
    bool disable_changes(const std::string& table, bool drop_columns = false);
    // One call: `events_json` is a JSON array of events.  Refused events are
    // reported in the outcomes, not thrown; ChangesNotEnabled, DataError
    // (not an array) and PermissionDenied (no privilege) are thrown.
    std::vector<ChangeOutcome> apply_changes(const std::string& table, const std::string& events_json);
    // Many batches (JSON arrays) in one round trip with libpq pipeline mode,
    // each batch its own transaction (so each keeps the lock-order guarantee
    // and a failed batch leaves the others landed).  At most `window`
    // batches are in flight; results come in batch order.
    std::vector<ChangeBatchResult> apply_changes_pipelined(const std::string& table,
                                                           const std::vector<std::string>& batches,
                                                           std::size_t window = 16);
    // Lands a stream of events (one JSON object text each, e.g. the lines of
    // a JSON-lines file) in batches of `batch_size`, pipelined.  A batch
    // that the server cannot read as JSON is resent event by event, so an
    // event that is not valid JSON is refused (22P02) and the others land.
    // Any other failed call is thrown; the batches before it have landed,
    // and landing the whole stream again is harmless (replays are stale).
    ChangeLanding land_changes(const std::string& table, const std::vector<std::string>& events,
                               std::size_t batch_size = 100, std::size_t window = 16);
    // Placeholders older than `older_than`, of one table or of every enabled
    // table this role may read.
    std::vector<Placeholder> placeholders(std::chrono::seconds older_than = std::chrono::seconds(0),
                                          const std::optional<std::string>& table = std::nullopt);
    // ---- end of change landing ----
    // ---- Moving tenants (client/src/move.cpp, docs/placement.md) ----
    // The registry's steps of a move; the move itself is
    // tenancy::orchestration::Mover.  TenantMoving, NotMovable,
    // NoServerAvailable, MoveStepRefused, PlacementStepRefused.
    TenantMove begin_move(TenantId tenant, const std::string& target_server, bool drop_source);
    std::vector<TenantMove> tenant_moves(TenantId tenant);  // newest first
    void record_move_step(std::int64_t move, const std::string& step,
                          const std::optional<std::string>& error = std::nullopt);
    bool lock_move(std::int64_t move);  // false: another session runs it
    std::int64_t switch_placement(std::int64_t move, double write_pause_ms, const std::string& verification_json);
    void finish_move(std::int64_t move, bool source_dropped);
    void abort_move(std::int64_t move);
    // ---- end of moving tenants ----

    // For statements this class does not wrap and for Pipeline.
    Connection& connection() noexcept { return conn_; }

private:
    void call_void(std::string_view function, TenantId id);

    Connection conn_;
};

}  // namespace tenancy
