// tenancy.table_checksums(schema): the row count and a content checksum of
// each table of a schema, computed the same way on both sides of a move so
// that the copies can be compared before the switch.
//
// A row's hash is PostgreSQL's own hash of the whole row value
// (hash_record_extended: each column hashed by its type's hash function), or,
// for a table with a column whose type has none (json, point, ...), the hash
// of the row's text form (the function pins DateStyle, TimeZone and the other
// settings that text depends on).  Each row hash is mixed by a bijective
// 64-bit finaliser, so that swapping values between rows changes the result,
// and summed into two 64-bit accumulators: the checksum does not depend on
// the order of the rows and costs one pass over the table, with no sort.
#include "move/move.hpp"

#include "shared/errcodes.hpp"
#include "shared/quoting.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "tcop/dest.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"
}

#include <cinttypes>
#include <cstdio>

using namespace tenancy;

namespace {

// splitmix64's finaliser: a bijection of 64-bit values that spreads every
// input bit over the output.
uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

struct Sums {
    int64_t rows = 0;
    uint64_t first = 0;
    uint64_t second = 0;

    std::string hex() const
    {
        char text[33];
        snprintf(text, sizeof text, "%016" PRIx64 "%016" PRIx64, first, second);
        return text;
    }
};

// Whether every column's type has an extended hash function (arrays and
// composites of such types included; the type cache checks their elements).
bool rows_hashable(Oid relid)
{
    static spi::Statement columns("SELECT atttypid::pg_catalog.int8 FROM pg_catalog.pg_attribute"
                                  " WHERE attrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid"
                                  "   AND attnum OPERATOR(pg_catalog.>) 0 AND NOT attisdropped",
                                  {INT8OID});
    uint64 rows = columns.execute({spi::int8_param(relid)}, true);
    std::vector<Oid> types;
    for (uint64 i = 0; i < rows; ++i)
        types.push_back(static_cast<Oid>(spi::get_int64(i, 1).value_or(0)));
    for (Oid type : types) {
        bool hashable = pg_call([&] {
            return OidIsValid(lookup_type_cache(type, TYPECACHE_HASH_EXTENDED_PROC)->hash_extended_proc);
        });
        if (!hashable)
            return false;
    }
    return true;
}

// Receives the row hashes of the query below straight from the executor
// (no tuple copies): a plain C callback that only reads one attribute and
// adds, so nothing in it can throw.
struct ChecksumReceiver {
    DestReceiver receiver; // first: the executor sees a DestReceiver
    Sums *sums;
};

bool receive_hash(TupleTableSlot *slot, DestReceiver *self)
{
    Sums *sums = reinterpret_cast<ChecksumReceiver *>(self)->sums;
    bool is_null = false;
    Datum d = slot_getattr(slot, 1, &is_null);
    uint64_t h = is_null ? 0 : static_cast<uint64_t>(DatumGetInt64(d));
    sums->rows += 1;
    sums->first += mix(h);
    sums->second += mix(h ^ 0x9e3779b97f4a7c15ULL);
    return true;
}

void startup_nothing(DestReceiver *, int, TupleDesc) {}
void shutdown_nothing(DestReceiver *) {}

// One pass over the table; the executor hands each row's hash to the
// receiver.
Sums checksum(const std::string &table, bool by_hash)
{
    std::string sql = std::string("SELECT ") +
                      (by_hash ? "pg_catalog.hash_record_extended(t, 0)"
                               : "pg_catalog.hashtextextended(t::pg_catalog.text, 0)") +
                      " FROM ONLY " + table + " AS t";
    Sums sums;
    ChecksumReceiver receiver{{receive_hash, startup_nothing, shutdown_nothing, shutdown_nothing, DestNone}, &sums};
    int rc = pg_call([&] {
        SPIExecuteOptions options;
        memset(&options, 0, sizeof options);
        options.read_only = true;
        options.dest = &receiver.receiver;
        return SPI_execute_extended(sql.c_str(), &options);
    });
    // A SELECT whose rows go to a receiver of DestNone reports SPI_OK_UTILITY.
    if (rc < 0)
        throw Error(ERRCODE_INTERNAL_ERROR, std::string("checksum query failed: ") + SPI_result_code_string(rc), sql);
    return sums;
}

} // namespace

// tenancy.table_checksums(schema_name text) RETURNS TABLE (table_name, rows,
// checksum, method).  A schema that does not exist is 3F000.
TENANCY_FUNCTION(tenancy_table_checksums)
{
    static spi::Statement tables("SELECT c.oid::pg_catalog.int8, c.relname::pg_catalog.text"
                                 "  FROM pg_catalog.pg_class c"
                                 "  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
                                 " WHERE n.nspname OPERATOR(pg_catalog.=) $1"
                                 "   AND c.relkind OPERATOR(pg_catalog.=) 'r'"
                                 " ORDER BY c.relname",
                                 {TEXTOID});
    static spi::Statement schema_exists("SELECT FROM pg_catalog.pg_namespace WHERE nspname OPERATOR(pg_catalog.=) $1",
                                        {TEXTOID});
    std::string schema = args::required_text(fcinfo, 0, "schema_name");
    srf::Materialized out(fcinfo);
    struct Row {
        std::string table;
        Sums sums;
        bool by_hash;
    };
    std::vector<Row> result;
    {
        spi::Connection spi;
        if (schema_exists.execute({spi::text_param(schema)}, true) == 0)
            throw Error(ERRCODE_UNDEFINED_SCHEMA, "schema \"" + schema + "\" does not exist");
        uint64 rows = tables.execute({spi::text_param(schema)}, true);
        std::vector<std::pair<Oid, std::string>> found;
        for (uint64 i = 0; i < rows; ++i)
            found.emplace_back(static_cast<Oid>(spi::get_int64(i, 1).value_or(0)), spi::get_text(i, 2).value_or(""));
        for (const auto &[relid, name] : found) {
            bool by_hash = rows_hashable(relid);
            result.push_back({name, checksum(quoted_relation_name(relid), by_hash), by_hash});
        }
    }
    for (const Row &r : result) {
        std::string hex = r.sums.hex();
        pg_call([&] {
            Datum values[4] = {CStringGetTextDatum(r.table.c_str()), Int64GetDatum(r.sums.rows),
                               CStringGetTextDatum(hex.c_str()), CStringGetTextDatum(r.by_hash ? "hash" : "text")};
            bool nulls[4] = {false, false, false, false};
            out.put_values(values, nulls);
        });
    }
    return (Datum)0;
}
