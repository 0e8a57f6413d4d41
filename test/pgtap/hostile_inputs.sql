-- Hostile inputs for the functions of placement, tenant binding,
-- partitioned protection, the isolation audit, change landing and moves: NULLs, huge and negative values, wrong
-- types, text meant to break SQL, calls from a role without rights, and a
-- hostile search_path.  Every call ends in its documented SQLSTATE (never
-- XX000, never a crash) or, under the hostile search_path, in the right
-- result.  Add a row for every new function.
BEGIN;

SELECT tenancy.create_tenant('tap-hostile') AS t \gset
SELECT tenancy.issue_api_key(:t) AS key \gset
CREATE ROLE tap_hostile_nobody;
CREATE ROLE tap_hostile_target;
GRANT USAGE ON SCHEMA tenancy TO tap_hostile_nobody;

-- The trigger functions, misused; a partitioned table to protect wrongly.
CREATE TABLE tap_hostile_misused (n int);
CREATE TRIGGER misused BEFORE INSERT ON tap_hostile_misused FOR EACH ROW EXECUTE FUNCTION tenancy.truncate_guard();
CREATE TABLE tap_hostile_parted (tenant_id bigint, n int) PARTITION BY LIST (n);
CREATE TABLE tap_hostile_parted_1 PARTITION OF tap_hostile_parted FOR VALUES IN (1);

