// Exception hierarchy of the tenancy client.
//
// Every failure reported by the server carries a SQLSTATE; callers branch on
// the C++ type (one per SQLSTATE class, plus the extension's own TNxxx codes)
// instead of comparing strings.  The mapping lives in one table in
// src/errors.cpp and is exercised by test/test_errors.cpp.
#pragma once

#include <stdexcept>
#include <string>

namespace tenancy {

// The fields of a PostgreSQL error report that callers act upon.
struct ErrorInfo {
    ErrorInfo(std::string sqlstate_ = {}, std::string message_ = {}, std::string detail_ = {},
              std::string hint_ = {}, std::string context_ = {})
        : sqlstate(std::move(sqlstate_)), message(std::move(message_)), detail(std::move(detail_)),
          hint(std::move(hint_)), context(std::move(context_)) {}

    std::string sqlstate;  // five characters; empty when libpq raised the error itself
    std::string message;   // primary message
    std::string detail;
    std::string hint;
    std::string context;   // PostgreSQL's CONTEXT lines (e.g. which tenant migration failed)
};

class Error : public std::runtime_error {
public:
    explicit Error(ErrorInfo info)
        : std::runtime_error(info.message), info_(std::move(info)) {}

    const std::string& sqlstate() const noexcept { return info_.sqlstate; }
    const std::string& detail() const noexcept { return info_.detail; }
    const std::string& hint() const noexcept { return info_.hint; }
    const std::string& context() const noexcept { return info_.context; }
    const ErrorInfo& info() const noexcept { return info_; }

private:
    ErrorInfo info_;
};

// One subclass per SQLSTATE class a caller can sensibly react to.
#define TENANCY_DEFINE_ERROR(Name, Base) \
    class Name : public Base {           \
    public:                              \
        using Base::Base;                \
    }

TENANCY_DEFINE_ERROR(ConnectionError, Error);          // class 08 and failures to connect
TENANCY_DEFINE_ERROR(DataError, Error);                // class 22: bad argument value
TENANCY_DEFINE_ERROR(IntegrityError, Error);           // class 23: e.g. duplicate slug
TENANCY_DEFINE_ERROR(TransactionRollback, Error);      // class 40: retry the transaction
TENANCY_DEFINE_ERROR(AccessError, Error);              // class 42: syntax or access rule
TENANCY_DEFINE_ERROR(PermissionDenied, AccessError);   // 42501
TENANCY_DEFINE_ERROR(InsufficientResources, Error);    // class 53
TENANCY_DEFINE_ERROR(OperatorIntervention, Error);     // class 57: cancel, shutdown
TENANCY_DEFINE_ERROR(ServerError, Error);              // any other class
TENANCY_DEFINE_ERROR(TenancyError, Error);             // class TN: raised by the extension
TENANCY_DEFINE_ERROR(TenantNotFound, TenancyError);    // TN001
TENANCY_DEFINE_ERROR(TenantNotActive, TenancyError);   // TN002
TENANCY_DEFINE_ERROR(QuotaExceeded, TenancyError);     // TN003
TENANCY_DEFINE_ERROR(InvalidTransition, TenancyError); // TN004
TENANCY_DEFINE_ERROR(StorageUnderflow, TenancyError);  // TN005
TENANCY_DEFINE_ERROR(IdempotencyKeyReused, TenancyError); // TN006
TENANCY_DEFINE_ERROR(TenantNotReady, TenancyError);    // TN010: placement not ready (provisioning, purging)
TENANCY_DEFINE_ERROR(MigrationChecksumMismatch, TenancyError); // TN011
TENANCY_DEFINE_ERROR(MigrationOutOfOrder, TenancyError); // TN012
TENANCY_DEFINE_ERROR(NoServerAvailable, TenancyError); // TN013
TENANCY_DEFINE_ERROR(DatabaseNotTenants, TenancyError); // TN014: a database of another tenant or registry
TENANCY_DEFINE_ERROR(PlacementStepRefused, TenancyError); // TN015
TENANCY_DEFINE_ERROR(InvalidApiKey, TenancyError);          // TN050
TENANCY_DEFINE_ERROR(ProtectedThroughParent, TenancyError); // TN051
TENANCY_DEFINE_ERROR(ChangesNotEnabled, TenancyError);     // TN040
TENANCY_DEFINE_ERROR(MalformedChangeEvent, TenancyError);  // TN041 (a refused event's code)
TENANCY_DEFINE_ERROR(ColumnCannotBeEmpty, TenancyError);   // TN042
// Moving tenants between servers (docs/placement.md, "Moving a tenant").
TENANCY_DEFINE_ERROR(TenantMoving, TenancyError);      // TN020: a move is unfinished or cutting over: wait, retry
TENANCY_DEFINE_ERROR(CopyFrozen, TenancyError);        // TN021: a write to a frozen or moved copy: re-route, retry
TENANCY_DEFINE_ERROR(NotMovable, TenancyError);        // TN022: a table without key, an unlogged table, a shared tenant
TENANCY_DEFINE_ERROR(ServerNotReadyForMove, TenancyError); // TN023: wal_level, slots, roles, tools, extension version
TENANCY_DEFINE_ERROR(MoveTargetOccupied, TenancyError); // TN024: the target holds a database of that name
TENANCY_DEFINE_ERROR(MoveVerificationFailed, TenancyError); // TN025: counts or checksums differ: no switch
TENANCY_DEFINE_ERROR(MoveStepRefused, TenancyError);   // TN026: no such move, or not in a state for the step
TENANCY_DEFINE_ERROR(MoveTimedOut, TenancyError);      // TN027: copy or catch-up took too long: no switch

#undef TENANCY_DEFINE_ERROR

// Throws the exception type that corresponds to info.sqlstate: an exact code
// match wins over a class match; an unknown class gives ServerError, and an
// empty SQLSTATE (an error produced inside libpq) gives plain Error.
[[noreturn]] void raise_error(ErrorInfo info);

}  // namespace tenancy
