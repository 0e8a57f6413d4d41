// The SQLSTATE -> exception mapping (no server needed).
#include <gtest/gtest.h>

#include <functional>
#include <typeindex>

#include "tenancy/errors.hpp"
#include "tenancy/types.hpp"

namespace tenancy {
namespace {

// The dynamic type raise_error picks for `sqlstate`.
std::type_index raised_type(const std::string& sqlstate) {
    try {
        raise_error(ErrorInfo{sqlstate, "message", "detail", "hint"});
    } catch (const Error& e) {
        return typeid(e);
    }
    return typeid(void);
}

TEST(ErrorMapping, EachSqlstateClassHasItsType) {
    const std::pair<const char*, std::type_index> cases[] = {
        {"08006", typeid(ConnectionError)},      {"08001", typeid(ConnectionError)},
        {"22023", typeid(DataError)},            {"22P02", typeid(DataError)},
        {"23505", typeid(IntegrityError)},       {"23503", typeid(IntegrityError)},
        {"40001", typeid(TransactionRollback)},  {"40P01", typeid(TransactionRollback)},
        {"42P01", typeid(AccessError)},          {"42501", typeid(PermissionDenied)},
        {"53100", typeid(InsufficientResources)}, {"57014", typeid(OperatorIntervention)},
        {"TN001", typeid(TenantNotFound)},       {"TN002", typeid(TenantNotActive)},
        {"TN003", typeid(QuotaExceeded)},        {"TN004", typeid(InvalidTransition)},
        {"TN010", typeid(TenantNotReady)},       {"TN011", typeid(MigrationChecksumMismatch)},
        {"TN012", typeid(MigrationOutOfOrder)},  {"TN013", typeid(NoServerAvailable)},
        {"TN014", typeid(DatabaseNotTenants)},   {"TN015", typeid(PlacementStepRefused)},
        {"TN050", typeid(InvalidApiKey)},        {"TN051", typeid(ProtectedThroughParent)},
        {"TN040", typeid(ChangesNotEnabled)},    {"TN041", typeid(MalformedChangeEvent)},
        {"TN042", typeid(ColumnCannotBeEmpty)},
        {"TN020", typeid(TenantMoving)},         {"TN021", typeid(CopyFrozen)},
        {"TN022", typeid(NotMovable)},           {"TN023", typeid(ServerNotReadyForMove)},
        {"TN024", typeid(MoveTargetOccupied)},   {"TN025", typeid(MoveVerificationFailed)},
        {"TN026", typeid(MoveStepRefused)},      {"TN027", typeid(MoveTimedOut)},
        {"TN999", typeid(TenancyError)},         {"XX000", typeid(ServerError)},
        {"P0001", typeid(ServerError)},          {"", typeid(Error)},
    };
    for (const auto& [sqlstate, type] : cases)
        EXPECT_EQ(raised_type(sqlstate), type) << "SQLSTATE " << sqlstate;
}

TEST(ErrorMapping, SubclassesAreCaughtByTheirClass) {
    EXPECT_THROW(raise_error({"42501", "m", "", ""}), AccessError);
    EXPECT_THROW(raise_error({"TN001", "m", "", ""}), TenancyError);
    EXPECT_THROW(raise_error({"TN004", "m", "", ""}), TenancyError);
    EXPECT_THROW(raise_error({"23505", "m", "", ""}), std::runtime_error);
}

TEST(ErrorMapping, KeepsAllFields) {
    try {
        raise_error(ErrorInfo{"TN003", "quota exceeded", "used 11 of 10", "raise the quota"});
        FAIL() << "raise_error returned";
    } catch (const QuotaExceeded& e) {
        EXPECT_STREQ(e.what(), "quota exceeded");
        EXPECT_EQ(e.sqlstate(), "TN003");
        EXPECT_EQ(e.detail(), "used 11 of 10");
        EXPECT_EQ(e.hint(), "raise the quota");
    }
}

TEST(TenantStatus, RoundTripsAndRejectsUnknown) {
    for (TenantStatus s : {TenantStatus::Active, TenantStatus::Suspended, TenantStatus::Deleted})
        EXPECT_EQ(parse_tenant_status(to_string(s)), s);
    EXPECT_EQ(to_string(TenantStatus::Suspended), "suspended");
    EXPECT_THROW(parse_tenant_status("archived"), Error);
}

}  // namespace
}  // namespace tenancy
