// Private helpers shared by connection.cpp and pipeline.cpp.
#pragma once

#include <libpq-fe.h>

#include <vector>

#include "tenancy/connection.hpp"
#include "tenancy/errors.hpp"

namespace tenancy::detail {

// The parameter arrays PQexecParams/PQsendQueryParams expect.  Points into
// `params`, which must outlive it.
class ParamArray {
public:
    explicit ParamArray(const Params& params);
    int size() const noexcept { return static_cast<int>(values_.size()); }
    const char* const* values() const noexcept { return values_.data(); }

private:
    std::vector<const char*> values_;
};

// The error a failed result reports.  A result without SQLSTATE was made by
// libpq itself; if the connection is gone it is reported as 08006.
ErrorInfo error_info(const PGresult* res, const PGconn* conn);

// Throws the error libpq left in PQerrorMessage(conn) after a call that
// returned failure without a result: ConnectionError when the connection is
// broken (SQLSTATE `sqlstate_if_bad`), otherwise a plain Error.
[[noreturn]] void raise_libpq_error(const PGconn* conn,
                                    const char* sqlstate_if_bad = "08006");

}  // namespace tenancy::detail
