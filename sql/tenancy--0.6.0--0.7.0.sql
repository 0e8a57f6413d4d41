\echo Use "ALTER EXTENSION tenancy UPDATE" to load this file. \quit

-- Change-event landing: out-of-order, duplicated change events from other
-- systems (a shop's products and categories, webhooks, a CDC stream) applied
-- to the application's own tables in one set-based call that converges to
-- the same state whatever the order and concurrency of delivery
-- (docs/changes.md).
--
-- Like link sync these functions are SECURITY INVOKER: they write the
-- caller's tables with the caller's privileges and row-level security.  They
-- pin search_path, and those that change data are granted explicitly.

-- Tables prepared by tenancy.enable_changes, with the names of the columns
-- that carry the change state and what enable_changes added (so that
-- disable_changes removes exactly that).
CREATE TABLE tenancy.change_table (
    tbl                regclass PRIMARY KEY,
    key_columns        name[] NOT NULL,
    version_column     name NOT NULL,
    deleted_column     name NOT NULL,
    placeholder_column name NOT NULL,
    versions_column    name NOT NULL,
    live_view          name,                    -- the view enable_changes created, in the table's schema
    added_columns      name[] NOT NULL DEFAULT '{}',
    enabled_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT change_table_key_not_empty CHECK (pg_catalog.cardinality(key_columns) OPERATOR(pg_catalog.>) 0)
);
COMMENT ON TABLE tenancy.change_table
    IS 'Tables prepared for change landing by tenancy.enable_changes: key, change-state columns, what was added';

SELECT pg_catalog.pg_extension_config_dump('tenancy.change_table', '');

CREATE FUNCTION tenancy.enable_changes(
    tbl regclass,
    key_columns name[],
    version_column name DEFAULT 'version',
    deleted_column name DEFAULT 'deleted_at',
    placeholder_column name DEFAULT 'placeholder_since',
    versions_column name DEFAULT 'column_versions',
    live_view name DEFAULT NULL)
RETURNS void
LANGUAGE C VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_enable_changes';
COMMENT ON FUNCTION tenancy.enable_changes(regclass, name[], name, name, name, name, name)
    IS 'Prepares a table for tenancy.apply_changes: checks its unique key, adds the change-state columns, creates the live view; idempotent';

CREATE FUNCTION tenancy.disable_changes(tbl regclass, drop_columns boolean DEFAULT false)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_disable_changes';
COMMENT ON FUNCTION tenancy.disable_changes(regclass, boolean)
    IS 'Forgets a table prepared by enable_changes and drops its live view (and, with drop_columns, the columns it added); false if it was not prepared';

CREATE FUNCTION tenancy.apply_changes(tbl regclass, changes jsonb)
RETURNS TABLE (index integer, status text, sqlstate text, reason text)
LANGUAGE C VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_apply_changes';
COMMENT ON FUNCTION tenancy.apply_changes(regclass, jsonb)
    IS 'Applies an array of versioned upsert/delete events in one call; one row per event: applied, stale or refused (with SQLSTATE and reason)';

CREATE FUNCTION tenancy.placeholders(older_than interval DEFAULT '0 seconds', tbl regclass DEFAULT NULL)
RETURNS TABLE (table_name regclass, key jsonb, placeholder_since timestamptz)
LANGUAGE C STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_placeholders';
COMMENT ON FUNCTION tenancy.placeholders(interval, regclass)
    IS 'Placeholder rows (parents referenced by events before their own create event) older than older_than';

REVOKE ALL ON FUNCTION
    tenancy.enable_changes(regclass, name[], name, name, name, name, name),
    tenancy.disable_changes(regclass, boolean),
    tenancy.apply_changes(regclass, jsonb),
    tenancy.placeholders(interval, regclass)
FROM PUBLIC;
