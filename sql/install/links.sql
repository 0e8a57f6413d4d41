
-- Link sync: replacing an owner's set of links in the application's own table,
-- and repairing legacy link tables that hold duplicates (docs/links.md).
--
-- Unlike the registry's functions these are SECURITY INVOKER: they work on the
-- caller's tables with the caller's privileges and row-level security, exactly
-- as the equivalent hand-written statements would.  They still pin search_path
-- (the statements they generate qualify every name), and the ones that change
-- data are granted explicitly like every other such function.

-- The owner is anyelement and the targets anycompatiblearray: two independent
-- polymorphic families, so a uuid owner with integer targets resolves.  The
-- targets family also resolves an untyped '{...}' literal (as text[]); the
-- overload below does the same for an untyped owner literal ('text-owner',
-- or a uuid written as a string), which anyelement alone rejects.  Both
-- overloads convert the values to the column types inside.
CREATE FUNCTION tenancy.sync_links(
    link_table regclass,
    owner_column name,
    owner_value anyelement,
    target_column name,
    targets anycompatiblearray)
RETURNS TABLE (added bigint, removed bigint)
LANGUAGE C VOLATILE SECURITY INVOKER
ROWS 1
AS 'MODULE_PATHNAME', 'tenancy_sync_links';
COMMENT ON FUNCTION tenancy.sync_links(regclass, name, anyelement, name, anycompatiblearray)
    IS 'Makes the owner''s links in link_table exactly the distinct non-NULL targets; returns rows added and removed';

CREATE FUNCTION tenancy.sync_links(
    link_table regclass,
    owner_column name,
    owner_value text,
    target_column name,
    targets anycompatiblearray)
RETURNS TABLE (added bigint, removed bigint)
LANGUAGE C VOLATILE SECURITY INVOKER
ROWS 1
AS 'MODULE_PATHNAME', 'tenancy_sync_links';
COMMENT ON FUNCTION tenancy.sync_links(regclass, name, text, name, anycompatiblearray)
    IS 'sync_links for an owner given as text (or an untyped literal), converted to the owner column''s type';

CREATE FUNCTION tenancy.find_duplicates(tbl regclass, key_columns name[])
RETURNS TABLE (key jsonb, count bigint)
LANGUAGE C STABLE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_find_duplicates';
COMMENT ON FUNCTION tenancy.find_duplicates(regclass, name[])
    IS 'Lists the keys that more than one row of tbl carries, with their row counts; changes nothing';

CREATE FUNCTION tenancy.dedupe(tbl regclass, key_columns name[])
RETURNS bigint
LANGUAGE C VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_dedupe';
COMMENT ON FUNCTION tenancy.dedupe(regclass, name[])
    IS 'Deletes duplicate rows of tbl (keeping one per key), ensures a unique index on the key; returns rows deleted';

REVOKE ALL ON FUNCTION
    tenancy.sync_links(regclass, name, anyelement, name, anycompatiblearray),
    tenancy.sync_links(regclass, name, text, name, anycompatiblearray),
    tenancy.dedupe(regclass, name[])
FROM PUBLIC;
