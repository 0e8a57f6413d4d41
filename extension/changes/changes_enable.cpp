// Change landing: tenancy.enable_changes and tenancy.disable_changes
// (docs/changes.md, "Preparing a table").
//
// enable_changes checks that the table can land events (a unique index on
// exactly the key columns, no data column that an event could not leave
// empty), adds the change-state columns it lacks, creates the live view and
// records the table in tenancy.change_table.  It runs with the caller's
// rights (the caller must own the table) and uses the extension owner's
// only to write the bookkeeping table.  It takes a SHARE ROW EXCLUSIVE lock
// on the table: apply_changes calls in flight finish first, later ones see
// the new set-up.
#include "changes/changes_table.hpp"
#include "rowcheck/protect_roles.hpp"
#include "shared/errcodes.hpp"
#include "shared/quoting.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace tenancy::changes {

namespace {

enum EnableArg { kTable, kKeyColumns, kVersion, kDeleted, kPlaceholder, kVersions, kLiveView };

// One change-state column: its role, its argument, the type it must have
// and how enable_changes adds it.
struct StateColumn {
    const char *role;
    std::string name;
    Oid type;
    const char *definition; // after the column name in ADD COLUMN
    bool may_be_not_null;
};

std::string name_argument(FunctionCallInfo fcinfo, int n, const char *parameter)
{
    if (args::is_null(fcinfo, n))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, std::string(parameter) + " must not be NULL");
    return NameStr(*PG_GETARG_NAME(n));
}

std::vector<std::string> name_array(FunctionCallInfo fcinfo, int n, const char *parameter)
{
    if (args::is_null(fcinfo, n))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, std::string(parameter) + " must not be NULL");
    ArrayType *array = pg_call([&] { return PG_GETARG_ARRAYTYPE_P(n); });
    if (ARR_NDIM(array) > 1)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, std::string(parameter) + " must be a one-dimensional array");
    Datum *elements = nullptr;
    bool *nulls = nullptr;
    int count = 0;
    pg_call([&] { deconstruct_array(array, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, &elements, &nulls, &count); });
    std::vector<std::string> names;
    for (int i = 0; i < count; ++i) {
        if (nulls[i])
            throw Error(ERRCODE_INVALID_PARAMETER_VALUE, std::string(parameter) + " must not contain NULL");
        names.emplace_back(NameStr(*DatumGetName(elements[i])));
    }
    if (names.empty())
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, std::string(parameter) + " must name at least one column");
    return names;
}

// Locks the table for a change of its set-up and checks that it can have
// one: an ordinary table, not one of the extension's.
void lock_for_setup(Oid relid, const std::string &name)
{
    char kind = pg_call([&] {
        LockRelationOid(relid, ShareRowExclusiveLock);
        return get_rel_relkind(relid);
    });
    if (kind == '\0')
        throw Error(ERRCODE_UNDEFINED_TABLE, "table " + name + " was dropped");
    if (kind == RELKIND_PARTITIONED_TABLE)
        throw Error(ERRCODE_FEATURE_NOT_SUPPORTED, name + " is a partitioned table, which change landing does not support",
                    {}, "Enable each partition and land its events into it.");
    if (kind != RELKIND_RELATION)
        throw Error(ERRCODE_WRONG_OBJECT_TYPE, name + " is not an ordinary table");
    bool in_extension_schema = pg_call([&] {
        return get_rel_namespace(relid) == get_namespace_oid("tenancy", false);
    });
    if (in_extension_schema)
        throw Error(ERRCODE_WRONG_OBJECT_TYPE, "cannot land changes into " + name + ", a table of the tenancy extension");
}

struct Attribute {
    AttrNumber attnum = InvalidAttrNumber;
    Oid type = InvalidOid;
    bool not_null = false;
    bool has_default = false;
    char identity = '\0';
    char generated = '\0';
};

