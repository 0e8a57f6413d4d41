-- Tenant isolation of protected tables, by every route, for an application
-- role that does not own the table, a second role, the owner and a BYPASSRLS
-- administrator.
BEGIN;
SELECT plan(41);

CREATE ROLE tap_rc_owner;
CREATE ROLE tap_rc_app;
CREATE ROLE tap_rc_reader;
CREATE ROLE tap_rc_admin BYPASSRLS;
GRANT USAGE ON SCHEMA tenancy TO tap_rc_owner, tap_rc_app, tap_rc_reader, tap_rc_admin;
GRANT EXECUTE ON FUNCTION tenancy.protect(regclass, name), tenancy.unprotect(regclass) TO tap_rc_owner, tap_rc_app;
GRANT EXECUTE ON FUNCTION tenancy.set_tenant(bigint, boolean) TO tap_rc_owner, tap_rc_app, tap_rc_reader, tap_rc_admin;
-- COPY from a server file needs this; it is here to reach the RLS check.
GRANT pg_read_server_files TO tap_rc_app;
CREATE SCHEMA tap_rc AUTHORIZATION tap_rc_owner;
GRANT USAGE, CREATE ON SCHEMA tap_rc TO tap_rc_app;
GRANT USAGE ON SCHEMA tap_rc TO tap_rc_reader, tap_rc_admin;

SELECT tenancy.create_tenant('tap-rc-a') AS a, tenancy.create_tenant('tap-rc-b') AS b \gset

SET ROLE tap_rc_owner;
CREATE TABLE tap_rc.notes (id bigint PRIMARY KEY, tenant_id bigint, body text);
GRANT SELECT, INSERT, UPDATE, DELETE ON tap_rc.notes TO tap_rc_app, tap_rc_reader, tap_rc_admin;
SELECT tenancy.protect('tap_rc.notes');
RESET ROLE;
INSERT INTO tap_rc.notes VALUES (1, :a, 'a1'), (2, :a, 'a2'), (3, :b, 'b1');

-- Structure --------------------------------------------------------------------
SELECT is((SELECT complete FROM tenancy.protected_tables WHERE table_name = 'tap_rc.notes'::regclass), true,
          'protect gives the table every part');
SELECT policies_are('tap_rc', 'notes', ARRAY['tenancy_isolation'], 'the table has the isolation policy');
SELECT trigger_is('tap_rc', 'notes', 'tenancy_tenant_guard', 'tenancy', 'tenant_guard', 'the guard trigger calls tenancy.tenant_guard');
SELECT col_not_null('tap_rc', 'notes', 'tenant_id', 'the tenant column is NOT NULL');
SELECT fk_ok('tap_rc', 'notes', 'tenant_id', 'tenancy', 'tenant', 'id', 'the tenant column references tenancy.tenant');
SELECT is((SELECT relforcerowsecurity FROM pg_class WHERE oid = 'tap_rc.notes'::regclass), true, 'RLS is forced');

-- Ownership ------------------------------------------------------------------------
SET ROLE tap_rc_app;
SELECT throws_ok($$SELECT tenancy.unprotect('tap_rc.notes')$$, '42501', 'must be owner of table tap_rc.notes',
                 'a role with EXECUTE but not the owner cannot unprotect');
SELECT throws_ok($$SELECT tenancy.protect('tenancy.tenant', 'id')$$, '42501', NULL,
                 'nor protect a table it does not own');

-- Tenant A, as the application role -------------------------------------------------
SELECT tenancy.set_tenant(:a);
SELECT results_eq($$SELECT id FROM tap_rc.notes ORDER BY id$$, ARRAY[1::bigint, 2], 'A sees exactly its rows');
SELECT is((SELECT count(*) FROM tap_rc.notes WHERE tenant_id = :b), 0::bigint, 'A cannot read B''s rows even by asking');
UPDATE tap_rc.notes SET body = 'hacked' WHERE id = 3;
DELETE FROM tap_rc.notes WHERE id = 3;
SELECT throws_ok(format('INSERT INTO tap_rc.notes VALUES (10, %s, %L)', :b, 'x'), '42501',
                 format('row of table tap_rc.notes belongs to tenant %s, not to the current tenant %s', :b, :a),
                 'A cannot insert a row of B: 42501 naming table, row tenant and current tenant');
SELECT throws_ok($$UPDATE tap_rc.notes SET tenant_id = $$ || :b || $$ WHERE id = 1$$, '42501',
                 format('cannot move a row of table tap_rc.notes from tenant %s to tenant %s', :a, :b),
                 'A cannot move its row to B');
SELECT lives_ok($$INSERT INTO tap_rc.notes (id, body) VALUES (4, 'a4')$$, 'an insert without tenant_id lives');
-- ON CONFLICT: B's row 3 conflicts on the primary key.
SELECT throws_ok($$INSERT INTO tap_rc.notes VALUES (3, $$ || :a || $$, 'x') ON CONFLICT (id) DO UPDATE SET body = 'taken'$$,
                 '42501', NULL, 'INSERT ... ON CONFLICT DO UPDATE cannot update B''s row');
SELECT lives_ok($$INSERT INTO tap_rc.notes VALUES (3, $$ || :a || $$, 'x') ON CONFLICT DO NOTHING$$,
                'INSERT ... ON CONFLICT DO NOTHING on B''s key does nothing');
SELECT throws_ok($$COPY tap_rc.notes FROM '/dev/null'$$, '0A000', 'COPY FROM not supported with row-level security',
                 'COPY FROM is refused for a role under the policy');
