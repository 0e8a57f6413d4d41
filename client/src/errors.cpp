// SQLSTATE -> exception type.  The single table below is the whole policy.
#include "tenancy/errors.hpp"

#include <string_view>

namespace tenancy {
namespace {

template <typename E>
[[noreturn]] void raise_as(ErrorInfo&& info) {
    throw E(std::move(info));
}

struct Mapping {
    std::string_view prefix;  // a full SQLSTATE or a two-character class
    void (*raise)(ErrorInfo&&);  // always throws
};

// Searched in order and matched by prefix, so exact codes must precede the
// class they belong to.  TN is the class the extension's own errors use
// (see docs of the extension's error codes).
constexpr Mapping kMappings[] = {
    {"42501", raise_as<PermissionDenied>},
    {"TN001", raise_as<TenantNotFound>},
    {"TN002", raise_as<TenantNotActive>},
    {"TN003", raise_as<QuotaExceeded>},
    {"TN004", raise_as<InvalidTransition>},
    {"TN005", raise_as<StorageUnderflow>},
    {"TN006", raise_as<IdempotencyKeyReused>},
    {"TN010", raise_as<TenantNotReady>},
    {"TN011", raise_as<MigrationChecksumMismatch>},
    {"TN012", raise_as<MigrationOutOfOrder>},
    {"TN013", raise_as<NoServerAvailable>},
    {"TN014", raise_as<DatabaseNotTenants>},
    {"TN015", raise_as<PlacementStepRefused>},
    {"TN050", raise_as<InvalidApiKey>},
    {"TN051", raise_as<ProtectedThroughParent>},
    {"TN040", raise_as<ChangesNotEnabled>},
    {"TN041", raise_as<MalformedChangeEvent>},
    {"TN042", raise_as<ColumnCannotBeEmpty>},
    {"TN020", raise_as<TenantMoving>},
    {"TN021", raise_as<CopyFrozen>},
    {"TN022", raise_as<NotMovable>},
    {"TN023", raise_as<ServerNotReadyForMove>},
    {"TN024", raise_as<MoveTargetOccupied>},
    {"TN025", raise_as<MoveVerificationFailed>},
    {"TN026", raise_as<MoveStepRefused>},
    {"TN027", raise_as<MoveTimedOut>},
    {"08", raise_as<ConnectionError>},
    {"22", raise_as<DataError>},
    {"23", raise_as<IntegrityError>},
    {"40", raise_as<TransactionRollback>},
    {"42", raise_as<AccessError>},
    {"53", raise_as<InsufficientResources>},
    {"57", raise_as<OperatorIntervention>},
    {"TN", raise_as<TenancyError>},
};

}  // namespace

void raise_error(ErrorInfo info) {
    const std::string_view code = info.sqlstate;
    if (code.empty())
        raise_as<Error>(std::move(info));
    for (const Mapping& m : kMappings)
        if (code.substr(0, m.prefix.size()) == m.prefix)
            m.raise(std::move(info));
    raise_as<ServerError>(std::move(info));
}

}  // namespace tenancy
