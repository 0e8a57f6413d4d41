// Required-row rules: tenancy.require_row, tenancy.unrequire_row and the
// statements tenancy.check runs for a rule (see check_rules.hpp).
//
// Touches tenancy.required_row; reads (never writes) the caller's table to
// validate a rule.
#include "rowcheck/check_rules.hpp"
#include "shared/quoting.hpp"

#include "rowcheck/protect.hpp"
#include "rowcheck/protect_roles.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
}

namespace tenancy::rules {

void load_columns(Rule &rule)
{
    static spi::Statement keys("SELECT pg_catalog.jsonb_object_keys($1::pg_catalog.jsonb)", {TEXTOID});

    rule.columns.clear();
    uint64 rows = keys.execute({spi::text_param(rule.template_json)}, false);
    for (uint64 i = 0; i < rows; ++i) {
        std::string key = spi::get_text(i, 1).value_or("");
        rule.columns.push_back(quoted_identifier(key));
    }
}

namespace {

// "t.id, r.a, r.b" style lists.
std::string prefixed_columns(const Rule &rule, const std::string &prefix)
{
    std::string list;
    for (const std::string &column : rule.columns)
        list += ", " + prefix + column;
    return list;
}

// The tenants of $1 without a row matching the template.  The template's
// values are typed by jsonb_populate_record, so they compare as the columns'
// own types (IS NOT DISTINCT FROM: a NULL in the template matches NULL).
std::string missing_select(const Rule &rule)
{
    std::string matches;
    for (const std::string &column : rule.columns)
        matches += " AND x." + column + " IS NOT DISTINCT FROM r." + column;
    return "SELECT t.id AS tenancy_missing_tenant" + prefixed_columns(rule, "r.") +
           "  FROM pg_catalog.unnest($1::pg_catalog.int8[]) AS t (id)"
           " CROSS JOIN pg_catalog.jsonb_populate_record(NULL::" + rule.table + ", $2::pg_catalog.jsonb) AS r"
           " WHERE NOT EXISTS (SELECT FROM " + rule.table + " AS x"
           "                    WHERE x." + rule.tenant_column + " OPERATOR(pg_catalog.=) t.id" + matches + ")";
}

} // namespace

std::string missing_rows_sql(const Rule &rule) { return missing_select(rule) + " ORDER BY 1"; }

// ON CONFLICT DO NOTHING without a target: the rule's unique index (see the
// view tenancy.required_rows) is what makes a racing insert of the same row
// a no-op instead of a duplicate or an error.
std::string repair_sql(const Rule &rule)
{
    return "WITH missing AS (" + missing_select(rule) + "),"
           " inserted AS (INSERT INTO " + rule.table + " (" + rule.tenant_column +
           prefixed_columns(rule, "") + ")"
           "              SELECT m.tenancy_missing_tenant" + prefixed_columns(rule, "m.") + " FROM missing AS m"
           "              ON CONFLICT DO NOTHING"
           "              RETURNING " + rule.tenant_column + " AS tenant)"
           " SELECT m.tenancy_missing_tenant,"
           "        EXISTS (SELECT FROM inserted AS i WHERE i.tenant OPERATOR(pg_catalog.=) m.tenancy_missing_tenant)"
           "   FROM missing AS m ORDER BY 1";
}

} // namespace tenancy::rules

using namespace tenancy;

namespace {

struct RuleArgs {
    Oid relid;
    Datum template_value;
    std::string table_name;
};

RuleArgs rule_args(FunctionCallInfo fcinfo)
{
    if (args::is_null(fcinfo, 0))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "tbl must not be NULL");
    if (args::is_null(fcinfo, 1))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "template must not be NULL",
                    {}, "Pass '{}' to require any row at all.");
    RuleArgs result{PG_GETARG_OID(0), PG_GETARG_DATUM(1), {}};
    result.table_name = protect::describe(result.relid, {}).name;
    roles::require_table_owner(result.relid, result.table_name);
    return result;
}

