// Link sync and dedupe: catalog lookups on the application's table (see
// links_catalog.hpp).  Reads the catalog only; never changes anything.
#include "links/links_catalog.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_operator.h"
#include "nodes/pg_list.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"
}

#include <algorithm>

namespace tenancy::links {

void lock_table(Oid relid, LOCKMODE mode, bool allow_partitioned)
{
    // The regclass argument was resolved before the call: the table may have
    // been dropped since.  Locking first and looking second is what the
    // parser does too; after the lock no DDL can change what we read.
    char relkind = pg_call([&] {
        LockRelationOid(relid, mode);
        return get_rel_relkind(relid);
    });
    if (relkind == '\0')
        throw Error(ERRCODE_UNDEFINED_TABLE, "relation with OID " + std::to_string(relid) + " does not exist");
    if (relkind == RELKIND_PARTITIONED_TABLE && !allow_partitioned)
        throw Error(ERRCODE_FEATURE_NOT_SUPPORTED,
                    "\"" + relation_name(relid) + "\" is a partitioned table, which this function does not support",
                    {}, "Run it on each partition.");
    if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
        throw Error(ERRCODE_WRONG_OBJECT_TYPE, "\"" + relation_name(relid) + "\" is not a table");
}

std::string relation_name(Oid relid)
{
    const char *name = pg_call([&] { return get_rel_name(relid); });
    return name ? name : std::to_string(relid);
}

KeyColumn resolve_column(Oid relid, const std::string &name, const char *parameter)
{
    KeyColumn column;
    column.name = name;
    column.attnum = pg_call([&] { return get_attnum(relid, name.c_str()); });
    if (column.attnum == InvalidAttrNumber)
        throw Error(ERRCODE_UNDEFINED_COLUMN,
                    "column \"" + name + "\" of relation \"" + relation_name(relid) + "\" does not exist",
                    std::string("It was given as ") + parameter + ".");
    if (column.attnum < 0)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                    std::string(parameter) + " must name a user column, not the system column \"" + name + "\"");
    pg_call([&] {
        int32 typmod;
        get_atttypetypmodcoll(relid, column.attnum, &column.type, &typmod, &column.collation);
    });
    column.quoted_name = quoted_identifier(name);
    return column;
}

namespace {

// The facts of one pg_index row that decide whether it guarantees uniqueness
// of exactly a set of columns.
struct IndexShape {
    bool unique = false; // unique, valid, live, no predicate, no expressions
    bool immediate = false;
    std::vector<AttrNumber> keys; // sorted
};

IndexShape index_shape(Oid index)
{
    IndexShape shape;
    pg_call([&] {
        HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index));
        if (!HeapTupleIsValid(tuple))
            return;
        auto *form = reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple));
        shape.unique = form->indisunique && form->indisvalid && form->indislive &&
                       heap_attisnull(tuple, Anum_pg_index_indpred, nullptr) &&
                       heap_attisnull(tuple, Anum_pg_index_indexprs, nullptr);
        shape.immediate = form->indimmediate;
        for (int i = 0; i < form->indnkeyatts; ++i)
            shape.keys.push_back(form->indkey.values[i]);
        ReleaseSysCache(tuple);
    });
    std::sort(shape.keys.begin(), shape.keys.end());
    return shape;
}

// Calls fn(shape) for every index of `relid` that is unique on exactly
// `columns`, until fn returns true; returns that index (or InvalidOid).
template <typename Fn>
Oid find_index_on(Oid relid, const std::vector<AttrNumber> &columns, Fn &&fn)
{
    std::vector<AttrNumber> wanted(columns);
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
        if (shape.unique && shape.keys == wanted && fn(shape))
            return index;
    }
    return InvalidOid;
}

} // namespace

Oid find_unique_index(Oid relid, const std::vector<AttrNumber> &columns)
{
    return find_index_on(relid, columns, [](const IndexShape &shape) { return shape.immediate; });
}

bool has_deferrable_unique_index(Oid relid, const std::vector<AttrNumber> &columns)
{
    return OidIsValid(find_index_on(relid, columns, [](const IndexShape &shape) { return !shape.immediate; }));
}

std::string index_equality_operator(Oid index, AttrNumber attnum)
{
    return pg_call([&]() -> const char * {
        HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index));
        if (!HeapTupleIsValid(tuple))
            elog(ERROR, "cache lookup failed for index %u", index);
        auto *form = reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple));
        bool isnull;
        Datum classes = SysCacheGetAttr(INDEXRELID, tuple, Anum_pg_index_indclass, &isnull);
        auto *opclasses = reinterpret_cast<oidvector *>(DatumGetPointer(classes));
        int position = -1;
        for (int i = 0; i < form->indnkeyatts; ++i)
            if (form->indkey.values[i] == attnum)
                position = i;
        if (position < 0)
            elog(ERROR, "column %d is not a key of index %u", attnum, index);
        Oid opclass = opclasses->values[position];
        ReleaseSysCache(tuple);

        Oid input_type = get_opclass_input_type(opclass);
        Oid op = get_opfamily_member(get_opclass_family(opclass), input_type, input_type, BTEqualStrategyNumber);
        if (!OidIsValid(op))
            elog(ERROR, "no equality operator in the operator class %u of index %u", opclass, index);

        HeapTuple optuple = SearchSysCache1(OPEROID, ObjectIdGetDatum(op));
        if (!HeapTupleIsValid(optuple))
            elog(ERROR, "cache lookup failed for operator %u", op);
        auto *opform = reinterpret_cast<Form_pg_operator>(GETSTRUCT(optuple));
        // Operator names consist of operator characters only: nothing to quote.
        char *text = psprintf("OPERATOR(%s.%s)", quote_identifier(get_namespace_name(opform->oprnamespace)),
                              NameStr(opform->oprname));
        ReleaseSysCache(optuple);
        return text;
    });
}

} // namespace tenancy::links
