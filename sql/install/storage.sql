
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
