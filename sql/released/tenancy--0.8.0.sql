\echo Use "CREATE EXTENSION tenancy" to load this file. \quit

-- Tenant registry and API keys.
--
-- Conventions for every part of this script:
--  * every function pins search_path (pg_catalog, pg_temp), so it never
--    depends on, or can be hijacked through, the caller's search_path;
--  * functions that change data have EXECUTE revoked from PUBLIC and are
--    granted by the administrator (docs/security.md lists the grants);
--  * the registry's functions are SECURITY DEFINER: they are the only way to
--    change the registry, and the tables themselves grant nothing to PUBLIC.

CREATE TABLE tenancy.tenant (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug          text NOT NULL,
    name          text,
    status        text NOT NULL DEFAULT 'active',
    storage_quota bigint NOT NULL DEFAULT 10737418240,
    storage_used  bigint NOT NULL DEFAULT 0,
    settings      jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    deleted_at    timestamptz,
    CONSTRAINT tenant_slug_key UNIQUE (slug),
    CONSTRAINT tenant_slug_format CHECK (slug OPERATOR(pg_catalog.~) '^[a-z0-9][a-z0-9_-]{0,62}$'),
    CONSTRAINT tenant_status_valid CHECK (status OPERATOR(pg_catalog.=) ANY (ARRAY['active', 'suspended', 'deleted'])),
    CONSTRAINT tenant_storage_quota_nonnegative CHECK (storage_quota OPERATOR(pg_catalog.>=) 0),
    CONSTRAINT tenant_storage_used_nonnegative CHECK (storage_used OPERATOR(pg_catalog.>=) 0),
    CONSTRAINT tenant_settings_object CHECK (pg_catalog.jsonb_typeof(settings) OPERATOR(pg_catalog.=) 'object'),
    CONSTRAINT tenant_deleted_at_matches_status
        CHECK ((status OPERATOR(pg_catalog.=) 'deleted') OPERATOR(pg_catalog.=) (deleted_at IS NOT NULL))
);
COMMENT ON TABLE tenancy.tenant IS 'One row per tenant; changed through the tenancy.*_tenant functions';

CREATE TABLE tenancy.api_key (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  bigint NOT NULL REFERENCES tenancy.tenant (id),
    key_hash   bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    revoked_at timestamptz,
    CONSTRAINT api_key_hash_key UNIQUE (key_hash),
    CONSTRAINT api_key_hash_is_sha256 CHECK (pg_catalog.octet_length(key_hash) OPERATOR(pg_catalog.=) 32)
);
CREATE INDEX api_key_live_by_tenant ON tenancy.api_key (tenant_id) WHERE revoked_at IS NULL;
COMMENT ON TABLE tenancy.api_key IS 'SHA-256 digests of API keys; the keys themselves are never stored';

-- pg_dump skips extension tables (and their identity sequences) unless they
-- are marked as configuration: without this a dump would lose every tenant.
SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.api_key', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.api_key_id_seq', '');

-- isolation and server: where the tenant's data lives (sql/install/placement.sql).
CREATE FUNCTION tenancy.create_tenant(
    slug text,
    name text DEFAULT NULL,
    storage_quota bigint DEFAULT 10737418240,
    settings jsonb DEFAULT '{}',
    isolation text DEFAULT 'shared',
    server text DEFAULT NULL)
RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_create_tenant';
COMMENT ON FUNCTION tenancy.create_tenant(text, text, bigint, jsonb, text, text)
    IS 'Registers a new active tenant and returns its id; a schema tenant is created and migrated in the same transaction, a database tenant is left to provision';

CREATE FUNCTION tenancy.delete_tenant(tenant bigint)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_delete_tenant';
COMMENT ON FUNCTION tenancy.delete_tenant(bigint) IS 'Soft-deletes an active or suspended tenant; nothing is removed';

CREATE FUNCTION tenancy.restore_tenant(tenant bigint)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_restore_tenant';
COMMENT ON FUNCTION tenancy.restore_tenant(bigint) IS 'Makes a deleted tenant active again';

CREATE FUNCTION tenancy.suspend_tenant(tenant bigint)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_suspend_tenant';
COMMENT ON FUNCTION tenancy.suspend_tenant(bigint) IS 'Suspends an active tenant';

CREATE FUNCTION tenancy.activate_tenant(tenant bigint)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_activate_tenant';
COMMENT ON FUNCTION tenancy.activate_tenant(bigint) IS 'Makes a suspended tenant active again';

CREATE FUNCTION tenancy.search_tenants(
    keyword text DEFAULT NULL,
    tenant bigint DEFAULT NULL,
    page integer DEFAULT 1,
    page_size integer DEFAULT 20,
    include_deleted boolean DEFAULT false)
RETURNS TABLE (
    id bigint, slug text, name text, status text,
    storage_quota bigint, storage_used bigint, settings jsonb,
    created_at timestamptz, updated_at timestamptz, deleted_at timestamptz,
    total bigint)
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
ROWS 20
AS 'MODULE_PATHNAME', 'tenancy_search_tenants';
COMMENT ON FUNCTION tenancy.search_tenants(text, bigint, integer, integer, boolean)
    IS 'Pages through tenants whose slug or name contains keyword (literally, case-insensitively)';

CREATE FUNCTION tenancy.issue_api_key(tenant bigint)
RETURNS text
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_issue_api_key';
COMMENT ON FUNCTION tenancy.issue_api_key(bigint) IS 'Returns a new API key for an active tenant; only its digest is kept';

CREATE FUNCTION tenancy.tenant_for_api_key(key text)
RETURNS bigint
LANGUAGE C STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_tenant_for_api_key';
COMMENT ON FUNCTION tenancy.tenant_for_api_key(text)
    IS 'The tenant an API key belongs to, or NULL for an unknown or revoked key or a deleted tenant';

CREATE FUNCTION tenancy.revoke_api_keys(tenant bigint)
RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_revoke_api_keys';
COMMENT ON FUNCTION tenancy.revoke_api_keys(bigint) IS 'Revokes every live API key of a tenant; returns how many';

-- Functions that change data, or list every tenant, are granted explicitly.
-- tenant_for_api_key stays callable by PUBLIC: it reveals nothing without a key.
REVOKE ALL ON FUNCTION
    tenancy.create_tenant(text, text, bigint, jsonb, text, text),
    tenancy.delete_tenant(bigint),
    tenancy.restore_tenant(bigint),
    tenancy.suspend_tenant(bigint),
    tenancy.activate_tenant(bigint),
    tenancy.search_tenants(text, bigint, integer, integer, boolean),
    tenancy.issue_api_key(bigint),
    tenancy.revoke_api_keys(bigint)
FROM PUBLIC;

-- Storage accounting: per-tenant byte counts against a quota (docs/storage.md).
--
-- The counters are the storage_used and storage_quota columns of
-- tenancy.tenant; the functions below are the only way to change them.  All
-- are SECURITY DEFINER (the tables grant nothing to PUBLIC) with EXECUTE
-- revoked from PUBLIC, and granted to application roles by the administrator.

-- Every adjustment that would have taken a tenant below zero bytes.  Such an
-- adjustment is a bug somewhere (a deletion counted without its upload, or
-- twice); the row lets an operator find it.
CREATE TABLE tenancy.storage_anomaly (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       bigint NOT NULL REFERENCES tenancy.tenant (id),
    attempted_delta bigint NOT NULL,
    used_before     bigint NOT NULL,
    -- The bytes the clamp to zero discarded; numeric, because for a delta of
    -- bigint's minimum it is 2^63, one more than a bigint holds.
    lost            numeric GENERATED ALWAYS AS
                        (OPERATOR(pg_catalog.-) (used_before::numeric OPERATOR(pg_catalog.+) attempted_delta::numeric))
                        STORED,
    occurred_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT storage_anomaly_is_underflow
        CHECK (attempted_delta::numeric OPERATOR(pg_catalog.+) used_before::numeric OPERATOR(pg_catalog.<) 0)
);
CREATE INDEX storage_anomaly_by_tenant ON tenancy.storage_anomaly (tenant_id, occurred_at);
COMMENT ON TABLE tenancy.storage_anomaly
    IS 'Storage adjustments that would have made a tenant''s usage negative and were clamped to 0';

-- Adjustments made with an idempotency key, so that a retried request is
-- answered from here instead of being counted again.  storage_used is the
-- result of the first call; it is NULL only inside the transaction that
-- claims the key, which sets it before committing.
CREATE TABLE tenancy.storage_idempotency_key (
    tenant_id       bigint NOT NULL REFERENCES tenancy.tenant (id),
    idempotency_key text NOT NULL,
    delta           bigint NOT NULL,
    storage_used    bigint,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, idempotency_key)
);
CREATE INDEX storage_idempotency_key_by_age ON tenancy.storage_idempotency_key (created_at);
COMMENT ON TABLE tenancy.storage_idempotency_key
    IS 'Idempotency keys of storage adjustments; kept until tenancy.purge_idempotency_keys removes them';

