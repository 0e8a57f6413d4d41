-- Data for the row-check benchmark (test/bench/rowcheck/run.sh).
-- Tables come in pairs: *_plain (same foreign key and index, unprotected)
-- and *_protected (tenancy.protect), so each comparison differs only in the
-- protection.
SET client_min_messages = warning;
CREATE ROLE bench_app LOGIN;
GRANT USAGE ON SCHEMA tenancy TO bench_app;
GRANT EXECUTE ON FUNCTION tenancy.set_tenant(bigint, boolean) TO bench_app;

-- 10,000 tenants (the check benchmark's size); the others use the first 1,000.
INSERT INTO tenancy.tenant (slug) SELECT 'bench-' || g FROM generate_series(1, 10000) g;

-- Bulk load targets.
CREATE TABLE load_plain (tenant_id bigint NOT NULL REFERENCES tenancy.tenant (id), body text, amount int);
CREATE INDEX ON load_plain (tenant_id);
CREATE TABLE load_protected (tenant_id bigint, body text, amount int);
SELECT tenancy.protect('load_protected');
GRANT INSERT, SELECT ON load_plain, load_protected TO bench_app;

-- Query targets: 1,000 tenants x 100 orders.
CREATE TABLE orders_plain (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                           tenant_id bigint NOT NULL REFERENCES tenancy.tenant (id), amount int);
CREATE INDEX ON orders_plain (tenant_id);
CREATE TABLE orders_protected (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id bigint, amount int);
SELECT tenancy.protect('orders_protected');
INSERT INTO orders_plain (tenant_id, amount) SELECT t, g FROM generate_series(1, 1000) t, generate_series(1, 100) g;
INSERT INTO orders_protected (tenant_id, amount) SELECT t, g FROM generate_series(1, 1000) t, generate_series(1, 100) g;
GRANT SELECT ON orders_plain, orders_protected TO bench_app;

-- Check targets: three required rows per tenant, all present.
CREATE TABLE apps (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id bigint, name text NOT NULL,
                   UNIQUE (tenant_id, name));
CREATE TABLE settings (tenant_id bigint, key text NOT NULL, value text, PRIMARY KEY (tenant_id, key));
SELECT tenancy.protect('apps'), tenancy.protect('settings');
SELECT tenancy.require_row('apps', '{"name": "public"}'), tenancy.require_row('apps', '{"name": "admin"}'),
       tenancy.require_row('settings', '{"key": "locale", "value": "en"}');
INSERT INTO apps (tenant_id, name) SELECT id, n FROM tenancy.tenant, unnest(ARRAY['public', 'admin']) n;
INSERT INTO settings SELECT id, 'locale', 'en' FROM tenancy.tenant;
VACUUM ANALYZE;
