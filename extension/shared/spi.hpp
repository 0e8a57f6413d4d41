// Thin C++ wrappers over SPI and the function-call interface, shared by every
// capability.  Each wrapper routes its PostgreSQL calls through pg_call, so a
// PostgreSQL error surfaces as tenancy::PgError and C++ frames unwind normally.
#pragma once

#include "shared/boundary.hpp"

extern "C" {
#include "executor/spi.h"
#include "funcapi.h"
}

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tenancy::spi {

// An SPI connection for the lifetime of a C++ scope.  On a normal scope exit
// it calls SPI_finish.  While an exception unwinds it does nothing: the error
// is re-raised by the entry point and the transaction (or subtransaction)
// abort releases the connection, as it does for any failed SPI caller.
//
// SPI_connect switches CurrentMemoryContext to SPI's own context, freed by
// SPI_finish: build values to return to the caller after the scope ends.
class Connection {
public:
    Connection();
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

private:
    int uncaught_at_entry_;
};

// One statement parameter, already converted to a Datum.
struct Param {
    Oid type;
    Datum value;
    bool is_null;
};

Param null_param(Oid type);
Param int8_param(int64_t value);
Param oid_param(Oid value); // an oid (also for regclass, regrole parameters)
Param optional_int8_param(std::optional<int64_t> value);
Param int4_param(int32_t value);
Param bool_param(bool value);
Param text_param(std::string_view value);
Param optional_text_param(const std::optional<std::string> &value);
Param bytea_param(const unsigned char *data, size_t length);
// `value` is the argument Datum as received (a jsonb, or any other varlena).
Param datum_param(Oid type, Datum value, bool is_null);
Param int8_array_param(const std::vector<int64_t> &values); // a bigint[]
Param int4_array_param(const std::vector<int32_t> &values); // an integer[]

// A statement prepared once per backend on first use and kept for the rest of
// the session (SPI_keepplan), so hot paths skip parse and plan.  Declare it
// `static` next to the code that runs it.  The plan cache re-plans it after
// DDL, so it survives DROP/CREATE EXTENSION in the same session.
class Statement {
public:
    Statement(const char *sql, std::initializer_list<Oid> param_types);

    // Runs the statement with params (in order of param_types) and returns the
    // number of rows processed; the rows are in SPI_tuptable.  `limit` 0
    // means all rows.
    uint64 execute(const std::vector<Param> &params, bool read_only, long limit = 0);

    // Like execute(params, false), but in the snapshot of the statement that
    // called us (its command id advanced) instead of a new one: one snapshot
    // less per call.  Only for a statement that works as well from the
    // caller's snapshot, such as an UPDATE of rows that existed when the
    // calling statement began (READ COMMITTED re-checks a row changed since
    // then against its newest version, as for any UPDATE).
    uint64 execute_in_caller_snapshot(const std::vector<Param> &params, long limit = 0);

private:
    SPIPlanPtr plan();

    const char *sql_;
    std::vector<Oid> param_types_;
    SPIPlanPtr plan_ = nullptr;
};

// Runs a one-off statement (no saved plan) with parameters: for rare paths.
uint64 execute_once(const char *sql, const std::vector<Param> &params, bool read_only, long limit = 0);

// Reads column `column` (1-based) of row `row` of SPI_tuptable.
std::optional<int64_t> get_int64(uint64 row, int column);
std::optional<std::string> get_text(uint64 row, int column);
std::optional<bool> get_bool(uint64 row, int column);

} // namespace tenancy::spi

namespace tenancy::args {

// Accessors for SQL function arguments.  The required_* forms refuse a NULL
// with SQLSTATE 22023 naming the parameter, since our functions are not STRICT
// precisely so that a NULL gets a clear error instead of a silent NULL result.
bool is_null(FunctionCallInfo fcinfo, int n);
std::optional<int64_t> optional_int64(FunctionCallInfo fcinfo, int n);
int64_t required_int64(FunctionCallInfo fcinfo, int n, const char *name);
int32_t required_int32(FunctionCallInfo fcinfo, int n, const char *name);
bool required_bool(FunctionCallInfo fcinfo, int n, const char *name);
std::optional<std::string> optional_text(FunctionCallInfo fcinfo, int n);
std::string required_text(FunctionCallInfo fcinfo, int n, const char *name);
// A uuid argument as text (its canonical form); NULL is 22023.
std::string required_uuid(FunctionCallInfo fcinfo, int n, const char *name);
// A bigint[] argument: NULL, a NULL element or more than one dimension is
// 22023 naming the parameter (and the element's position).
std::vector<int64_t> required_int8_array(FunctionCallInfo fcinfo, int n, const char *name);

} // namespace tenancy::args

namespace tenancy::srf {

// A set-returning function's result in materialize mode.  Create it before
// connecting to SPI; rows are copied into the tuplestore, which lives in the
// query's memory, so they outlive SPI_finish.
class Materialized {
public:
    explicit Materialized(FunctionCallInfo fcinfo);
    // Appends a row; its columns must match the function's declared result.
    void put_tuple(HeapTuple tuple);
    void put_values(Datum *values, bool *nulls);
    // The number of columns the caller declared (an older install script
    // may declare fewer than the current C function can return).
    int columns() const;

private:
    ReturnSetInfo *rsinfo_;
};

// Appends every row of the current SPI_tuptable to `out`.
void put_spi_rows(Materialized &out, uint64 rows);

} // namespace tenancy::srf
