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

CREATE FUNCTION tenancy.create_tenant(
    slug text,
    name text DEFAULT NULL,
    storage_quota bigint DEFAULT 10737418240,
    settings jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_create_tenant';
COMMENT ON FUNCTION tenancy.create_tenant(text, text, bigint, jsonb) IS 'Registers a new active tenant and returns its id';

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
    tenancy.create_tenant(text, text, bigint, jsonb),
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
