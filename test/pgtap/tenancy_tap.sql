-- The tenancy_tap extension: every assertion passes when isolation holds and
-- fails, with diagnostics that say why, when it is broken (pgTAP's
-- check_test), so an assertion that cannot fail is caught here.  Also its
-- argument errors, that is_isolated leaves nothing behind, and its pinned
-- search_path.
BEGIN;
SELECT plan(128);

CREATE ROLE tap_tt_owner;
CREATE ROLE tap_tt_app;
CREATE ROLE tap_tt_nogrant;
CREATE ROLE tap_tt_bypass BYPASSRLS;
CREATE ROLE tap_tt_member IN ROLE tap_tt_bypass;
GRANT USAGE ON SCHEMA tenancy TO tap_tt_owner, tap_tt_app, tap_tt_nogrant, tap_tt_member;
GRANT EXECUTE ON FUNCTION tenancy.protect(regclass, name), tenancy.unprotect(regclass),
    tenancy.require_row(regclass, jsonb) TO tap_tt_owner;
CREATE SCHEMA tap_tt AUTHORIZATION tap_tt_owner;
GRANT USAGE ON SCHEMA tap_tt TO tap_tt_app, tap_tt_nogrant, tap_tt_member, tap_tt_bypass;

SET ROLE tap_tt_owner;
CREATE TABLE tap_tt.orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id bigint,
    item text NOT NULL,
    placed_at timestamptz NOT NULL DEFAULT now());
GRANT SELECT, INSERT, UPDATE, DELETE ON tap_tt.orders TO tap_tt_app, tap_tt_member, tap_tt_bypass;
SELECT tenancy.protect('tap_tt.orders');
RESET ROLE;

-- is_isolated: passing -------------------------------------------------------------

SELECT * FROM check_test(
    tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_app', '{"item": "book"}'),
    true, 'is_isolated on a protected table',
    'table tap_tt.orders is isolated between tenants for role tap_tt_app', '');
SELECT * FROM check_test(
    tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_app', sample => '{"item": "book"}', description => 'orders are isolated'),
    true, 'is_isolated with a description', 'orders are isolated', '');

-- It leaves nothing behind: tenants, rows, role, tenant context, search_path.
SELECT tenancy.create_tenant('tap-tt-context') AS context_tenant \gset
SELECT tenancy.set_tenant(:context_tenant);
SELECT count(*) AS tenants_before FROM tenancy.tenant \gset
SELECT current_setting('search_path') AS path_before \gset
SELECT tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_app', '{"item": "book"}') AS result \gset
SELECT * FROM check_test(:'result', true, 'is_isolated with a tenant set beforehand');
SELECT is((SELECT count(*) FROM tenancy.tenant), :tenants_before::bigint, 'is_isolated leaves no tenant behind');
SELECT is((SELECT count(*) FROM tap_tt.orders), 0::bigint, 'nor a row');
SELECT is(current_user::text, 'postgres', 'nor the role it switched to');
SELECT is(tenancy.current_tenant(), :context_tenant::bigint, 'nor a changed tenant context');
SELECT is(current_setting('search_path'), :'path_before', 'nor a changed search_path');
SELECT tenancy.clear_tenant();

-- is_isolated: failing ---------------------------------------------------------------

-- Without the policy nothing is visible (RLS denies by default), so the role
-- cannot even see its own rows: the refusals would prove nothing.
SET ROLE tap_tt_owner;
DROP POLICY tenancy_isolation ON tap_tt.orders;
RESET ROLE;
SELECT * FROM check_test(
    tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_app', '{"item": "book"}'),
    false, 'is_isolated without the policy',
    'table tap_tt.orders is isolated between tenants for role tap_tt_app',
    'as tenant A, role tap_tt_app sees none of A''s rows, so the refusals below prove nothing (is there a policy admitting them?)');
SET ROLE tap_tt_owner;
SELECT tenancy.protect('tap_tt.orders');  -- restores the policy

