\echo Use "ALTER EXTENSION tenancy UPDATE" to load this file. \quit

-- 0.5.0: hot paths at the speed of the raw statement, striped storage
-- counters (docs/storage.md, "Striped counters").

-- Hot functions without a SET search_path clause: each call paid a GUC save,
-- parse and restore for it.  adjust_storage and set_tenant pin the path in C
-- (pg_catalog only) around their statements; sync_links runs fully qualified
-- SQL with the caller's path, like the hand-written statements it replaces;
-- current_tenant and tenant_guard look nothing up by name.  docs/security.md,
-- "Hot functions", says why each is as safe as the clause.
ALTER FUNCTION tenancy.adjust_storage(bigint, bigint, text, text) RESET search_path;
ALTER FUNCTION tenancy.sync_links(regclass, name, anyelement, name, anycompatiblearray) RESET search_path;
ALTER FUNCTION tenancy.sync_links(regclass, name, text, name, anycompatiblearray) RESET search_path;
ALTER FUNCTION tenancy.set_tenant(bigint, boolean) RESET search_path;
ALTER FUNCTION tenancy.current_tenant() RESET search_path;
ALTER FUNCTION tenancy.tenant_guard() RESET search_path;

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
