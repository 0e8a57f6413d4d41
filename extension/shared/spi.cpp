// SPI, argument and set-returning-function helpers (see spi.hpp).
#include "shared/spi.hpp"


extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"
}

namespace tenancy::spi {

Connection::Connection() : uncaught_at_entry_(std::uncaught_exceptions())
{
    pg_call([] { SPI_connect(); });
}

Connection::~Connection()
{
    if (std::uncaught_exceptions() > uncaught_at_entry_)
        return; // unwinding: the abort of the transaction cleans SPI up
    try {
        pg_call([] { SPI_finish(); });
    } catch (...) {
        // SPI_finish fails only on a connection-stack mismatch, a bug that the
        // transaction end reports too ("SPI leaked"); a destructor must not throw.
    }
}

Param null_param(Oid type) { return Param{type, Datum(0), true}; }

Param int8_param(int64_t value) { return Param{INT8OID, Int64GetDatum(value), false}; }

Param oid_param(Oid value) { return Param{OIDOID, ObjectIdGetDatum(value), false}; }

Param optional_int8_param(std::optional<int64_t> value)
{
    return value ? int8_param(*value) : null_param(INT8OID);
}

Param int4_param(int32_t value) { return Param{INT4OID, Int32GetDatum(value), false}; }

Param bool_param(bool value) { return Param{BOOLOID, BoolGetDatum(value), false}; }

Param text_param(std::string_view value)
{
    text *t = pg_call([&] { return cstring_to_text_with_len(value.data(), static_cast<int>(value.size())); });
    return Param{TEXTOID, PointerGetDatum(t), false};
}

Param optional_text_param(const std::optional<std::string> &value)
{
    return value ? text_param(std::string_view(*value)) : null_param(TEXTOID);
}

Param bytea_param(const unsigned char *data, size_t length)
{
    bytea *b = pg_call([&] {
        auto *v = static_cast<bytea *>(palloc(VARHDRSZ + length));
        SET_VARSIZE(v, VARHDRSZ + length);
        memcpy(VARDATA(v), data, length);
        return v;
    });
    return Param{BYTEAOID, PointerGetDatum(b), false};
}

Param datum_param(Oid type, Datum value, bool is_null) { return Param{type, value, is_null}; }

namespace {

// A one-dimensional array of `elements` of type `element_type` (its length,
// by-value flag and alignment as construct_array wants them).
Param array_param(const std::vector<Datum> &elements, Oid element_type, int length, bool by_value, char align,
                  Oid array_type)
{
    ArrayType *array = pg_call([&] {
        return construct_array(const_cast<Datum *>(elements.data()), static_cast<int>(elements.size()), element_type,
                               length, by_value, align);
    });
    return datum_param(array_type, PointerGetDatum(array), false);
}

} // namespace

Param int8_array_param(const std::vector<int64_t> &values)
{
    std::vector<Datum> elements;
    for (int64_t v : values)
        elements.push_back(Int64GetDatum(v));
    return array_param(elements, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, INT8ARRAYOID);
}

Param int4_array_param(const std::vector<int32_t> &values)
{
    std::vector<Datum> elements;
    for (int32_t v : values)
        elements.push_back(Int32GetDatum(v));
    return array_param(elements, INT4OID, sizeof(int32), true, TYPALIGN_INT, INT4ARRAYOID);
}

namespace {

// SPI wants parallel arrays: values and a nulls string of ' ' and 'n'.
struct ParamArrays {
    std::vector<Oid> types;
    std::vector<Datum> values;
    std::string nulls;

    explicit ParamArrays(const std::vector<Param> &params)
    {
        for (const Param &p : params) {
            types.push_back(p.type);
            values.push_back(p.value);
            nulls.push_back(p.is_null ? 'n' : ' ');
        }
    }
};

void check_spi_result(int rc, const char *sql)
{
    // SPI refuses COMMIT, ROLLBACK and savepoints in SQL that the extension
    // runs for a user (a tenant migration, say): a user error, not a bug.
    if (rc == SPI_ERROR_TRANSACTION)
        throw Error(ERRCODE_INVALID_TRANSACTION_TERMINATION,
                    "transaction control statements (COMMIT, ROLLBACK, SAVEPOINT, ...) are not allowed here", sql);
    if (rc < 0)
        throw Error(ERRCODE_INTERNAL_ERROR, std::string("SPI failed: ") + SPI_result_code_string(rc),
                    sql);
}

} // namespace

Statement::Statement(const char *sql, std::initializer_list<Oid> param_types)
    : sql_(sql), param_types_(param_types)
{
}

SPIPlanPtr Statement::plan()
{
    if (!plan_) {
        SPIPlanPtr prepared = pg_call([&] {
            SPIPlanPtr p = SPI_prepare(sql_, static_cast<int>(param_types_.size()), param_types_.data());
            if (p == nullptr)
                elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql_, SPI_result_code_string(SPI_result));
            SPI_keepplan(p);
            return p;
        });
        plan_ = prepared;
    }
    return plan_;
}

uint64 Statement::execute(const std::vector<Param> &params, bool read_only, long limit)
{
    SPIPlanPtr p = plan();
    ParamArrays arrays(params);
    int rc = pg_call([&] {
        return SPI_execute_plan(p, arrays.values.data(), arrays.nulls.c_str(), read_only, limit);
    });
    check_spi_result(rc, sql_);
    return SPI_processed;
}