SELECT pg_catalog.pg_extension_config_dump('tenancy.storage_anomaly', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.storage_anomaly_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.storage_idempotency_key', '');

CREATE FUNCTION tenancy.adjust_storage(
    tenant bigint,
    delta bigint,
    idempotency_key text DEFAULT NULL,
    on_underflow text DEFAULT 'clamp')
RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'tenancy_adjust_storage';
COMMENT ON FUNCTION tenancy.adjust_storage(bigint, bigint, text, text)
    IS 'Adds delta bytes (negative to free) to a tenant''s storage under its row lock and returns the new usage';

CREATE FUNCTION tenancy.adjust_storage_many(
    tenants bigint[],
    deltas bigint[],
    on_underflow text DEFAULT 'clamp')
RETURNS TABLE (tenant bigint, storage_used bigint)
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
ROWS 10
AS 'MODULE_PATHNAME', 'tenancy_adjust_storage_many';
COMMENT ON FUNCTION tenancy.adjust_storage_many(bigint[], bigint[], text)
    IS 'Adjusts several tenants'' storage all or nothing, locking them in id order; returns the new usage of each';

CREATE FUNCTION tenancy.storage(tenant bigint)
RETURNS TABLE (used bigint, quota bigint, available bigint)
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
ROWS 1
AS 'MODULE_PATHNAME', 'tenancy_storage';
COMMENT ON FUNCTION tenancy.storage(bigint)
    IS 'A tenant''s storage use, quota and the bytes it may still add (0 when over quota)';

CREATE FUNCTION tenancy.set_storage_quota(tenant bigint, quota bigint)
RETURNS TABLE (used bigint, quota bigint, available bigint)
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
ROWS 1
AS 'MODULE_PATHNAME', 'tenancy_set_storage_quota';
COMMENT ON FUNCTION tenancy.set_storage_quota(bigint, bigint)
    IS 'Sets a tenant''s storage quota (below current use too: growth is then refused) and returns its storage';

CREATE FUNCTION tenancy.purge_idempotency_keys(older_than interval DEFAULT '24 hours')
RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_purge_idempotency_keys';
COMMENT ON FUNCTION tenancy.purge_idempotency_keys(interval)
    IS 'Deletes storage idempotency keys created more than older_than ago; returns how many';

-- storage() is revoked too: it tells anyone who can guess ids how much every
-- tenant stores.
REVOKE ALL ON FUNCTION
    tenancy.adjust_storage(bigint, bigint, text, text),
    tenancy.adjust_storage_many(bigint[], bigint[], text),
    tenancy.storage(bigint),
    tenancy.set_storage_quota(bigint, bigint),
    tenancy.purge_idempotency_keys(interval)
FROM PUBLIC;

-- Striped counters (docs/storage.md, "Striped counters") -----------------------

-- How many rows hold the tenant's usage: 1 (the default) keeps it in
-- storage_used of this row; more spread it over tenancy.storage_stripe, so
-- that concurrent adjustments of one busy tenant stop queuing on one row
-- lock.  Changed only by tenancy.set_storage_stripes.
ALTER TABLE tenancy.tenant
    ADD COLUMN storage_stripes integer NOT NULL DEFAULT 1,
    ADD CONSTRAINT tenant_storage_stripes_range
        CHECK (storage_stripes OPERATOR(pg_catalog.>=) 1 AND storage_stripes OPERATOR(pg_catalog.<=) 64);

-- One row per stripe of a striped tenant (none for the others).  Each holds
-- part of the tenant's usage and an escrowed share of its headroom: an
-- adjustment that fits one stripe changes only that row.  A striped tenant's
-- usage is storage_used of its tenant row (kept at 0) plus the sum of used
-- here; tenancy.storage() and tenancy.storage_usage add it up.
CREATE TABLE tenancy.storage_stripe (
    tenant_id bigint NOT NULL REFERENCES tenancy.tenant (id),
    stripe    integer NOT NULL,
    used      bigint NOT NULL,
    headroom  bigint NOT NULL,
    PRIMARY KEY (tenant_id, stripe),
    CONSTRAINT storage_stripe_number
        CHECK (stripe OPERATOR(pg_catalog.>=) 0 AND stripe OPERATOR(pg_catalog.<) 64),
    CONSTRAINT storage_stripe_used_nonnegative CHECK (used OPERATOR(pg_catalog.>=) 0),
    CONSTRAINT storage_stripe_headroom_nonnegative CHECK (headroom OPERATOR(pg_catalog.>=) 0)
) WITH (fillfactor = 50);  -- room on the page for HOT updates of busy stripes
COMMENT ON TABLE tenancy.storage_stripe
    IS 'Stripes of striped storage counters: part of a tenant''s usage and an escrowed share of its headroom each';
SELECT pg_catalog.pg_extension_config_dump('tenancy.storage_stripe', '');

-- Every tenant's exact usage, striped or not, in one snapshot: use this (or
-- tenancy.storage()) instead of tenancy.tenant.storage_used, which holds only
-- the part of a striped tenant's usage that is not in its stripes (0).
CREATE VIEW tenancy.storage_usage AS
SELECT t.id AS tenant_id,
       u.used,
       t.storage_quota AS quota,
       pg_catalog.int8larger(t.storage_quota OPERATOR(pg_catalog.-) u.used, 0) AS available,
       t.storage_stripes AS stripes
  FROM tenancy.tenant t
 CROSS JOIN LATERAL (
       SELECT (t.storage_used OPERATOR(pg_catalog.+)
               coalesce((SELECT pg_catalog.sum(s.used) FROM tenancy.storage_stripe s
                          WHERE s.tenant_id OPERATOR(pg_catalog.=) t.id), 0))::pg_catalog.int8 AS used) u;
COMMENT ON VIEW tenancy.storage_usage
    IS 'Each tenant''s exact storage use, quota, available bytes and stripe count, striped tenants included';

CREATE FUNCTION tenancy.set_storage_stripes(tenant bigint, stripes integer)
RETURNS integer
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_set_storage_stripes';
COMMENT ON FUNCTION tenancy.set_storage_stripes(bigint, integer)
    IS 'Spreads a tenant''s storage counter over 1 to 64 rows, online; returns the previous number';

REVOKE ALL ON FUNCTION tenancy.set_storage_stripes(bigint, integer) FROM PUBLIC;

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

-- Tenant-row checks: the tenant context, protected tables (row-level security
-- plus a guard trigger) and the required-row rules that tenancy.check verifies
-- and repairs.  docs/rowcheck.md describes the semantics and the threat model.
--
-- Same conventions as the registry part: pinned search_path everywhere,
-- EXECUTE revoked from PUBLIC on everything that changes data or settings.

-- What tenancy.protect added to each table, so that tenancy.unprotect removes
-- exactly that and nothing the table had before.  The policy and the trigger
-- are always protect's own (fixed names, see docs/rowcheck.md).
CREATE TABLE tenancy.protected_table (
    tbl            regclass PRIMARY KEY,
    tenant_column  name NOT NULL,
    added_not_null boolean NOT NULL,
    foreign_key    name,           -- the constraint protect created, if any
    index_name     name,           -- the index protect created, if any
    enabled_rls    boolean NOT NULL,
    forced_rls     boolean NOT NULL,
    protected_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    partition_of   regclass        -- the protected partitioned table it is protected through, if any
);
COMMENT ON TABLE tenancy.protected_table IS 'Tables made tenant-isolated by tenancy.protect and the parts it added';

-- Rows every active shared tenant must have; tenancy.check finds and repairs gaps.
CREATE TABLE tenancy.required_row (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tbl        regclass NOT NULL REFERENCES tenancy.protected_table (tbl),
    template   jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT required_row_rule_key UNIQUE (tbl, template),
    CONSTRAINT required_row_template_object CHECK (pg_catalog.jsonb_typeof(template) OPERATOR(pg_catalog.=) 'object')
);
COMMENT ON TABLE tenancy.required_row IS 'Rules declared by tenancy.require_row: a row every active shared tenant must have';

SELECT pg_catalog.pg_extension_config_dump('tenancy.protected_table', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.required_row', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.required_row_id_seq', '');

-- Tenant context ---------------------------------------------------------------

CREATE FUNCTION tenancy.set_tenant(tenant bigint, is_local boolean DEFAULT true)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'tenancy_set_tenant';
COMMENT ON FUNCTION tenancy.set_tenant(bigint, boolean)
    IS 'Makes an active tenant the current one, for the transaction (default) or the session';

-- STABLE and PARALLEL SAFE so that a policy can compare an indexed column
-- with it; policies wrap it in a scalar subquery so it runs once per query.
CREATE FUNCTION tenancy.current_tenant()
RETURNS bigint
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'tenancy_current_tenant';
COMMENT ON FUNCTION tenancy.current_tenant() IS 'The current tenant set by tenancy.set_tenant, or NULL';

CREATE FUNCTION tenancy.clear_tenant()
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_clear_tenant';
COMMENT ON FUNCTION tenancy.clear_tenant() IS 'Unsets the current tenant (for the session)';

-- Protected tables -----------------------------------------------------------

CREATE FUNCTION tenancy.tenant_guard()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'tenancy_tenant_guard';
COMMENT ON FUNCTION tenancy.tenant_guard()
    IS 'Trigger of protected tables: fills the tenant column and refuses rows of other tenants';

-- Statement-level BEFORE TRUNCATE trigger of protected tables: TRUNCATE is
-- not subject to row-level security, so it would remove every tenant's rows.
CREATE FUNCTION tenancy.truncate_guard()
RETURNS trigger
LANGUAGE C
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_truncate_guard';
COMMENT ON FUNCTION tenancy.truncate_guard()
    IS 'Trigger of protected tables: refuses TRUNCATE to every role but the table owner and superusers';

CREATE FUNCTION tenancy.protect(tbl regclass, tenant_column name DEFAULT 'tenant_id')
RETURNS void
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_protect';
COMMENT ON FUNCTION tenancy.protect(regclass, name)
    IS 'Makes a table, or a partitioned table and every partition, tenant-isolated (NOT NULL, foreign key, index, forced row-level security, guard and TRUNCATE triggers); idempotent';

CREATE FUNCTION tenancy.unprotect(tbl regclass)
RETURNS boolean
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_unprotect';
COMMENT ON FUNCTION tenancy.unprotect(regclass)
    IS 'Removes exactly what tenancy.protect added, from every partition too; false if the table was not protected';

