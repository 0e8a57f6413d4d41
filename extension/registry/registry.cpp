// Tenant registry: creating tenants, moving them between statuses, searching.
//
// Touches only tenancy.tenant.  Every function is SECURITY DEFINER with
// search_path pinned to pg_catalog, pg_temp in the install script, so the
// statements name the extension's tables with their schema and the callers'
// rights come from EXECUTE grants (docs/security.md).
#include "registry/registry.hpp"

#include "placement/placement.hpp"
#include "shared/errcodes.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/jsonb.h"
}

#include <array>

namespace tenancy::registry {

namespace {

constexpr size_t kMaxSlugLength = 63;

bool is_slug_start(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_slug_char(char c) { return is_slug_start(c) || c == '_' || c == '-'; }

// Mirrors the table's CHECK constraint, but says what exactly is wrong.
void validate_slug(const std::string &slug)
{
    const char *rule = "A slug is 1 to 63 characters: lower-case letters, digits, '_' and '-', "
                       "starting with a letter or digit.";
    if (slug.empty())
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "tenant slug must not be empty", {}, rule);
    if (slug.size() > kMaxSlugLength)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                    "tenant slug is " + std::to_string(slug.size()) + " characters long; at most 63 are allowed",
                    {}, rule);
    if (!is_slug_start(slug[0]))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "tenant slug \"" + slug + "\" must start with a lower-case letter or digit",
                    {}, rule);
    for (char c : slug)
        if (!is_slug_char(c))
            throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "tenant slug \"" + slug + "\" contains a character that is not allowed",
                        {}, rule);
}

void validate_settings(Datum settings)
{
    Jsonb *jb = pg_call([&] { return DatumGetJsonbP(settings); });
    if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "tenant settings must be a JSON object",
                    {}, "Pass '{}' for no settings.");
}

// One status change: which statuses it starts from and where it leads.
struct Transition {
    const char *verb;
    const char *target;
    std::array<const char *, 2> sources;
    const char *requirement; // completes "only ... can be <verb>"
};

constexpr Transition kSuspend{"suspended", "suspended", {"active", "active"}, "an active tenant"};
constexpr Transition kActivate{"activated", "active", {"suspended", "suspended"}, "a suspended tenant"};
constexpr Transition kDelete{"deleted", "deleted", {"active", "suspended"}, "an active or suspended tenant"};
constexpr Transition kRestore{"restored", "active", {"deleted", "deleted"}, "a deleted tenant"};

void apply_transition(int64_t tenant, const Transition &t)
{
    static spi::Statement update(
        "UPDATE tenancy.tenant"
        "   SET status = $2, updated_at = now(),"
        "       deleted_at = CASE WHEN $2 = 'deleted' THEN now() END"
        " WHERE id = $1"
        "   AND status = ANY (ARRAY[$3, $4])",
        {INT8OID, TEXTOID, TEXTOID, TEXTOID});
    static spi::Statement current_status(
        "SELECT status FROM tenancy.tenant WHERE id = $1", {INT8OID});

    spi::Connection spi;
    if (update.execute({spi::int8_param(tenant), spi::text_param(t.target), spi::text_param(t.sources[0]),
                        spi::text_param(t.sources[1])},
                       false) == 1)
        return;

    // The UPDATE matched nothing: find out why, to say so precisely.
    if (current_status.execute({spi::int8_param(tenant)}, true) == 0)
        throw_tenant_not_found(tenant);
    std::string status = spi::get_text(0, 1).value_or("");
    throw Error(errcode::kInvalidTransition,
                "tenant " + std::to_string(tenant) + " is " + status + "; only " + t.requirement +
                    " can be " + t.verb);
}

} // namespace

[[noreturn]] void throw_tenant_not_found(int64_t tenant)
{
    throw Error(errcode::kTenantNotFound, "tenant " + std::to_string(tenant) + " does not exist");
}

std::string tenant_status(int64_t tenant, RowLock lock)
{
    static spi::Statement plain("SELECT status FROM tenancy.tenant WHERE id = $1", {INT8OID});
    static spi::Statement shared("SELECT status FROM tenancy.tenant WHERE id = $1 FOR SHARE", {INT8OID});

    spi::Statement &query = lock == RowLock::Share ? shared : plain;
    if (query.execute({spi::int8_param(tenant)}, lock == RowLock::None) == 0)
        throw_tenant_not_found(tenant);
    return spi::get_text(0, 1).value_or("");
}

void require_active_tenant(int64_t tenant, RowLock lock) { require_active(tenant, tenant_status(tenant, lock)); }

void require_active(int64_t tenant, const std::string &status)
{
    if (status != "active")
        throw Error(errcode::kTenantNotActive, "tenant " + std::to_string(tenant) + " is " + status + ", not active");
}

} // namespace tenancy::registry

using namespace tenancy;

