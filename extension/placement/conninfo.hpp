// Connection strings of registered servers, parsed with libpq's own parser
// (PQconninfoParse), so that what the registry accepts is exactly what
// clients will understand: key=value strings and postgresql:// URIs alike.
#pragma once

#include <string>

namespace tenancy::conninfo {

// Refuses (22023) a string libpq cannot parse and one that carries a
// password: credentials belong in ~/.pgpass, PGPASSFILE or a service file,
// never in the registry, which every administrator can read.
void validate_server(const std::string &conninfo);

// The conninfo of database `database` on the server reached by
// `server_conninfo`, with search_path set to `schema`: the same parameters
// with dbname replaced and "-c search_path=..." added to options, in
// key=value form with values quoted.  An empty server conninfo (the
// registry's own server) gives just dbname and options: clients add their
// registry connection's parameters.
std::string for_database(const std::string &server_conninfo, const std::string &database, const std::string &schema);

} // namespace tenancy::conninfo