-- A view owned by the application role: the policy still applies, with the
-- querying session's tenant.
CREATE VIEW tap_rc.app_notes AS SELECT id, tenant_id, body FROM tap_rc.notes;
GRANT SELECT, INSERT ON tap_rc.app_notes TO tap_rc_reader;
SELECT results_eq($$SELECT id FROM tap_rc.app_notes ORDER BY id$$, ARRAY[1::bigint, 2, 4], 'A through its view sees its rows');
SELECT throws_ok(format('INSERT INTO tap_rc.app_notes VALUES (11, %s, %L)', :b, 'x'), '42501', NULL,
                 'nor can it insert B''s row through its view');
RESET ROLE;

SELECT results_eq($$SELECT id, tenant_id, body FROM tap_rc.notes WHERE tenant_id = $$ || :b,
                  format('VALUES (3::bigint, %s::bigint, %L)', :b, 'b1'),
                  'B''s row survived A''s update, delete and upserts unchanged');
SELECT is((SELECT tenant_id FROM tap_rc.notes WHERE id = 4), :a::bigint, 'the NULL tenant_id was filled with A');

-- COPY TO shows only the current tenant's rows.
GRANT pg_write_server_files TO tap_rc_app;
SET ROLE tap_rc_app;
SELECT tenancy.set_tenant(:b);
COPY tap_rc.notes (id) TO '/tmp/tenancy_pgtap_rowcheck_copy.txt';
RESET ROLE;
SELECT is(pg_read_file('/tmp/tenancy_pgtap_rowcheck_copy.txt'), E'3\n', 'COPY TO as B writes only B''s rows');

-- A second role, through the application role's view --------------------------
SET ROLE tap_rc_reader;
SELECT tenancy.set_tenant(:b);
SELECT results_eq($$SELECT id FROM tap_rc.app_notes$$, ARRAY[3::bigint], 'B through the app''s view sees only B');
SELECT throws_ok(format('INSERT INTO tap_rc.app_notes VALUES (12, %s, %L)', :a, 'x'), '42501', NULL,
                 'and cannot insert A''s row through it');
SELECT tenancy.clear_tenant();
SELECT is((SELECT count(*) FROM tap_rc.notes), 0::bigint, 'no tenant set: nothing visible');
SELECT is((SELECT count(*) FROM tap_rc.app_notes), 0::bigint, 'no tenant set: nothing visible through a view');
SELECT throws_ok($$INSERT INTO tap_rc.notes (id, body) VALUES (13, 'x')$$, '42501',
                 'no tenant is set: cannot write a row of table tap_rc.notes', 'no tenant set: an insert is refused');
UPDATE tap_rc.notes SET body = 'nobody';
SELECT is((SELECT count(*) FROM tap_rc.notes WHERE body = 'nobody'), 0::bigint, 'no tenant set: an update changes nothing');
RESET ROLE;
SELECT is((SELECT count(*) FROM tap_rc.notes WHERE body = 'nobody'), 0::bigint, '(checked as superuser)');

-- The owner is under the policy too (FORCE ROW LEVEL SECURITY) ----------------
SET ROLE tap_rc_owner;
SELECT is((SELECT count(*) FROM tap_rc.notes), 0::bigint, 'the owner without a tenant sees nothing');
SELECT tenancy.set_tenant(:b);
SELECT results_eq($$SELECT id FROM tap_rc.notes$$, ARRAY[3::bigint], 'the owner as B sees only B');
RESET ROLE;

-- A BYPASSRLS administrator sees and writes every tenant -------------------
SET ROLE tap_rc_admin;
SELECT tenancy.clear_tenant();
SELECT is((SELECT count(*) FROM tap_rc.notes), 4::bigint, 'BYPASSRLS sees all rows without a tenant');
SELECT tenancy.set_tenant(:a);
SELECT lives_ok(format('INSERT INTO tap_rc.notes VALUES (20, %s, %L)', :b, 'by admin'),
                'BYPASSRLS may write another tenant''s row');
SELECT lives_ok($$INSERT INTO tap_rc.notes (id, body) VALUES (21, 'filled')$$, 'and gets NULL filled from its tenant');
SELECT tenancy.clear_tenant();
SELECT throws_ok($$INSERT INTO tap_rc.notes (id, body) VALUES (22, 'x')$$, '23502', NULL,
                 'without a tenant, a NULL tenant_id is refused by NOT NULL');
RESET ROLE;
SELECT is((SELECT tenant_id FROM tap_rc.notes WHERE id = 21), :a::bigint, 'the admin''s NULL was filled with A');

-- Protecting is idempotent and refuses what cannot be protected ---------------
SET ROLE tap_rc_owner;
SELECT lives_ok($$SELECT tenancy.protect('tap_rc.notes')$$, 'protect twice lives');
SELECT is((SELECT count(*) FROM pg_policy WHERE polrelid = 'tap_rc.notes'::regclass), 1::bigint, 'and adds nothing');
SELECT throws_ok($$SELECT tenancy.protect('tap_rc.notes', 'id')$$, '22023',
                 'table tap_rc.notes is already protected on column tenant_id', 'another column is refused');
CREATE TABLE tap_rc.nulls (tenant_id bigint);
INSERT INTO tap_rc.nulls VALUES (NULL), (NULL);
SELECT throws_ok($$SELECT tenancy.protect('tap_rc.nulls')$$, '23502',
                 'table tap_rc.nulls has 2 rows whose tenant_id is NULL', 'rows with a NULL tenant are refused');
SELECT is((SELECT count(*) FROM tenancy.protected_tables WHERE table_name = 'tap_rc.nulls'::regclass), 0::bigint,
          'and nothing of the failed protect remains');
CREATE VIEW tap_rc.v AS SELECT 1::bigint AS tenant_id;
SELECT throws_ok($$SELECT tenancy.protect('tap_rc.v')$$, '42809', NULL, 'a view cannot be protected');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