-- A second, permissive policy admits every tenant's rows.
CREATE POLICY everything ON tap_tt.orders USING (true);
RESET ROLE;
SELECT * FROM check_test(
    tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_app', '{"item": "book"}'),
    false, 'is_isolated with a permissive policy beside protect''s',
    'table tap_tt.orders is isolated between tenants for role tap_tt_app',
    '^SELECT on tap_tt\.orders: read 1 row\(s\) of other tenants\n'
    'SELECT with no tenant set on tap_tt\.orders: read 2 row\(s\) of other tenants\n'
    'COPY TO on tap_tt\.orders: wrote 2 row\(s\), 1 of them not tenant B''s\n'
    'UPDATE moving tenant A''s rows to tenant B on tap_tt\.orders: reached 1 row\(s\) of other tenants\n'
    'DELETE on tap_tt\.orders: reached 1 row\(s\) of other tenants\n'
    'INSERT \.\.\. ON CONFLICT \(id\) DO UPDATE on tap_tt\.orders: changed tenant A''s rows \(1 row\(s\) before, 0 after\)$',
    true);
SET ROLE tap_tt_owner;
DROP POLICY everything ON tap_tt.orders;
RESET ROLE;

-- The owner can switch row-level security off, and so is not isolated.
SELECT * FROM check_test(
    tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_owner', '{"item": "book"}'),
    false, 'is_isolated for the table owner',
    'table tap_tt.orders is isolated between tenants for role tap_tt_owner',
    '^TRUNCATE on tap_tt\.orders: changed tenant A''s rows \(1 row\(s\) before, 0 after\)\n'
    'ALTER TABLE \.\.\. DISABLE ROW LEVEL SECURITY on tap_tt\.orders: succeeded: the role can switch the isolation off\n'
    'ALTER TABLE \.\.\. NO FORCE ROW LEVEL SECURITY on tap_tt\.orders: succeeded: the role can switch the isolation off\n'
    'ALTER TABLE \.\.\. DISABLE TRIGGER USER on tap_tt\.orders: succeeded: the role can switch the isolation off\n'
    'DROP POLICY tenancy_isolation on tap_tt\.orders: succeeded: the role can switch the isolation off$',
    true);

SELECT * FROM check_test(
    tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_bypass', '{"item": "book"}'),
    false, 'is_isolated for a BYPASSRLS role',
    'table tap_tt.orders is isolated between tenants for role tap_tt_bypass',
    'role tap_tt_bypass bypasses row-level security (superuser or BYPASSRLS): it reads and writes every tenant');
SELECT * FROM check_test(
    tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_member', '{"item": "book"}'),
    false, 'is_isolated for a member of a BYPASSRLS role',
    'table tap_tt.orders is isolated between tenants for role tap_tt_member',
    'role tap_tt_member is a member of tap_tt_bypass, which bypass(es) row-level security (SET ROLE)');
SELECT * FROM check_test(
    tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_nogrant', '{"item": "book"}'),
    false, 'is_isolated for a role that may not read the table',
    'table tap_tt.orders is isolated between tenants for role tap_tt_nogrant',
    'as tenant A, role tap_tt_nogrant cannot read tap_tt.orders (42501: permission denied for table orders), so the refusals below prove nothing');
SELECT * FROM check_test(
    tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_app'),
    false, 'is_isolated without a sample the table accepts',
    'table tap_tt.orders is isolated between tenants for role tap_tt_app',
    '^could not write a sample row of tap_tt\.orders \(23502: null value in column "item"',
    true);

-- A table nobody protected, and one without a tenant column at all.
SET ROLE tap_tt_owner;
CREATE TABLE tap_tt.notes (tenant_id bigint, body text);
GRANT SELECT, INSERT, UPDATE, DELETE ON tap_tt.notes TO tap_tt_app;
CREATE TABLE tap_tt.plans (id bigint, name text);
RESET ROLE;
SELECT * FROM check_test(
    tenancy_tap.is_isolated('tap_tt.notes', 'tap_tt_app', '{"body": "hello"}'),
    false, 'is_isolated on an unprotected table',
    'table tap_tt.notes is isolated between tenants for role tap_tt_app',
    '^SELECT on tap_tt\.notes: read 1 row\(s\) of other tenants\n.*'
    'INSERT of a row for tenant A on tap_tt\.notes: changed tenant A''s rows \(1 row\(s\) before, 2 after\)\n.*'
    'tap_tt\.notes is not protected by tenancy\.protect$',
    true);
SELECT * FROM check_test(
    tenancy_tap.is_isolated('tap_tt.plans', 'tap_tt_app'),
    false, 'is_isolated on a table without a tenant column',
    'table tap_tt.plans is isolated between tenants for role tap_tt_app',
    'tap_tt.plans is not protected (tenancy.protect) and has no tenant_id column');