std::optional<Attribute> find_attribute(Oid relid, const std::string &name)
{
    std::optional<Attribute> found;
    pg_call([&] {
        HeapTuple tuple = SearchSysCacheAttName(relid, name.c_str());
        if (!HeapTupleIsValid(tuple))
            return;
        auto *form = reinterpret_cast<Form_pg_attribute>(GETSTRUCT(tuple));
        found = Attribute{form->attnum, form->atttypid, form->attnotnull, form->atthasdef, form->attidentity,
                          form->attgenerated};
        ReleaseSysCache(tuple);
    });
    return found;
}

// Every column of the table that is not dropped, in table order.
std::vector<std::pair<std::string, Attribute>> user_columns(Oid relid)
{
    std::vector<std::pair<std::string, Attribute>> columns;
    pg_call([&] {
        HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
        int natts = HeapTupleIsValid(tuple) ? reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relnatts : 0;
        if (HeapTupleIsValid(tuple))
            ReleaseSysCache(tuple);
        for (int attnum = 1; attnum <= natts; ++attnum) {
            HeapTuple attribute_tuple = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
            if (!HeapTupleIsValid(attribute_tuple))
                continue;
            auto *form = reinterpret_cast<Form_pg_attribute>(GETSTRUCT(attribute_tuple));
            if (!form->attisdropped)
                columns.emplace_back(NameStr(form->attname),
                                     Attribute{form->attnum, form->atttypid, form->attnotnull, form->atthasdef,
                                               form->attidentity, form->attgenerated});
            ReleaseSysCache(attribute_tuple);
        }
    });
    return columns;
}

std::string type_name(Oid type)
{
    return pg_call([&] { return std::string(format_type_be(type)); });
}

std::vector<AttrNumber> resolve_key(Oid relid, const std::string &table, const std::vector<std::string> &columns)
{
    std::vector<AttrNumber> attnums;
    std::set<std::string> seen;
    for (const std::string &name : columns) {
        if (!seen.insert(name).second)
            throw Error(ERRCODE_DUPLICATE_COLUMN, "column \"" + name + "\" appears twice in key_columns");
        std::optional<Attribute> attribute = find_attribute(relid, name);
        if (!attribute)
            throw Error(ERRCODE_UNDEFINED_COLUMN, "column \"" + name + "\" of table " + table + " does not exist",
                        "It was given in key_columns.");
        if (attribute->attnum < 0)
            throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        "key_columns must name user columns, not the system column \"" + name + "\"");
        if (attribute->generated != '\0' || attribute->identity == ATTRIBUTE_IDENTITY_ALWAYS)
            throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        "key column \"" + name + "\" is generated by the database, so events cannot carry it");
        attnums.push_back(attribute->attnum);
    }
    return attnums;
}

[[noreturn]] void throw_missing_unique_index(const std::string &table, const std::vector<std::string> &columns)
{
    std::string list;
    for (const std::string &column : columns)
        list += (list.empty() ? "" : ", ") + quoted_identifier(column);
    throw Error(ERRCODE_INVALID_COLUMN_REFERENCE,
                "change landing requires a unique constraint on (" + list + ") of table " + table +
                    ": add it with ALTER TABLE " + table + " ADD UNIQUE (" + list + ")",
                "apply_changes finds each event's row by its key; only a valid, immediate, non-partial unique index "
                "on exactly the key columns makes the key identify one row and lets concurrent inserts of one key "
                "meet instead of duplicating it.",
                "If the table holds duplicate keys, tenancy.find_duplicates and tenancy.dedupe find and remove them.");
}

