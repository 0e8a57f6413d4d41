// Tenant context: tenancy.set_tenant, tenancy.current_tenant,
// tenancy.clear_tenant and the setting behind them.
//
// The context is the custom setting tenancy.tenant_id, so PostgreSQL's own
// setting machinery gives it the semantics we want for free: a transaction-
// local value disappears at COMMIT or ROLLBACK, a session value is undone by
// the ROLLBACK of the transaction that set it, DISCARD ALL and RESET ALL (what
// connection poolers run between clients) clear it, and parallel workers
// inherit it.
//
// The setting is PGC_SUSET: a role that is not a superuser cannot SET it
// (nor set_config it, nor attach it to a function or a role), so the only way
// for an application role to choose a tenant is EXECUTE on set_tenant, which
// checks that the tenant exists and is active.  set_tenant and clear_tenant
// are SECURITY DEFINER functions owned by the superuser who installed the
// extension, which is what lets them change a PGC_SUSET setting.
#include "rowcheck/context.hpp"

#include "shared/errcodes.hpp"
#include "registry/registry.hpp"
#include "rowcheck/binding.hpp"
#include "shared/search_path.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
#include "utils/guc.h"
}

#include <cerrno>
#include <cstdlib>
#include <string>

namespace tenancy::context {

namespace {

constexpr const char *kSettingName = "tenancy.tenant_id";

// The setting's string (owned by the GUC machinery) and its parsed value,
// which the assign hook keeps in step so that reads cost no parsing.
char *tenant_id_setting = nullptr;
std::optional<int64_t> parsed_tenant;

// Parses "" (no tenant) or a positive decimal bigint.  Runs inside the GUC
// machinery (plain C callbacks): it must not throw and reports through
// GUC_check_errdetail.
bool check_tenant_id(char **newval, void **extra, GucSource source)
{
    int64_t tenant = 0;
    const char *text = *newval;
    if (text != nullptr && text[0] != '\0') {
        char *end = nullptr;
        errno = 0;
        long long value = strtoll(text, &end, 10);
        if (errno != 0 || end == text || *end != '\0' || value <= 0) {
            GUC_check_errdetail("tenancy.tenant_id must be a tenant id (a positive bigint) or empty.");
            return false;
        }
        tenant = value;
    }
    // The GUC machinery releases `extra` with free(): allocate it with malloc.
    auto *stored = static_cast<int64_t *>(malloc(sizeof(int64_t)));
    if (stored == nullptr)
        return false;
    *stored = tenant;
    *extra = stored;
    return true;
}

void assign_tenant_id(const char *newval, void *extra)
{
    int64_t tenant = extra ? *static_cast<int64_t *>(extra) : 0;
    parsed_tenant = tenant > 0 ? std::optional<int64_t>(tenant) : std::nullopt;
}

// Changes the setting with the caller's rights: inside set_tenant and
// clear_tenant that is the extension owner, a superuser.
void change_setting(const std::string &value, GucAction action)
{
    pg_call([&] {
        (void)set_config_option(kSettingName, value.c_str(), superuser() ? PGC_SUSET : PGC_USERSET,
                                PGC_S_SESSION, action, true, 0, false);
    });
}

} // namespace

void define_settings()
{
    DefineCustomStringVariable(
        kSettingName, "The tenant the current transaction or session acts for.",
        "Set it with tenancy.set_tenant() and clear it with tenancy.clear_tenant(); "
        "row-level security policies of protected tables compare rows with it.",
        &tenant_id_setting, "", PGC_SUSET, GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE, check_tenant_id,
        assign_tenant_id, nullptr);
    MarkGUCPrefixReserved("tenancy");
}

std::optional<int64_t> current_tenant() { return parsed_tenant; }

void make_current(int64_t tenant, bool is_local, const char *function)
{
    if (is_local) {
        std::string statement = std::string(function) + " with is_local => true";
        pg_call([&] { WarnNoTransactionBlock(true, statement.c_str()); });
    }
    change_setting(std::to_string(tenant), is_local ? GUC_ACTION_LOCAL : GUC_ACTION_SET);
}

} // namespace tenancy::context

using namespace tenancy;

// tenancy.set_tenant(tenant bigint, is_local boolean) RETURNS void
TENANCY_FUNCTION(tenancy_set_tenant)
{
    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    bool is_local = args::required_bool(fcinfo, 1, "is_local");
    {
        // No row lock: taking one in every transaction would make every
        // request of a busy tenant write its registry row.  A tenant deleted
        // after this check keeps its rows; tenancy.check reports them.
        // The function has no SET search_path clause (docs/security.md).
        CatalogOnlySearchPath pinned;
        spi::Connection spi;
        binding::require_may_act_as(tenant); // before the registry: a bound role learns nothing of other tenants
        registry::require_active_tenant(tenant, registry::RowLock::None);
    }
    context::make_current(tenant, is_local, "tenancy.set_tenant");
    PG_RETURN_VOID();
}

TENANCY_FUNCTION(tenancy_current_tenant)
{
    std::optional<int64_t> tenant = context::current_tenant();
    if (!tenant)
        PG_RETURN_NULL();
    PG_RETURN_INT64(*tenant);
}

// Clears the session value, which also hides a transaction-local one.
TENANCY_FUNCTION(tenancy_clear_tenant)
{
    context::change_setting("", GUC_ACTION_SET);
    PG_RETURN_VOID();
}
