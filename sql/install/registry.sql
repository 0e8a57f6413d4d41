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
