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
    "purge.after_begin", "purge.after_drop_database", "purge.after_database_dropped", "purge.after_purge",
};

// Kills the process if TENANCY_CRASH_AT names this step (and occurrence).
void crash_point(std::string_view step);

}  // namespace tenancy::orchestration
