// Change landing: statement texts, their saved plans, and running them (see
// changes_write.hpp).
#include "changes/changes_write.hpp"

#include "shared/plan_cache.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/guc.h"
#include "utils/numeric.h"
#include "utils/plancache.h"
#include "utils/resowner.h"
}

#include <string>

namespace tenancy::changes {

namespace {

// Saved plans by statement text and parameter types (shared/plan_cache.hpp).
spi::PlanCache plans(128);

// A generic plan: these statements have one good plan whatever the batch, an
// index lookup per unnested key, and re-planning for each call's arrays cost
// a fifth of a small call.  It is built here, with sequential scans, hash and
// merge joins off, because a table that is still empty (the first call) would
// otherwise get a hash join over a sequential scan and keep it as it grows.
// When PostgreSQL re-plans it later (after DDL, or new statistics) it does so
// with the session's settings and the table's statistics.
SPIPlanPtr prepare_generic(const std::string &sql, const std::vector<Oid> &types)
{
    return pg_call([&] {
        SPIPlanPtr p = SPI_prepare_cursor(sql.c_str(), static_cast<int>(types.size()),
                                          const_cast<Oid *>(types.data()), CURSOR_OPT_GENERIC_PLAN);
        if (p == nullptr)
            elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql.c_str(), SPI_result_code_string(SPI_result));
        SPI_keepplan(p);
        int nest_level = NewGUCNestLevel();
        for (const char *setting : {"enable_seqscan", "enable_hashjoin", "enable_mergejoin"})
            (void)set_config_option(setting, "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
        CachedPlan *built = SPI_plan_get_cached_plan(p);
        if (built != nullptr)
            ReleaseCachedPlan(built, CurrentResourceOwner);
        AtEOXact_GUC(true, nest_level);
        return p;
    });
}

// The parameters of one statement: arrays, one per unnested column.
class ArrayParams {
public:
    void add(Oid element_type, const std::vector<Datum> &values, const std::vector<bool> &nulls)
    {
        int16 length;
        bool by_value;
        char align;
        Oid array_type = InvalidOid;
        ArrayType *array = pg_call([&] {
            get_typlenbyvalalign(element_type, &length, &by_value, &align);
            array_type = get_array_type(element_type);
            if (!OidIsValid(array_type))
                ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                                errmsg("type %s has no array type", format_type_be(element_type))));
            int dims[1] = {static_cast<int>(values.size())};
            int lower_bounds[1] = {1};
            bool *null_flags = static_cast<bool *>(palloc(sizeof(bool) * (values.size() + 1)));
            for (size_t i = 0; i < values.size(); ++i)
                null_flags[i] = nulls[i];
            return construct_md_array(const_cast<Datum *>(values.data()), null_flags, 1, dims, lower_bounds,
                                      element_type, length, by_value, align);
        });
        types_.push_back(array_type);
        values_.push_back(PointerGetDatum(array));
        nulls_.push_back(' ');
    }

    void add(Oid element_type, const std::vector<Datum> &values)
    {
        add(element_type, values, std::vector<bool>(values.size(), false));
    }

    // Values of `column`: an array of its type, or of text for a type that
    // has no array type (see Column::array_type).
    void add(const Column &column, const std::vector<Datum> &values, const std::vector<bool> &nulls)
    {
        if (OidIsValid(column.array_type))
            return add(column.type, values, nulls);
        std::vector<Datum> texts(values.size(), Datum(0));
        pg_call([&] {
            Oid output;
            bool varlena;
            getTypeOutputInfo(column.type, &output, &varlena);
            for (size_t i = 0; i < values.size(); ++i)
                if (!nulls[i])
                    texts[i] = CStringGetTextDatum(OidOutputFunctionCall(output, values[i]));
        });
        add(TEXTOID, texts, nulls);
    }

    const std::vector<Oid> &types() const { return types_; }

    // Runs `sql` with these parameters; returns the rows processed.
    uint64 run(const std::string &sql)
    {
        SPIPlanPtr plan = plans.get(sql, types_, [&] { return prepare_generic(sql, types_); });
        int rc = pg_call([&] { return SPI_execute_plan(plan, values_.data(), nulls_.c_str(), false, 0); });
        if (rc < 0)
            throw Error(ERRCODE_INTERNAL_ERROR, std::string("SPI failed: ") + SPI_result_code_string(rc), sql);
        return SPI_processed;
    }

private:
    std::vector<Oid> types_;
    std::vector<Datum> values_;
    std::string nulls_;
};