-- An application role granted ALL, as `GRANT ALL ON ALL TABLES` gives it:
-- TRUNCATE is refused by protect's TRUNCATE guard, so it stays isolated.
CREATE ROLE tap_tt_all;
GRANT USAGE ON SCHEMA tenancy TO tap_tt_all;
GRANT USAGE ON SCHEMA tap_tt TO tap_tt_all;
GRANT ALL ON tap_tt.orders TO tap_tt_all;
SELECT * FROM check_test(
    tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_all', '{"item": "book"}'),
    true, 'is_isolated for a role granted ALL',
    'table tap_tt.orders is isolated between tenants for role tap_tt_all', '');
SET ROLE tap_tt_owner;
ALTER TABLE tap_tt.orders DISABLE TRIGGER tenancy_truncate_guard;
RESET ROLE;
SELECT * FROM check_test(
    tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_all', '{"item": "book"}'),
    false, 'is_isolated for a role granted ALL once the TRUNCATE guard is off',
    'table tap_tt.orders is isolated between tenants for role tap_tt_all',
    'TRUNCATE on tap_tt.orders: changed tenant A''s rows (1 row(s) before, 0 after)');
SET ROLE tap_tt_owner;
ALTER TABLE tap_tt.orders ENABLE TRIGGER tenancy_truncate_guard;

-- A partitioned table, two levels deep: every partition is tried directly.
CREATE TABLE tap_tt.events (tenant_id bigint NOT NULL, at date NOT NULL, what text NOT NULL)
    PARTITION BY RANGE (at);
CREATE TABLE tap_tt.events_2024 PARTITION OF tap_tt.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')
    PARTITION BY HASH (tenant_id);
CREATE TABLE tap_tt.events_2024_h0 PARTITION OF tap_tt.events_2024 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE tap_tt.events_2024_h1 PARTITION OF tap_tt.events_2024 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE tap_tt.events_2025 PARTITION OF tap_tt.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
GRANT ALL ON tap_tt.events, tap_tt.events_2024, tap_tt.events_2024_h0, tap_tt.events_2024_h1, tap_tt.events_2025
    TO tap_tt_all;
SELECT tenancy.protect('tap_tt.events');
RESET ROLE;
SELECT * FROM check_test(
    tenancy_tap.is_isolated('tap_tt.events', 'tap_tt_all', '{"at": "2024-06-01", "what": "login"}'),
    true, 'is_isolated on a protected partitioned table, through it and each partition',
    'table tap_tt.events is isolated between tenants for role tap_tt_all', '');
-- A partition whose policy is gone is reached directly, though not through the parent.
SET ROLE tap_tt_owner;
CREATE POLICY everything ON tap_tt.events_2024_h0 USING (true);
CREATE POLICY everything ON tap_tt.events_2024_h1 USING (true);
RESET ROLE;
SELECT * FROM check_test(
    tenancy_tap.is_isolated('tap_tt.events', 'tap_tt_all', '{"at": "2024-06-01", "what": "login"}'),
    false, 'is_isolated on a partitioned table with a leaky partition',
    'table tap_tt.events is isolated between tenants for role tap_tt_all',
    'SELECT on tap_tt\.events_2024_h[01]: read 1 row\(s\) of other tenants', true);
SET ROLE tap_tt_owner;
DROP POLICY everything ON tap_tt.events_2024_h0;
DROP POLICY everything ON tap_tt.events_2024_h1;
RESET ROLE;

-- The form for two existing tenants and their own rows.
SELECT tenancy.create_tenant('tap-tt-a') AS ta, tenancy.create_tenant('tap-tt-b') AS tb,
       tenancy.create_tenant('tap-tt-empty') AS tempty \gset
INSERT INTO tap_tt.orders (tenant_id, item) VALUES (:ta, 'a1'), (:ta, 'a2'), (:tb, 'b1');
SELECT * FROM check_test(
    tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_app', :ta, :tb),
    true, 'is_isolated between two existing tenants',
    'table tap_tt.orders is isolated between tenants for role tap_tt_app', '');
SELECT * FROM check_test(
    tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_app', :tempty, :tb),
    false, 'is_isolated for an existing tenant without rows',
    'table tap_tt.orders is isolated between tenants for role tap_tt_app',
    format('tenant %s has no row in tap_tt.orders: there is nothing to prove isolated', :tempty));