// Adds the state columns the table lacks; checks the types of the others.
// Returns the names it added.
std::vector<std::string> ensure_state_columns(Oid relid, const std::string &table, const std::vector<StateColumn> &columns)
{
    std::vector<std::string> added;
    for (const StateColumn &state : columns) {
        std::optional<Attribute> attribute = find_attribute(relid, state.name);
        if (!attribute) {
            spi::execute_once(("ALTER TABLE " + table + " ADD COLUMN " + quoted_identifier(state.name) + " " +
                               state.definition)
                                  .c_str(),
                              {}, false);
            added.push_back(state.name);
            continue;
        }
        if (attribute->attnum < 0)
            throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        std::string("the ") + state.role + " cannot be the system column \"" + state.name + "\"");
        if (attribute->type != state.type)
            throw Error(ERRCODE_DATATYPE_MISMATCH,
                        std::string("the ") + state.role + " \"" + state.name + "\" of table " + table + " is " +
                            type_name(attribute->type) + ", not " + type_name(state.type),
                        {}, "Pass the name of another column (enable_changes adds it), or change the column's type.");
        if (attribute->not_null && !state.may_be_not_null)
            throw Error(errcode::kColumnCannotBeEmpty,
                        std::string("the ") + state.role + " \"" + state.name + "\" of table " + table +
                            " is NOT NULL, but it is empty in every row that is not a tombstone (or placeholder)",
                        {}, "ALTER TABLE " + table + " ALTER COLUMN " + quoted_identifier(state.name) + " DROP NOT NULL");
    }
    return added;
}

// Data columns an event may leave empty (a partial update before its
// create, a placeholder, a delete that resets the row): each must accept
// NULL or have a default.
void require_emptiable_columns(Oid relid, const std::string &table, const std::set<std::string> &excluded)
{
    std::vector<std::string> names;
    for (const auto &[name, attribute] : user_columns(relid))
        if (attribute.not_null && !attribute.has_default && attribute.identity == '\0' && attribute.generated == '\0')
            names.push_back(name);
    std::string list, hint;
    for (const std::string &name : names) {
        if (excluded.count(name))
            continue;
        list += (list.empty() ? "" : ", ") + quoted_identifier(name);
        hint += (hint.empty() ? "ALTER TABLE " + table + " ALTER COLUMN " : ", ALTER COLUMN ") +
                quoted_identifier(name) + " SET DEFAULT ...";
    }
    if (!list.empty())
        throw Error(errcode::kColumnCannotBeEmpty,
                    "column(s) " + list + " of table " + table + " are NOT NULL without a default",
                    "Events arrive partial and out of order: an update before its create, a placeholder parent that "
                    "holds only its key, a delete that resets the row leave the other columns empty.",
                    "Give each a default (" + hint + "), or drop NOT NULL.");
}

struct Previous {
    std::optional<std::string> live_view;
    std::vector<std::string> added_columns;
};

std::optional<Previous> previous_record(Oid relid)
{
    static spi::Statement query(
        "SELECT live_view::pg_catalog.text, a.name::pg_catalog.text"
        "  FROM tenancy.change_table c"
        "  LEFT JOIN LATERAL pg_catalog.unnest(c.added_columns) AS a (name) ON true"
        " WHERE c.tbl OPERATOR(pg_catalog.=) $1",
        {OIDOID});
    roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
    uint64 rows = query.execute({spi::datum_param(OIDOID, ObjectIdGetDatum(relid), false)}, false);
    if (rows == 0)
        return std::nullopt;
    Previous previous;
    previous.live_view = spi::get_text(0, 1);
    for (uint64 i = 0; i < rows; ++i)
        if (std::optional<std::string> name = spi::get_text(i, 2))
            previous.added_columns.push_back(*name);
    return previous;
}

std::string qualified_in_schema_of(Oid relid, const std::string &name)
{
    return pg_call([&] {
        return std::string(quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), name.c_str()));
    });
}

std::string default_view_name(Oid relid)
{
    return pg_call([&] { return std::string(get_rel_name(relid)); }) + "_live";
}