void add_keys(ArrayParams &params, const Table &table, const std::vector<const Key *> &keys)
{
    for (size_t k = 0; k < table.key.size(); ++k) {
        std::vector<Datum> column;
        column.reserve(keys.size());
        for (const Key *key : keys)
            column.push_back((*key)[k]);
        params.add(table.key[k].column, column, std::vector<bool>(column.size(), false));
    }
}

// The unnested value `alias` as a value of the column's type.
std::string typed(const Column &column, const std::string &alias)
{
    return OidIsValid(column.array_type) ? alias : "(" + alias + ")::" + column.sql_type;
}

// "u.k0, u.k1" or "t.a = u.k0 AND ..." pieces over the key columns.
std::string key_aliases(const Table &table)
{
    std::string text;
    for (size_t k = 0; k < table.key.size(); ++k)
        text += (k ? ", k" : "k") + std::to_string(k);
    return text;
}

std::string key_match(const Table &table)
{
    std::string text;
    for (size_t k = 0; k < table.key.size(); ++k)
        text += std::string(k ? " AND " : "") + "t." + table.key[k].column.quoted + " " + table.key[k].equality +
                " " + typed(table.key[k].column, "u.k" + std::to_string(k));
    return text;
}

// "AND t.k = ANY ($1) AND ..." over the key arrays (the first parameters):
// redundant with key_match, but it bounds the rows of the table a plan can
// read to those of the batch's keys, whatever join order the planner picks
// (a plan made while the table was empty may put the table on the outer
// side of the join, and would then read all of it once it has grown).
std::string key_bound(const Table &table)
{
    std::string text;
    for (size_t k = 0; k < table.key.size(); ++k)
        if (OidIsValid(table.key[k].column.array_type))
            text += " AND t." + table.key[k].column.quoted + " " + table.key[k].equality + " ANY ($" +
                    std::to_string(k + 1) + ")";
    return text;
}

std::string key_columns(const Table &table)
{
    std::string text;
    for (size_t k = 0; k < table.key.size(); ++k)
        text += (k ? ", " : "") + table.key[k].column.quoted;
    return text;
}

std::string key_values(const Table &table)
{
    std::string text;
    for (size_t k = 0; k < table.key.size(); ++k)
        text += (k ? ", " : "") + typed(table.key[k].column, "u.k" + std::to_string(k));
    return text;
}

// ROWS FROM (unnest($1), unnest($2), ...): the arrays side by side, one row
// per element.  (The shorthand unnest($1, $2) exists only unqualified.)
std::string unnest(size_t count)
{
    std::string text = "ROWS FROM (";
    for (size_t i = 1; i <= count; ++i)
        text += (i > 1 ? ", pg_catalog.unnest($" : "pg_catalog.unnest($") + std::to_string(i) + ")";
    return text + ")";
}

int64_t numeric_to_int64(Numeric number)
{
    return pg_call([&] { return DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(number))); });
}

// The versions column: {"column": version, ...}.  Values that are not
// numbers (the column was written by hand) count as 0.
std::map<std::string, int64_t> parse_versions(Datum value)
{
    std::map<std::string, int64_t> versions;
    std::vector<std::pair<std::string, JsonbValue>> fields;
    pg_call([&] {
        Jsonb *jsonb = DatumGetJsonbP(value);
        if (!JB_ROOT_IS_OBJECT(jsonb))
            return;
        JsonbIterator *it = JsonbIteratorInit(&jsonb->root);
        JsonbValue item;
        JsonbIteratorToken token;
        while ((token = JsonbIteratorNext(&it, &item, true)) != WJB_DONE) {
            if (token == WJB_KEY)
                fields.emplace_back(std::string(item.val.string.val, item.val.string.len), JsonbValue{});
            else if (token == WJB_VALUE && !fields.empty())
                fields.back().second = item;
        }
    });
    for (auto &[name, item] : fields) {
        if (item.type != jbvNumeric)
            continue;
        try {
            versions[name] = numeric_to_int64(item.val.numeric);
        } catch (const PgError &) {
            // out of the bigint range: treat like a value that is not a number
        }
    }
    return versions;
}