SELECT results_eq('SELECT tenant_id, item FROM tap_tt.orders ORDER BY item',
                  format('VALUES (%s::bigint, %L::text), (%s, %L), (%s, %L)', :ta, 'a1', :ta, 'a2', :tb, 'b1'),
                  'the existing rows are unchanged');

-- Arguments -------------------------------------------------------------------------

SELECT throws_ok($$SELECT tenancy_tap.is_isolated(NULL, 'tap_tt_app')$$, '22023',
                 'argument tbl must not be NULL', 'is_isolated: a NULL table is 22023');
SELECT throws_ok($$SELECT tenancy_tap.is_isolated('tap_tt.orders', NULL)$$, '22023',
                 'argument as_role must not be NULL', 'is_isolated: a NULL role is 22023');
SELECT throws_ok($$SELECT tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_no_such_role')$$, '42704',
                 'role "tap_tt_no_such_role" does not exist', 'is_isolated: an unknown role is 42704');
SELECT throws_ok($$SELECT tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_app', '[1]')$$, '22023',
                 'sample must be a JSON object of column values', 'is_isolated: a sample that is not an object is 22023');
SELECT throws_ok($$SELECT tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_app', NULL::jsonb)$$, '22023',
                 'sample must be a JSON object of column values', 'is_isolated: a NULL sample is 22023');
SELECT throws_ok(format('SELECT tenancy_tap.is_isolated(%L, %L, %s, %s)', 'tap_tt.orders', 'tap_tt_app', :ta, :ta), '22023',
                 'tenant_a and tenant_b must be two different tenants', 'is_isolated: one tenant twice is 22023');
SELECT throws_ok(format('SELECT tenancy_tap.is_isolated(%L, %L, NULL, %s)', 'tap_tt.orders', 'tap_tt_app', :tb), '22023',
                 'argument tenant_a must not be NULL', 'is_isolated: a NULL tenant is 22023');
SELECT throws_ok(format('SELECT tenancy_tap.is_isolated(%L, %L, %s, %s)', 'tap_tt.orders', 'tap_tt_app', :ta, 9223372036854775807),
                 'TN001', NULL, 'is_isolated: an unknown tenant is tenancy''s TN001');
SELECT throws_ok($$SELECT tenancy_tap.is_isolated('tap_tt.no_such_table', 'tap_tt_app')$$, '42P01', NULL,
                 'is_isolated: an unknown table is 42P01');
SET ROLE tap_tt_owner;
SELECT throws_ok($$SELECT tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_app')$$, '42501', NULL,
                 'is_isolated is not executable by PUBLIC');
RESET ROLE;
GRANT EXECUTE ON FUNCTION tenancy_tap.is_isolated(regclass, name, jsonb, text),
                          tenancy_tap._is_isolated(regclass, name, jsonb, bigint, bigint, text) TO tap_tt_owner;
SET ROLE tap_tt_owner;
SELECT throws_ok($$SELECT tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_app')$$, '42501',
                 'tenancy_tap.is_isolated must be called by a superuser', 'even when granted, it needs a superuser');
RESET ROLE;

-- Hostile inputs: every one ends in its documented SQLSTATE, or in a failing
-- test with the reason, never in XX000.
SELECT throws_ok($$SELECT tenancy_tap.is_isolated('"; DROP TABLE tap_tt.orders; --', 'tap_tt_app')$$, '42602', NULL,
                 'is_isolated: SQL as a table name is a regclass input error');
SELECT throws_ok($$SELECT tenancy_tap.is_isolated('tap_tt.orders', '"; DROP ROLE tap_tt_app; --')$$, '42704', NULL,
                 'is_isolated: SQL as a role name is an unknown role');
SELECT throws_ok(format('SELECT tenancy_tap.is_isolated(%L, %L)', 'tap_tt.orders', repeat('r', 5000)), '42704', NULL,
                 'is_isolated: a 5000-character role name is an unknown role');
SELECT throws_ok($$SELECT tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_app', 'not json')$$, '22P02', NULL,
                 'is_isolated: a sample that is not JSON');
SELECT throws_ok($$SELECT tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_app', -9223372036854775808, 9223372036854775807)$$,
                 'TN001', NULL, 'is_isolated: the smallest and largest bigint as tenants');
