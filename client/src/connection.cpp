#include "tenancy/connection.hpp"

#include <memory>
#include <string>
#include <utility>

#include "libpq_support.hpp"

namespace tenancy {

Connection::Connection(const ConnectOptions& options) {
    // libpq processes keywords in order and keeps the last value, so the
    // expanded conninfo/URI goes first and the -h/-p/-U overrides after it.
    std::vector<const char*> keywords;
    std::vector<const char*> values;
    auto add = [&](const char* keyword, const std::string& value) {
        keywords.push_back(keyword);
        values.push_back(value.c_str());
    };
    if (!options.conninfo.empty())
        add("dbname", options.conninfo);  // expanded: expand_dbname = 1
    if (options.host)
        add("host", *options.host);
    if (options.port)
        add("port", *options.port);
    if (options.user)
        add("user", *options.user);
    // Names us in pg_stat_activity unless the user chose a name
    // (application_name in conninfo or PGAPPNAME).
    static const std::string kAppName = "tenancyctl";
    add("fallback_application_name", kAppName);
    keywords.push_back(nullptr);
    values.push_back(nullptr);

    conn_ = PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1);
    if (conn_ == nullptr)
        raise_error(ErrorInfo{"08001", "out of memory allocating a connection", "", ""});
    if (PQstatus(conn_) != CONNECTION_OK) {
        // The destructor does not run when a constructor throws, so the
        // failed PGconn is owned here until the error has been read from it.
        const std::unique_ptr<PGconn, decltype(&PQfinish)> failed(
            std::exchange(conn_, nullptr), &PQfinish);
        // 08001: sqlclient_unable_to_establish_sqlconnection.
        detail::raise_libpq_error(failed.get(), "08001");
    }
}

Connection& Connection::operator=(Connection&& other) noexcept {
    if (this != &other) {
        PQfinish(conn_);
        conn_ = std::exchange(other.conn_, nullptr);
    }
    return *this;
}

Result Connection::exec(std::string_view sql, const Params& params) {
    const std::string statement(sql);
    const detail::ParamArray values(params);
    return check_result(PQexecParams(conn_, statement.c_str(), values.size(), nullptr,
                                     values.values(), nullptr, nullptr, /*resultFormat=*/0),
                        conn_);
}

Result check_result(PGresult* res, PGconn* conn) {
    Result result(res);
    if (res == nullptr)
        detail::raise_libpq_error(conn);
    switch (result.status()) {
        case PGRES_FATAL_ERROR:
        case PGRES_BAD_RESPONSE:
        case PGRES_NONFATAL_ERROR:
            raise_error(detail::error_info(res, conn));
        default:
            return result;
    }
}

}  // namespace tenancy