Datum versions_jsonb(const std::map<std::string, int64_t> &versions)
{
    return pg_call([&] {
        JsonbParseState *state = nullptr;
        pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
        for (const auto &entry : versions) {
            JsonbValue key;
            key.type = jbvString;
            key.val.string.val = const_cast<char *>(entry.first.data());
            key.val.string.len = static_cast<int>(entry.first.size());
            pushJsonbValue(&state, WJB_KEY, &key);
            JsonbValue value;
            value.type = jbvNumeric;
            value.val.numeric = int64_to_numeric(entry.second);
            pushJsonbValue(&state, WJB_VALUE, &value);
        }
        JsonbValue *object = pushJsonbValue(&state, WJB_END_OBJECT, nullptr);
        return JsonbPGetDatum(JsonbValueToJsonb(object));
    });
}

Datum get_column(uint64 row, int column, bool *is_null)
{
    return pg_call([&] { return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, is_null); });
}

// The value and action arrays of every data column, then version and
// versions; `deleted` supplies the per-row deleted argument.
template <typename Deleted>
void add_row_arrays(ArrayParams &params, const Table &table, const std::vector<const RowChange *> &rows,
                    Oid deleted_type, Deleted deleted)
{
    for (size_t c = 0; c < table.data.size(); ++c) {
        std::vector<Datum> values, actions;
        std::vector<bool> nulls;
        for (const RowChange *row : rows) {
            const Value *value = row->actions[c] == Action::Set ? row->values[c] : nullptr;
            values.push_back(value ? value->datum : Datum(0));
            nulls.push_back(value == nullptr || value->is_null);
            actions.push_back(Int16GetDatum(static_cast<int16>(row->actions[c])));
        }
        params.add(table.data[c], values, nulls);
        params.add(INT2OID, actions);
    }
    std::vector<Datum> versions, deleted_values, column_versions;
    for (const RowChange *row : rows) {
        versions.push_back(Int64GetDatum(row->version));
        deleted_values.push_back(deleted(*row));
        column_versions.push_back(versions_jsonb(row->versions));
    }
    params.add(INT8OID, versions);
    params.add(deleted_type, deleted_values);
    params.add(JSONBOID, column_versions);
}

std::string row_aliases(const Table &table)
{
    std::string text;
    for (size_t c = 0; c < table.data.size(); ++c)
        text += ", v" + std::to_string(c) + ", a" + std::to_string(c);
    return text + ", version, deleted, versions";
}

} // namespace

std::vector<RowState> TableStatements::read(const std::vector<const Key *> &keys)
{
    std::vector<RowState> states(keys.size());
    if (keys.empty())
        return states;
    ArrayParams params;
    add_keys(params, table_, keys);
    std::string sql = "SELECT u.ord::pg_catalog.int8, t." + table_.version_column + ", t." + table_.deleted_column +
                      " IS NOT NULL, t." + table_.placeholder_column + " IS NOT NULL, t." + table_.versions_column +
                      " FROM " + unnest(table_.key.size()) + " WITH ORDINALITY AS u (" + key_aliases(table_) +
                      ", ord) JOIN " + table_.name + " AS t ON " + key_match(table_) + key_bound(table_);
    uint64 rows = params.run(sql);
    for (uint64 row = 0; row < rows; ++row) {
        bool is_null = false;
        auto ord = static_cast<size_t>(DatumGetInt64(get_column(row, 1, &is_null)));
        RowState &state = states.at(ord - 1);
        state.exists = true;
        Datum version = get_column(row, 2, &is_null);
        state.version = is_null ? 0 : DatumGetInt64(version);
        state.deleted = DatumGetBool(get_column(row, 3, &is_null));
        state.placeholder = DatumGetBool(get_column(row, 4, &is_null));
        Datum versions = get_column(row, 5, &is_null);
        if (!is_null)
            state.versions = parse_versions(versions);
    }
    pg_call([] { SPI_freetuptable(SPI_tuptable); });
    return states;
}