// tenancy.create_tenant(slug text, name text, storage_quota bigint, settings jsonb,
//                       isolation text, server text) RETURNS bigint
TENANCY_FUNCTION(tenancy_create_tenant)
{
    static spi::Statement insert(
        "INSERT INTO tenancy.tenant (slug, name, storage_quota, settings)"
        " VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (slug) DO NOTHING"
        " RETURNING id",
        {TEXTOID, TEXTOID, INT8OID, JSONBOID});

    std::string slug = args::required_text(fcinfo, 0, "slug");
    std::optional<std::string> name = args::optional_text(fcinfo, 1);
    int64_t quota = args::required_int64(fcinfo, 2, "storage_quota");
    if (args::is_null(fcinfo, 3))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "settings must not be NULL", {}, "Pass '{}' for no settings.");
    Datum settings = PG_GETARG_DATUM(3);

    // Versions before 0.5.0 declare four arguments; their calls are shared tenants.
    placement::Isolation isolation = placement::Isolation::Shared;
    std::optional<std::string> server;
    if (PG_NARGS() >= 6) {
        isolation = placement::parse_isolation(args::required_text(fcinfo, 4, "isolation"));
        server = args::optional_text(fcinfo, 5);
    }

    registry::validate_slug(slug);
    if (quota < 0)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                    "storage_quota must be zero or more bytes, not " + std::to_string(quota));
    registry::validate_settings(settings);

    int64_t id = 0;
    {
        spi::Connection spi;
        if (insert.execute({spi::text_param(slug), spi::optional_text_param(name), spi::int8_param(quota),
                            spi::datum_param(JSONBOID, settings, false)},
                           false) == 0)
            throw Error(ERRCODE_UNIQUE_VIOLATION, "tenant slug \"" + slug + "\" is already taken",
                        "Slugs stay reserved while a tenant is deleted, so that it can be restored.");
        id = *spi::get_int64(0, 1);
        placement::place_new_tenant(id, slug, isolation, server);
    }
    PG_RETURN_INT64(id);
}

TENANCY_FUNCTION(tenancy_suspend_tenant)
{
    registry::apply_transition(args::required_int64(fcinfo, 0, "tenant"), registry::kSuspend);
    PG_RETURN_VOID();
}

TENANCY_FUNCTION(tenancy_activate_tenant)
{
    registry::apply_transition(args::required_int64(fcinfo, 0, "tenant"), registry::kActivate);
    PG_RETURN_VOID();
}

TENANCY_FUNCTION(tenancy_delete_tenant)
{
    registry::apply_transition(args::required_int64(fcinfo, 0, "tenant"), registry::kDelete);
    PG_RETURN_VOID();
}

TENANCY_FUNCTION(tenancy_restore_tenant)
{
    registry::apply_transition(args::required_int64(fcinfo, 0, "tenant"), registry::kRestore);
    PG_RETURN_VOID();
}

// tenancy.search_tenants(keyword, tenant, page, page_size, include_deleted)
// Keyword matching uses strpos on lower-cased text rather than LIKE, so '%',
// '_' and '\' in a keyword are ordinary characters with no escaping to get wrong.
TENANCY_FUNCTION(tenancy_search_tenants)
{
    static spi::Statement search(
        "SELECT id, slug, name, status, storage_quota,"
        // A striped tenant's usage is in its stripes too (docs/storage.md).
        "       (storage_used + coalesce((SELECT sum(s.used) FROM tenancy.storage_stripe s"
        "                                  WHERE s.tenant_id = tenant.id), 0))::bigint AS storage_used,"
        "       settings, created_at, updated_at, deleted_at, count(*) OVER () AS total"
        "  FROM tenancy.tenant"
        " WHERE ($1 IS NULL OR strpos(lower(slug), lower($1)) > 0"
        "                   OR strpos(lower(name), lower($1)) > 0)"
        "   AND ($2 IS NULL OR id = $2)"
        "   AND ($5 OR status <> 'deleted')"
        " ORDER BY id"
        " LIMIT $4 OFFSET $3",
        {TEXTOID, INT8OID, INT8OID, INT8OID, BOOLOID});

    std::optional<std::string> keyword = args::optional_text(fcinfo, 0);
    std::optional<int64_t> tenant = args::optional_int64(fcinfo, 1);
    int32_t page = args::required_int32(fcinfo, 2, "page");
    int32_t page_size = args::required_int32(fcinfo, 3, "page_size");
    bool include_deleted = args::required_bool(fcinfo, 4, "include_deleted");

    if (page < 1)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "page must be 1 or more, not " + std::to_string(page));
    if (page_size < 1 || page_size > 1000)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                    "page_size must be between 1 and 1000, not " + std::to_string(page_size));
    // Computed in 64 bits: page * page_size overflows int for large pages.
    int64_t offset = (static_cast<int64_t>(page) - 1) * page_size;

    srf::Materialized out(fcinfo);
    spi::Connection spi;
    uint64 rows = search.execute({spi::optional_text_param(keyword), spi::optional_int8_param(tenant), spi::int8_param(offset),
                                  spi::int8_param(static_cast<int64_t>(page_size)), spi::bool_param(include_deleted)},
                                 true);
    srf::put_spi_rows(out, rows);
    return (Datum)0;
}