-- Whether each protected table still has every part.  A part counts as
-- present if the table has an equivalent one, whoever created it: any
-- foreign key on the tenant column alone to tenancy.tenant (id), any valid
-- index whose first column is the tenant column.  A partitioned table needs
-- no row trigger of its own (rows live in, and are guarded by, its
-- partitions).  Columns added after 0.5.0 follow `complete`.
CREATE VIEW tenancy.protected_tables AS
SELECT p.tbl AS table_name,
       p.tenant_column,
       parts.not_null, parts.foreign_key, parts.index, parts.rls_enabled, parts.rls_forced,
       parts.policy, parts.trigger,
       (parts.not_null AND parts.foreign_key AND parts.index AND parts.rls_enabled AND parts.rls_forced
        AND parts.policy AND parts.trigger AND parts.truncate_guard) AS complete,
       parts.truncate_guard,
       p.partition_of
  FROM tenancy.protected_table p
  LEFT JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) p.tbl
  LEFT JOIN pg_catalog.pg_attribute a
         ON a.attrelid OPERATOR(pg_catalog.=) p.tbl AND a.attname OPERATOR(pg_catalog.=) p.tenant_column
        AND NOT a.attisdropped
 CROSS JOIN LATERAL (SELECT
       coalesce(a.attnotnull, false) AS not_null,
       EXISTS (SELECT FROM pg_catalog.pg_constraint k
                WHERE k.conrelid OPERATOR(pg_catalog.=) p.tbl AND k.contype OPERATOR(pg_catalog.=) 'f'
                  AND k.confrelid OPERATOR(pg_catalog.=) 'tenancy.tenant'::pg_catalog.regclass
                  AND k.conkey OPERATOR(pg_catalog.=) ARRAY[a.attnum]) AS foreign_key,
       EXISTS (SELECT FROM pg_catalog.pg_index i
                WHERE i.indrelid OPERATOR(pg_catalog.=) p.tbl AND i.indisvalid
                  AND i.indkey[0] OPERATOR(pg_catalog.=) a.attnum) AS index,
       coalesce(c.relrowsecurity, false) AS rls_enabled,
       coalesce(c.relforcerowsecurity, false) AS rls_forced,
       EXISTS (SELECT FROM pg_catalog.pg_policy pol
                WHERE pol.polrelid OPERATOR(pg_catalog.=) p.tbl
                  AND pol.polname OPERATOR(pg_catalog.=) 'tenancy_isolation') AS policy,
       (c.relkind OPERATOR(pg_catalog.=) 'p'
        OR EXISTS (SELECT FROM pg_catalog.pg_trigger t
                    WHERE t.tgrelid OPERATOR(pg_catalog.=) p.tbl
                      AND t.tgname OPERATOR(pg_catalog.=) 'tenancy_tenant_guard'
                      AND t.tgenabled OPERATOR(pg_catalog.<>) 'D'
                      AND t.tgfoid OPERATOR(pg_catalog.=) 'tenancy.tenant_guard()'::pg_catalog.regprocedure)) AS trigger,
       EXISTS (SELECT FROM pg_catalog.pg_trigger t
                WHERE t.tgrelid OPERATOR(pg_catalog.=) p.tbl
                  AND t.tgname OPERATOR(pg_catalog.=) 'tenancy_truncate_guard'
                  AND t.tgenabled OPERATOR(pg_catalog.<>) 'D'
                  AND t.tgfoid OPERATOR(pg_catalog.=) 'tenancy.truncate_guard()'::pg_catalog.regprocedure) AS truncate_guard
 ) parts;
COMMENT ON VIEW tenancy.protected_tables IS 'Protected tables and whether each still has all the parts tenancy.protect gives it';

-- Foreign keys between two protected tables that do not pair the referencing
-- table's tenant column with the referenced table's: through them a row of
-- one tenant can point at a row of another.  A key of a partitioned table is
-- listed once, not once more for each partition's copy (conparentid).
CREATE VIEW tenancy.cross_tenant_foreign_keys AS
SELECT k.conname AS constraint_name,
       k.conrelid::pg_catalog.regclass AS table_name,
       k.confrelid::pg_catalog.regclass AS referenced_table
  FROM pg_catalog.pg_constraint k
  JOIN tenancy.protected_table p ON p.tbl OPERATOR(pg_catalog.=) k.conrelid
  JOIN tenancy.protected_table q ON q.tbl OPERATOR(pg_catalog.=) k.confrelid
  JOIN pg_catalog.pg_attribute pa
    ON pa.attrelid OPERATOR(pg_catalog.=) p.tbl AND pa.attname OPERATOR(pg_catalog.=) p.tenant_column
  JOIN pg_catalog.pg_attribute qa
    ON qa.attrelid OPERATOR(pg_catalog.=) q.tbl AND qa.attname OPERATOR(pg_catalog.=) q.tenant_column
 WHERE k.contype OPERATOR(pg_catalog.=) 'f'
   AND k.conparentid OPERATOR(pg_catalog.=) 0
   AND NOT EXISTS (SELECT FROM ROWS FROM (pg_catalog.unnest(k.conkey), pg_catalog.unnest(k.confkey)) AS pair (attnum, refattnum)
                    WHERE pair.attnum OPERATOR(pg_catalog.=) pa.attnum
                      AND pair.refattnum OPERATOR(pg_catalog.=) qa.attnum);
COMMENT ON VIEW tenancy.cross_tenant_foreign_keys
    IS 'Foreign keys between protected tables that do not include the tenant column on both sides';

-- Required rows and the check ------------------------------------------------

-- The rules, with the unique index that keeps tenancy.check's repair from
-- inserting a duplicate when it races another repair or the application: a
-- valid, non-partial unique index on plain columns whose key columns include
-- the tenant column and are otherwise all in the template.
CREATE VIEW tenancy.required_rows AS
SELECT r.id, r.tbl AS table_name, p.tenant_column, r.template,
       (SELECT i.indexrelid::pg_catalog.regclass
          FROM pg_catalog.pg_index i
         WHERE i.indrelid OPERATOR(pg_catalog.=) r.tbl AND i.indisunique AND i.indisvalid
           AND i.indpred IS NULL AND i.indexprs IS NULL
           AND EXISTS (SELECT FROM pg_catalog.generate_series(0, i.indnkeyatts OPERATOR(pg_catalog.-) 1) AS k (n)
                         JOIN pg_catalog.pg_attribute a
                           ON a.attrelid OPERATOR(pg_catalog.=) r.tbl AND a.attnum OPERATOR(pg_catalog.=) i.indkey[k.n]
                        WHERE a.attname OPERATOR(pg_catalog.=) p.tenant_column)
           AND NOT EXISTS (SELECT FROM pg_catalog.generate_series(0, i.indnkeyatts OPERATOR(pg_catalog.-) 1) AS k (n)
                             JOIN pg_catalog.pg_attribute a
                               ON a.attrelid OPERATOR(pg_catalog.=) r.tbl AND a.attnum OPERATOR(pg_catalog.=) i.indkey[k.n]
                            WHERE a.attname OPERATOR(pg_catalog.<>) p.tenant_column
                              AND NOT r.template OPERATOR(pg_catalog.?) a.attname::text)
         ORDER BY i.indexrelid
         LIMIT 1) AS unique_index
  FROM tenancy.required_row r
  JOIN tenancy.protected_table p ON p.tbl OPERATOR(pg_catalog.=) r.tbl;
COMMENT ON VIEW tenancy.required_rows IS 'Required-row rules and the unique index that makes their repair safe';


CREATE FUNCTION tenancy.require_row(tbl regclass, template jsonb)
RETURNS bigint
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_require_row';
COMMENT ON FUNCTION tenancy.require_row(regclass, jsonb)
    IS 'Declares that every active shared tenant must have a row of tbl matching template; returns the rule id; idempotent';

CREATE FUNCTION tenancy.unrequire_row(tbl regclass, template jsonb)
RETURNS boolean
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_unrequire_row';
COMMENT ON FUNCTION tenancy.unrequire_row(regclass, jsonb)
    IS 'Removes a required-row rule; false if there was none';

CREATE FUNCTION tenancy.check(repair boolean DEFAULT false)
RETURNS TABLE (tenant bigint, problem text, object text, detail text, repaired boolean)
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_check';
COMMENT ON FUNCTION tenancy.check(boolean)
    IS 'Lists missing required rows, rows of deleted or unknown tenants, damaged protection and cross-tenant foreign keys; repairs what can be repaired without deleting anything';

-- Partitions created or attached later are protected like their protected
-- parent, and a detached partition stays protected on its own (see
-- docs/rowcheck.md, "Partitioned tables"; tenancy.check reports and repairs
-- what this trigger could not see, e.g. while it was disabled).
CREATE FUNCTION tenancy.protect_new_partitions()
RETURNS event_trigger
LANGUAGE C
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_protect_new_partitions';
COMMENT ON FUNCTION tenancy.protect_new_partitions()
    IS 'Event trigger: protects partitions created or attached under a protected table, keeps detached ones protected';

CREATE EVENT TRIGGER tenancy_protect_partitions ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'CREATE FOREIGN TABLE', 'ALTER TABLE')
    EXECUTE FUNCTION tenancy.protect_new_partitions();

REVOKE ALL ON FUNCTION
    tenancy.set_tenant(bigint, boolean),
    tenancy.protect(regclass, name),
    tenancy.unprotect(regclass),
    tenancy.require_row(regclass, jsonb),
    tenancy.unrequire_row(regclass, jsonb),
    tenancy.check(boolean)
FROM PUBLIC;

-- What these views show is in the system catalogs already, readable by all.
GRANT SELECT ON tenancy.protected_tables, tenancy.cross_tenant_foreign_keys TO PUBLIC;

-- Placement: where each tenant's data lives (docs/placement.md).
--
-- A tenant is `shared` (rows in protected shared tables, the default),
-- `schema` (a schema of its own, tenant_<id>, in the registry database) or
-- `database` (a database of its own, tenant_<id>, on one of the registered
-- servers, holding the schema tenant_<id>).  The registry database holds the
-- servers, the placements, the migrations and the erasure records; a tenant
-- database holds its claim (which tenant of which registry it belongs to) and
-- its own migration ledger.  Work that cannot run in one transaction
-- (creating a database on another server, migrating every tenant, dropping a
-- database) is driven by the client through recorded, idempotent steps.
--
-- Same conventions as the other parts: pinned search_path everywhere, every
-- reference qualified, EXECUTE revoked from PUBLIC on everything.

-- Registry side -------------------------------------------------------------

