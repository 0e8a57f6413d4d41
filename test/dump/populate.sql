-- A database with something of everything a dump must carry: tenants in
-- every status, API keys (live and revoked), storage usage with idempotency
-- records and an anomaly, a link table, protected tables with rows of
-- several tenants, a required-row rule, an application role's grants.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

SELECT tenancy.create_tenant('acme', 'Acme Inc.', 1048576, '{"plan": "pro"}') AS acme \gset
SELECT tenancy.create_tenant('globex', 'Globex') AS globex \gset
SELECT tenancy.create_tenant('initech') AS initech \gset
SELECT tenancy.create_tenant('hooli') AS hooli \gset
-- umbrella is active, and dump_app is not bound to it.
SELECT tenancy.create_tenant('umbrella') AS umbrella \gset
SELECT tenancy.suspend_tenant(:initech);
SELECT tenancy.delete_tenant(:hooli);

-- Keys: the texts are kept in a side table of this test so the check after
-- the restore can present them again.
CREATE SCHEMA dump_test;
CREATE TABLE dump_test.issued_key (tenant_id bigint, key text, revoked boolean);
INSERT INTO dump_test.issued_key SELECT :acme, tenancy.issue_api_key(:acme), false;
INSERT INTO dump_test.issued_key SELECT :globex, tenancy.issue_api_key(:globex), true;
SELECT tenancy.revoke_api_keys(:globex);
INSERT INTO dump_test.issued_key SELECT :globex, tenancy.issue_api_key(:globex), false;

SELECT tenancy.adjust_storage(:acme, 4096, 'upload-1');
SELECT tenancy.adjust_storage(:acme, 1024, 'upload-2');
SELECT tenancy.adjust_storage(:globex, 777);
SELECT tenancy.adjust_storage(:globex, -1000);   -- clamped to 0: a storage_anomaly row
SELECT tenancy.adjust_storage(:globex, 500, 'upload-3');

CREATE ROLE dump_app;
GRANT USAGE ON SCHEMA tenancy TO dump_app;
GRANT EXECUTE ON FUNCTION tenancy.set_tenant(bigint, boolean) TO dump_app;

CREATE SCHEMA shop;
GRANT USAGE ON SCHEMA shop TO dump_app;
CREATE TABLE shop.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id bigint, item text NOT NULL);
SELECT tenancy.protect('shop.orders');
INSERT INTO shop.orders (tenant_id, item) VALUES (:acme, 'anvil'), (:acme, 'rocket'), (:globex, 'lamp'), (:initech, 'stapler');
CREATE TABLE shop.apps (tenant_id bigint, name text NOT NULL, UNIQUE (tenant_id, name));
SELECT tenancy.protect('shop.apps');
SELECT tenancy.require_row('shop.apps', '{"name": "public"}');
SELECT count(*) FROM tenancy.check(repair => true);
CREATE TABLE shop.membership (member_id bigint NOT NULL, group_id bigint NOT NULL, UNIQUE (member_id, group_id));
SELECT * FROM tenancy.sync_links('shop.membership', 'member_id', 1, 'group_id', ARRAY[10, 20, 30]);
SELECT * FROM tenancy.sync_links('shop.membership', 'member_id', 2, 'group_id', ARRAY[20]);
-- A partitioned protected table, two levels deep, with rows of two tenants.
CREATE TABLE shop.events (tenant_id bigint NOT NULL, at date NOT NULL, what text NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE shop.events_2024 PARTITION OF shop.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')
    PARTITION BY HASH (tenant_id);
CREATE TABLE shop.events_2024_h0 PARTITION OF shop.events_2024 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE shop.events_2024_h1 PARTITION OF shop.events_2024 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
SELECT tenancy.protect('shop.events');
CREATE TABLE shop.events_2025 PARTITION OF shop.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');  -- protected by the event trigger
INSERT INTO shop.events VALUES (:acme, '2024-03-01', 'signup'), (:globex, '2024-04-01', 'signup'),
                               (:acme, '2025-02-01', 'login'), (:globex, '2025-02-02', 'login');
-- GRANT ALL, as applications often get: TRUNCATE is still refused.
GRANT ALL ON ALL TABLES IN SCHEMA shop TO dump_app;
-- dump_app may act for acme and globex only.
SELECT tenancy.bind_role('dump_app', :acme);
SELECT tenancy.bind_role('dump_app', :globex);
