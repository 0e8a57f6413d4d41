// Idempotency keys of storage adjustments (see storage_idempotency.hpp), and
// tenancy.purge_idempotency_keys, which enforces their retention.
//
// Touches tenancy.storage_idempotency_key (and reads tenancy.tenant).
#include "storage/storage_idempotency.hpp"

#include "shared/errcodes.hpp"
#include "registry/registry.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"
}

namespace tenancy::storage::idempotency {

namespace {

constexpr size_t kMaxKeyBytes = 255;

struct PriorUse {
    int64_t delta;
    std::optional<int64_t> storage_used;
};

// The committed (or this transaction's own) use of the key, if any.
std::optional<PriorUse> find_key(int64_t tenant, const std::string &key)
{
    static spi::Statement select(
        "SELECT delta, storage_used FROM tenancy.storage_idempotency_key"
        " WHERE tenant_id = $1 AND idempotency_key = $2",
        {INT8OID, TEXTOID});

    // Not read-only: in READ COMMITTED that takes a new snapshot, which sees
    // the row of the concurrent call the claim just waited for.
    if (select.execute({spi::int8_param(tenant), spi::text_param(key)}, false) == 0)
        return std::nullopt;
    return PriorUse{*spi::get_int64(0, 1), spi::get_int64(0, 2)};
}

int64_t replay(int64_t tenant, const std::string &key, int64_t delta, const PriorUse &prior)
{
    if (prior.delta != delta)
        throw Error(errcode::kIdempotencyKeyReused,
                    "idempotency key \"" + key + "\" of tenant " + std::to_string(tenant) +
                        " was already used with delta " + std::to_string(prior.delta) + ", not " +
                        std::to_string(delta),
                    "A key identifies one adjustment; its retry must repeat the same delta.",
                    "Use a new key for a different adjustment.");
    // Set by the claiming call before it returned; NULL could only be seen
    // from inside that call.
    if (!prior.storage_used)
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "idempotency key \"" + key + "\" of tenant " + std::to_string(tenant) +
                        " belongs to an adjustment that has not finished");
    return *prior.storage_used;
}

} // namespace

void validate_key(const std::string &key)
{
    if (key.empty())
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "idempotency_key must not be empty",
                    {}, "Pass NULL for an adjustment without a key.");
    if (key.size() > kMaxKeyBytes)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                    "idempotency_key is " + std::to_string(key.size()) + " bytes long; at most 255 are allowed");
}

std::optional<int64_t> claim_key(int64_t tenant, const std::string &key, int64_t delta)
{
    // Selecting from tenancy.tenant makes an unknown tenant insert nothing
    // (reported as TN001 below) instead of failing the foreign key.
    static spi::Statement insert(
        "INSERT INTO tenancy.storage_idempotency_key (tenant_id, idempotency_key, delta)"
        " SELECT id, $2, $3 FROM tenancy.tenant WHERE id = $1"
        " ON CONFLICT (tenant_id, idempotency_key) DO NOTHING",
        {INT8OID, TEXTOID, INT8OID});

    for (;;) {
        if (insert.execute({spi::int8_param(tenant), spi::text_param(key), spi::int8_param(delta)}, false) == 1)
            return std::nullopt;
        if (std::optional<PriorUse> prior = find_key(tenant, key))
            return replay(tenant, key, delta, *prior);
        // Nothing inserted and nothing found: either the tenant does not exist
        // (this raises TN001), or the key was purged between the two
        // statements, and claiming it again is right.
        registry::tenant_status(tenant, registry::RowLock::None);
    }
}

void remember_result(int64_t tenant, const std::string &key, int64_t storage_used)
{
    static spi::Statement update(
        "UPDATE tenancy.storage_idempotency_key SET storage_used = $3"
        " WHERE tenant_id = $1 AND idempotency_key = $2",
        {INT8OID, TEXTOID, INT8OID});

    update.execute({spi::int8_param(tenant), spi::text_param(key), spi::int8_param(storage_used)}, false);
}

} // namespace tenancy::storage::idempotency

using namespace tenancy;

// tenancy.purge_idempotency_keys(older_than interval) RETURNS bigint
TENANCY_FUNCTION(tenancy_purge_idempotency_keys)
{
    static spi::Statement purge(
        "DELETE FROM tenancy.storage_idempotency_key WHERE created_at < now() - $1",
        {INTERVALOID});

    if (args::is_null(fcinfo, 0))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "older_than must not be NULL");
    Datum older_than = PG_GETARG_DATUM(0);
    bool negative = pg_call([&] {
        Interval zero{};
        return DatumGetBool(DirectFunctionCall2(interval_lt, older_than, IntervalPGetDatum(&zero)));
    });
    if (negative)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "older_than must not be negative",
                    {}, "Pass how old a key must be to go, e.g. '24 hours'.");

    int64_t purged = 0;
    {
        spi::Connection spi;
        purged = static_cast<int64_t>(purge.execute({spi::datum_param(INTERVALOID, older_than, false)}, false));
    }
    PG_RETURN_INT64(purged);
}
