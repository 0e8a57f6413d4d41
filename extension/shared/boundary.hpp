// The error boundary between C++ and PostgreSQL.
//
// PostgreSQL reports errors with ereport(ERROR), which longjmps to the nearest
// PG_TRY; C++ reports them with exceptions, which unwind and run destructors.
// Mixing the two wrongly either skips destructors (a longjmp through C++ frames
// that own resources) or lets an exception escape into C code (undefined
// behaviour, usually a crash).  This header is the one place that converts
// between them, in both directions:
//
//  * TENANCY_FUNCTION(name) defines a C-callable SQL function whose body is
//    ordinary C++.  Any exception it throws is caught; only after the catch
//    block has ended (and the exception object is destroyed) is the error
//    raised again with ereport(ERROR).  tenancy::Error carries its SQLSTATE;
//    tenancy::PgError is re-thrown with every field PostgreSQL gave it.
//
//  * pg_call(fn) runs fn, which calls PostgreSQL functions that may
//    ereport(ERROR), under PG_TRY.  An error is copied out, the error state
//    flushed, and a tenancy::PgError thrown, so the C++ frames between here
//    and the entry point unwind normally.  fn itself must own nothing: keep it
//    a thin lambda around the PostgreSQL calls.
//
// The PostgreSQL transaction is still aborted by the re-raised error, which is
// what releases SPI connections, locks and memory contexts: the boundary only
// makes sure C++ cleanup runs too.  See docs/architecture.md.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace tenancy {

// An error detected by the extension's own code.  `sqlstate` is a value made
// with MAKE_SQLSTATE (see errcodes.hpp): users branch on it, so every throw
// site picks one deliberately.
class Error : public std::exception {
public:
    Error(int sqlstate, std::string message, std::string detail = {}, std::string hint = {})
        : sqlstate_(sqlstate), message_(std::move(message)), detail_(std::move(detail)),
          hint_(std::move(hint)) {}

    int sqlstate() const noexcept { return sqlstate_; }
    const char *what() const noexcept override { return message_.c_str(); }
    const std::string &detail() const noexcept { return detail_; }
    const std::string &hint() const noexcept { return hint_; }

private:
    int sqlstate_;
    std::string message_;
    std::string detail_;
    std::string hint_;
};

// A PostgreSQL error caught by pg_call.  The ErrorData lives in the memory
// context that was current when pg_call started; the entry point re-throws it
// unchanged (SQLSTATE, message, detail, hint, context).
class PgError : public std::exception {
public:
    explicit PgError(ErrorData *data) noexcept : data_(data) {}
    ErrorData *data() const noexcept { return data_; }
    int sqlstate() const noexcept { return data_->sqlerrcode; }
    const char *what() const noexcept override;

private:
    ErrorData *data_;
};

namespace detail {

// Calls callback(arg) inside PG_TRY.  Returns nullptr on success, or the copied
// ErrorData of a PostgreSQL error after flushing the error state.  The callback
// must not throw; pg_call wraps it so that it cannot.
ErrorData *run_catching_pg_error(void (*callback)(void *), void *arg) noexcept;

// The body of every TENANCY_FUNCTION entry point: runs impl and converts any
// exception into ereport(ERROR).  Never returns normally after an exception.
Datum call_guarded(Datum (*impl)(FunctionCallInfo), FunctionCallInfo fcinfo);

} // namespace detail

// Runs fn (a thin lambda calling PostgreSQL functions) and returns its result.
// A PostgreSQL error raised inside becomes a thrown PgError.
template <typename Fn>
auto pg_call(Fn &&fn) -> std::invoke_result_t<Fn &>
{
    using Result = std::invoke_result_t<Fn &>;
    struct Frame {
        Fn *fn;
        std::conditional_t<std::is_void_v<Result>, bool, std::optional<Result>> result{};
        std::exception_ptr cxx_error;
    } frame{&fn};

    auto trampoline = [](void *arg) {
        auto *f = static_cast<Frame *>(arg);
        try {
            if constexpr (std::is_void_v<Result>)
                (*f->fn)();
            else
                f->result.emplace((*f->fn)());
        } catch (...) {
            // Never let an exception cross the PG_TRY frame: it would leave
            // PG_exception_stack pointing at a dead frame.
            f->cxx_error = std::current_exception();
        }
    };

    if (ErrorData *error = detail::run_catching_pg_error(trampoline, &frame))
        throw PgError(error);
    if (frame.cxx_error)
        std::rethrow_exception(frame.cxx_error);
    if constexpr (!std::is_void_v<Result>)
        return std::move(*frame.result);
}

} // namespace tenancy

// Defines the SQL-callable function `name` (declared in the install script as
// LANGUAGE C with AS 'MODULE_PATHNAME', 'name'); the block that follows is its
// C++ body, with `fcinfo` in scope as usual.
#define TENANCY_FUNCTION(name)                                                      \
    static Datum name##_body(FunctionCallInfo fcinfo);                              \
    extern "C" {                                                                    \
    PG_FUNCTION_INFO_V1(name);                                                      \
    Datum name(PG_FUNCTION_ARGS) { return tenancy::detail::call_guarded(name##_body, fcinfo); } \
    }                                                                               \
    static Datum name##_body(FunctionCallInfo fcinfo)
