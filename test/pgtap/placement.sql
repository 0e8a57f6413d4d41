-- Placement: servers, isolation modes, placement choice, tenant locations,
-- atomic schema provisioning, migrations (checksums, order, the sandbox),
-- pending migrations, and check/repair of schema tenants.  Tenant databases
-- on other servers are exercised by the client tests (client/test), which
-- have several real clusters; here the registry's side is checked.
BEGIN;
SELECT plan(98);

-- Servers -------------------------------------------------------------------
SELECT lives_ok($$SELECT tenancy.add_server('tap-a', 'host=/nonexistent port=5999', capacity => 2)$$,
                'add_server with a key=value conninfo and a capacity');
SELECT lives_ok($$SELECT tenancy.add_server('tap-b', 'postgresql://db-b.example:5432/postgres?sslmode=require')$$,
                'add_server with a URI and no capacity');
SELECT lives_ok($$SELECT tenancy.add_server('tap-local')$$, 'add_server with no conninfo: the registry''s own server');
SELECT throws_ok($$SELECT tenancy.add_server('tap-a', 'host=x')$$, '42710', 'server "tap-a" is already registered',
                 'a server name is registered once');
SELECT throws_ok($$SELECT tenancy.add_server('tap-pw', 'host=x password=secret')$$, '22023',
                 'a server''s conninfo must not contain a password', 'a password in key=value form is refused');
SELECT throws_ok($$SELECT tenancy.add_server('tap-pw', 'postgresql://app:secret@x/db')$$, '22023',
                 'a server''s conninfo must not contain a password', 'a password in a URI is refused');
SELECT throws_ok($$SELECT tenancy.add_server('tap-pw', 'postgresql://x/db?password=secret')$$, '22023',
                 'a server''s conninfo must not contain a password', 'a password in a URI parameter is refused');
SELECT throws_ok($$SELECT tenancy.add_server('tap-bad', 'host=x nonsense=1')$$, '22023', NULL,
                 'an unknown conninfo keyword is refused');
SELECT throws_ok($$SELECT tenancy.add_server('tap-bad', 'host=''unterminated')$$, '22023', NULL,
                 'an unparsable conninfo is refused');
SELECT throws_ok($$SELECT tenancy.add_server('Bad Name', 'host=x')$$, '22023', 'invalid server name "Bad Name"',
                 'a server name follows the slug rules');
SELECT throws_ok($$SELECT tenancy.add_server('tap-neg', 'host=x', capacity => -1)$$, '22023', NULL,
                 'a negative capacity is refused');
SELECT throws_ok($$SELECT tenancy.add_server(NULL, 'host=x')$$, '22023', 'name must not be NULL', 'NULL name refused');
SELECT throws_ok($$SELECT tenancy.add_server('tap-n', NULL)$$, '22023', 'conninfo must not be NULL',
                 'NULL conninfo refused');
SELECT throws_ok($$SELECT tenancy.set_server_accepting('tap-nowhere', false)$$, '42704', NULL,
                 'set_server_accepting of an unknown server');
