// Move-only owner of a PGconn plus the one way this library runs SQL.
//
// All values travel as out-of-line text parameters (PQexecParams), never
// spliced into the statement, so no quoting or injection concerns arise.
#pragma once

#include <libpq-fe.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tenancy/result.hpp"

namespace tenancy {

// A statement parameter in text form; std::nullopt is SQL NULL.
using Param = std::optional<std::string>;
using Params = std::vector<Param>;

// Where to connect.  Unset fields fall back to the PG* environment variables
// and libpq defaults, exactly as for psql.
struct ConnectOptions {
    std::string conninfo;  // "", "key=value ..." or "postgresql://..." URI
    std::optional<std::string> host;  // like psql -h; overrides conninfo
    std::optional<std::string> port;  // like psql -p
    std::optional<std::string> user;  // like psql -U
};

class Connection {
public:
    // Connects or throws ConnectionError.
    explicit Connection(const ConnectOptions& options);
    ~Connection() { PQfinish(conn_); }

    Connection(Connection&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }
    Connection& operator=(Connection&& other) noexcept;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    PGconn* get() const noexcept { return conn_; }

    // Runs one statement; throws the mapped tenancy::Error on failure.
    Result exec(std::string_view sql, const Params& params = {});

private:
    PGconn* conn_ = nullptr;
};

// Returns `res` wrapped, or throws the error it (or, when it is null, the
// connection) reports.  Shared by Connection::exec and Pipeline.
Result check_result(PGresult* res, PGconn* conn);

}  // namespace tenancy