SELECT throws_ok($$SELECT tenancy_tap.is_isolated(42, 'tap_tt_app')$$, '42P01',
                 'relation with OID 42 does not exist', 'is_isolated: an OID that names nothing');
CREATE VIEW tap_tt.order_view AS SELECT * FROM tap_tt.orders;
SELECT throws_ok($$SELECT tenancy_tap.is_isolated('tap_tt.order_view', 'tap_tt_app')$$, '42809',
                 'tap_tt.order_view is not a table', 'is_isolated: a view is 42809');
DROP VIEW tap_tt.order_view;
SELECT * FROM check_test(
    tenancy_tap.is_isolated('tap_tt.orders', 'tap_tt_app', '{"item": "x", "no such column; DROP TABLE tap_tt.orders": 1}'),
    false, 'is_isolated with a sample naming an unknown (hostile) column',
    'table tap_tt.orders is isolated between tenants for role tap_tt_app',
    '^could not write a sample row of tap_tt\.orders \(42703: column "no such column; DROP TABLE tap_tt\.orders" of relation "orders" does not exist\)',
    true);
SELECT has_table('tap_tt', 'orders', 'and the table is still there');
SELECT throws_ok($$SELECT tenancy_tap.all_protected('"; DROP SCHEMA tap_tt CASCADE; --')$$, '3F000', NULL,
                 'all_protected: SQL as a schema name is an unknown schema');
SELECT throws_ok($$SELECT tenancy_tap.all_protected('tap_tt', ARRAY[NULL]::name[])$$, '22023',
                 'exempt must not contain NULL', 'all_protected: a NULL in the exemption list (which would exempt all) is 22023');
SELECT throws_ok($$SELECT tenancy_tap.all_protected(123)$$, '42883', NULL, 'all_protected: a number for the schema');
SET ROLE tap_tt_nogrant;
SELECT throws_ok($$SELECT tenancy_tap.required_rows_present()$$, '42501', NULL,
                 'required_rows_present: a role without EXECUTE on tenancy.check is refused');
RESET ROLE;
CREATE ROLE tap_tt_outsider;
SET ROLE tap_tt_outsider;
SELECT throws_ok($$SELECT tenancy_tap.all_protected('tap_tt')$$, '42501', NULL,
                 'all_protected: a role without USAGE on schema tenancy is refused');
RESET ROLE;

-- all_protected ----------------------------------------------------------------------

SELECT * FROM check_test(
    tenancy_tap.all_protected('tap_tt', ARRAY['notes', 'plans']::name[]),
    true, 'all_protected with the unprotected tables exempt',
    'every table of schema tap_tt is protected', '');
SELECT * FROM check_test(
    tenancy_tap.all_protected('tap_tt'),
    false, 'all_protected with two unprotected tables',
    'every table of schema tap_tt is protected',
    E'tap_tt.notes is not protected\ntap_tt.plans is not protected');
SELECT * FROM check_test(
    tenancy_tap.all_protected('tap_tt', 'my tables are protected'),
    false, 'all_protected with a description',
    'my tables are protected');
SET ROLE tap_tt_owner;
ALTER TABLE tap_tt.orders DISABLE TRIGGER tenancy_tenant_guard;
ALTER TABLE tap_tt.orders DISABLE TRIGGER tenancy_truncate_guard;
ALTER TABLE tap_tt.orders NO FORCE ROW LEVEL SECURITY;
RESET ROLE;
SELECT * FROM check_test(
    tenancy_tap.all_protected('tap_tt', ARRAY['notes', 'plans']::name[]),
    false, 'all_protected with a protected table that lost parts',
    'every table of schema tap_tt is protected',
    'tap_tt.orders is protected but lacks: forced row-level security, guard trigger, TRUNCATE guard trigger');
SET ROLE tap_tt_owner;
SELECT tenancy.protect('tap_tt.orders');
RESET ROLE;
SELECT throws_ok($$SELECT tenancy_tap.all_protected('tap_tt_no_such_schema')$$, '3F000',
                 'schema "tap_tt_no_such_schema" does not exist', 'all_protected: an unknown schema is 3F000');
SELECT throws_ok($$SELECT tenancy_tap.all_protected(NULL)$$, '22023',
                 'argument schema must not be NULL', 'all_protected: a NULL schema is 22023');
