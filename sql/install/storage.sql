
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
