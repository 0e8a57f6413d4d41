// Link sync: value conversion and the owner lock key (see links_values.hpp).
#include "links/links_values.hpp"

extern "C" {
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "utils/builtins.h"
#include "utils/errcodes.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"
}

namespace tenancy::links {

std::string type_name(Oid type)
{
    return pg_call([&] { return format_type_be(type); });
}

Datum convert_value(Datum value, Oid from, Oid to, const std::string &what)
{
    if (from == to)
        return value;

    // Build CAST(value AS to) as an expression tree: the parser's own
    // coercion rules decide what converts (int -> bigint, text -> uuid,
    // int[] -> bigint[] element by element, ...), exactly as in SQL.
    Node *cast = pg_call([&] {
        int16 typlen;
        bool typbyval;
        get_typlenbyval(from, &typlen, &typbyval);
        Const *constant = makeConst(from, -1, get_typcollation(from), typlen, value, false, typbyval);
        return coerce_to_target_type(nullptr, reinterpret_cast<Node *>(constant), from, to, -1,
                                     COERCION_EXPLICIT, COERCE_EXPLICIT_CAST, -1);
    });
    if (cast == nullptr)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                    what + " of type " + type_name(from) + " cannot be converted to the column type " + type_name(to),
                    {}, "Pass a value of the column's type, or of a type that can be cast to it.");

    Const *result = nullptr;
    try {
        result = pg_call([&] {
            return reinterpret_cast<Const *>(evaluate_expr(reinterpret_cast<Expr *>(cast), to, -1,
                                                           get_typcollation(to)));
        });
    } catch (const PgError &e) {
        // 22P02 already says what is wrong ("invalid input syntax for type
        // uuid"); other data exceptions (22003 out of range, ...) are
        // reported as the documented 22023 with the cast's message as detail.
        if (ERRCODE_TO_CATEGORY(e.sqlstate()) != ERRCODE_DATA_EXCEPTION ||
            e.sqlstate() == ERRCODE_INVALID_TEXT_REPRESENTATION)
            throw;
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, what + " does not fit the column type " + type_name(to),
                    e.what());
    }
    if (result->constisnull)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, what + " converts to NULL in the column type " + type_name(to));
    return result->constvalue;
}

int32 owner_lock_hash(Datum owner, Oid type, Oid collation)
{
    return pg_call([&] {
        TypeCacheEntry *entry = lookup_type_cache(type, TYPECACHE_HASH_PROC_FINFO);
        if (OidIsValid(entry->hash_proc))
            return DatumGetInt32(FunctionCall1Coll(&entry->hash_proc_finfo, collation, owner));
        // A type without a hash function: we cannot tell which values its
        // unique index treats as equal, so every owner of the table shares
        // one lock.  Correct, only less concurrent.
        return int32(0);
    });
}

} // namespace tenancy::links