-- call, expected SQLSTATE, why; run as the superuser.
CREATE TEMP TABLE hostile (n serial, call text, sqlstate text, why text);
INSERT INTO hostile (call, sqlstate, why) VALUES
    ($$SELECT tenancy.bind_role(NULL, NULL)$$, '22023', 'bind_role: NULL role and tenant'),
    ($$SELECT tenancy.bind_role('tap_hostile_target', NULL)$$, '22023', 'bind_role: NULL tenant'),
    ($$SELECT tenancy.bind_role('tap_hostile_target', 9223372036854775807)$$, 'TN001', 'bind_role: largest bigint'),
    ($$SELECT tenancy.bind_role('tap_hostile_target', -9223372036854775808)$$, 'TN001', 'bind_role: smallest bigint'),
    ($$SELECT tenancy.bind_role('tap_hostile_target', 0)$$, 'TN001', 'bind_role: tenant 0'),
    ($$SELECT tenancy.bind_role(0::oid::regrole, 1)$$, '42704', 'bind_role: role OID 0'),
    ($$SELECT tenancy.bind_role(4294967295::oid::regrole, 1)$$, '42704', 'bind_role: largest OID'),
    ($$SELECT tenancy.bind_role('"; DROP TABLE tenancy.tenant; --', 1)$$, '42602', 'bind_role: SQL as a role name (regrole input)'),
    ($$SELECT tenancy.bind_role('tap_hostile_target', 'abc')$$, '22P02', 'bind_role: text for the tenant'),
    ($$SELECT tenancy.bind_role('tap_hostile_target', 99999999999999999999)$$, '42883', 'bind_role: numeric beyond bigint'),
    ($$SELECT tenancy.bind_role(1.5, 1)$$, '42883', 'bind_role: a number for the role'),
    ($$SELECT tenancy.unbind_role(NULL, 1)$$, '22023', 'unbind_role: NULL role'),
    ($$SELECT tenancy.unbind_role('tap_hostile_target', NULL)$$, '22023', 'unbind_role: NULL tenant'),
    ($$SELECT tenancy.unbind_role('tap_hostile_target', 9223372036854775807)$$, 'TN001', 'unbind_role: largest bigint'),
    ($$SELECT tenancy.unbind_role('tap_hostile_target', 'x')$$, '22P02', 'unbind_role: text for the tenant'),
    ($$SELECT tenancy.set_tenant_by_api_key(NULL)$$, '22023', 'set_tenant_by_api_key: NULL key'),
    ($$SELECT tenancy.set_tenant_by_api_key('k', NULL)$$, '22023', 'set_tenant_by_api_key: NULL is_local'),
    ($$SELECT tenancy.set_tenant_by_api_key(repeat('tnk_', 4000000))$$, 'TN050', 'set_tenant_by_api_key: a 16 MB key'),
    ($$SELECT tenancy.set_tenant_by_api_key(E'tnk_\u00e9\u00e9')$$, 'TN050', 'set_tenant_by_api_key: non-ASCII'),
    ($$SELECT tenancy.set_tenant_by_api_key(''' OR true --')$$, 'TN050', 'set_tenant_by_api_key: SQL as a key'),
    ($$SELECT tenancy.set_tenant_by_api_key(123)$$, '42883', 'set_tenant_by_api_key: an integer key'),
    ($$SELECT tenancy.set_tenant_by_api_key('k', 'maybe')$$, '22P02', 'set_tenant_by_api_key: not a boolean'),
    ($$SELECT tenancy.truncate_guard()$$, '39P01', 'truncate_guard called directly'),
    ($$SELECT tenancy.protect_new_partitions()$$, '39P01', 'protect_new_partitions called directly'),
    ($$INSERT INTO tap_hostile_misused VALUES (1)$$, '39P01', 'truncate_guard as a row trigger'),
    ($$CREATE TABLE tap_hostile_x (n int)$$, '39P01', 'protect_new_partitions as a ddl_command_start trigger'),
    ($$SELECT tenancy.protect('tap_hostile_parted', NULL)$$, '22023', 'protect: NULL column of a partitioned table'),
    ($$SELECT tenancy.protect('tap_hostile_parted', 'n')$$, '42804', 'protect: a partitioned table on an int column'),
    ($$SELECT tenancy.protect('tap_hostile_parted', 'nope')$$, '42703', 'protect: a partitioned table, unknown column'),
    ($$SELECT tenancy.unprotect(0::oid::regclass)$$, '42P01', 'unprotect: relation OID 0'),
    ($$SELECT * FROM tenancy.audit('')$$, '3F000', 'audit: empty schema name'),
    ($$SELECT * FROM tenancy.audit(repeat('s', 1000))$$, '3F000', 'audit: a schema name longer than a name'),
    ($$SELECT * FROM tenancy.audit('"; DROP SCHEMA public; --')$$, '3F000', 'audit: SQL as a schema name'),
    ($$SELECT * FROM tenancy.audit(42)$$, '42883', 'audit: a number for the schema'),
    ($$SELECT tenancy.add_server(repeat('a', 64), 'host=x')$$, '22023', 'add_server: a 64-character name'),
    ($$SELECT tenancy.add_server('h1', 'host=x''; DROP TABLE tenancy.tenant; --')$$, '22023', 'add_server: SQL in a conninfo'),
    ($$SELECT tenancy.add_server('h1', repeat('x', 1000000))$$, '22023', 'add_server: a 1 MB conninfo'),
    ($$SELECT tenancy.add_server('h1', 'host=x', capacity => -2147483648)$$, '22023', 'add_server: smallest capacity'),
    ($$SELECT tenancy.set_server_accepting('h-none', NULL)$$, '22023', 'set_server_accepting: NULL'),
    ($$SELECT tenancy.create_tenant('h-iso', isolation => 'database; DROP TABLE x')$$, '22023', 'create_tenant: SQL as an isolation'),
    ($$SELECT tenancy.create_tenant('h-srv', isolation => 'database', server => repeat('s', 100000))$$, '42704', 'create_tenant: a huge server name'),
    ($$SELECT * FROM tenancy.tenant_location(9223372036854775807)$$, 'TN001', 'tenant_location: largest bigint'),
    ($$SELECT * FROM tenancy.tenant_locations('{NULL}')$$, '22023', 'tenant_locations: a NULL element'),
    ($$SELECT tenancy.add_migration(-9223372036854775808, 'x', 'SELECT 1')$$, '22023', 'add_migration: smallest bigint'),
    ($$SELECT tenancy.add_migration(1, 'x', '')$$, '22023', 'add_migration: empty SQL'),
    ($$SELECT tenancy.remove_migration(9223372036854775807)$$, '42704', 'remove_migration: largest bigint'),
    ($$SELECT tenancy.migrate_tenant(-1)$$, 'TN001', 'migrate_tenant: a negative tenant'),
    ($$SELECT tenancy.claim_database(NULL, NULL, NULL)$$, '22023', 'claim_database: NULLs'),
    ($$SELECT tenancy.apply_migrations(1, 'not-a-uuid', '[]')$$, '22P02', 'apply_migrations: not a uuid'),
    ($$SELECT tenancy.apply_migrations(1, gen_random_uuid(), '[{"version": "x"}]')$$, '22023', 'apply_migrations: a version that is no number'),
    ($$SELECT tenancy.apply_migrations(1, gen_random_uuid(), '"[]"')$$, '22023', 'apply_migrations: a JSON string'),
    ($$SELECT * FROM tenancy.check_tenant_data(1, gen_random_uuid(), 0, '{}')$$, '22023', 'check_tenant_data: rules not an array'),
    ($$SELECT * FROM tenancy.check_tenant_data(1, gen_random_uuid(), 0, '[{"table_name": 1}]')$$, '22023', 'check_tenant_data: a rule without a template'),
    ($$SELECT tenancy.require_tenant_row(repeat('t', 100), '{}')$$, '22023', 'require_tenant_row: a name longer than a name'),
    ($$SELECT tenancy.placement_ready(1, 1, -5)$$, '22023', 'placement_ready: a negative version'),
    ($$SELECT tenancy.purge_tenant(0)$$, 'TN001', 'purge_tenant: tenant 0'),
    ($$SELECT tenancy.database_dropped(9223372036854775807)$$, 'TN001', 'database_dropped: largest bigint'),
    ($$SELECT tenancy.migration_ddl_guard()$$, '39P01', 'migration_ddl_guard called directly'),
    ($$SELECT * FROM tenancy.apply_changes(NULL, '[]')$$, '22023', 'apply_changes: NULL table'),
    ($$SELECT * FROM tenancy.apply_changes('tap_hostile_misused', '[]')$$, 'TN040', 'apply_changes: a table not enabled'),
    ($$SELECT * FROM tenancy.apply_changes(0::oid::regclass, '[]')$$, '42P01', 'apply_changes: relation OID 0'),
    ($$SELECT tenancy.enable_changes('tap_hostile_misused', '{}')$$, '22023', 'enable_changes: no key columns'),
    ($$SELECT tenancy.enable_changes('tap_hostile_misused', '{"; DROP TABLE x; --"}')$$, '42703', 'enable_changes: SQL as a key column'),
    ($$SELECT * FROM tenancy.placeholders(NULL)$$, '22023', 'placeholders: NULL age'),
    ($$SELECT tenancy.begin_move(NULL, 's', false)$$, '22023', 'begin_move: NULL tenant'),
    ($$SELECT tenancy.begin_move(9223372036854775807, 's', false)$$, 'TN001', 'begin_move: largest bigint'),
    ($$SELECT tenancy.begin_move(1, NULL, false)$$, '22023', 'begin_move: NULL server'),
    ($$SELECT tenancy.record_move_step(9223372036854775807, 'copied')$$, '22023', 'record_move_step: an unknown step'),
    ($$SELECT tenancy.switch_placement(-1, 1, '[]')$$, 'TN026', 'switch_placement: no such move'),
    ($$SELECT tenancy.abort_move(NULL)$$, '22023', 'abort_move: NULL'),
    ($$SELECT tenancy.freeze_for_move(1, 'not-a-uuid', 1)$$, '22P02', 'freeze_for_move: not a uuid'),
    ($$SELECT * FROM tenancy.table_checksums(NULL)$$, '22023', 'table_checksums: NULL schema'),
    ($$SELECT tenancy.move_guard()$$, '39P01', 'move_guard called directly');

-- Every function changed or added here that a role without grants must not run.
CREATE TEMP TABLE forbidden (n serial, call text);
INSERT INTO forbidden (call) VALUES
    ($$SELECT tenancy.bind_role('tap_hostile_target', 1)$$),
    ($$SELECT tenancy.unbind_role('tap_hostile_target', 1)$$),
    ($$SELECT tenancy.set_tenant_by_api_key('tnk_x')$$),
    ($$SELECT * FROM tenancy.role_bindings$$),
    ($$SELECT * FROM tenancy.audit()$$),
    ($$SELECT * FROM tenancy.isolation_hazards$$),
    ($$SELECT tenancy.add_server('h2', 'host=x')$$),
    ($$SELECT tenancy.set_server_accepting('h2', true)$$),
    ($$SELECT tenancy.remove_server('h2')$$),
    ($$SELECT tenancy.registry_id()$$),
    ($$SELECT * FROM tenancy.tenant_location(1)$$),
    ($$SELECT * FROM tenancy.tenant_locations()$$),
    ($$SELECT tenancy.add_migration(1, 'x', 'SELECT 1')$$),
    ($$SELECT tenancy.remove_migration(1)$$),
    ($$SELECT * FROM tenancy.pending_migrations()$$),
    ($$SELECT tenancy.migrate_tenant(1)$$),
    ($$SELECT tenancy.claim_database(1, gen_random_uuid(), 'x')$$),
    ($$SELECT tenancy.apply_migrations(1, gen_random_uuid(), '[]')$$),
    ($$SELECT * FROM tenancy.applied_migrations(1)$$),
    ($$SELECT * FROM tenancy.database_claim()$$),
    ($$SELECT tenancy.require_tenant_row('t', '{}')$$),
    ($$SELECT * FROM tenancy.check_tenant_data(1, gen_random_uuid(), 0, '[]')$$),
    ($$SELECT tenancy.placement_ready(1, 1, 0)$$),
    ($$SELECT tenancy.record_migration_progress(1, 1, 0)$$),
    ($$SELECT * FROM tenancy.begin_purge(1)$$),
    ($$SELECT tenancy.database_dropped(1)$$),
    ($$SELECT tenancy.purge_tenant(1)$$),
    ($$SELECT * FROM tenancy.servers$$),
    ($$SELECT tenancy.begin_move(1, 's', false)$$),
    ($$SELECT * FROM tenancy.tenant_moves(1)$$),
    ($$SELECT tenancy.abort_move(1)$$),
    ($$SELECT tenancy.freeze_for_move(1, gen_random_uuid(), 1)$$),
    ($$SELECT tenancy.claim_moved_database(1, gen_random_uuid(), 'x', 1, '[]')$$),
    ($$SELECT * FROM tenancy.table_checksums('public')$$),
    ($$SELECT * FROM tenancy.moves$$),
    ($$SELECT tenancy.enable_changes('tap_hostile_misused', '{n}')$$),
    ($$SELECT tenancy.disable_changes('tap_hostile_misused')$$),
    ($$SELECT * FROM tenancy.apply_changes('tap_hostile_misused', '[]')$$),
    ($$SELECT * FROM tenancy.placeholders()$$),
    ($$SELECT * FROM tenancy.migrations$$);
GRANT SELECT ON hostile, forbidden TO tap_hostile_nobody;

SELECT plan((SELECT count(*)::int FROM hostile) + (SELECT count(*)::int FROM forbidden) + 8);

CREATE EVENT TRIGGER tap_hostile_misused ON ddl_command_start WHEN TAG IN ('CREATE TABLE')
    EXECUTE FUNCTION tenancy.protect_new_partitions();
SELECT throws_ok(call, sqlstate, NULL, why) FROM hostile ORDER BY n;
DROP EVENT TRIGGER tap_hostile_misused;

SET ROLE tap_hostile_nobody;
SELECT throws_ok(call, '42501', NULL, 'a role without the grant: ' || call) FROM forbidden ORDER BY n;
RESET ROLE;

CREATE TABLE tap_hostile_tenanted (tenant_id bigint);
CREATE TEMP TABLE audit_before AS SELECT * FROM tenancy.audit() WHERE hazard NOT LIKE 'binding%';

-- A hostile search_path: objects that shadow pg_catalog's must not be used.
CREATE SCHEMA tap_hostile_evil;
CREATE FUNCTION tap_hostile_evil.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT '1999-01-01'::timestamptz $$;
CREATE FUNCTION tap_hostile_evil.always(bigint, bigint) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR tap_hostile_evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = tap_hostile_evil.always);
CREATE FUNCTION tap_hostile_evil.sha256(bytea) RETURNS bytea LANGUAGE sql AS $$ SELECT '\x00'::bytea $$;
SET search_path = tap_hostile_evil, pg_catalog, public;
SELECT is(tenancy.bind_role('tap_hostile_target', :t), true, 'hostile search_path: bind_role works');
SELECT cmp_ok((SELECT bound_at FROM tenancy.role_binding WHERE role = 'tap_hostile_target'::regrole), '>',
              '2000-01-01'::timestamptz, 'hostile search_path: bind_role does not use a shadowing now()');
SELECT is(tenancy.set_tenant_by_api_key(:'key'), :t::bigint, 'hostile search_path: set_tenant_by_api_key resolves the key');
SELECT set_eq($$SELECT * FROM tenancy.audit() WHERE hazard NOT LIKE 'binding%'$$, 'SELECT * FROM audit_before',
              'hostile search_path: the audit finds the same hazards');
SELECT ok((SELECT fix FROM tenancy.audit() WHERE object = 'public.tap_hostile_tenanted') LIKE '%''public.tap_hostile_tenanted''%',
          'hostile search_path: the audit names objects with their schema');
SELECT coalesce(max(version), 0) + 1 AS next_version FROM tenancy.migration \gset
SELECT is(tenancy.add_migration(:next_version, 'hostile', 'SELECT 1'), true, 'hostile search_path: add_migration works');
SELECT is((SELECT checksum FROM tenancy.migration WHERE version = :next_version),
          pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to('SELECT 1', 'UTF8')), 'hex'),
          'hostile search_path: add_migration does not use a shadowing sha256()');
SET client_min_messages = error;
SELECT is(tenancy.unbind_role('tap_hostile_target', :t), true, 'hostile search_path: unbind_role works');
RESET client_min_messages;
RESET search_path;

SELECT * FROM finish();
ROLLBACK;