-- This registry's identity, so that a tenant database names the registry it
-- belongs to and a database of another installation is never taken for one
-- of ours.  Created on first use (tenancy.registry_id), not here, so that a
-- dump restored into a new database keeps the identity it was dumped with.
CREATE TABLE tenancy.registry (
    id        uuid NOT NULL,
    singleton boolean NOT NULL DEFAULT true,
    CONSTRAINT registry_pkey PRIMARY KEY (singleton),
    CONSTRAINT registry_singleton CHECK (singleton)
);
COMMENT ON TABLE tenancy.registry IS 'The identity of this registry (one row, made on first use)';

CREATE TABLE tenancy.server (
    name       text NOT NULL,
    -- libpq connection string or URI of the server's maintenance database;
    -- '' means the registry's own server (clients reuse their registry
    -- connection's parameters).  Never a password: docs/placement.md.
    conninfo   text NOT NULL,
    accepting  boolean NOT NULL DEFAULT true,
    capacity   integer,        -- most tenants placed here; NULL: no limit
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT server_pkey PRIMARY KEY (name),
    CONSTRAINT server_name_format CHECK (name OPERATOR(pg_catalog.~) '^[a-z0-9][a-z0-9_-]{0,62}$'),
    CONSTRAINT server_capacity_nonnegative CHECK (capacity OPERATOR(pg_catalog.>=) 0)
);
COMMENT ON TABLE tenancy.server IS 'Servers that database tenants can be placed on; changed through tenancy.*_server';

CREATE TABLE tenancy.placement (
    -- Bookkeeping of the tenant row: it goes with it (a tenant row deleted by
    -- hand leaves its schema or database behind, which check reports).
    tenant_id        bigint NOT NULL REFERENCES tenancy.tenant (id) ON DELETE CASCADE,
    isolation        text NOT NULL,
    server           text REFERENCES tenancy.server (name),
    database_name    text,
    schema_name      text,
    -- provisioning -> ready for database tenants; ready from the start for
    -- the others; purging -> dropped while a database tenant is purged.
    state            text NOT NULL,
    -- Bumped whenever the tenant's location changes, so that routers notice.
    epoch            bigint NOT NULL DEFAULT 1,
    -- The newest migration applied to the tenant.  For a schema tenant it is
    -- written in the transaction that applies the migration; for a database
    -- tenant it is copied from the tenant database after each commit there
    -- (docs/placement.md, "Keeping progress consistent").
    migrated_version bigint NOT NULL DEFAULT 0,
    state_changed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT placement_pkey PRIMARY KEY (tenant_id),
    CONSTRAINT placement_isolation_valid
        CHECK (isolation OPERATOR(pg_catalog.=) ANY (ARRAY['shared', 'schema', 'database'])),
    CONSTRAINT placement_state_valid
        CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['provisioning', 'ready', 'purging', 'dropped'])),
    CONSTRAINT placement_shape CHECK (CASE isolation
        WHEN 'shared' THEN server IS NULL AND database_name IS NULL AND schema_name IS NULL
                           AND state OPERATOR(pg_catalog.=) 'ready'
        WHEN 'schema' THEN server IS NULL AND database_name IS NULL AND schema_name IS NOT NULL
                           AND state OPERATOR(pg_catalog.=) 'ready'
        ELSE server IS NOT NULL AND database_name IS NOT NULL AND schema_name IS NOT NULL END),
    CONSTRAINT placement_epoch_positive CHECK (epoch OPERATOR(pg_catalog.>) 0),
    CONSTRAINT placement_migrated_version_nonnegative CHECK (migrated_version OPERATOR(pg_catalog.>=) 0)
);
CREATE INDEX placement_by_server ON tenancy.placement (server) WHERE server IS NOT NULL;
COMMENT ON TABLE tenancy.placement IS 'Where each tenant lives, its provisioning state, placement epoch and migration progress';

CREATE TABLE tenancy.migration (
    version    bigint NOT NULL,
    name       text NOT NULL,
    sql        text NOT NULL,
    checksum   text NOT NULL,   -- hex SHA-256 of sql (UTF-8)
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT migration_pkey PRIMARY KEY (version),
    CONSTRAINT migration_version_positive CHECK (version OPERATOR(pg_catalog.>) 0),
    CONSTRAINT migration_name_not_empty CHECK (name OPERATOR(pg_catalog.<>) '')
);
COMMENT ON TABLE tenancy.migration IS 'Migrations of tenant schemas and databases, applied in version order; never edited';

-- Rows every schema and database tenant must have in its own tables, the
-- counterpart of tenancy.required_row for tenants that live apart.
CREATE TABLE tenancy.tenant_row_rule (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name text NOT NULL,   -- a table of the tenant's schema, unqualified
    template   jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT tenant_row_rule_key UNIQUE (table_name, template),
    CONSTRAINT tenant_row_rule_template_object
        CHECK (pg_catalog.jsonb_typeof(template) OPERATOR(pg_catalog.=) 'object'),
    CONSTRAINT tenant_row_rule_table_not_empty CHECK (table_name OPERATOR(pg_catalog.<>) '')
);
COMMENT ON TABLE tenancy.tenant_row_rule
    IS 'Rules declared by tenancy.require_tenant_row: a row every schema and database tenant must have';

-- What tenancy.purge_tenant erased.  No customer data: ids, names of places
-- and counts only.
CREATE TABLE tenancy.erasure (
    tenant_id     bigint NOT NULL,
    slug          text NOT NULL,
    isolation     text NOT NULL,
    server        text,
    database_name text,
    schema_name   text,
    removed       jsonb NOT NULL,   -- {"<what>": <count>, ...}
    erased_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    erased_by     name NOT NULL,
    CONSTRAINT erasure_pkey PRIMARY KEY (tenant_id)
);
COMMENT ON TABLE tenancy.erasure IS 'One record per purged tenant: what was removed where, when and by whom';

-- Tenant side: in every database that holds tenant data ---------------------

-- The migrations applied to each tenant whose data lives in this database
-- (schema tenants in the registry database; the one tenant of a tenant
-- database), written in the transaction that applied them.
CREATE TABLE tenancy.applied_migration (
    tenant_id  bigint NOT NULL,
    version    bigint NOT NULL,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    duration   interval NOT NULL,
    applied_by name NOT NULL,
    CONSTRAINT applied_migration_pkey PRIMARY KEY (tenant_id, version)
);
COMMENT ON TABLE tenancy.applied_migration IS 'Migrations applied to the tenants whose data is in this database';

-- In a tenant database: the tenant and registry it belongs to.  Written once,
-- by tenancy.claim_database, before any tenant data.
CREATE TABLE tenancy.database_claim (
    tenant_id  bigint NOT NULL,
    registry   uuid NOT NULL,
    slug       text NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    singleton  boolean NOT NULL DEFAULT true,
    CONSTRAINT database_claim_pkey PRIMARY KEY (singleton),
    CONSTRAINT database_claim_singleton CHECK (singleton)
);
COMMENT ON TABLE tenancy.database_claim IS 'In a tenant database: which tenant of which registry it belongs to';

