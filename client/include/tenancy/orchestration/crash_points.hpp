// Named steps of the multi-step operations, where a test may have the client
// killed (SIGKILL) to prove that every step can be resumed.
//
// Setting TENANCY_CRASH_AT=<step> (or <step>:<n> for its n-th occurrence) in
// the environment makes the process kill itself with SIGKILL when it reaches
// that step.  This is a test hook: unset, it costs one getenv per process.
// client/test/test_placement_crash.cpp kills the client at every step listed
// here in turn and checks that re-running completes the operation.
#pragma once

#include <string_view>

namespace tenancy::orchestration {

// Provisioning a database tenant (Provisioner).
inline constexpr std::string_view kProvisionSteps[] = {
    "provision.after_create_database", "provision.after_create_extension", "provision.after_claim",
    "provision.after_migrate", "provision.after_required_rows", "provision.after_ready",
};
// Migrating a tenant (Migrator); a database tenant's commit in its database
// and the registry's record of it are two steps.
inline constexpr std::string_view kMigrateSteps[] = {
    "migrate.before_apply", "migrate.after_apply", "migrate.after_record",
};
// Purging a database tenant (Purger).
inline constexpr std::string_view kPurgeSteps[] = {
    "purge.after_begin", "purge.after_drop_database", "purge.after_database_dropped",
    "purge.after_drop_kept_copies", "purge.after_purge",
};

// Moving a tenant (Mover::move and resume), in order.
inline constexpr std::string_view kMoveSteps[] = {
    "move.after_begin",        "move.after_prepare_source", "move.after_create_database",
    "move.after_claim_target", "move.after_copy_schema",    "move.after_publication",
    "move.after_slot",         "move.after_subscription",   "move.after_sync",
    "move.after_freeze",       "move.after_catch_up",       "move.after_sequences",
    "move.after_verify",       "move.after_switch",         "move.after_mark_moved",
    "move.after_finish_target", "move.after_drop_replication", "move.after_drop_source",
    "move.after_finish",
};
// Rolling a move back (Mover::abort), in order.
inline constexpr std::string_view kMoveAbortSteps[] = {
    "move_abort.after_unfreeze", "move_abort.after_drop_replication", "move_abort.after_drop_target",
    "move_abort.after_record",
};

// Kills the process if TENANCY_CRASH_AT names this step (and occurrence).
void crash_point(std::string_view step);

}  // namespace tenancy::orchestration
