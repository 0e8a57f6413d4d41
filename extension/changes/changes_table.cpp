// Change landing: describing an enabled table, and the backend-local cache of
// those descriptions (see changes_table.hpp).  Reads the catalog and the
// extension's bookkeeping tables; never changes anything.
#include "changes/changes_table.hpp"

#include "rowcheck/protect_roles.hpp"
#include "shared/errcodes.hpp"
#include "shared/quoting.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/nbtree.h"
#include "access/relation.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_index.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
}

#include <algorithm>

namespace tenancy::changes {

ValueSource Table::source_of(AttrNumber attnum) const
{
    for (size_t i = 0; i < key.size(); ++i)
        if (key[i].column.attnum == attnum)
            return ValueSource{ValueSource::Key, static_cast<int>(i)};
    for (size_t i = 0; i < data.size(); ++i)
        if (data[i].attnum == attnum)
            return ValueSource{ValueSource::Data, static_cast<int>(i)};
    return ValueSource{};
}

std::string table_name(Oid relid) { return quoted_relation_name(relid); }

Column describe_column(Oid relid, AttrNumber attnum)
{
    Column column;
    bool found = pg_call([&] {
        HeapTuple tuple = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
        if (!HeapTupleIsValid(tuple))
            return false;
        auto *form = reinterpret_cast<Form_pg_attribute>(GETSTRUCT(tuple));
        bool usable = !form->attisdropped;
        if (usable) {
            column.name = NameStr(form->attname);
            column.type = form->atttypid;
            column.typmod = form->atttypmod;
            column.collation = form->attcollation;
            column.not_null = form->attnotnull;
            column.has_default = form->atthasdef;
        }
        ReleaseSysCache(tuple);
        return usable;
    });
    if (!found)
        throw Error(ERRCODE_UNDEFINED_COLUMN,
                    "column " + std::to_string(attnum) + " of table " + table_name(relid) + " does not exist");
    column.attnum = attnum;
    column.quoted = quoted_identifier(column.name);
    pg_call([&] {
        get_typlenbyvalalign(column.type, &column.typlen, &column.typbyval, &column.typalign);
        getTypeInputInfo(column.type, &column.input_function, &column.input_param);
        column.array_type = get_array_type(column.type);
        column.sql_type = format_type_extended(column.type, column.typmod,
                                               FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY);
        column.is_array = OidIsValid(get_element_type(getBaseType(column.type)));
    });
    column.is_jsonb = column.type == JSONBOID;
    return column;
}

namespace {

// The pieces of a pg_index row that decide whether it guarantees the
// uniqueness of exactly a set of columns.
struct IndexShape {
    bool usable = false; // unique, valid, live, immediate, no predicate, no expressions
    std::vector<AttrNumber> keys;
};

IndexShape index_shape(Oid index)
{
    IndexShape shape;
    pg_call([&] {
        HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index));
        if (!HeapTupleIsValid(tuple))
            return;
        auto *form = reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple));
        shape.usable = form->indisunique && form->indisvalid && form->indislive && form->indimmediate &&
                       heap_attisnull(tuple, Anum_pg_index_indpred, nullptr) &&
                       heap_attisnull(tuple, Anum_pg_index_indexprs, nullptr);
        for (int i = 0; i < form->indnkeyatts; ++i)
            shape.keys.push_back(form->indkey.values[i]);
        ReleaseSysCache(tuple);
    });
    return shape;
}