void create_live_view(Oid relid, const std::string &table, const std::string &view,
                      const std::vector<StateColumn> &state)
{
    // Every column but the hidden change state, in table order.
    std::vector<std::string> columns;
    for (const auto &column : user_columns(relid))
        columns.push_back(column.first);
    const std::string &deleted = state[1].name, &placeholder = state[2].name, &versions = state[3].name;
    std::string list;
    for (const std::string &column : columns)
        if (column != deleted && column != placeholder && column != versions)
            list += (list.empty() ? "t." : ", t.") + quoted_identifier(column);
    std::string qualified = qualified_in_schema_of(relid, view);
    // security_invoker: readers need their own rights on the table, and its
    // row-level security (tenancy.protect) applies to them.
    spi::execute_once(("CREATE OR REPLACE VIEW " + qualified + " WITH (security_invoker = true) AS SELECT " + list +
                       " FROM " + table + " AS t WHERE t." + quoted_identifier(deleted) + " IS NULL AND t." +
                       quoted_identifier(placeholder) + " IS NULL")
                          .c_str(),
                      {}, false);
    spi::execute_once(("COMMENT ON VIEW " + qualified + " IS " +
                       quoted_literal("Live rows of " + table +
                                      ": no tombstones, no placeholders (tenancy.enable_changes)"))
                          .c_str(),
                      {}, false);
}

void record_table(Oid relid, const std::vector<std::string> &key, const std::vector<StateColumn> &state,
                  const std::optional<std::string> &live_view, const std::vector<std::string> &added)
{
    static spi::Statement upsert(
        "INSERT INTO tenancy.change_table AS c (tbl, key_columns, version_column, deleted_column,"
        "       placeholder_column, versions_column, live_view, added_columns)"
        " VALUES ($1, $2::pg_catalog.name[], $3, $4, $5, $6, $7, $8::pg_catalog.name[])"
        " ON CONFLICT (tbl) DO UPDATE SET key_columns = EXCLUDED.key_columns,"
        "       version_column = EXCLUDED.version_column, deleted_column = EXCLUDED.deleted_column,"
        "       placeholder_column = EXCLUDED.placeholder_column, versions_column = EXCLUDED.versions_column,"
        "       live_view = EXCLUDED.live_view, added_columns = EXCLUDED.added_columns",
        {OIDOID, TEXTARRAYOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTARRAYOID});

    auto text_array = [](const std::vector<std::string> &values) {
        ArrayType *array = pg_call([&] {
            Datum *elements = static_cast<Datum *>(palloc(sizeof(Datum) * (values.size() + 1)));
            for (size_t i = 0; i < values.size(); ++i)
                elements[i] = CStringGetTextDatum(values[i].c_str());
            return construct_array(elements, static_cast<int>(values.size()), TEXTOID, -1, false, TYPALIGN_INT);
        });
        return spi::datum_param(TEXTARRAYOID, PointerGetDatum(array), false);
    };
    roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
    upsert.execute({spi::datum_param(OIDOID, ObjectIdGetDatum(relid), false), text_array(key),
                    spi::text_param(state[0].name), spi::text_param(state[1].name), spi::text_param(state[2].name),
                    spi::text_param(state[3].name), spi::optional_text_param(live_view), text_array(added)},
                   false);
}

} // namespace

} // namespace tenancy::changes

using namespace tenancy;
using namespace tenancy::changes;