// The rule as tenancy.check will see it; raises the errors a user can fix
// now rather than at the next check: not protected, not an object, unknown
// or tenant columns, values of the wrong type, a type without equality.
rules::Rule validated_rule(const RuleArgs &given)
{
    static spi::Statement tenant_column(
        "SELECT tenant_column::text FROM tenancy.protected_table WHERE tbl OPERATOR(pg_catalog.=) $1", {OIDOID});
    static spi::Statement unknown_key(
        "SELECT k FROM pg_catalog.jsonb_object_keys($1) AS k"
        " WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a"
        "                    WHERE a.attrelid OPERATOR(pg_catalog.=) $2 AND a.attname OPERATOR(pg_catalog.=) k"
        "                      AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped)"
        " ORDER BY k LIMIT 1",
        {JSONBOID, OIDOID});
    static spi::Statement as_text("SELECT $1::pg_catalog.text", {JSONBOID});

    Jsonb *jb = pg_call([&] { return DatumGetJsonbP(given.template_value); });
    if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "template must be a JSON object of column values",
                    {}, "For example '{\"name\": \"public\"}'.");

    rules::Rule rule;
    rule.relid = given.relid;
    rule.table = given.table_name;
    spi::Param template_param = spi::datum_param(JSONBOID, given.template_value, false);
    std::string column;
    {
        roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
        if (tenant_column.execute({spi::oid_param(given.relid)}, false) == 0)
            throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "table " + given.table_name + " is not protected",
                        "Required rows are checked per tenant, through the table's tenant column.",
                        "Call tenancy.protect first.");
        column = spi::get_text(0, 1).value_or("");
    }
    rule.tenant_column = quoted_identifier(column);

    if (unknown_key.execute({template_param, spi::oid_param(given.relid)}, false) > 0)
        throw Error(ERRCODE_UNDEFINED_COLUMN,
                    "template names column \"" + spi::get_text(0, 1).value_or("") + "\", which table " +
                        given.table_name + " does not have");
    as_text.execute({template_param}, false);
    rule.template_json = spi::get_text(0, 1).value_or("{}");
    rules::load_columns(rule);
    for (const std::string &key : rule.columns)
        if (key == rule.tenant_column)
            throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        "template must not contain the tenant column " + rule.tenant_column,
                        "tenancy.check fills it with each tenant's id.");

    // Converting the template to the table's row type and planning the check
    // raise the type's own errors (22P02, 42883, ...) now.
    std::string convert = "SELECT pg_catalog.jsonb_populate_record(NULL::" + rule.table + ", $1)";
    spi::execute_once(convert.c_str(), {template_param}, false);
    std::string missing = rules::missing_rows_sql(rule);
    spi::execute_once(missing.c_str(),
                      {spi::int8_array_param({}),
                       spi::text_param(rule.template_json)},
                      true);
    return rule;
}

} // namespace

// tenancy.require_row(tbl regclass, template jsonb) RETURNS bigint
TENANCY_FUNCTION(tenancy_require_row)
{
    static spi::Statement insert(
        "INSERT INTO tenancy.required_row (tbl, template) VALUES ($1, $2::pg_catalog.jsonb)"
        " ON CONFLICT (tbl, template) DO NOTHING RETURNING id",
        {OIDOID, TEXTOID});
    static spi::Statement existing(
        "SELECT id FROM tenancy.required_row"
        " WHERE tbl OPERATOR(pg_catalog.=) $1 AND template OPERATOR(pg_catalog.=) $2::pg_catalog.jsonb",
        {OIDOID, TEXTOID});
    static spi::Statement unique_index(
        "SELECT unique_index IS NOT NULL FROM tenancy.required_rows WHERE id OPERATOR(pg_catalog.=) $1", {INT8OID});

    RuleArgs given = rule_args(fcinfo);
    int64_t id = 0;
    {
        spi::Connection spi;
        rules::Rule rule = validated_rule(given);
        roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
        std::vector<spi::Param> params{spi::oid_param(rule.relid), spi::text_param(rule.template_json)};
        if (insert.execute(params, false) == 0)
            existing.execute(params, false); // declared before: idempotent
        id = spi::get_int64(0, 1).value_or(0);

        unique_index.execute({spi::int8_param(id)}, false);
        if (!spi::get_bool(0, 1).value_or(false)) {
            std::string columns = rule.tenant_column;
            for (const std::string &column : rule.columns)
                columns += ", " + column;
            throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        "table " + rule.table + " has no unique index to keep required rows from being duplicated",
                        "tenancy.check inserts missing rows with ON CONFLICT DO NOTHING; without a unique index "
                        "on the tenant column and template columns, a repair racing another insert could "
                        "duplicate the row.",
                        "CREATE UNIQUE INDEX ON " + rule.table + " (" + columns + ")");
        }
    }
    PG_RETURN_INT64(id);
}

// tenancy.unrequire_row(tbl regclass, template jsonb) RETURNS boolean
TENANCY_FUNCTION(tenancy_unrequire_row)
{
    static spi::Statement remove(
        "DELETE FROM tenancy.required_row"
        " WHERE tbl OPERATOR(pg_catalog.=) $1 AND template OPERATOR(pg_catalog.=) $2",
        {OIDOID, JSONBOID});

    RuleArgs given = rule_args(fcinfo);
    bool removed = false;
    {
        spi::Connection spi;
        roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
        removed = remove.execute({spi::oid_param(given.relid), spi::datum_param(JSONBOID, given.template_value, false)},
                                 false) > 0;
    }
    PG_RETURN_BOOL(removed);
}