SELECT throws_ok($$SELECT tenancy_tap.all_protected('tap_tt', NULL::name[])$$, '22023',
                 'argument exempt must not be NULL', 'all_protected: a NULL exemption list is 22023');

-- no_audit_findings --------------------------------------------------------------------

-- A clean schema: an ordinary owner, the tenant column first in every key.
CREATE SCHEMA tap_tt_clean AUTHORIZATION tap_tt_owner;
SET ROLE tap_tt_owner;
CREATE TABLE tap_tt_clean.docs (tenant_id bigint NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY,
                                title text NOT NULL, PRIMARY KEY (tenant_id, id));
SELECT tenancy.protect('tap_tt_clean.docs');
RESET ROLE;
SELECT * FROM check_test(
    tenancy_tap.no_audit_findings('tap_tt_clean'),
    true, 'no_audit_findings on a clean schema',
    'tenancy.audit finds no hazard in schema tap_tt_clean', '');
SET ROLE tap_tt_owner;
CREATE POLICY open ON tap_tt_clean.docs USING (true);
CREATE UNIQUE INDEX docs_title ON tap_tt_clean.docs (title);
CREATE TABLE tap_tt_clean.notes (tenant_id bigint, body text);
RESET ROLE;
SELECT * FROM check_test(
    tenancy_tap.no_audit_findings('tap_tt_clean', 'the clean schema stays clean'),
    false, 'no_audit_findings with a permissive policy, a unique index and a table without protection',
    'the clean schema stays clean',
    '^error: permissive_policy open on tap_tt_clean\.docs: a permissive policy besides tenancy_isolation[^\n]*\n'
    'error: unique_without_tenant tap_tt_clean\.docs_title on tap_tt_clean\.docs: unique on \(title\)[^\n]*\n'
    '    fix: DROP INDEX tap_tt_clean\.docs_title; CREATE UNIQUE INDEX docs_title ON tap_tt_clean\.docs \(tenant_id, title\);\n'
    'error: unprotected_tenant_table tap_tt_clean\.notes: has the tenant column tenant_id but is not protected[^\n]*\n'
    '    fix: SELECT tenancy\.protect\(''tap_tt_clean\.notes'', ''tenant_id''\);$',
    true);
-- Warnings fail it too: a table owned by a superuser, which FORCE ROW LEVEL
-- SECURITY does not filter.
SET ROLE tap_tt_owner;
DROP POLICY open ON tap_tt_clean.docs;
DROP INDEX tap_tt_clean.docs_title;
DROP TABLE tap_tt_clean.notes;
RESET ROLE;
ALTER TABLE tap_tt_clean.docs OWNER TO postgres;
SELECT * FROM check_test(
    tenancy_tap.no_audit_findings('tap_tt_clean'),
    false, 'no_audit_findings with a warning',
    'tenancy.audit finds no hazard in schema tap_tt_clean',
    '^warning: privileged_table_owner tap_tt_clean\.docs: ', true);
ALTER TABLE tap_tt_clean.docs OWNER TO tap_tt_owner;
SELECT * FROM check_test(tenancy_tap.no_audit_findings('tap_tt_clean'), true, 'no_audit_findings once fixed');
SELECT throws_ok($$SELECT tenancy_tap.no_audit_findings(NULL)$$, '22023',
                 'argument schema must not be NULL', 'no_audit_findings: a NULL schema is 22023');
SELECT throws_ok($$SELECT tenancy_tap.no_audit_findings('tap_tt_no_such_schema')$$, '3F000',
                 'schema "tap_tt_no_such_schema" does not exist', 'no_audit_findings: an unknown schema is 3F000');
SET ROLE tap_tt_nogrant;
SELECT throws_ok($$SELECT tenancy_tap.no_audit_findings('tap_tt_clean')$$, '42501', NULL,
                 'no_audit_findings: a role without EXECUTE on tenancy.audit is refused');
RESET ROLE;

-- required_rows_present --------------------------------------------------------------------

SET ROLE tap_tt_owner;
CREATE TABLE tap_tt.apps (tenant_id bigint, name text NOT NULL, UNIQUE (tenant_id, name));
SELECT tenancy.protect('tap_tt.apps');
SELECT tenancy.require_row('tap_tt.apps', '{"name": "public"}');
RESET ROLE;
SELECT count(*) FROM tenancy.check(repair => true);  -- every tenant so far gets its row
SELECT * FROM check_test(
    tenancy_tap.required_rows_present(),
    true, 'required_rows_present after a repair',
    'every active tenant has every required row', '');
