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
SET search_path = pg_catalog, pg_temp
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
SET search_path = pg_catalog, pg_temp
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
SET search_path = pg_catalog, pg_temp
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
    protected_at   timestamptz NOT NULL DEFAULT pg_catalog.now()
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
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_set_tenant';
COMMENT ON FUNCTION tenancy.set_tenant(bigint, boolean)
    IS 'Makes an active tenant the current one, for the transaction (default) or the session';

-- STABLE and PARALLEL SAFE so that a policy can compare an indexed column
-- with it; policies wrap it in a scalar subquery so it runs once per query.
CREATE FUNCTION tenancy.current_tenant()
RETURNS bigint
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
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
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_tenant_guard';
COMMENT ON FUNCTION tenancy.tenant_guard()
    IS 'Trigger of protected tables: fills the tenant column and refuses rows of other tenants';

CREATE FUNCTION tenancy.protect(tbl regclass, tenant_column name DEFAULT 'tenant_id')
RETURNS void
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_protect';
COMMENT ON FUNCTION tenancy.protect(regclass, name)
    IS 'Makes a table tenant-isolated (NOT NULL, foreign key, index, forced row-level security, guard trigger); idempotent';

CREATE FUNCTION tenancy.unprotect(tbl regclass)
RETURNS boolean
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_unprotect';
COMMENT ON FUNCTION tenancy.unprotect(regclass)
    IS 'Removes exactly what tenancy.protect added; false if the table was not protected';

-- Whether each protected table still has every part.  A part counts as
-- present if the table has an equivalent one, whoever created it: any
-- foreign key on the tenant column alone to tenancy.tenant (id), any valid
-- index whose first column is the tenant column.
CREATE VIEW tenancy.protected_tables AS
SELECT p.tbl AS table_name,
       p.tenant_column,
       parts.not_null, parts.foreign_key, parts.index, parts.rls_enabled, parts.rls_forced,
       parts.policy, parts.trigger,
       (parts.not_null AND parts.foreign_key AND parts.index AND parts.rls_enabled AND parts.rls_forced
        AND parts.policy AND parts.trigger) AS complete
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
       EXISTS (SELECT FROM pg_catalog.pg_trigger t
                WHERE t.tgrelid OPERATOR(pg_catalog.=) p.tbl
                  AND t.tgname OPERATOR(pg_catalog.=) 'tenancy_tenant_guard'
                  AND t.tgenabled OPERATOR(pg_catalog.<>) 'D'
                  AND t.tgfoid OPERATOR(pg_catalog.=) 'tenancy.tenant_guard()'::pg_catalog.regprocedure) AS trigger
 ) parts;
COMMENT ON VIEW tenancy.protected_tables IS 'Protected tables and whether each still has all the parts tenancy.protect gives it';

-- Foreign keys between two protected tables that do not pair the referencing
-- table's tenant column with the referenced table's: through them a row of
-- one tenant can point at a row of another.
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