SELECT throws_ok($$SELECT tenancy.remove_server('tap-nowhere')$$, '42704', NULL, 'remove_server of an unknown server');
SELECT is((SELECT conninfo FROM tenancy.servers WHERE name = 'tap-local'), '', 'the registry''s own server has conninfo ''''');

-- Placement choice ------------------------------------------------------------
-- Only this test's servers accept tenants.
UPDATE tenancy.server SET accepting = false WHERE name NOT LIKE 'tap-%';
SELECT tenancy.set_server_accepting('tap-b', false);
SELECT tenancy.set_server_accepting('tap-local', false);
SELECT tenancy.create_tenant('tap-d1', isolation => 'database') AS d1 \gset
SELECT tenancy.create_tenant('tap-d2', isolation => 'database') AS d2 \gset
SELECT is((SELECT array_agg(server ORDER BY tenant_id) FROM tenancy.placement WHERE tenant_id IN (:d1, :d2)),
          ARRAY['tap-a', 'tap-a'], 'the only accepting server takes tenants up to its capacity');
SELECT throws_ok($$SELECT tenancy.create_tenant('tap-d3', isolation => 'database')$$, 'TN013',
                 'every accepting server is full', 'no free capacity is TN013');
SELECT is((SELECT count(*) FROM tenancy.tenant WHERE slug = 'tap-d3'), 0::bigint, 'and registers nothing');
SELECT tenancy.set_server_accepting('tap-a', false);
SELECT throws_ok($$SELECT tenancy.create_tenant('tap-d3', isolation => 'database')$$, 'TN013',
                 'no server accepts new database tenants', 'no accepting server is TN013');
SELECT tenancy.create_tenant('tap-d3', isolation => 'database', server => 'tap-b') AS d3 \gset
SELECT is((SELECT server FROM tenancy.placement WHERE tenant_id = :d3), 'tap-b',
          'a named server is used even if it does not accept tenants automatically');
SELECT throws_ok($$SELECT tenancy.create_tenant('tap-d4', isolation => 'database', server => 'tap-a')$$, 'TN013',
                 'server "tap-a" is full: it holds as many tenants as its capacity allows', 'a full named server is refused');
SELECT throws_ok($$SELECT tenancy.create_tenant('tap-d4', isolation => 'database', server => 'tap-none')$$, '42704',
                 'server "tap-none" is not registered', 'an unknown named server is refused');
SELECT throws_ok($$SELECT tenancy.create_tenant('tap-d4', isolation => 'schema', server => 'tap-b')$$, '22023', NULL,
                 'a server can be named only for a database tenant');
SELECT throws_ok($$SELECT tenancy.create_tenant('tap-d4', isolation => 'cluster')$$, '22023',
                 'isolation must be ''shared'', ''schema'' or ''database'', not "cluster"', 'an unknown isolation is refused');
SELECT throws_ok($$SELECT tenancy.create_tenant('tap-d4', isolation => NULL)$$, '22023', 'isolation must not be NULL',
                 'a NULL isolation is refused');
-- Most free places first; at equal free places, the server with fewer tenants.
SELECT tenancy.add_server('tap-c', 'host=c', capacity => 3);
SELECT tenancy.add_server('tap-e', 'host=e', capacity => 1);
SELECT tenancy.create_tenant('tap-d5', isolation => 'database') AS d5 \gset
SELECT tenancy.create_tenant('tap-d6', isolation => 'database') AS d6 \gset
SELECT tenancy.create_tenant('tap-d7', isolation => 'database') AS d7 \gset
SELECT tenancy.create_tenant('tap-d8', isolation => 'database') AS d8 \gset
SELECT is((SELECT array_agg(server ORDER BY tenant_id) FROM tenancy.placement WHERE tenant_id IN (:d5, :d6, :d7, :d8)),
          ARRAY['tap-c', 'tap-c', 'tap-e', 'tap-c'],
          'the server with the most free places is chosen; at 1 free place each, tap-e with fewer tenants');
SELECT results_eq($$SELECT name, tenants, provisioning, ready, free FROM tenancy.servers WHERE name LIKE 'tap-%' ORDER BY name$$,
                  $$VALUES ('tap-a', 2::bigint, 2::bigint, 0::bigint, 0), ('tap-b', 1, 1, 0, NULL),
                           ('tap-c', 3, 3, 0, 0), ('tap-e', 1, 1, 0, 0), ('tap-local', 0, 0, 0, NULL)$$,
                  'tenancy.servers counts tenants by state and free places');
SELECT throws_ok($$SELECT tenancy.remove_server('tap-a')$$, '2BP01', 'server "tap-a" still holds 2 tenant(s)',
                 'a server with tenants cannot be removed');
SELECT lives_ok($$SELECT tenancy.remove_server('tap-local')$$, 'an empty server can be removed');

-- Locations -------------------------------------------------------------------
SELECT tenancy.create_tenant('tap-shared') AS shared \gset
SELECT results_eq(format($$SELECT isolation, server, database_name, schema_name, state, epoch, on_registry_server
                             FROM tenancy.tenant_location(%s)$$, :shared),
                  $$VALUES ('shared', NULL::text, NULL::text, NULL::text, 'ready', 1::bigint, true)$$,
                  'a shared tenant is ready in the registry database');
SELECT is((SELECT conninfo FROM tenancy.tenant_location(:shared)), format('dbname=%L', current_database()),
          'a shared tenant''s conninfo names the registry database');
SELECT results_eq(format($$SELECT isolation, server, database_name, schema_name, state, on_registry_server
                             FROM tenancy.tenant_location(%s)$$, :d1),
                  format($$VALUES ('database', 'tap-a'::text, 'tenant_%s'::text, 'tenant_%s'::text, 'provisioning', false)$$, :d1, :d1),
                  'a database tenant waits in provisioning, in database and schema tenant_<id>');
SELECT is((SELECT conninfo FROM tenancy.tenant_location(:d1)),
          format($$host='/nonexistent' port='5999' dbname='tenant_%s' options='-csearch_path=tenant_%s'$$, :d1, :d1),
          'its conninfo is the server''s with the tenant''s database and schema');
SELECT is((SELECT conninfo FROM tenancy.tenant_location(:d3)),
          format($$host='db-b.example' port='5432' sslmode='require' dbname='tenant_%s' options='-csearch_path=tenant_%s'$$,
                 :d3, :d3),
          'a URI server conninfo is rewritten in key=value form with the tenant''s database');
SELECT is((SELECT registry FROM tenancy.tenant_location(:d1)), tenancy.registry_id(), 'and names this registry');
SELECT throws_ok($$SELECT * FROM tenancy.tenant_location(999999999)$$, 'TN001', NULL, 'an unknown tenant is TN001');
SELECT throws_ok($$SELECT * FROM tenancy.tenant_location(NULL)$$, '22023', 'tenant must not be NULL', 'NULL tenant');
SELECT is((SELECT count(*) FROM tenancy.tenant_locations(include_ready => false) WHERE tenant IN (:d1, :d2, :shared)),
          2::bigint, 'tenant_locations lists the tenants that are not ready');
SELECT is((SELECT count(*) FROM tenancy.tenant_locations(ARRAY[:d1, :shared])), 2::bigint,
          'tenant_locations takes a list of tenants, shared ones included');

-- Database tenants: the registry's steps -----------------------------------------
SELECT throws_ok(format('SELECT tenancy.placement_ready(%s, 7, 0)', :d1), 'TN015', NULL,
                 'placement_ready with a stale epoch is refused');
SELECT is(tenancy.placement_ready(:d1, 1, 0), true, 'placement_ready marks a provisioned tenant ready');
SELECT is(tenancy.placement_ready(:d1, 1, 0), false, 'and is a no-op when repeated after a crash');
SELECT throws_ok(format('SELECT tenancy.placement_ready(%s, 1, 0)', :shared), 'TN015', NULL,
                 'placement_ready of a shared tenant is refused');
SELECT is(tenancy.record_migration_progress(:d1, 1, 3), 0::bigint, 'record_migration_progress returns the old version');
SELECT is((SELECT migrated_version FROM tenancy.placement WHERE tenant_id = :d1), 3::bigint, 'and records the new one');
SELECT throws_ok(format('SELECT tenancy.record_migration_progress(%s, 1, -1)', :d1), '22023', NULL,
                 'a negative version is refused');

-- Migrations --------------------------------------------------------------------
-- This test's migrations start after whatever the database has.
SELECT coalesce(max(version), 0) AS base FROM tenancy.migration \gset
SELECT is(tenancy.add_migration(:base + 10, 'settings', $$CREATE TABLE settings (name text PRIMARY KEY, value text)$$),
          true, 'add_migration registers a migration');
SELECT is(tenancy.add_migration(:base + 10, 'settings', $$CREATE TABLE settings (name text PRIMARY KEY, value text)$$),
          false, 're-adding the same SQL is a no-op');
SELECT throws_ok(format($$SELECT tenancy.add_migration(%s, 'settings', 'CREATE TABLE settings (name text)')$$, :base + 10),
                 'TN011', NULL, 're-adding a version with other SQL is refused (checksum)');
SELECT is((SELECT checksum FROM tenancy.migrations WHERE version = :base + 10),
          encode(sha256(convert_to('CREATE TABLE settings (name text PRIMARY KEY, value text)', 'UTF8')), 'hex'),
          'the checksum is the SHA-256 of the SQL');
SELECT is(tenancy.add_migration(:base + 20, 'orders',
              $$CREATE TABLE orders (id bigint PRIMARY KEY, item text NOT NULL);
                INSERT INTO settings VALUES ('currency', 'EUR');
                GRANT USAGE ON SCHEMA ${tenant_schema} TO PUBLIC$$), true, 'a second migration, using a placeholder');
SELECT throws_ok(format($$SELECT tenancy.add_migration(%s, 'late', 'SELECT 1')$$, :base + 15), 'TN012', NULL,
                 'a version older than the latest is refused');
SELECT throws_ok(format($$SELECT tenancy.add_migration(%s, 'typo', 'CREAT TABLE x ()')$$, :base + 30), '42601', NULL,
                 'a syntax error is refused when the migration is registered');
SELECT throws_ok(format($$SELECT tenancy.add_migration(%s, 'tx', 'CREATE TABLE x (); COMMIT')$$, :base + 30), '2D000',
                 NULL, 'transaction control in a migration is refused');
SELECT throws_ok(format($$SELECT tenancy.add_migration(%s, 'empty', ' ; ')$$, :base + 30), '22023', NULL,
                 'a migration without a statement is refused');
SELECT throws_ok($$SELECT tenancy.add_migration(0, 'zero', 'SELECT 1')$$, '22023', NULL, 'version 0 is refused');
SELECT throws_ok(format($$SELECT tenancy.add_migration(%s, '', 'SELECT 1')$$, :base + 30), '22023', NULL,
                 'an empty name is refused');
SELECT throws_ok(format($$SELECT tenancy.add_migration(%s, 'n', NULL)$$, :base + 30), '22023',
                 'sql must not be NULL', 'NULL sql is refused');

-- Schema tenants: created and migrated in the registering transaction ----------------
SELECT tenancy.create_tenant('tap-s1', isolation => 'schema') AS s1 \gset
SELECT has_table(format('tenant_%s', :s1), 'orders', 'a schema tenant''s schema holds its migrated tables');
SELECT is((SELECT value FROM tenant_:s1.settings WHERE name = 'currency'), 'EUR',
          'migrations ran in version order (the second wrote into the first''s table)');
SELECT is((SELECT array_agg(version ORDER BY version) FROM tenancy.applied_migration WHERE tenant_id = :s1),
          ARRAY[:base + 10, :base + 20]::bigint[], 'the ledger lists both versions');
SELECT ok((SELECT bool_and(duration >= '0'::interval AND applied_by = current_user AND checksum <> '')
             FROM tenancy.applied_migration WHERE tenant_id = :s1), 'with checksum, duration and the role that ran them');
SELECT is((SELECT migrated_version FROM tenancy.placement WHERE tenant_id = :s1), (:base + 20)::bigint,
          'and the placement records the version');
SELECT is((SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = format('tenant_%s', :s1)), current_user::text,
          'the schema belongs to the role that created the tenant');
SELECT ok(has_schema_privilege('public', format('tenant_%s', :s1), 'USAGE'), '${tenant_schema} named the tenant''s schema');
SELECT is((SELECT conninfo FROM tenancy.tenant_location(:s1)),
          format($$dbname=%L options='-csearch_path=tenant_%s'$$, current_database(), :s1),
          'a schema tenant''s conninfo sets its search_path');

-- A failing migration: nothing of the tenant remains.
SELECT tenancy.add_migration(:base + 30, 'breaks', $$INSERT INTO settings VALUES ('currency', 'USD')$$);
SELECT throws_ok($$SELECT tenancy.create_tenant('tap-broken', isolation => 'schema')$$, '23505', NULL,
                 'a failing migration fails create_tenant with the migration''s own error');
SELECT is((SELECT count(*) FROM tenancy.tenant WHERE slug = 'tap-broken'), 0::bigint, 'no registry row is left');
SELECT is((SELECT count(*) FROM pg_namespace n WHERE NOT EXISTS (SELECT FROM tenancy.placement p WHERE p.schema_name = n.nspname)
            AND nspname ~ '^tenant_[0-9]+$'), 0::bigint, 'and no schema');
SELECT throws_ok(format('SELECT tenancy.migrate_tenant(%s)', :s1), '23505', NULL,
                 'migrate_tenant reports the failing migration''s error');
SELECT is((SELECT migrated_version FROM tenancy.placement WHERE tenant_id = :s1), (:base + 20)::bigint,
          'and the tenant stays at its old version');
SELECT throws_ok(format('SELECT tenancy.remove_migration(%s)', :base + 20), 'TN012', NULL,
                 'only the latest migration can be removed');
SELECT lives_ok(format('SELECT tenancy.remove_migration(%s)', :base + 30), 'the failing latest migration is removed');
SELECT throws_ok(format('SELECT tenancy.remove_migration(%s)', :base + 20), '2BP01', NULL,
                 'an applied migration cannot be removed');

-- The sandbox: a migration changes only its tenant's schema.
CREATE TABLE public.tap_shared_ref (id int);
-- Registers `sql` as the next migration and creates a schema tenant with it:
-- 'refused' (42501, and the migration is removed again), 'allowed', or the
-- SQLSTATE of any other error.
CREATE FUNCTION pg_temp.refused(sql text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
    PERFORM tenancy.add_migration((SELECT max(version) + 1 FROM tenancy.migration), 'sandboxed', sql);
    BEGIN
        PERFORM tenancy.create_tenant('tap-sandbox-' || md5(random()::text), isolation => 'schema');
    EXCEPTION
        WHEN insufficient_privilege THEN
            PERFORM tenancy.remove_migration((SELECT max(version) FROM tenancy.migration));
            RETURN 'refused';
        WHEN OTHERS THEN
            PERFORM tenancy.remove_migration((SELECT max(version) FROM tenancy.migration));
            RETURN SQLSTATE;
    END;
    RETURN 'allowed';
END $f$;
SELECT is(pg_temp.refused('INSERT INTO public.tap_shared_ref VALUES (1)'), 'refused', 'a write to another schema is refused');
SELECT is(pg_temp.refused('UPDATE public.tap_shared_ref SET id = 2'), 'refused', 'an update of another schema is refused');
SELECT is(pg_temp.refused('CREATE TABLE public.tap_sneaky (a int)'), 'refused', 'a table in another schema is refused');
SELECT is(pg_temp.refused('SET search_path = public; CREATE TABLE tap_sneaky (a int)'), 'refused',
          'so is one put there by changing search_path');
SELECT is(pg_temp.refused('DROP TABLE public.tap_shared_ref'), 'refused', 'dropping another schema''s table is refused');
SELECT is(pg_temp.refused('ALTER TABLE settings SET SCHEMA public'), 'refused', 'moving a table out is refused');
SELECT is(pg_temp.refused('GRANT SELECT ON public.tap_shared_ref TO PUBLIC'), 'refused', 'granting on another schema is refused');
SELECT is(pg_temp.refused('TRUNCATE public.tap_shared_ref'), 'refused', 'truncating another schema''s table is refused');
SELECT is(pg_temp.refused('CREATE ROLE tap_sneaky_role'), 'refused', 'creating a role is refused');
SELECT is(pg_temp.refused('CREATE SCHEMA tap_sneaky'), 'refused', 'creating a schema is refused');
SELECT is(pg_temp.refused('DO $$BEGIN EXECUTE ''DELETE FROM public.tap_shared_ref''; END$$'), 'refused',
          'dynamic SQL is checked too');
SELECT is(pg_temp.refused('CREATE TRIGGER t BEFORE INSERT ON public.tap_shared_ref FOR EACH ROW EXECUTE FUNCTION tenancy.tenant_guard()'),
          'refused', 'a trigger on another schema''s table is refused');
SELECT is(pg_temp.refused('CREATE TABLE own (a int); CREATE INDEX ON own (a); COMMENT ON TABLE own IS ''ok'';
                           CREATE VIEW own_view AS SELECT a FROM own; GRANT SELECT ON own TO PUBLIC;
                           SELECT count(*) FROM public.tap_shared_ref'),
          'allowed', 'its own schema is changed freely, and other schemas can be read');
SELECT is((SELECT count(*) FROM public.tap_shared_ref), 0::bigint, 'the shared table is untouched');

-- Pending migrations and migrate_tenant ---------------------------------------------
SELECT tenancy.add_migration(:base + 100, 'later', 'ALTER TABLE orders ADD COLUMN qty integer');
SELECT results_eq(format($$SELECT tenant, isolation, migrated_version, latest_version, pending
                             FROM tenancy.pending_migrations() WHERE tenant = %s$$, :s1),
                  format($$VALUES (%s::bigint, 'schema', %s::bigint, %s::bigint, 2::bigint)$$, :s1, :base + 20, :base + 100),
                  'pending_migrations says how far behind a tenant is');
SELECT is((SELECT count(*) FROM tenancy.pending_migrations() WHERE tenant = :shared), 0::bigint,
          'shared tenants have no migrations of their own');
SELECT is(tenancy.migrate_tenant(:s1), (:base + 100)::bigint, 'migrate_tenant applies the pending ones');
SELECT has_column(format('tenant_%s', :s1), 'orders', 'qty', 'in the tenant''s schema');
SELECT is(tenancy.migrate_tenant(:s1), (:base + 100)::bigint, 'a second run has nothing to do');
SELECT is((SELECT count(*) FROM tenancy.pending_migrations() WHERE tenant = :s1), 0::bigint, 'nothing is pending');
SELECT throws_ok(format('SELECT tenancy.migrate_tenant(%s)', :d1), 'TN015', NULL,
                 'database tenants are migrated in their own database');
SELECT throws_ok(format('SELECT tenancy.migrate_tenant(%s)', :shared), 'TN015', NULL,
                 'shared tenants have no migrations');
-- Drift: an applied migration whose checksum differs from the registry's.
UPDATE tenancy.applied_migration SET checksum = 'edited' WHERE tenant_id = :s1 AND version = :base + 100;
SELECT tenancy.add_migration(:base + 110, 'after-drift', 'SELECT 1');
SELECT throws_ok(format('SELECT tenancy.migrate_tenant(%s)', :s1), 'TN011', NULL, 'drift is refused, not re-applied');

SELECT * FROM finish();
ROLLBACK;
