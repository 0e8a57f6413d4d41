// The sandbox that tenant migrations run in: while it is active, statements
// may create, change, drop and write only objects in the tenant's schema (and
// temporary objects), whatever the migration's SQL says and whoever runs it.
//
// Three checks, each in the one place PostgreSQL lets an extension see the
// statement:
//  * DML: an ExecutorCheckPerms hook refuses INSERT, UPDATE and DELETE (and
//    SELECT ... FOR UPDATE, COPY FROM, MERGE) on relations of other schemas;
//    reads are allowed (reference data in a shared schema is common);
//  * DDL on schema objects: the event trigger tenancy.migration_ddl_guard
//    (ddl_command_end and sql_drop) refuses any created, changed or dropped
//    object outside the schema, and dropping the schema itself;
//  * everything else: a ProcessUtility hook lets through only the statement
//    kinds a schema migration needs (an allow-list), checks the targets of
//    the ones event triggers do not report (GRANT, ALTER DEFAULT PRIVILEGES,
//    TRUNCATE), and refuses the rest (roles, databases, tablespaces,
//    ALTER SYSTEM, extensions, transaction control, server-side COPY files).
// Violations raise 42501 naming the object, the tenant and the schema.
#pragma once

extern "C" {
#include "postgres.h"
}

#include <cstdint>
#include <string>

namespace tenancy::sandbox {

// Installs the hooks; called once per backend from _PG_init.
void install_hooks();

// The sandbox is active for the lifetime of a Confinement: statements are
// confined to `schema`.  One at a time: a migration cannot run migrations.
class Confinement {
public:
    Confinement(Oid schema, const std::string &schema_name, int64_t tenant);
    ~Confinement();
    Confinement(const Confinement &) = delete;
    Confinement &operator=(const Confinement &) = delete;
};

} // namespace tenancy::sandbox
