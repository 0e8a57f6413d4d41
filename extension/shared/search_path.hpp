// A search path pinned by the C++ code itself, for the hot functions that do
// not carry a `SET search_path` clause (docs/security.md, "Hot functions").
//
// A `SET search_path = pg_catalog, pg_temp` clause costs every call a GUC
// save, parse, namespace lookup and restore (and the caller a second lookup
// when its own path comes back): on a one-row UPDATE that is most of the
// difference to the hand-written statement.  CatalogOnlySearchPath gives the
// same protection for what the function itself parses: while it lives, name
// lookups see pg_catalog alone (PostgreSQL's override search path, pushed and
// popped without touching the GUC), so neither the first preparation of a
// saved plan nor its re-planning after DDL or DISCARD PLANS can resolve a
// name, operator or type to a schema of the caller's.  It is a plain list
// push, and the saved plans' recorded search path always matches it, so they
// are never re-planned for a change of the caller's search_path.
//
// The override also hides the GUC from anything that runs inside the scope,
// including triggers and functions with a SET clause of their own; so use it
// only around statements on the extension's own tables, never around
// statements on users' tables (sync_links relies on fully qualified SQL
// instead, see links_sync.cpp).
#pragma once

namespace tenancy {

class CatalogOnlySearchPath {
public:
    CatalogOnlySearchPath();
    // Pops the override.  A transaction or subtransaction abort pops it too
    // (AtEOXact_Namespace), so an error on the way out leaves nothing behind.
    ~CatalogOnlySearchPath();
    CatalogOnlySearchPath(const CatalogOnlySearchPath &) = delete;
    CatalogOnlySearchPath &operator=(const CatalogOnlySearchPath &) = delete;
};

} // namespace tenancy