uint64 Statement::execute_in_caller_snapshot(const std::vector<Param> &params, long limit)
{
    SPIPlanPtr p = plan();
    ParamArrays arrays(params);
    int rc = pg_call([&] {
        Snapshot snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : InvalidSnapshot;
        return SPI_execute_snapshot(p, arrays.values.data(), arrays.nulls.c_str(), snapshot, InvalidSnapshot,
                                    false, true, limit);
    });
    check_spi_result(rc, sql_);
    return SPI_processed;
}

uint64 execute_once(const char *sql, const std::vector<Param> &params, bool read_only, long limit)
{
    ParamArrays arrays(params);
    int rc = pg_call([&] {
        return SPI_execute_with_args(sql, static_cast<int>(arrays.types.size()), arrays.types.data(),
                                     arrays.values.data(), arrays.nulls.c_str(), read_only, limit);
    });
    check_spi_result(rc, sql);
    return SPI_processed;
}

namespace {

Datum get_datum(uint64 row, int column, bool *is_null)
{
    return pg_call([&] {
        return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, is_null);
    });
}

} // namespace

std::optional<int64_t> get_int64(uint64 row, int column)
{
    bool is_null = false;
    Datum d = get_datum(row, column, &is_null);
    if (is_null)
        return std::nullopt;
    return DatumGetInt64(d);
}

std::optional<std::string> get_text(uint64 row, int column)
{
    bool is_null = false;
    Datum d = get_datum(row, column, &is_null);
    if (is_null)
        return std::nullopt;
    char *s = pg_call([&] { return text_to_cstring(DatumGetTextPP(d)); });
    return std::string(s);
}

std::optional<bool> get_bool(uint64 row, int column)
{
    bool is_null = false;
    Datum d = get_datum(row, column, &is_null);
    if (is_null)
        return std::nullopt;
    return DatumGetBool(d);
}

} // namespace tenancy::spi

namespace tenancy::args {

namespace {

[[noreturn]] void throw_null(const char *name)
{
    throw Error(ERRCODE_INVALID_PARAMETER_VALUE, std::string(name) + " must not be NULL");
}

} // namespace

bool is_null(FunctionCallInfo fcinfo, int n) { return PG_ARGISNULL(n); }

std::optional<int64_t> optional_int64(FunctionCallInfo fcinfo, int n)
{
    if (PG_ARGISNULL(n))
        return std::nullopt;
    return PG_GETARG_INT64(n);
}

int64_t required_int64(FunctionCallInfo fcinfo, int n, const char *name)
{
    if (PG_ARGISNULL(n))
        throw_null(name);
    return PG_GETARG_INT64(n);
}

int32_t required_int32(FunctionCallInfo fcinfo, int n, const char *name)
{
    if (PG_ARGISNULL(n))
        throw_null(name);
    return PG_GETARG_INT32(n);
}

bool required_bool(FunctionCallInfo fcinfo, int n, const char *name)
{
    if (PG_ARGISNULL(n))
        throw_null(name);
    return PG_GETARG_BOOL(n);
}

std::optional<std::string> optional_text(FunctionCallInfo fcinfo, int n)
{
    if (PG_ARGISNULL(n))
        return std::nullopt;
    // Detoasting may fail (and allocate): keep it behind pg_call.
    text *t = pg_call([&] { return PG_GETARG_TEXT_PP(n); });
    return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

std::string required_text(FunctionCallInfo fcinfo, int n, const char *name)
{
    std::optional<std::string> value = optional_text(fcinfo, n);
    if (!value)
        throw_null(name);
    return *value;
}

std::string required_uuid(FunctionCallInfo fcinfo, int n, const char *name)
{
    if (PG_ARGISNULL(n))
        throw_null(name);
    Datum value = PG_GETARG_DATUM(n);
    return pg_call([&] { return std::string(DatumGetCString(DirectFunctionCall1(uuid_out, value))); });
}

std::vector<int64_t> required_int8_array(FunctionCallInfo fcinfo, int n, const char *name)
{
    if (PG_ARGISNULL(n))
        throw_null(name);
    ArrayType *array = pg_call([&] { return PG_GETARG_ARRAYTYPE_P(n); });
    if (ARR_NDIM(array) > 1)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, std::string(name) + " must be a one-dimensional array");

    Datum *elements = nullptr;
    bool *nulls = nullptr;
    int count = 0;
    pg_call([&] {
        deconstruct_array(array, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elements, &nulls, &count);
    });
    std::vector<int64_t> values;
    values.reserve(count);
    for (int i = 0; i < count; ++i) {
        if (nulls[i])
            throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        std::string(name) + "[" + std::to_string(ARR_LBOUND(array)[0] + i) + "] must not be NULL");
        values.push_back(DatumGetInt64(elements[i]));
    }
    return values;
}

} // namespace tenancy::args

namespace tenancy::srf {

Materialized::Materialized(FunctionCallInfo fcinfo)
    : rsinfo_(reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo))
{
    pg_call([&] { InitMaterializedSRF(fcinfo, 0); });
}

void Materialized::put_tuple(HeapTuple tuple)
{
    pg_call([&] { tuplestore_puttuple(rsinfo_->setResult, tuple); });
}

void Materialized::put_values(Datum *values, bool *nulls)
{
    pg_call([&] { tuplestore_putvalues(rsinfo_->setResult, rsinfo_->setDesc, values, nulls); });
}

int Materialized::columns() const { return rsinfo_->setDesc->natts; }

void put_spi_rows(Materialized &out, uint64 rows)
{
    for (uint64 i = 0; i < rows; ++i)
        out.put_tuple(SPI_tuptable->vals[i]);
}

} // namespace tenancy::srf
