// The extension's own SQLSTATEs (class TN), documented in docs/errors.md.
// Standard conditions (invalid argument 22023, numeric overflow 22003, ...)
// use PostgreSQL's ERRCODE_* macros directly.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace tenancy::errcode {

inline constexpr int kTenantNotFound = MAKE_SQLSTATE('T', 'N', '0', '0', '1');
inline constexpr int kTenantNotActive = MAKE_SQLSTATE('T', 'N', '0', '0', '2');
inline constexpr int kQuotaExceeded = MAKE_SQLSTATE('T', 'N', '0', '0', '3');
inline constexpr int kInvalidTransition = MAKE_SQLSTATE('T', 'N', '0', '0', '4');
inline constexpr int kStorageUnderflow = MAKE_SQLSTATE('T', 'N', '0', '0', '5');
inline constexpr int kIdempotencyKeyReused = MAKE_SQLSTATE('T', 'N', '0', '0', '6');
// Issue 12 (binding, partitions, audit): TN050-TN059.
inline constexpr int kInvalidApiKey = MAKE_SQLSTATE('T', 'N', '0', '5', '0');
inline constexpr int kProtectedThroughParent = MAKE_SQLSTATE('T', 'N', '0', '5', '1');

// Placement (TN010-TN019).
inline constexpr int kTenantNotReady = MAKE_SQLSTATE('T', 'N', '0', '1', '0');
inline constexpr int kMigrationChecksumMismatch = MAKE_SQLSTATE('T', 'N', '0', '1', '1');
inline constexpr int kMigrationOutOfOrder = MAKE_SQLSTATE('T', 'N', '0', '1', '2');
inline constexpr int kNoServerAvailable = MAKE_SQLSTATE('T', 'N', '0', '1', '3');
inline constexpr int kDatabaseNotTenants = MAKE_SQLSTATE('T', 'N', '0', '1', '4');
inline constexpr int kPlacementStepRefused = MAKE_SQLSTATE('T', 'N', '0', '1', '5');

// Change-event landing (docs/changes.md): TN040-TN049.
inline constexpr int kChangesNotEnabled = MAKE_SQLSTATE('T', 'N', '0', '4', '0');
inline constexpr int kMalformedChangeEvent = MAKE_SQLSTATE('T', 'N', '0', '4', '1');
inline constexpr int kColumnCannotBeEmpty = MAKE_SQLSTATE('T', 'N', '0', '4', '2');
// Moving tenants between servers (TN020-TN029).
inline constexpr int kTenantMoving = MAKE_SQLSTATE('T', 'N', '0', '2', '0');
inline constexpr int kCopyFrozen = MAKE_SQLSTATE('T', 'N', '0', '2', '1');
inline constexpr int kNotMovable = MAKE_SQLSTATE('T', 'N', '0', '2', '2');
inline constexpr int kServerNotReadyForMove = MAKE_SQLSTATE('T', 'N', '0', '2', '3');
inline constexpr int kMoveTargetOccupied = MAKE_SQLSTATE('T', 'N', '0', '2', '4');
inline constexpr int kMoveVerificationFailed = MAKE_SQLSTATE('T', 'N', '0', '2', '5');
inline constexpr int kMoveStepRefused = MAKE_SQLSTATE('T', 'N', '0', '2', '6');
inline constexpr int kMoveTimedOut = MAKE_SQLSTATE('T', 'N', '0', '2', '7');

} // namespace tenancy::errcode