// tenancy.enable_changes(tbl regclass, key_columns name[], version_column name,
//     deleted_column name, placeholder_column name, versions_column name,
//     live_view name) RETURNS void
TENANCY_FUNCTION(tenancy_enable_changes)
{
    if (args::is_null(fcinfo, kTable))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "tbl must not be NULL");
    Oid relid = PG_GETARG_OID(kTable);
    std::vector<std::string> key = name_array(fcinfo, kKeyColumns, "key_columns");
    std::vector<StateColumn> state = {
        {"version column", name_argument(fcinfo, kVersion, "version_column"), INT8OID, "bigint NOT NULL DEFAULT 0",
         true},
        {"deleted column", name_argument(fcinfo, kDeleted, "deleted_column"), TIMESTAMPTZOID, "timestamptz", false},
        {"placeholder column", name_argument(fcinfo, kPlaceholder, "placeholder_column"), TIMESTAMPTZOID,
         "timestamptz", false},
        {"versions column", name_argument(fcinfo, kVersions, "versions_column"), JSONBOID,
         "jsonb NOT NULL DEFAULT '{}'", true},
    };
    std::optional<std::string> live_view;
    if (!args::is_null(fcinfo, kLiveView))
        live_view = std::string(NameStr(*PG_GETARG_NAME(kLiveView)));

    std::set<std::string> names(key.begin(), key.end());
    for (const StateColumn &column : state)
        if (!names.insert(column.name).second)
            throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        "column \"" + column.name + "\" is given twice (the key and the four state columns must differ)");

    std::string table = table_name(relid);
    roles::require_table_owner(relid, table);
    lock_for_setup(relid, table);
    std::vector<AttrNumber> key_attnums = resolve_key(relid, table, key);
    if (!OidIsValid(find_unique_index(relid, key_attnums)))
        throw_missing_unique_index(table, key);

    spi::Connection spi;
    // A protected table's tenant column is NOT NULL without a default, and
    // needs neither: the guard trigger fills it, and resets leave it alone.
    std::set<std::string> emptiable_exceptions = names;
    if (std::optional<std::string> tenant = protected_tenant_column(relid))
        emptiable_exceptions.insert(*tenant);
    require_emptiable_columns(relid, table, emptiable_exceptions);
    std::optional<Previous> previous = previous_record(relid);
    std::vector<std::string> added = ensure_state_columns(relid, table, state);
    if (previous)
        for (const std::string &column : previous->added_columns)
            if (std::find(added.begin(), added.end(), column) == added.end() &&
                std::find_if(state.begin(), state.end(), [&](const StateColumn &s) { return s.name == column; }) !=
                    state.end())
                added.push_back(column);

    std::string view = live_view ? *live_view : default_view_name(relid);
    if (previous && previous->live_view && *previous->live_view != view)
        spi::execute_once(("DROP VIEW IF EXISTS " + qualified_in_schema_of(relid, *previous->live_view)).c_str(), {},
                          false);
    std::optional<std::string> recorded_view;
    if (!view.empty()) {
        create_live_view(relid, table, view, state);
        recorded_view = view;
    }
    record_table(relid, key, state, recorded_view, added);
    invalidate_table(relid);
    PG_RETURN_VOID();
}

// tenancy.disable_changes(tbl regclass, drop_columns boolean) RETURNS boolean
TENANCY_FUNCTION(tenancy_disable_changes)
{
    static spi::Statement forget("DELETE FROM tenancy.change_table WHERE tbl OPERATOR(pg_catalog.=) $1", {OIDOID});

    if (args::is_null(fcinfo, 0))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "tbl must not be NULL");
    Oid relid = PG_GETARG_OID(0);
    bool drop_columns = args::required_bool(fcinfo, 1, "drop_columns");
    std::string table = table_name(relid);
    roles::require_table_owner(relid, table);
    lock_for_setup(relid, table);

    spi::Connection spi;
    std::optional<Previous> previous = previous_record(relid);
    if (!previous)
        PG_RETURN_BOOL(false);
    if (previous->live_view)
        spi::execute_once(("DROP VIEW IF EXISTS " + qualified_in_schema_of(relid, *previous->live_view)).c_str(), {},
                          false);
    if (drop_columns)
        for (const std::string &column : previous->added_columns)
            spi::execute_once(("ALTER TABLE " + table + " DROP COLUMN IF EXISTS " + quoted_identifier(column)).c_str(),
                              {}, false);
    {
        roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
        forget.execute({spi::datum_param(OIDOID, ObjectIdGetDatum(relid), false)}, false);
    }
    invalidate_table(relid);
    PG_RETURN_BOOL(true);
}
