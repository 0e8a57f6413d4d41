-- Check and repair of schema tenants (tenancy.check), tenant-row rules,
-- the tenant-database functions' refusals, and who may call what.
BEGIN;
SELECT plan(34);

SELECT coalesce(max(version), 0) AS base FROM tenancy.migration \gset
SELECT tenancy.add_migration(:base + 1, 'settings',
    $$CREATE TABLE settings (name text PRIMARY KEY, value text)$$);
SELECT tenancy.create_tenant('tap-chk-a', isolation => 'schema') AS a \gset
SELECT tenancy.create_tenant('tap-chk-b', isolation => 'schema') AS b \gset
CREATE TEMP VIEW mine AS SELECT * FROM tenancy.check() WHERE tenant IN (:a, :b) OR object ~ 'tap_chk';

-- Tenant-row rules ---------------------------------------------------------------
SELECT is_empty('SELECT * FROM mine', 'freshly created schema tenants are clean');
SELECT tenancy.require_tenant_row('settings', '{"name": "theme", "value": "light"}') AS rule \gset
SELECT is(tenancy.require_tenant_row('settings', '{"name": "theme", "value": "light"}'), :rule::bigint,
          'require_tenant_row is idempotent');
SELECT throws_ok($$SELECT tenancy.require_tenant_row('settings', '[1]')$$, '22023', NULL, 'a template must be an object');
SELECT throws_ok($$SELECT tenancy.require_tenant_row('', '{}')$$, '22023', NULL, 'a table name is needed');
SELECT throws_ok($$SELECT tenancy.require_tenant_row(NULL, '{}')$$, '22023', 'table_name must not be NULL', 'NULL table');
SELECT throws_ok($$SELECT tenancy.require_tenant_row('settings', NULL)$$, '22023', NULL, 'NULL template');
SELECT set_eq('SELECT tenant, problem, repaired FROM mine',
              format($$VALUES (%s::bigint, 'missing_row', false), (%s, 'missing_row', false)$$, :a, :b),
              'a missing required row is reported for every schema tenant');
SELECT format('INSERT INTO tenant_%s.settings VALUES (''theme'', ''light'')', :a) \gexec
SELECT set_eq('SELECT tenant, problem FROM mine', format($$VALUES (%s::bigint, 'missing_row')$$, :b),
              'a tenant that has the row is clean');
SELECT set_eq('SELECT tenant, problem, repaired FROM tenancy.check(repair => true) WHERE tenant IN (' || :a || ',' || :b || ')',
              format($$VALUES (%s::bigint, 'missing_row', true)$$, :b), 'repair inserts it');
SELECT is((SELECT value FROM tenant_:b.settings WHERE name = 'theme'), 'light', 'with the template''s values');
SELECT is_empty('SELECT * FROM mine', 'and the tenant is clean');
SELECT is(tenancy.unrequire_tenant_row('settings', '{"name": "theme", "value": "light"}'), true, 'unrequire_tenant_row');
SELECT is(tenancy.unrequire_tenant_row('settings', '{"name": "theme", "value": "light"}'), false, 'once');
SELECT tenancy.require_tenant_row('no_such_table', '{}');
SELECT set_eq('SELECT tenant, problem FROM mine',
              format($$VALUES (%s::bigint, 'invalid_rule'), (%s, 'invalid_rule')$$, :a, :b),
              'a rule on a table the tenants lack is reported as invalid');
SELECT tenancy.unrequire_tenant_row('no_such_table', '{}');

-- Migrations behind, progress that disagrees, a lost schema -------------------------
SELECT tenancy.add_migration(:base + 2, 'index', 'CREATE INDEX settings_value ON settings (value)');
SELECT set_eq('SELECT tenant, problem, repaired FROM mine',
              format($$VALUES (%s::bigint, 'migrations_behind', false), (%s, 'migrations_behind', false)$$, :a, :b),
              'tenants behind the latest migration are reported');
SELECT set_eq('SELECT tenant, problem, repaired FROM tenancy.check(true) WHERE tenant IN (' || :a || ',' || :b || ')',
              format($$VALUES (%s::bigint, 'migrations_behind', true), (%s, 'migrations_behind', true)$$, :a, :b),
              'repair migrates them');
