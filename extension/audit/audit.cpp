// tenancy.audit(schema): the isolation hazards that row-level security
// leaves open, read from the system catalogs (docs/security.md, "The
// isolation audit").  The hazards themselves are the view
// tenancy.isolation_hazards (sql/install/audit.sql), set-based and readable
// as SQL; this entry point checks the argument and orders the findings.
//
// SECURITY DEFINER (the view reads the extension's bookkeeping and role
// bindings), EXECUTE revoked from PUBLIC.  Reads only; changes nothing.
#include "shared/spi.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
}

#include <optional>
#include <string>

using namespace tenancy;

// tenancy.audit(schema name DEFAULT NULL)
//   RETURNS TABLE (severity text, hazard text, object text, explanation text, fix text)
// NULL: every schema of the application, and the findings that belong to no
// schema (role bindings, grants of the extension's functions).
TENANCY_FUNCTION(tenancy_audit)
{
    static spi::Statement findings(
        "SELECT severity, hazard, object, explanation, fix FROM tenancy.isolation_hazards"
        " WHERE $1 IS NULL OR schema_name OPERATOR(pg_catalog.=) $1::pg_catalog.name"
        " ORDER BY CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, hazard, object",
        {TEXTOID});

    std::optional<std::string> schema;
    if (!args::is_null(fcinfo, 0))
        schema = std::string(NameStr(*PG_GETARG_NAME(0)));
    if (schema) {
        bool exists = pg_call([&] { return OidIsValid(get_namespace_oid(schema->c_str(), true)); });
        if (!exists)
            throw Error(ERRCODE_INVALID_SCHEMA_NAME, "schema \"" + *schema + "\" does not exist", {},
                        "Pass NULL to audit every schema.");
    }
    srf::Materialized out(fcinfo);
    spi::Connection spi;
    uint64 rows = findings.execute({spi::optional_text_param(schema)}, true);
    srf::put_spi_rows(out, rows);
    return (Datum)0;
}
