// Move-only owner of a PGresult.
//
// Accessors take column names rather than positions so that adding a column
// to a SQL function's result never shifts what the client reads.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tenancy {

class Result {
public:
    Result() noexcept = default;
    explicit Result(PGresult* res) noexcept : res_(res) {}
    ~Result() { PQclear(res_); }

    Result(Result&& other) noexcept : res_(other.release()) {}
    Result& operator=(Result&& other) noexcept;
    Result(const Result&) = delete;
    Result& operator=(const Result&) = delete;

    PGresult* get() const noexcept { return res_; }
    PGresult* release() noexcept;
    ExecStatusType status() const noexcept { return PQresultStatus(res_); }

    int rows() const noexcept { return PQntuples(res_); }
    int columns() const noexcept { return PQnfields(res_); }

    // Column number of `name`; throws tenancy::Error if the result lacks it.
    int column(std::string_view name) const;

    bool is_null(int row, std::string_view col) const;
    std::string text(int row, std::string_view col) const;  // throws on NULL
    std::optional<std::string> optional_text(int row, std::string_view col) const;
    std::int64_t int64(int row, std::string_view col) const;  // throws on NULL
    std::optional<std::int64_t> optional_int64(int row, std::string_view col) const;

private:
    PGresult* res_ = nullptr;
};

}  // namespace tenancy
