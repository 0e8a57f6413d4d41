-- A user's own pgTAP test of tenant isolation (docs/testing.md).
-- Run with: pg_prove -d app_test examples/pgtap/test_isolation.sql
BEGIN;
SELECT plan(6);

-- Every table of schema app is protected, but the shared plans table.
SELECT tenancy_tap.all_protected('app', exempt => ARRAY['plans']);
-- tenancy.audit finds nothing: no unique key or foreign key without the
-- tenant column, no view or function that bypasses the policies, ...
SELECT tenancy_tap.no_audit_findings('app');

-- One line per table: two throwaway tenants, a row of the first written with
-- the sample's values, and every route by which the second could reach it
-- tried as app_user.
SELECT tenancy_tap.is_isolated('app.orders', 'app_user', sample => '{"item": "book"}');
SELECT tenancy_tap.is_isolated('app.settings', 'app_user', sample => '{"name": "theme"}');

-- Rows that need parent rows: set up two tenants the way the application
-- does, then name them.
SELECT tenancy.create_tenant('test-a') AS a, tenancy.create_tenant('test-b') AS b \gset
INSERT INTO app.settings (tenant_id, name, value) VALUES (:a, 'theme', 'light'), (:b, 'theme', 'light');
INSERT INTO app.orders (tenant_id, item) VALUES (:a, 'anvil'), (:b, 'lamp');
INSERT INTO app.order_lines (tenant_id, order_id, line, sku)
    SELECT tenant_id, id, 1, 'sku-1' FROM app.orders;
SELECT tenancy_tap.is_isolated('app.order_lines', 'app_user', :a, :b);

-- Every active tenant has the rows tenancy.require_row asks for.
SELECT tenancy_tap.required_rows_present();

SELECT * FROM finish();
ROLLBACK;