// Fills the ordering, equality and hash of `key` from position `position`
// of unique index `index`.
void describe_key_operators(Oid index, int position, KeyColumn &key)
{
    const char *equality = pg_call([&]() -> const char * {
        HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index));
        if (!HeapTupleIsValid(tuple))
            elog(ERROR, "cache lookup failed for index %u", index);
        bool isnull;
        auto *classes = reinterpret_cast<oidvector *>(
            DatumGetPointer(SysCacheGetAttr(INDEXRELID, tuple, Anum_pg_index_indclass, &isnull)));
        auto *collations = reinterpret_cast<oidvector *>(
            DatumGetPointer(SysCacheGetAttr(INDEXRELID, tuple, Anum_pg_index_indcollation, &isnull)));
        Oid opclass = classes->values[position];
        key.compare_collation = collations->values[position];
        ReleaseSysCache(tuple);

        Oid family = get_opclass_family(opclass);
        Oid input = get_opclass_input_type(opclass);
        key.compare_function = get_opfamily_proc(family, input, input, BTORDER_PROC);
        if (!OidIsValid(key.compare_function))
            elog(ERROR, "no ordering function in operator class %u of index %u", opclass, index);
        Oid op = get_opfamily_member(family, input, input, BTEqualStrategyNumber);
        if (!OidIsValid(op))
            elog(ERROR, "no equality operator in operator class %u of index %u", opclass, index);
        HeapTuple optuple = SearchSysCache1(OPEROID, ObjectIdGetDatum(op));
        if (!HeapTupleIsValid(optuple))
            elog(ERROR, "cache lookup failed for operator %u", op);
        auto *opform = reinterpret_cast<Form_pg_operator>(GETSTRUCT(optuple));
        // Operator names consist of operator characters only: nothing to quote.
        char *text = psprintf("OPERATOR(%s.%s)", quote_identifier(get_namespace_name(opform->oprnamespace)),
                              NameStr(opform->oprname));
        ReleaseSysCache(optuple);

        // Lock keys hash with the type's own hash function, which agrees with
        // its default equality; a type without one puts every key of the
        // table under one lock (correct, only less concurrent).
        TypeCacheEntry *entry = lookup_type_cache(key.column.type, TYPECACHE_HASH_PROC);
        key.hash_function = entry->hash_proc;
        return text;
    });
    key.equality = equality;
}

// The change-state column names and key columns recorded by enable_changes.
struct Record {
    std::vector<std::string> key_columns;
    std::string version, deleted, placeholder, versions;
};

std::optional<Record> read_record(Oid relid)
{
    static spi::Statement query(
        "SELECT c.version_column::pg_catalog.text, c.deleted_column::pg_catalog.text,"
        "       c.placeholder_column::pg_catalog.text, c.versions_column::pg_catalog.text,"
        "       k.name::pg_catalog.text"
        "  FROM tenancy.change_table c"
        "  CROSS JOIN LATERAL pg_catalog.unnest(c.key_columns) WITH ORDINALITY AS k (name, n)"
        " WHERE c.tbl OPERATOR(pg_catalog.=) $1"
        " ORDER BY k.n",
        {OIDOID});

    roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
    uint64 rows = query.execute({spi::datum_param(OIDOID, ObjectIdGetDatum(relid), false)}, false);
    if (rows == 0)
        return std::nullopt;
    Record record;
    record.version = spi::get_text(0, 1).value_or("");
    record.deleted = spi::get_text(0, 2).value_or("");
    record.placeholder = spi::get_text(0, 3).value_or("");
    record.versions = spi::get_text(0, 4).value_or("");
    for (uint64 i = 0; i < rows; ++i)
        record.key_columns.push_back(spi::get_text(i, 5).value_or(""));
    return record;
}

std::unordered_map<AttrNumber, std::string> column_defaults(Oid relid)
{
    // Deparsed under the function's pinned search_path, so every name in
    // the expression that is not in pg_catalog comes out schema-qualified.
    static spi::Statement query(
        "SELECT adnum::pg_catalog.int8, pg_catalog.pg_get_expr(adbin, adrelid)"
        "  FROM pg_catalog.pg_attrdef WHERE adrelid OPERATOR(pg_catalog.=) $1",
        {OIDOID});
    uint64 rows = query.execute({spi::datum_param(OIDOID, ObjectIdGetDatum(relid), false)}, false);
    std::unordered_map<AttrNumber, std::string> defaults;
    for (uint64 i = 0; i < rows; ++i)
        defaults[static_cast<AttrNumber>(spi::get_int64(i, 1).value_or(0))] = spi::get_text(i, 2).value_or("NULL");
    return defaults;
}