SELECT has_index(format('tenant_%s', :a), 'settings', 'settings_value', 'the migration ran');
UPDATE tenancy.placement SET migrated_version = 1 WHERE tenant_id = :a;
SELECT set_eq('SELECT tenant, problem FROM mine', format($$VALUES (%s::bigint, 'migration_progress_mismatch')$$, :a),
              'a registry record that disagrees with the ledger is reported');
SELECT set_eq('SELECT tenant, problem, repaired FROM tenancy.check(true) WHERE tenant = ' || :a,
              format($$VALUES (%s::bigint, 'migration_progress_mismatch', true)$$, :a), 'and repaired from the ledger');
SELECT is((SELECT migrated_version FROM tenancy.placement WHERE tenant_id = :a), (:base + 2)::bigint, 'to the ledger''s version');
SELECT format('DROP SCHEMA tenant_%s CASCADE', :b) \gexec
SELECT set_eq('SELECT tenant, problem, repaired FROM mine', format($$VALUES (%s::bigint, 'missing_schema', false)$$, :b),
              'a lost schema is reported');
SELECT set_eq('SELECT tenant, problem, repaired FROM tenancy.check(true) WHERE tenant = ' || :b,
              format($$VALUES (%s::bigint, 'missing_schema', true)$$, :b), 'and recreated by repair');
SELECT has_index(format('tenant_%s', :b), 'settings', 'settings_value', 'migrated again from the start');
SELECT format('COMMENT ON SCHEMA tenant_%s IS ''not mine''', :b) \gexec
SELECT set_eq('SELECT tenant, problem, repaired FROM tenancy.check(true) WHERE tenant = ' || :b,
              format($$VALUES (%s::bigint, 'schema_not_claimed', false)$$, :b),
              'a schema without the tenant''s marker is reported and left alone');
CREATE SCHEMA tenant_987654321;
SELECT set_eq($$SELECT problem, object FROM tenancy.check() WHERE object = 'tenant_987654321'$$,
              $$VALUES ('orphan_schema', 'tenant_987654321')$$, 'a schema named like a tenant''s but owned by none');

-- The tenant-database functions refuse a database that is not the tenant's -------------
SELECT throws_ok(format($$SELECT tenancy.apply_migrations(%s, tenancy.registry_id(), '[]')$$, :a), 'TN014', NULL,
                 'apply_migrations in a database without a claim is refused');
SELECT throws_ok(format($$SELECT tenancy.claim_database(%s, tenancy.registry_id(), 'x')$$, :a), 'TN014', NULL,
                 'claim_database refuses a database that holds other relations');
SELECT throws_ok($$SELECT tenancy.apply_migrations(1, tenancy.registry_id(), '{}')$$, '22023', NULL,
                 'migrations must be a JSON array');
SELECT throws_ok($$SELECT tenancy.apply_migrations(1, tenancy.registry_id(), '[{"version": 1, "name": "x", "sql": "SELECT 1", "checksum": "forged"}]')$$,
                 '22023', 'migration 1 does not match its checksum', 'a migration that does not match its checksum');
SELECT is_empty('SELECT * FROM tenancy.database_claim()', 'the registry database itself is no tenant''s');

-- Who may call what -----------------------------------------------------------------
CREATE ROLE tap_chk_nobody;
GRANT USAGE ON SCHEMA tenancy TO tap_chk_nobody;
SET ROLE tap_chk_nobody;
SELECT throws_ok($$SELECT tenancy.add_server('tap-chk', 'host=x')$$, '42501', NULL, 'add_server needs a grant');
SELECT throws_ok($$SELECT tenancy.add_migration(999999, 'x', 'SELECT 1')$$, '42501', NULL, 'add_migration needs a grant');
SELECT throws_ok(format('SELECT tenancy.purge_tenant(%s)', :a), '42501', NULL, 'purge_tenant needs a grant');
SELECT throws_ok('SELECT * FROM tenancy.servers', '42501', NULL, 'the servers view is not public');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