SELECT pg_catalog.pg_extension_config_dump('tenancy.registry', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.server', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.placement', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.migration', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant_row_rule', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant_row_rule_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.erasure', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.applied_migration', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.database_claim', '');

-- Servers ------------------------------------------------------------------

CREATE FUNCTION tenancy.add_server(
    name text,
    conninfo text DEFAULT '',
    accepting boolean DEFAULT true,
    capacity integer DEFAULT NULL)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_add_server';
COMMENT ON FUNCTION tenancy.add_server(text, text, boolean, integer)
    IS 'Registers a server for database tenants; conninfo '''' is the registry''s own server; no passwords';

CREATE FUNCTION tenancy.set_server_accepting(name text, accepting boolean)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_set_server_accepting';
COMMENT ON FUNCTION tenancy.set_server_accepting(text, boolean)
    IS 'Lets placement choose the server for new tenants, or stops it';

CREATE FUNCTION tenancy.remove_server(name text)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_remove_server';
COMMENT ON FUNCTION tenancy.remove_server(text) IS 'Forgets a server; refused while tenants are placed there';

CREATE VIEW tenancy.servers AS
SELECT s.name, s.conninfo, s.accepting, s.capacity,
       coalesce(c.tenants, 0) AS tenants,
       coalesce(c.provisioning, 0) AS provisioning,
       coalesce(c.ready, 0) AS ready,
       coalesce(c.purging, 0) AS purging,
       s.capacity OPERATOR(pg_catalog.-) coalesce(c.tenants, 0)::integer AS free,
       s.created_at
  FROM tenancy.server s
  LEFT JOIN (SELECT p.server,
                    pg_catalog.count(*) AS tenants,
                    pg_catalog.count(*) FILTER (WHERE p.state OPERATOR(pg_catalog.=) 'provisioning') AS provisioning,
                    pg_catalog.count(*) FILTER (WHERE p.state OPERATOR(pg_catalog.=) 'ready') AS ready,
                    pg_catalog.count(*) FILTER (WHERE p.state OPERATOR(pg_catalog.=) ANY (ARRAY['purging', 'dropped'])) AS purging
               FROM tenancy.placement p
              WHERE p.server IS NOT NULL
              GROUP BY p.server) c ON c.server OPERATOR(pg_catalog.=) s.name;
COMMENT ON VIEW tenancy.servers IS 'Registered servers with their tenant counts by placement state and free capacity';

-- Tenants' locations -------------------------------------------------------

CREATE FUNCTION tenancy.registry_id()
RETURNS uuid
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_registry_id';
COMMENT ON FUNCTION tenancy.registry_id() IS 'This registry''s identity (made on first use)';

CREATE FUNCTION tenancy.tenant_location(tenant bigint)
RETURNS TABLE (
    tenant bigint, status text, isolation text, server text, conninfo text,
    database_name text, schema_name text, state text, epoch bigint,
    migrated_version bigint, latest_version bigint, registry uuid, on_registry_server boolean)
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
ROWS 1
AS 'MODULE_PATHNAME', 'tenancy_tenant_location';
COMMENT ON FUNCTION tenancy.tenant_location(bigint)
    IS 'Where a tenant lives: isolation, server, conninfo (for its database; relative to the registry connection when on_registry_server), database, schema, placement state and epoch';

CREATE FUNCTION tenancy.tenant_locations(tenants bigint[] DEFAULT NULL, include_ready boolean DEFAULT true)
RETURNS TABLE (
    tenant bigint, status text, isolation text, server text, conninfo text,
    database_name text, schema_name text, state text, epoch bigint,
    migrated_version bigint, latest_version bigint, registry uuid, on_registry_server boolean)
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_tenant_locations';
COMMENT ON FUNCTION tenancy.tenant_locations(bigint[], boolean)
    IS 'tenant_location for many tenants (all schema and database tenants when tenants is NULL); include_ready => false lists only those not ready';

-- Database tenants: the registry's side of provisioning ---------------------

CREATE FUNCTION tenancy.placement_ready(tenant bigint, epoch bigint, migrated_version bigint)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_placement_ready';
COMMENT ON FUNCTION tenancy.placement_ready(bigint, bigint, bigint)
    IS 'Marks a provisioned database tenant ready (step of tenancyctl provision); false if it already was';

CREATE FUNCTION tenancy.record_migration_progress(tenant bigint, epoch bigint, migrated_version bigint)
RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_record_migration_progress';
COMMENT ON FUNCTION tenancy.record_migration_progress(bigint, bigint, bigint)
    IS 'Copies a database tenant''s migration progress, as read from its database, into the registry; returns the previous value';

-- Migrations ---------------------------------------------------------------

CREATE FUNCTION tenancy.add_migration(version bigint, name text, sql text)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_add_migration';
COMMENT ON FUNCTION tenancy.add_migration(bigint, text, text)
    IS 'Registers a tenant migration; true if added, false if the same version with the same SQL was already there';

-- The way out of a registered migration that cannot apply anywhere: only the
-- latest one, and only while no tenant is known to have applied it.
CREATE FUNCTION tenancy.remove_migration(version bigint)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_remove_migration';
COMMENT ON FUNCTION tenancy.remove_migration(bigint)
    IS 'Removes the latest registered migration; refused once any tenant has applied it';

CREATE VIEW tenancy.migrations AS
SELECT m.version, m.name, m.checksum, m.created_at, m.sql
  FROM tenancy.migration m
 ORDER BY m.version;
COMMENT ON VIEW tenancy.migrations IS 'Registered tenant migrations in the order they are applied';

CREATE FUNCTION tenancy.pending_migrations()
RETURNS TABLE (
    tenant bigint, isolation text, server text, state text,
    migrated_version bigint, latest_version bigint, pending bigint)
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_pending_migrations';
COMMENT ON FUNCTION tenancy.pending_migrations()
    IS 'Schema and database tenants behind the latest migration, and by how many migrations (from the registry alone)';

-- Applies the pending migrations to a schema tenant, in the caller's
-- transaction, as the caller.
CREATE FUNCTION tenancy.migrate_tenant(tenant bigint)
RETURNS bigint
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_migrate_tenant';
COMMENT ON FUNCTION tenancy.migrate_tenant(bigint)
    IS 'Applies every pending migration to a schema tenant in this transaction; returns its version';

-- Tenant databases: run in the tenant's own database by the client ----------

CREATE FUNCTION tenancy.claim_database(tenant bigint, registry uuid, slug text)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_claim_database';
COMMENT ON FUNCTION tenancy.claim_database(bigint, uuid, text)
    IS 'Records that this database belongs to a tenant of a registry; true if claimed now, false if it already was';

CREATE FUNCTION tenancy.database_claim()
RETURNS TABLE (tenant bigint, registry uuid, slug text, claimed_at timestamptz)
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_database_claim';
COMMENT ON FUNCTION tenancy.database_claim() IS 'The tenant and registry this database belongs to; no row if unclaimed';

CREATE FUNCTION tenancy.apply_migrations(tenant bigint, registry uuid, migrations jsonb)
RETURNS bigint
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_apply_migrations';
COMMENT ON FUNCTION tenancy.apply_migrations(bigint, uuid, jsonb)
    IS 'In a tenant database: applies the given migrations that are not applied yet, in this transaction; returns the version';

CREATE FUNCTION tenancy.applied_migrations(tenant bigint)
RETURNS TABLE (version bigint, name text, checksum text, applied_at timestamptz, duration interval, applied_by name)
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_applied_migrations';
COMMENT ON FUNCTION tenancy.applied_migrations(bigint)
    IS 'The migrations recorded as applied to a tenant whose data is in this database';

-- Required rows of tenants that live apart ----------------------------------

CREATE FUNCTION tenancy.require_tenant_row(table_name text, template jsonb)
RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_require_tenant_row';
COMMENT ON FUNCTION tenancy.require_tenant_row(text, jsonb)
    IS 'Declares that every schema and database tenant must have a row of its table matching template; returns the rule id';

CREATE FUNCTION tenancy.unrequire_tenant_row(table_name text, template jsonb)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_unrequire_tenant_row';
COMMENT ON FUNCTION tenancy.unrequire_tenant_row(text, jsonb) IS 'Removes a tenant-row rule; false if there was none';

-- Checks one tenant whose data is in this database (run by the client in a
-- tenant database; tenancy.check covers schema tenants itself).
CREATE FUNCTION tenancy.check_tenant_data(
    tenant bigint, registry uuid, latest_version bigint, rules jsonb, repair boolean DEFAULT false)
RETURNS TABLE (tenant bigint, problem text, object text, detail text, repaired boolean)
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_check_tenant_data';
COMMENT ON FUNCTION tenancy.check_tenant_data(bigint, uuid, bigint, jsonb, boolean)
    IS 'Checks (and repairs) one tenant''s schema here: claim, migrations, required rows';

-- Erasure ------------------------------------------------------------------

CREATE FUNCTION tenancy.begin_purge(tenant bigint)
RETURNS TABLE (tenant bigint, isolation text, server text, conninfo text, database_name text, state text, registry uuid)
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_begin_purge';
COMMENT ON FUNCTION tenancy.begin_purge(bigint)
    IS 'First step of purging a deleted database tenant: routing and migration stop; its database may then be dropped';

CREATE FUNCTION tenancy.database_dropped(tenant bigint)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_database_dropped';
COMMENT ON FUNCTION tenancy.database_dropped(bigint)
    IS 'Records that a purging database tenant''s database has been dropped (step of tenancyctl tenant purge)';

CREATE FUNCTION tenancy.purge_tenant(tenant bigint)
RETURNS jsonb
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_purge_tenant';
COMMENT ON FUNCTION tenancy.purge_tenant(bigint)
    IS 'Erases a soft-deleted tenant completely and returns the erasure record; re-running returns the same record';

-- The sandbox of tenant migrations: refuses DDL outside the tenant's schema
-- while a migration runs, and does nothing otherwise.
CREATE FUNCTION tenancy.migration_ddl_guard()
RETURNS event_trigger
LANGUAGE C
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_migration_ddl_guard';
COMMENT ON FUNCTION tenancy.migration_ddl_guard()
    IS 'Event trigger: while a tenant migration runs, refuses DDL on objects outside the tenant''s schema';

CREATE EVENT TRIGGER tenancy_migration_ddl_guard ON ddl_command_end
    EXECUTE FUNCTION tenancy.migration_ddl_guard();
CREATE EVENT TRIGGER tenancy_migration_drop_guard ON sql_drop
    EXECUTE FUNCTION tenancy.migration_ddl_guard();

REVOKE ALL ON FUNCTION
    tenancy.add_server(text, text, boolean, integer),
    tenancy.set_server_accepting(text, boolean),
    tenancy.remove_server(text),
    tenancy.registry_id(),
    tenancy.tenant_location(bigint),
    tenancy.tenant_locations(bigint[], boolean),
    tenancy.placement_ready(bigint, bigint, bigint),
    tenancy.record_migration_progress(bigint, bigint, bigint),
    tenancy.add_migration(bigint, text, text),
    tenancy.remove_migration(bigint),
    tenancy.pending_migrations(),
    tenancy.migrate_tenant(bigint),
    tenancy.claim_database(bigint, uuid, text),
    tenancy.database_claim(),
    tenancy.apply_migrations(bigint, uuid, jsonb),
    tenancy.applied_migrations(bigint),
    tenancy.require_tenant_row(text, jsonb),
    tenancy.unrequire_tenant_row(text, jsonb),
    tenancy.check_tenant_data(bigint, uuid, bigint, jsonb, boolean),
    tenancy.begin_purge(bigint),
    tenancy.database_dropped(bigint),
    tenancy.purge_tenant(bigint),
    tenancy.migration_ddl_guard()
FROM PUBLIC;

-- Tenant binding: which tenants a role may make current with
-- tenancy.set_tenant, the superuser-only setting tenancy.require_binding
-- (defined by the module) that makes a binding mandatory, the role
-- tenancy_admin that is exempt from it, and tenancy.set_tenant_by_api_key,
-- which makes current the tenant whose API key the caller presents.
-- docs/rowcheck.md ("Tenant binding") describes whose bindings count and why
-- that cannot be sidestepped.

-- Roles belong to the cluster, not to a database: the role may exist already
-- (the extension in another database, or an earlier install).  It is not a
-- member of the extension, so DROP EXTENSION leaves it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'tenancy_admin') THEN
        CREATE ROLE tenancy_admin NOLOGIN;
        COMMENT ON ROLE tenancy_admin IS 'Members may make any tenant current, bound or not (pg_tenancy)';
    END IF;
END
$$;

-- A role stored as regrole is dumped by name, so a binding survives pg_dump
-- and pg_restore into a cluster where the role has another OID.
CREATE TABLE tenancy.role_binding (
    role      regrole NOT NULL,
    tenant_id bigint NOT NULL REFERENCES tenancy.tenant (id),
    bound_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT role_binding_pkey PRIMARY KEY (role, tenant_id)
);
COMMENT ON TABLE tenancy.role_binding IS 'Tenants a role may make current with tenancy.set_tenant (tenancy.bind_role)';

SELECT pg_catalog.pg_extension_config_dump('tenancy.role_binding', '');

-- role_exists is false for a binding whose role was dropped: PostgreSQL has no
-- hook the extension could use to forget it then; tenancy.audit reports it.
CREATE VIEW tenancy.role_bindings AS
SELECT b.role, (r.oid IS NOT NULL) AS role_exists, b.tenant_id AS tenant, t.slug, t.status, b.bound_at
  FROM tenancy.role_binding b
  JOIN tenancy.tenant t ON t.id OPERATOR(pg_catalog.=) b.tenant_id
  LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) b.role;
COMMENT ON VIEW tenancy.role_bindings IS 'Role bindings with the tenant''s slug and status';

CREATE FUNCTION tenancy.bind_role(role regrole, tenant bigint)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_bind_role';
COMMENT ON FUNCTION tenancy.bind_role(regrole, bigint)
    IS 'Lets a role (and its members) make a tenant current; true if the binding is new';

CREATE FUNCTION tenancy.unbind_role(role regrole, tenant bigint)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_unbind_role';
COMMENT ON FUNCTION tenancy.unbind_role(regrole, bigint)
    IS 'Removes a role binding; false if there was none';

CREATE FUNCTION tenancy.set_tenant_by_api_key(key text, is_local boolean DEFAULT true)
RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_set_tenant_by_api_key';
COMMENT ON FUNCTION tenancy.set_tenant_by_api_key(text, boolean)
    IS 'Makes current the tenant of an API key and returns it; one error (TN050) for every key that is not valid';

REVOKE ALL ON FUNCTION
    tenancy.bind_role(regrole, bigint),
    tenancy.unbind_role(regrole, bigint),
    tenancy.set_tenant_by_api_key(text, boolean)
FROM PUBLIC;

-- Membership in tenancy_admin is the right to act as any tenant: it comes
-- with what acting as a tenant needs.
GRANT USAGE ON SCHEMA tenancy TO tenancy_admin;
GRANT EXECUTE ON FUNCTION tenancy.set_tenant(bigint, boolean) TO tenancy_admin;

-- Isolation audit: what row-level security leaves open, read from the system
-- catalogs (docs/security.md, "The isolation audit").  One row per hazard:
-- severity 'error' (another tenant's rows can be read or written, or the
-- isolation can be switched off), 'warning' (a side channel, or a layout a
-- distributed engine could not shard by tenant) or 'info'; a stable short
-- code; the object; why it is a hazard; the statement that fixes it, or NULL
-- when only a person can decide.  schema_name is NULL for findings that
-- belong to no schema (role bindings, grants of the extension's functions):
-- tenancy.audit(schema) leaves those out.
CREATE VIEW tenancy.isolation_hazards AS
WITH RECURSIVE
privileged AS (   -- roles that row-level security does not filter
    SELECT r.oid, r.rolname FROM pg_catalog.pg_roles r WHERE r.rolsuper OR r.rolbypassrls
),
audited_schemas AS (
    SELECT n.oid, n.nspname FROM pg_catalog.pg_namespace n
     WHERE n.nspname OPERATOR(pg_catalog.<>) ALL (ARRAY['pg_catalog', 'information_schema', 'tenancy']::pg_catalog.name[])
       AND n.nspname OPERATOR(pg_catalog.!~) '^pg_(toast|temp_|toast_temp_)'
),
-- Tables and views of the application: not the system's, not an extension's.
relations AS (
    SELECT c.oid, c.relkind, c.relowner, c.relispartition, c.reloptions, s.nspname
      FROM pg_catalog.pg_class c
      JOIN audited_schemas s ON s.oid OPERATOR(pg_catalog.=) c.relnamespace
     WHERE c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p', 'v', 'm']::"char"[])
       AND c.relpersistence OPERATOR(pg_catalog.<>) 't'
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                        WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                          AND d.objid OPERATOR(pg_catalog.=) c.oid AND d.deptype OPERATOR(pg_catalog.=) 'e')
),
protected AS (
    SELECT p.tbl AS oid, p.tenant_column, p.partition_of, a.attnum
      FROM tenancy.protected_table p
      JOIN pg_catalog.pg_attribute a
        ON a.attrelid OPERATOR(pg_catalog.=) p.tbl AND a.attname OPERATOR(pg_catalog.=) p.tenant_column
       AND NOT a.attisdropped
),
-- A tenant column: one named like a protected table's (or tenant_id), or
-- one with a foreign key of its own to tenancy.tenant (id).
tenant_columns AS (
    SELECT DISTINCT ON (r.oid) r.oid, a.attname, a.atttypid
      FROM relations r
      JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) r.oid AND a.attnum OPERATOR(pg_catalog.>) 0
       AND NOT a.attisdropped
     WHERE r.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p']::"char"[])
       AND (a.attname OPERATOR(pg_catalog.=) 'tenant_id'
            OR a.attname OPERATOR(pg_catalog.=) ANY (SELECT p.tenant_column FROM tenancy.protected_table p)
            OR EXISTS (SELECT FROM pg_catalog.pg_constraint k
                        WHERE k.conrelid OPERATOR(pg_catalog.=) r.oid AND k.contype OPERATOR(pg_catalog.=) 'f'
                          AND k.confrelid OPERATOR(pg_catalog.=) 'tenancy.tenant'::pg_catalog.regclass
                          AND k.conkey OPERATOR(pg_catalog.=) ARRAY[a.attnum]))
     ORDER BY r.oid, a.attname OPERATOR(pg_catalog.<>) 'tenant_id', a.attnum
),
-- Which relations each view or materialized view reads, directly or through
-- other views.
view_reads (view_oid, rel_oid) AS (
    SELECT rw.ev_class, d.refobjid
      FROM pg_catalog.pg_rewrite rw
      JOIN pg_catalog.pg_depend d
        ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass
       AND d.objid OPERATOR(pg_catalog.=) rw.oid
       AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.refobjid OPERATOR(pg_catalog.<>) rw.ev_class
  UNION
    SELECT vr.view_oid, d.refobjid
      FROM view_reads vr
      JOIN pg_catalog.pg_rewrite rw ON rw.ev_class OPERATOR(pg_catalog.=) vr.rel_oid
      JOIN pg_catalog.pg_depend d
        ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass
       AND d.objid OPERATOR(pg_catalog.=) rw.oid
       AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.refobjid OPERATOR(pg_catalog.<>) rw.ev_class
),
views_over_protected AS (
    SELECT r.oid, r.relkind, r.relowner, r.nspname,
           EXISTS (SELECT FROM pg_catalog.pg_options_to_table(r.reloptions) o
                    WHERE o.option_name OPERATOR(pg_catalog.=) 'security_invoker'
                      AND pg_catalog.lower(o.option_value) OPERATOR(pg_catalog.=) ANY (ARRAY['true', 'on', 'yes', '1', 't', 'y'])) AS invoker,
           (SELECT pg_catalog.array_agg(DISTINCT c.relowner) FROM view_reads vr
              JOIN protected p ON p.oid OPERATOR(pg_catalog.=) vr.rel_oid
              JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) p.oid
             WHERE vr.view_oid OPERATOR(pg_catalog.=) r.oid) AS table_owners,
           (SELECT pg_catalog.string_agg(DISTINCT p.oid::pg_catalog.regclass::text, ', ') FROM view_reads vr
              JOIN protected p ON p.oid OPERATOR(pg_catalog.=) vr.rel_oid
             WHERE vr.view_oid OPERATOR(pg_catalog.=) r.oid) AS tables
      FROM relations r
     WHERE r.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['v', 'm']::"char"[])
       AND EXISTS (SELECT FROM view_reads vr JOIN protected p ON p.oid OPERATOR(pg_catalog.=) vr.rel_oid
                    WHERE vr.view_oid OPERATOR(pg_catalog.=) r.oid)
),
-- Unique indexes (primary keys and unique constraints included) of protected
-- tables; a partition's copy of its partitioned table's index is left out.
unique_keys AS (
    SELECT i.indexrelid, i.indrelid, r.nspname, p.attnum AS tenant_attnum, p.tenant_column,
           k.conname, k.contype,
           i.indexprs IS NOT NULL OR i.indpred IS NOT NULL
             OR i.indnatts OPERATOR(pg_catalog.<>) i.indnkeyatts AS irregular,
           (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY kc.n)
              FROM pg_catalog.generate_series(0, i.indnkeyatts OPERATOR(pg_catalog.-) 1) AS kc (n)
              JOIN pg_catalog.pg_attribute a
                ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid AND a.attnum OPERATOR(pg_catalog.=) i.indkey[kc.n]) AS columns,
           -- every key column takes values nobody chooses (identity, serial, random uuid)
           NOT EXISTS (SELECT FROM pg_catalog.generate_series(0, i.indnkeyatts OPERATOR(pg_catalog.-) 1) AS kc (n)
                         LEFT JOIN pg_catalog.pg_attribute a
                           ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid AND a.attnum OPERATOR(pg_catalog.=) i.indkey[kc.n]
                         LEFT JOIN pg_catalog.pg_attrdef ad
                           ON ad.adrelid OPERATOR(pg_catalog.=) a.attrelid AND ad.adnum OPERATOR(pg_catalog.=) a.attnum
                        WHERE a.attnum IS NULL
                           OR NOT (a.attidentity OPERATOR(pg_catalog.<>) ''
                                   OR coalesce(pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)
                                               OPERATOR(pg_catalog.~) '^(nextval\(|gen_random_uuid\(|uuid_generate_v[14])', false))) AS generated
      FROM pg_catalog.pg_index i
      JOIN protected p ON p.oid OPERATOR(pg_catalog.=) i.indrelid
      JOIN relations r ON r.oid OPERATOR(pg_catalog.=) i.indrelid
      LEFT JOIN pg_catalog.pg_constraint k
        ON k.conindid OPERATOR(pg_catalog.=) i.indexrelid AND k.conrelid OPERATOR(pg_catalog.=) i.indrelid
       AND k.contype OPERATOR(pg_catalog.=) ANY (ARRAY['p', 'u']::"char"[])
     WHERE i.indisunique
       AND NOT (p.attnum OPERATOR(pg_catalog.=) ANY (i.indkey[0:i.indnkeyatts OPERATOR(pg_catalog.-) 1]))
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits h WHERE h.inhrelid OPERATOR(pg_catalog.=) i.indexrelid)
),
-- Foreign keys into protected tables, with both sides' columns; a
-- partition's copy of its partitioned table's key is left out.
references_in AS (
    SELECT k.oid, k.conname, k.conrelid, k.confrelid, k.confdeltype, k.confupdtype, r.nspname,
           src.tenant_column AS src_tenant, dst.tenant_column AS dst_tenant, src.oid IS NOT NULL AS from_protected,
           EXISTS (SELECT FROM ROWS FROM (pg_catalog.unnest(k.conkey), pg_catalog.unnest(k.confkey)) AS pair (attnum, refattnum)
                    WHERE pair.attnum OPERATOR(pg_catalog.=) src.attnum
                      AND pair.refattnum OPERATOR(pg_catalog.=) dst.attnum) AS pairs_tenants,
           (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY u.n)
              FROM pg_catalog.unnest(k.conkey) WITH ORDINALITY AS u (attnum, n)
              JOIN pg_catalog.pg_attribute a
                ON a.attrelid OPERATOR(pg_catalog.=) k.conrelid AND a.attnum OPERATOR(pg_catalog.=) u.attnum) AS columns,
           (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY u.n)
              FROM pg_catalog.unnest(k.confkey) WITH ORDINALITY AS u (attnum, n)
              JOIN pg_catalog.pg_attribute a
                ON a.attrelid OPERATOR(pg_catalog.=) k.confrelid AND a.attnum OPERATOR(pg_catalog.=) u.attnum) AS ref_columns
      FROM pg_catalog.pg_constraint k
      JOIN protected dst ON dst.oid OPERATOR(pg_catalog.=) k.confrelid
      JOIN relations r ON r.oid OPERATOR(pg_catalog.=) k.conrelid
      LEFT JOIN protected src ON src.oid OPERATOR(pg_catalog.=) k.conrelid
     WHERE k.contype OPERATOR(pg_catalog.=) 'f' AND k.conparentid OPERATOR(pg_catalog.=) 0
),
bindings AS (
    SELECT b.role, b.tenant_id, r.rolname, r.rolsuper,
           coalesce(r.oid IS NOT NULL AND EXISTS (SELECT FROM pg_catalog.pg_roles a
                                                   WHERE a.rolname OPERATOR(pg_catalog.=) 'tenancy_admin')
                    AND pg_catalog.pg_has_role(r.oid, 'tenancy_admin', 'MEMBER'), false) AS admin
      FROM tenancy.role_binding b
      LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) b.role
),
findings (schema_name, severity, hazard, object, explanation, fix) AS (
    -- A table with a tenant column that nobody protected.
    SELECT r.nspname, 'error', 'unprotected_tenant_table', r.oid::pg_catalog.regclass::text,
           pg_catalog.format('has the tenant column %I but is not protected: every role that may read or write it '
                             'reaches every tenant''s rows', t.attname)
           OPERATOR(pg_catalog.||) CASE WHEN t.atttypid OPERATOR(pg_catalog.<>) 'pg_catalog.int8'::pg_catalog.regtype
                THEN pg_catalog.format('; the column is %s, and protect needs bigint', pg_catalog.format_type(t.atttypid, NULL))
                ELSE '' END,
           CASE WHEN t.atttypid OPERATOR(pg_catalog.=) 'pg_catalog.int8'::pg_catalog.regtype
                THEN pg_catalog.format('SELECT tenancy.protect(%L, %L);', r.oid::pg_catalog.regclass::text, t.attname) END
      FROM relations r JOIN tenant_columns t ON t.oid OPERATOR(pg_catalog.=) r.oid
     WHERE NOT EXISTS (SELECT FROM tenancy.protected_table p WHERE p.tbl OPERATOR(pg_catalog.=) r.oid)
       AND NOT r.relispartition  -- its partitioned table is reported (or protected: unprotected_partition)
  UNION ALL
    -- A partition of a protected table that is not protected (the event
    -- trigger was disabled when it was created or attached).
    SELECT r.nspname, 'error', 'unprotected_partition', r.oid::pg_catalog.regclass::text,
           'a partition of a protected table that is not protected itself: queried directly, its rows are not isolated',
           pg_catalog.format('SELECT tenancy.protect(%L);', r.oid::pg_catalog.regclass::text)
      FROM relations r
     WHERE r.relispartition
       AND NOT EXISTS (SELECT FROM tenancy.protected_table p WHERE p.tbl OPERATOR(pg_catalog.=) r.oid)
       AND EXISTS (SELECT FROM pg_catalog.pg_partition_ancestors(r.oid) a
                     JOIN tenancy.protected_table p ON p.tbl OPERATOR(pg_catalog.=) a.relid)
  UNION ALL
    -- A protected table that lost part of its protection.
    SELECT r.nspname, 'error', 'incomplete_protection', r.oid::pg_catalog.regclass::text,
           'protected, but missing: ' OPERATOR(pg_catalog.||) pg_catalog.concat_ws(', ',
               CASE WHEN NOT pt.not_null THEN 'NOT NULL on the tenant column' END,
               CASE WHEN NOT pt.foreign_key THEN 'the foreign key to tenancy.tenant' END,
               CASE WHEN NOT pt.index THEN 'an index on the tenant column' END,
               CASE WHEN NOT pt.rls_enabled THEN 'row-level security' END,
               CASE WHEN NOT pt.rls_forced THEN 'forced row-level security' END,
               CASE WHEN NOT pt.policy THEN 'the policy tenancy_isolation' END,
               CASE WHEN NOT pt.trigger THEN 'the trigger tenancy_tenant_guard' END,
               CASE WHEN NOT pt.truncate_guard THEN 'the trigger tenancy_truncate_guard' END),
           pg_catalog.format('SELECT tenancy.protect(%L, %L);', r.oid::pg_catalog.regclass::text, pt.tenant_column)
      FROM tenancy.protected_tables pt JOIN relations r ON r.oid OPERATOR(pg_catalog.=) pt.table_name
     WHERE NOT pt.complete
  UNION ALL
    -- Another permissive policy is OR-ed with tenancy_isolation: whatever it
    -- allows, every tenant gets.
    SELECT r.nspname, 'error', 'permissive_policy', pg_catalog.format('%I on %s', pol.polname, r.oid::pg_catalog.regclass),
           'a permissive policy besides tenancy_isolation: rows it allows are visible whatever the current tenant; '
           'make it AS RESTRICTIVE (drop and create it again) if it is meant to narrow access further',
           NULL
      FROM pg_catalog.pg_policy pol
      JOIN protected p ON p.oid OPERATOR(pg_catalog.=) pol.polrelid
      JOIN relations r ON r.oid OPERATOR(pg_catalog.=) pol.polrelid
     WHERE pol.polpermissive AND pol.polname OPERATOR(pg_catalog.<>) 'tenancy_isolation'
  UNION ALL
    -- A unique key without the tenant column.
    SELECT u.nspname, CASE WHEN u.generated THEN 'warning' ELSE 'error' END, 'unique_without_tenant',
           pg_catalog.format('%s on %s', u.indexrelid::pg_catalog.regclass, u.indrelid::pg_catalog.regclass),
           pg_catalog.format('unique on (%s) without the tenant column %I: ', u.columns, u.tenant_column)
           OPERATOR(pg_catalog.||) CASE WHEN u.generated
                THEN 'its values come from a sequence or are random, so tenants do not collide, but a tenant that '
                     'inserts a chosen value learns from the unique violation whether another tenant has it, and the '
                     'key cannot be sharded by tenant'
                ELSE 'a tenant that inserts a value another tenant already has gets a unique violation, which reveals '
                     'that the value exists and keeps this tenant from using it' END
           OPERATOR(pg_catalog.||) CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_constraint f
                                                       WHERE f.contype OPERATOR(pg_catalog.=) 'f'
                                                         AND f.conindid OPERATOR(pg_catalog.=) u.indexrelid)
                THEN '; foreign keys reference it, and must then reference the new key' ELSE '' END,
           CASE WHEN u.irregular THEN NULL
                WHEN u.conname IS NOT NULL
                THEN pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I %s (%I, %s);',
                                       u.indrelid::pg_catalog.regclass, u.conname, u.conname,
                                       CASE u.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END,
                                       u.tenant_column, u.columns)
                ELSE pg_catalog.format('DROP INDEX %s; CREATE UNIQUE INDEX %I ON %s (%I, %s);',
                                       u.indexrelid::pg_catalog.regclass,
                                       (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) u.indexrelid),
                                       u.indrelid::pg_catalog.regclass, u.tenant_column, u.columns) END
      FROM unique_keys u
  UNION ALL
    -- A foreign key between protected tables that does not pair the tenant
    -- columns: a row can point at another tenant's row.
    SELECT f.nspname, 'error', 'cross_tenant_foreign_key',
           pg_catalog.format('%I on %s', f.conname, f.conrelid::pg_catalog.regclass),
           pg_catalog.format('references %s without the tenant column: a row of one tenant can reference a row of '
                             'another, and the foreign-key errors reveal which of its rows exist; the referenced table '
                             'needs a unique key on (%I, %s) first', f.confrelid::pg_catalog.regclass, f.dst_tenant,
                             f.ref_columns),
           pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I FOREIGN KEY (%I, %s) REFERENCES %s (%I, %s)%s%s;',
                             f.conrelid::pg_catalog.regclass, f.conname, f.conname, f.src_tenant, f.columns,
                             f.confrelid::pg_catalog.regclass, f.dst_tenant, f.ref_columns,
                             CASE f.confupdtype WHEN 'r' THEN ' ON UPDATE RESTRICT' WHEN 'c' THEN ' ON UPDATE CASCADE'
                                  WHEN 'n' THEN ' ON UPDATE SET NULL' WHEN 'd' THEN ' ON UPDATE SET DEFAULT' ELSE '' END,
                             CASE f.confdeltype WHEN 'r' THEN ' ON DELETE RESTRICT' WHEN 'c' THEN ' ON DELETE CASCADE'
                                  WHEN 'n' THEN pg_catalog.format(' ON DELETE SET NULL (%s)', f.columns)
                                  WHEN 'd' THEN pg_catalog.format(' ON DELETE SET DEFAULT (%s)', f.columns) ELSE '' END)
      FROM references_in f
     WHERE f.from_protected AND NOT f.pairs_tenants
  UNION ALL
    -- A table without a tenant column that references a protected table.
    SELECT f.nspname, 'warning', 'reference_from_shared_table',
           pg_catalog.format('%I on %s', f.conname, f.conrelid::pg_catalog.regclass),
           pg_catalog.format('a table that is not protected references protected table %s: its rows point at tenants'' '
                             'rows, and the foreign-key errors reveal which rows exist to whoever writes it',
                             f.confrelid::pg_catalog.regclass),
           NULL
      FROM references_in f
     WHERE NOT f.from_protected
       AND NOT EXISTS (SELECT FROM tenant_columns t WHERE t.oid OPERATOR(pg_catalog.=) f.conrelid)
  UNION ALL
    -- A protected table owned by a role that row-level security does not filter.
    SELECT r.nspname, 'warning', 'privileged_table_owner', r.oid::pg_catalog.regclass::text,
           pg_catalog.format('owned by %I, which bypasses row-level security (FORCE ROW LEVEL SECURITY does not apply '
                             'to it): the owner, and every view and SECURITY DEFINER function it owns, reads every '
                             'tenant''s rows; give the table an ordinary owner', pr.rolname),
           NULL
      FROM relations r
      JOIN protected p ON p.oid OPERATOR(pg_catalog.=) r.oid
      JOIN privileged pr ON pr.oid OPERATOR(pg_catalog.=) r.relowner
     WHERE p.partition_of IS NULL
  UNION ALL
    -- A materialized view of a protected table: no row-level security.
    SELECT v.nspname, 'error', 'materialized_view_over_protected_table', v.oid::pg_catalog.regclass::text,
           pg_catalog.format('a materialized view of %s: materialized views have no row-level security, so every '
                             'role that may read it sees the rows of every tenant its last refresh saw', v.tables),
           NULL
      FROM views_over_protected v
     WHERE v.relkind OPERATOR(pg_catalog.=) 'm'
  UNION ALL
    -- A view that reads protected tables with its owner's rights, owned by a
    -- role that row-level security does not filter.
    SELECT v.nspname, 'error', 'view_bypasses_isolation', v.oid::pg_catalog.regclass::text,
           pg_catalog.format('a view of %s owned by %I, which bypasses row-level security, and not security_invoker: '
                             'every role that may read it sees every tenant''s rows', v.tables, pr.rolname),
           pg_catalog.format('ALTER VIEW %s SET (security_invoker = true);', v.oid::pg_catalog.regclass)
      FROM views_over_protected v
      JOIN privileged pr ON pr.oid OPERATOR(pg_catalog.=) v.relowner
     WHERE v.relkind OPERATOR(pg_catalog.=) 'v' AND NOT v.invoker
  UNION ALL
    -- A view that reads protected tables with the rights of an owner that is
    -- not theirs.
    SELECT v.nspname, 'warning', 'view_owner_differs', v.oid::pg_catalog.regclass::text,
           pg_catalog.format('a view of %s owned by %I, not by the table owner, and not security_invoker: it reads the '
                             'tables with its owner''s privileges (still filtered by the current tenant), so whoever may '
                             'read the view reads what its owner may', v.tables, pg_catalog.pg_get_userbyid(v.relowner)),
           pg_catalog.format('ALTER VIEW %s SET (security_invoker = true);', v.oid::pg_catalog.regclass)
      FROM views_over_protected v
     WHERE v.relkind OPERATOR(pg_catalog.=) 'v' AND NOT v.invoker
       AND NOT EXISTS (SELECT FROM privileged pr WHERE pr.oid OPERATOR(pg_catalog.=) v.relowner)
       AND NOT (v.relowner OPERATOR(pg_catalog.=) ALL (v.table_owners))
  UNION ALL
    -- A SECURITY DEFINER function owned by a role that row-level security
    -- does not filter: whatever protected table it reads, it reads whole.
    SELECT s.nspname,
           CASE WHEN reads.tables IS NOT NULL THEN 'error' ELSE 'warning' END,
           'privileged_security_definer', f.oid::pg_catalog.regprocedure::text,
           pg_catalog.format('SECURITY DEFINER and owned by %I, which bypasses row-level security: ', pr.rolname)
           OPERATOR(pg_catalog.||) CASE WHEN reads.tables IS NOT NULL
                THEN pg_catalog.format('it reads every tenant''s rows of %s to whoever may call it', reads.tables)
                ELSE 'every protected table it reads, it reads whole (the audit cannot see which tables a function '
                     'body reads)' END
           OPERATOR(pg_catalog.||) '; or give it an owner that does not bypass row-level security',
           pg_catalog.format('ALTER FUNCTION %s SECURITY INVOKER;', f.oid::pg_catalog.regprocedure)
      FROM pg_catalog.pg_proc f
      JOIN audited_schemas s ON s.oid OPERATOR(pg_catalog.=) f.pronamespace
      JOIN privileged pr ON pr.oid OPERATOR(pg_catalog.=) f.proowner
      CROSS JOIN LATERAL (
          -- A BEGIN ATOMIC body records what it reads; any other body is
          -- searched for the tables' names.
          SELECT pg_catalog.string_agg(p.oid::pg_catalog.regclass::text, ', ' ORDER BY p.oid::pg_catalog.regclass::text) AS tables
            FROM protected p JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) p.oid
           WHERE p.partition_of IS NULL
             AND (EXISTS (SELECT FROM pg_catalog.pg_depend d
                           WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
                             AND d.objid OPERATOR(pg_catalog.=) f.oid AND d.refobjid OPERATOR(pg_catalog.=) p.oid)
                  OR pg_catalog.strpos(pg_catalog.lower(f.prosrc), pg_catalog.lower(c.relname::text)) OPERATOR(pg_catalog.>) 0)
      ) reads
     WHERE f.prosecdef
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                        WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
                          AND d.objid OPERATOR(pg_catalog.=) f.oid AND d.deptype OPERATOR(pg_catalog.=) 'e')
  UNION ALL
    -- A role, not a superuser, that bypasses row-level security and may use
    -- protected tables.
    SELECT r.nspname, 'warning', 'bypassrls_role', pg_catalog.quote_ident(rl.rolname),
           pg_catalog.format('bypasses row-level security and has privileges on %s protected table(s) of schema %I: '
                             'it reads and writes every tenant''s rows', pg_catalog.count(*), r.nspname),
           pg_catalog.format('ALTER ROLE %I NOBYPASSRLS;', rl.rolname)
      FROM pg_catalog.pg_roles rl
      CROSS JOIN relations r
      JOIN protected p ON p.oid OPERATOR(pg_catalog.=) r.oid
     WHERE rl.rolbypassrls AND NOT rl.rolsuper AND p.partition_of IS NULL
       AND pg_catalog.has_table_privilege(rl.oid, r.oid, 'SELECT, INSERT, UPDATE, DELETE')
     GROUP BY r.nspname, rl.rolname
  UNION ALL
    -- Everyone may choose any tenant.
    SELECT NULL, 'error', 'set_tenant_granted_to_public', 'function tenancy.set_tenant(bigint,boolean)',
           'PUBLIC may execute tenancy.set_tenant: every role may act as any tenant',
           'REVOKE EXECUTE ON FUNCTION tenancy.set_tenant(bigint, boolean) FROM PUBLIC;'
     WHERE pg_catalog.has_function_privilege('public', 'tenancy.set_tenant(bigint, boolean)', 'EXECUTE')
  UNION ALL
    -- Role bindings that are stale or do nothing.
    SELECT NULL, 'warning', 'binding_of_dropped_role', pg_catalog.format('role %s, tenant %s', b.role::pg_catalog.oid, b.tenant_id),
           'a binding of a role that was dropped; a new role that got the same OID would inherit it',
           pg_catalog.format('SELECT tenancy.unbind_role(%s::pg_catalog.oid::pg_catalog.regrole, %s);',
                             b.role::pg_catalog.oid, b.tenant_id)
      FROM bindings b WHERE b.rolname IS NULL
  UNION ALL
    SELECT NULL, 'info', 'binding_of_unrestricted_role', pg_catalog.format('role %I, tenant %s', b.rolname, b.tenant_id),
           CASE WHEN b.rolsuper THEN 'a binding of a superuser, who acts as any tenant: it restricts nothing'
                ELSE 'a binding of a member of tenancy_admin, which acts as any tenant: it restricts nothing' END,
           pg_catalog.format('SELECT tenancy.unbind_role(%L, %s);', b.rolname, b.tenant_id)
      FROM bindings b WHERE b.rolname IS NOT NULL AND (b.rolsuper OR b.admin)
  UNION ALL
    SELECT NULL, 'info', 'binding_not_required', 'setting tenancy.require_binding',
           'roles are bound to tenants but tenancy.require_binding is off here: a role without bindings acts as any tenant',
           NULL
     WHERE EXISTS (SELECT FROM tenancy.role_binding)
       AND pg_catalog.current_setting('tenancy.require_binding', true) IS DISTINCT FROM 'on'
)
SELECT schema_name, severity, hazard, object, explanation, fix FROM findings;
COMMENT ON VIEW tenancy.isolation_hazards IS 'What tenancy.audit reports, with the schema of each finding';

CREATE FUNCTION tenancy.audit(schema name DEFAULT NULL)
RETURNS TABLE (severity text, hazard text, object text, explanation text, fix text)
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_audit';
COMMENT ON FUNCTION tenancy.audit(name)
    IS 'Isolation hazards that row-level security leaves open, in one schema or all, with the statement that fixes each';

REVOKE ALL ON FUNCTION tenancy.audit(name) FROM PUBLIC;

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