AttrNumber require_column(Oid relid, const std::string &name, const char *role)
{
    AttrNumber attnum = pg_call([&] { return get_attnum(relid, name.c_str()); });
    if (attnum <= 0)
        throw Error(ERRCODE_UNDEFINED_COLUMN,
                    std::string(role) + " \"" + name + "\" of table " + table_name(relid) + " does not exist",
                    "tenancy.enable_changes recorded it; the table was changed since.",
                    "Run tenancy.enable_changes again.");
    return attnum;
}

std::shared_ptr<const Table> load(Oid relid)
{
    std::optional<Record> record = read_record(relid);
    if (!record)
        return nullptr;

    auto table = std::make_shared<Table>();
    table->relid = relid;
    table->name = table_name(relid);

    std::vector<AttrNumber> key_attnums;
    for (const std::string &name : record->key_columns) {
        AttrNumber attnum = require_column(relid, name, "key column");
        key_attnums.push_back(attnum);
        KeyColumn key;
        key.column = describe_column(relid, attnum);
        table->key.push_back(std::move(key));
        table->not_settable[name] = "a key column (it belongs in \"key\")";
    }
    Oid index = find_unique_index(relid, key_attnums);
    if (!OidIsValid(index))
        throw Error(ERRCODE_INVALID_COLUMN_REFERENCE,
                    "table " + table->name + " no longer has a unique index on its change key",
                    "apply_changes needs a valid, immediate, non-partial unique index on exactly the key columns.",
                    "Recreate the unique constraint, then run tenancy.enable_changes again.");
    IndexShape shape = index_shape(index);
    for (KeyColumn &key : table->key) {
        auto position = std::find(shape.keys.begin(), shape.keys.end(), key.column.attnum) - shape.keys.begin();
        describe_key_operators(index, static_cast<int>(position), key);
    }

    struct StateColumn {
        const std::string *name;
        std::string *quoted;
        const char *role;
    } state_columns[] = {{&record->version, &table->version_column, "version column"},
                         {&record->deleted, &table->deleted_column, "deleted column"},
                         {&record->placeholder, &table->placeholder_column, "placeholder column"},
                         {&record->versions, &table->versions_column, "versions column"}};
    for (StateColumn &state : state_columns) {
        require_column(relid, *state.name, state.role);
        *state.quoted = quoted_identifier(*state.name);
        table->not_settable[*state.name] = "managed by apply_changes";
    }

    std::unordered_map<AttrNumber, std::string> defaults = column_defaults(relid);
    struct AttributeKind {
        AttrNumber attnum;
        char identity;
        char generated;
    };
    std::vector<AttributeKind> attributes;
    pg_call([&] {
        Relation rel = relation_open(relid, NoLock); // the caller holds a lock
        TupleDesc desc = RelationGetDescr(rel);
        for (int i = 0; i < desc->natts; ++i) {
            Form_pg_attribute attribute = TupleDescAttr(desc, i);
            if (!attribute->attisdropped)
                attributes.push_back({attribute->attnum, attribute->attidentity, attribute->attgenerated});
        }
        relation_close(rel, NoLock);
    });
    for (const AttributeKind &attribute : attributes) {
        Column column = describe_column(relid, attribute.attnum);
        if (table->not_settable.count(column.name))
            continue;
        if (attribute.generated != '\0') {
            table->not_settable[column.name] = "a generated column";
            continue;
        }
        if (attribute.identity != '\0') {
            table->not_settable[column.name] = "an identity column";
            continue;
        }
        auto found = defaults.find(column.attnum);
        if (found != defaults.end())
            column.default_sql = "(" + found->second + ")";
        int position = static_cast<int>(table->data.size());
        if (!column.not_null || column.has_default)
            table->resettable.push_back(position);
        table->data_by_name[column.name] = position;
        table->data.push_back(std::move(column));
    }

    pg_call([&] {
        Relation rel = relation_open(relid, NoLock);
        List *keys = RelationGetFKeyList(rel);
        ListCell *cell;
        foreach (cell, keys) {
            auto *info = static_cast<ForeignKeyCacheInfo *>(lfirst(cell));
            ForeignKey foreign_key;
            foreign_key.referenced = info->confrelid;
            for (int i = 0; i < info->nkeys; ++i)
                foreign_key.columns.emplace_back(info->conkey[i], info->confkey[i]);
            table->foreign_keys.push_back(std::move(foreign_key));
        }
        relation_close(rel, NoLock);
    });

    table->tenant_column = protected_tenant_column(relid);
    if (table->tenant_column) {
        AttrNumber attnum = pg_call([&] { return get_attnum(relid, table->tenant_column->c_str()); });
        table->tenant_source = table->source_of(attnum);
    }
    return table;
}