SELECT tenancy.create_tenant('tap-tt-uninitialised') AS uninitialised \gset
SELECT * FROM check_test(
    tenancy_tap.required_rows_present('apps are initialised'),
    false, 'required_rows_present with a tenant that lacks its row',
    'apps are initialised',
    format('^missing_row tap_tt\.apps for tenant %s: no row matching \{"name": "public"\} \(rule [0-9]+\)$', :uninitialised),
    true);
SELECT tenancy.suspend_tenant(:uninitialised);
SELECT * FROM check_test(
    tenancy_tap.required_rows_present(),
    true, 'required_rows_present once that tenant is suspended (only active tenants owe rows)');

-- Security --------------------------------------------------------------------------------

SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
                    JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
                    JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'tenancy_tap'
                   WHERE NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)$$,
                'every tenancy_tap function pins search_path to pg_catalog, pg_temp');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
                    JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
                    JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'tenancy_tap'
                   WHERE p.prosecdef$$,
                'no tenancy_tap function is SECURITY DEFINER');
-- A hostile schema first in search_path does not reach the helpers: evil.ok
-- would print a passing line for anything.
CREATE SCHEMA tap_tt_evil;
CREATE FUNCTION tap_tt_evil.ok(boolean, text) RETURNS text LANGUAGE sql AS $$ SELECT 'ok 999 - hijacked' $$;
CREATE FUNCTION tap_tt_evil.md5(text) RETURNS text LANGUAGE sql AS $$ SELECT 'same' $$;
SET search_path = tap_tt_evil, public, pg_catalog;
SELECT tenancy_tap.is_isolated('tap_tt.notes', 'tap_tt_app', '{"body": "x"}') AS hostile \gset
RESET search_path;
SELECT * FROM check_test(:'hostile', false, 'is_isolated under a hostile search_path still fails an unprotected table');
-- pgTAP's own functions run under pg_catalog first: a function in pgTAP's
-- schema (public, which others may be able to write to) named like a
-- built-in one pgTAP calls does not replace it.  ok() calls substr(text,
-- integer); this one would turn every description into 'hijacked'.
SELECT format('CREATE FUNCTION %s.substr(text, integer) RETURNS text LANGUAGE sql AS %L',
              extnamespace::regnamespace, $$ SELECT 'hijacked' $$)
  FROM pg_extension WHERE extname = 'pgtap' \gexec
SELECT * FROM check_test(
    tenancy_tap.all_protected('tap_tt', ARRAY['notes', 'plans']::name[]),
    true, 'a built-in''s name in pgTAP''s schema does not take over the calls pgTAP makes for tenancy_tap',
    'every table of schema tap_tt is protected', '');
SELECT format('DROP FUNCTION %s.substr(text, integer)', extnamespace::regnamespace)
  FROM pg_extension WHERE extname = 'pgtap' \gexec

-- Only a superuser can create tenancy_tap, so its functions are a
-- superuser's: a database owner who owned them could replace one and have a
-- superuser run it (is_isolated needs one).
SELECT is_empty($$SELECT o.what FROM (
                      SELECT p.oid::regprocedure::text AS what, p.proowner AS owner FROM pg_proc p
                        JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
                        JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'tenancy_tap'
                      UNION ALL SELECT 'schema tenancy_tap', n.nspowner FROM pg_namespace n WHERE n.nspname = 'tenancy_tap') o
                    JOIN pg_roles r ON r.oid = o.owner WHERE NOT r.rolsuper$$,
                'tenancy_tap''s functions and schema are owned by a superuser');
SELECT format('GRANT CREATE ON DATABASE %I TO tap_tt_owner', current_database()) \gexec
SELECT throws_ok($$DROP EXTENSION tenancy_tap; DROP SCHEMA IF EXISTS tenancy_tap;
                   SET LOCAL ROLE tap_tt_owner; CREATE EXTENSION tenancy_tap$$,
                 '42501', 'permission denied to create extension "tenancy_tap"',
                 'a role that may create schemas in the database (its owner) cannot create tenancy_tap');
SELECT has_function('tenancy_tap', 'all_protected', ARRAY['name', 'name[]', 'text'], '(tenancy_tap is still there)');

SELECT * FROM finish();
ROLLBACK;
