#include "tenancy/result.hpp"

#include <charconv>
#include <string>
#include <utility>

#include "tenancy/errors.hpp"

namespace tenancy {
namespace {

[[noreturn]] void raise_client_error(std::string message) {
    raise_error(ErrorInfo{"", std::move(message), "", ""});
}

}  // namespace

Result& Result::operator=(Result&& other) noexcept {
    if (this != &other) {
        PQclear(res_);
        res_ = other.release();
    }
    return *this;
}

PGresult* Result::release() noexcept {
    return std::exchange(res_, nullptr);
}

int Result::column(std::string_view name) const {
    // PQfnumber would case-fold an unquoted name; quoting keeps it exact.
    const std::string quoted = "\"" + std::string(name) + "\"";
    const int col = PQfnumber(res_, quoted.c_str());
    if (col < 0)
        raise_client_error("result has no column \"" + std::string(name) + "\"");
    return col;
}

bool Result::is_null(int row, std::string_view col) const {
    return PQgetisnull(res_, row, column(col)) != 0;
}

std::optional<std::string> Result::optional_text(int row, std::string_view col) const {
    const int c = column(col);
    if (PQgetisnull(res_, row, c))
        return std::nullopt;
    return std::string(PQgetvalue(res_, row, c), static_cast<std::size_t>(PQgetlength(res_, row, c)));
}

std::string Result::text(int row, std::string_view col) const {
    auto value = optional_text(row, col);
    if (!value)
        raise_client_error("unexpected NULL in column \"" + std::string(col) + "\"");
    return std::move(*value);
}

std::optional<std::int64_t> Result::optional_int64(int row, std::string_view col) const {
    const auto value = optional_text(row, col);
    if (!value)
        return std::nullopt;
    std::int64_t n = 0;
    const char* end = value->data() + value->size();
    const auto [ptr, ec] = std::from_chars(value->data(), end, n);
    if (ec != std::errc() || ptr != end)
        raise_client_error("column \"" + std::string(col) + "\" is not a bigint: " + *value);
    return n;
}

std::int64_t Result::int64(int row, std::string_view col) const {
    const auto value = optional_int64(row, col);
    if (!value)
        raise_client_error("unexpected NULL in column \"" + std::string(col) + "\"");
    return *value;
}

}  // namespace tenancy