// Descriptions by table OID; nullptr: the table is not enabled.
std::unordered_map<Oid, std::shared_ptr<const Table>> cache;
bool callback_registered = false;

// Called by PostgreSQL while it processes invalidation messages: plain C
// context, so nothing here may throw (erasing map entries does not).
void forget_table(Datum, Oid relid) noexcept
{
    if (relid == InvalidOid)
        cache.clear();
    else
        cache.erase(relid);
}

} // namespace

std::optional<std::string> protected_tenant_column(Oid relid)
{
    static spi::Statement query(
        "SELECT tenant_column::pg_catalog.text FROM tenancy.protected_table WHERE tbl OPERATOR(pg_catalog.=) $1",
        {OIDOID});
    roles::ActingAs owner(roles::extension_owner(), roles::kAsExtensionOwner);
    if (query.execute({spi::datum_param(OIDOID, ObjectIdGetDatum(relid), false)}, false) == 0)
        return std::nullopt;
    return spi::get_text(0, 1);
}

Oid find_unique_index(Oid relid, const std::vector<AttrNumber> &attnums)
{
    std::vector<AttrNumber> wanted(attnums);
    std::sort(wanted.begin(), wanted.end());
    List *indexes = pg_call([&] {
        Relation rel = relation_open(relid, NoLock); // the caller holds a lock
        List *list = RelationGetIndexList(rel);
        relation_close(rel, NoLock);
        return list;
    });
    ListCell *cell;
    foreach (cell, indexes) {
        Oid index = lfirst_oid(cell);
        IndexShape shape = index_shape(index);
        std::sort(shape.keys.begin(), shape.keys.end());
        if (shape.usable && shape.keys == wanted)
            return index;
    }
    return InvalidOid;
}

std::shared_ptr<const Table> enabled_table(Oid relid)
{
    if (!callback_registered) {
        pg_call([] { CacheRegisterRelcacheCallback(forget_table, Datum(0)); });
        callback_registered = true;
    }
    auto found = cache.find(relid);
    if (found != cache.end())
        return found->second;
    std::shared_ptr<const Table> table = load(relid);
    cache[relid] = table;
    return table;
}

std::shared_ptr<const Table> require_enabled_table(Oid relid)
{
    std::shared_ptr<const Table> table = enabled_table(relid);
    if (!table)
        throw Error(errcode::kChangesNotEnabled, "table " + table_name(relid) + " is not enabled for change landing",
                    {}, "Call tenancy.enable_changes(table, key_columns) first.");
    return table;
}

void invalidate_table(Oid relid)
{
    pg_call([&] { CacheInvalidateRelcacheByRelid(relid); });
}

} // namespace tenancy::changes
