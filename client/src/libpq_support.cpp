#include "libpq_support.hpp"

#include <string>

namespace tenancy::detail {
namespace {

// libpq messages end with a newline; exceptions' what() should not.
std::string trimmed(const char* text) {
    std::string s = text ? text : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

std::string field(const PGresult* res, int code) {
    const char* value = PQresultErrorField(res, code);
    return value ? value : "";
}

}  // namespace

ParamArray::ParamArray(const Params& params) {
    values_.reserve(params.size());
    for (const Param& p : params)
        values_.push_back(p ? p->c_str() : nullptr);
}

ErrorInfo error_info(const PGresult* res, const PGconn* conn) {
    ErrorInfo info{field(res, PG_DIAG_SQLSTATE), field(res, PG_DIAG_MESSAGE_PRIMARY),
                   field(res, PG_DIAG_MESSAGE_DETAIL), field(res, PG_DIAG_MESSAGE_HINT),
                   field(res, PG_DIAG_CONTEXT)};
    if (info.message.empty())
        info.message = trimmed(PQresultErrorMessage(res));
    if (info.message.empty())
        info.message = trimmed(PQerrorMessage(conn));
    if (info.sqlstate.empty() && PQstatus(conn) == CONNECTION_BAD)
        info.sqlstate = "08006";  // connection_failure
    return info;
}

void raise_libpq_error(const PGconn* conn, const char* sqlstate_if_bad) {
    ErrorInfo info;
    info.message = trimmed(PQerrorMessage(conn));
    if (PQstatus(conn) == CONNECTION_BAD)
        info.sqlstate = sqlstate_if_bad;
    raise_error(std::move(info));
}

}  // namespace tenancy::detail