uint64 TableStatements::insert(const std::vector<const Key *> &keys, const std::vector<const RowChange *> &rows)
{
    if (rows.empty())
        return 0;
    ArrayParams params;
    add_keys(params, table_, keys);
    add_row_arrays(params, table_, rows, BOOLOID, [](const RowChange &row) { return BoolGetDatum(row.deleted); });

    std::string columns = key_columns(table_), values = key_values(table_);
    for (size_t c = 0; c < table_.data.size(); ++c) {
        std::string n = std::to_string(c);
        columns += ", " + table_.data[c].quoted;
        values += ", CASE WHEN u.a" + n + " OPERATOR(pg_catalog.=) 1 THEN " + typed(table_.data[c], "u.v" + n) +
                  " ELSE " + table_.data[c].default_sql + " END";
    }
    columns += ", " + table_.version_column + ", " + table_.deleted_column + ", " + table_.placeholder_column + ", " +
               table_.versions_column;
    values += ", u.version, CASE WHEN u.deleted THEN pg_catalog.now() END, NULL, u.versions";
    std::string sql = "INSERT INTO " + table_.name + " (" + columns + ") SELECT " + values + " FROM " +
                      unnest(params.types().size()) + " AS u (" + key_aliases(table_) + row_aliases(table_) +
                      ") ON CONFLICT (" + key_columns(table_) + ") DO NOTHING";
    return params.run(sql);
}

uint64 TableStatements::update(const std::vector<const Key *> &keys, const std::vector<const RowChange *> &rows)
{
    if (rows.empty())
        return 0;
    ArrayParams params;
    add_keys(params, table_, keys);
    add_row_arrays(params, table_, rows, INT2OID,
                   [](const RowChange &row) { return Int16GetDatum(static_cast<int16>(row.deleted_change)); });
    std::vector<Datum> old_versions;
    for (const RowChange *row : rows)
        old_versions.push_back(Int64GetDatum(row->old_version));
    params.add(INT8OID, old_versions);

    std::string assignments;
    for (size_t c = 0; c < table_.data.size(); ++c) {
        std::string n = std::to_string(c);
        const Column &column = table_.data[c];
        assignments += column.quoted + " = CASE WHEN u.a" + n + " OPERATOR(pg_catalog.=) 1 THEN " +
                       typed(column, "u.v" + n) + " WHEN u.a" + n + " OPERATOR(pg_catalog.=) 2 THEN " + column.default_sql + " ELSE t." +
                       column.quoted + " END, ";
    }
    const std::string &deleted = table_.deleted_column;
    assignments += table_.version_column + " = u.version, " + deleted +
                   " = CASE WHEN u.deleted OPERATOR(pg_catalog.=) 1 THEN pg_catalog.now()"
                   " WHEN u.deleted OPERATOR(pg_catalog.=) 2 THEN NULL ELSE t." + deleted + " END, " +
                   table_.placeholder_column + " = NULL, " + table_.versions_column + " = u.versions";
    std::string sql = "UPDATE " + table_.name + " AS t SET " + assignments + " FROM " +
                      unnest(params.types().size()) + " AS u (" + key_aliases(table_) + row_aliases(table_) +
                      ", old_version) WHERE " + key_match(table_) + key_bound(table_) + " AND COALESCE(t." +
                      table_.version_column +
                      ", 0) OPERATOR(pg_catalog.=) u.old_version";
    return params.run(sql);
}

uint64 TableStatements::insert_placeholders(const std::vector<const Key *> &keys)
{
    if (keys.empty())
        return 0;
    ArrayParams params;
    add_keys(params, table_, keys);
    std::string values = key_values(table_);
    std::string sql = "INSERT INTO " + table_.name + " (" + key_columns(table_) + ", " + table_.version_column +
                      ", " + table_.deleted_column + ", " + table_.placeholder_column + ", " +
                      table_.versions_column + ") SELECT " + values +
                      ", 0, NULL, pg_catalog.now(), '{}'::pg_catalog.jsonb FROM " + unnest(table_.key.size()) +
                      " AS u (" + key_aliases(table_) + ") ON CONFLICT (" + key_columns(table_) + ") DO NOTHING";
    return params.run(sql);
}

} // namespace tenancy::changes
