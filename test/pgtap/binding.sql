-- Tenant binding: bind_role, unbind_role, role_bindings, require_binding and
-- set_tenant_by_api_key; whose bindings count (session user, SET ROLE,
-- membership, SECURITY DEFINER functions) and every error.
BEGIN;
SELECT plan(67);

SELECT tenancy.create_tenant('tap-bind-a') AS a, tenancy.create_tenant('tap-bind-b') AS b,
       tenancy.create_tenant('tap-bind-c') AS c \gset

CREATE ROLE tap_bind_admin;          -- administers bindings
CREATE ROLE tap_bind_login;          -- a per-customer login, bound to A
CREATE ROLE tap_bind_free;           -- no bindings
CREATE ROLE tap_bind_group;          -- a group bound to B
CREATE ROLE tap_bind_member IN ROLE tap_bind_group;
CREATE ROLE tap_bind_noinherit NOINHERIT IN ROLE tap_bind_group;
CREATE ROLE tap_bind_worker;         -- granted set_tenant_by_api_key only
CREATE ROLE tap_bind_multi IN ROLE tap_bind_login, tap_bind_group;  -- A through one group, B through another
GRANT USAGE ON SCHEMA tenancy TO tap_bind_admin, tap_bind_login, tap_bind_free, tap_bind_group,
    tap_bind_member, tap_bind_noinherit, tap_bind_worker, tap_bind_multi;
GRANT EXECUTE ON FUNCTION tenancy.bind_role(regrole, bigint), tenancy.unbind_role(regrole, bigint) TO tap_bind_admin;
GRANT SELECT ON tenancy.role_bindings TO tap_bind_admin;
GRANT EXECUTE ON FUNCTION tenancy.set_tenant(bigint, boolean)
    TO tap_bind_login, tap_bind_free, tap_bind_group, tap_bind_member, tap_bind_noinherit, tap_bind_multi;
GRANT EXECUTE ON FUNCTION tenancy.set_tenant_by_api_key(text, boolean) TO tap_bind_worker, tap_bind_login;
-- The login may SET ROLE to the free role (SET ROLE needs membership).
GRANT tap_bind_free TO tap_bind_login;

-- Structure --------------------------------------------------------------------
SELECT has_table('tenancy', 'role_binding', 'tenancy.role_binding exists');
SELECT col_is_pk('tenancy', 'role_binding', ARRAY['role', 'tenant_id'], 'one row per role and tenant');
SELECT fk_ok('tenancy', 'role_binding', 'tenant_id', 'tenancy', 'tenant', 'id', 'bindings reference tenants');
SELECT has_view('tenancy', 'role_bindings', 'tenancy.role_bindings exists');
SELECT has_role('tenancy_admin', 'the extension creates tenancy_admin');
SELECT is((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'tenancy_admin'), false, 'tenancy_admin cannot log in');
SELECT ok(has_function_privilege('tenancy_admin', 'tenancy.set_tenant(bigint, boolean)', 'EXECUTE'),
          'tenancy_admin may execute set_tenant');
SELECT is((SELECT setting FROM pg_settings WHERE name = 'tenancy.require_binding'), 'off',
          'tenancy.require_binding is off by default');
SELECT is((SELECT context FROM pg_settings WHERE name = 'tenancy.require_binding'), 'superuser',
          'tenancy.require_binding can be changed by superusers only');

-- bind_role / unbind_role -----------------------------------------------------------
SET ROLE tap_bind_admin;
SELECT is(tenancy.bind_role('tap_bind_login', :a), true, 'bind_role returns true for a new binding');
SELECT is(tenancy.bind_role('tap_bind_login', :a), false, 'and false when it exists');
SELECT is(tenancy.bind_role('tap_bind_group', :b), true, 'a group role can be bound');
SELECT results_eq(
    format($$SELECT role::text, role_exists, tenant, slug, status FROM tenancy.role_bindings
              WHERE tenant IN (%s, %s) ORDER BY tenant$$, :a, :b),
    format($$VALUES ('tap_bind_login', true, %s::bigint, 'tap-bind-a', 'active'),
                    ('tap_bind_group', true, %s::bigint, 'tap-bind-b', 'active')$$, :a, :b),
    'role_bindings lists role, tenant, slug and status');
SELECT throws_ok($$SELECT tenancy.bind_role(NULL, 1)$$, '22023', 'role must not be NULL', 'NULL role: 22023');
SELECT throws_ok(format('SELECT tenancy.bind_role(%L, NULL)', 'tap_bind_login'), '22023', 'tenant must not be NULL',
                 'NULL tenant: 22023');
SELECT throws_ok($$SELECT tenancy.bind_role('tap_bind_login', 9223372036854775807)$$, 'TN001',
                 'tenant 9223372036854775807 does not exist', 'unknown tenant: TN001');
SELECT throws_ok($$SELECT tenancy.bind_role(4294967295::oid::regrole, 1)$$, '42704',
                 'role with OID 4294967295 does not exist', 'a role OID that names no role: 42704');
SELECT throws_ok($$SELECT tenancy.bind_role('tap_bind_nobody', 1)$$, '42704', NULL, 'an unknown role name: 42704');
SELECT throws_ok(format('SELECT tenancy.unbind_role(%L, -1)', 'tap_bind_login'), 'TN001', NULL,
                 'unbind_role for an unknown tenant: TN001');
SELECT is(tenancy.unbind_role('tap_bind_login', :c), false, 'unbind_role returns false when there was no binding');
RESET ROLE;

SET ROLE tap_bind_login;
SELECT throws_ok(format('SELECT tenancy.bind_role(%L, %s)', 'tap_bind_login', :c), '42501', NULL,
                 'a role without the grant cannot bind itself');
SELECT throws_ok(format('SELECT tenancy.unbind_role(%L, %s)', 'tap_bind_login', :a), '42501', NULL,
                 'nor unbind itself');
SELECT throws_ok('SELECT * FROM tenancy.role_binding', '42501', NULL, 'nor read the bindings table');
RESET ROLE;

-- A bound role acts only as its tenants -----------------------------------------------
SET ROLE tap_bind_login;
SELECT lives_ok(format('SELECT tenancy.set_tenant(%s)', :a), 'a bound role sets its tenant');
SELECT is(tenancy.current_tenant(), :a::bigint, 'and acts as it');
SELECT throws_ok(format('SELECT tenancy.set_tenant(%s)', :b), '42501',
                 format('role "tap_bind_login" may not act as tenant %s', :b),
                 'another tenant: 42501 naming the role and the tenant');
SELECT throws_ok('SELECT tenancy.set_tenant(9223372036854775807)', '42501', NULL,
                 'an unknown tenant is refused the same way: a bound role cannot probe for tenants');
SELECT is(tenancy.current_tenant(), :a::bigint, 'a refused set_tenant leaves the tenant unchanged');
SELECT lives_ok('SELECT tenancy.clear_tenant()', 'clear_tenant is not restricted');
RESET ROLE;

SET ROLE tap_bind_free;
SELECT lives_ok(format('SELECT tenancy.set_tenant(%s)', :c), 'a role without bindings acts as any tenant');
RESET ROLE;

-- Membership: a group's bindings restrict its members, INHERIT or not ---------------------
SET ROLE tap_bind_member;
SELECT lives_ok(format('SELECT tenancy.set_tenant(%s)', :b), 'a member of a bound group sets the group''s tenant');
SELECT throws_ok(format('SELECT tenancy.set_tenant(%s)', :a), '42501', NULL, 'but no other');
RESET ROLE;
SET ROLE tap_bind_noinherit;
SELECT throws_ok(format('SELECT tenancy.set_tenant(%s)', :a), '42501', NULL,
                 'a NOINHERIT member is restricted too (it could SET ROLE to the group)');
RESET ROLE;

-- The session user and SET ROLE both count -------------------------------------------
SET SESSION AUTHORIZATION tap_bind_login;
SET ROLE tap_bind_free;
SELECT throws_ok(format('SELECT tenancy.set_tenant(%s)', :b), '42501',
                 format('role "tap_bind_login" may not act as tenant %s', :b),
                 'SET ROLE to an unbound role does not lift the session user''s binding');
SELECT lives_ok(format('SELECT tenancy.set_tenant(%s)', :a), 'the session user''s tenant stays allowed');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION tap_bind_multi;
SELECT lives_ok(format('SELECT tenancy.set_tenant(%s)', :a), 'a member of two bound groups acts as either tenant (A)');
SELECT lives_ok(format('SELECT tenancy.set_tenant(%s)', :b), '(and B)');
SET ROLE tap_bind_group;
SELECT throws_ok(format('SELECT tenancy.set_tenant(%s)', :a), '42501',
                 format('role "tap_bind_group" may not act as tenant %s', :a),
                 'SET ROLE to one of the groups narrows it to that group''s tenants');
RESET ROLE;
SELECT lives_ok(format('SELECT tenancy.set_tenant(%s)', :a), 'and RESET ROLE widens it again');
-- The rule is applied by set_tenant, so SET ROLE narrows the next call only
-- (docs/rowcheck.md): the tenant set just now stays current.
SET ROLE tap_bind_group;
SELECT is(tenancy.current_tenant(), :a::bigint,
          'a tenant set before SET ROLE stays current, even one the new role is not bound to');
RESET ROLE;
RESET SESSION AUTHORIZATION;

-- SECURITY DEFINER functions do not change whose bindings count ----------------------
CREATE FUNCTION public.tap_bind_switch(t bigint) RETURNS bigint LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog AS $$ SELECT tenancy.set_tenant(t); SELECT tenancy.current_tenant() $$;
ALTER FUNCTION public.tap_bind_switch(bigint) OWNER TO tap_bind_free;
GRANT EXECUTE ON FUNCTION public.tap_bind_switch(bigint) TO tap_bind_login;
CREATE FUNCTION public.tap_bind_switch_bound(t bigint) RETURNS bigint LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog AS $$ SELECT tenancy.set_tenant(t); SELECT tenancy.current_tenant() $$;
ALTER FUNCTION public.tap_bind_switch_bound(bigint) OWNER TO tap_bind_login;
GRANT EXECUTE ON FUNCTION public.tap_bind_switch_bound(bigint) TO tap_bind_free;
SET ROLE tap_bind_login;
SELECT throws_ok(format('SELECT public.tap_bind_switch(%s)', :b), '42501', NULL,
                 'a SECURITY DEFINER function of an unbound owner cannot lift the caller''s binding');
RESET ROLE;
SET ROLE tap_bind_free;
SELECT is(public.tap_bind_switch_bound(:b), :b::bigint,
          'a SECURITY DEFINER function of a bound owner does not restrict an unbound caller');
RESET ROLE;

-- require_binding ----------------------------------------------------------------------
SET tenancy.require_binding = on;
SET ROLE tap_bind_free;
SELECT throws_ok(format('SELECT tenancy.set_tenant(%s)', :a), '42501',
                 format('role "tap_bind_free" may not act as tenant %s', :a),
                 'require_binding: a role without bindings acts as no tenant');
RESET ROLE;
SET ROLE tap_bind_login;
SELECT lives_ok(format('SELECT tenancy.set_tenant(%s)', :a), 'require_binding: a bound role still sets its tenant');
RESET ROLE;
GRANT tenancy_admin TO tap_bind_free;
SET ROLE tap_bind_free;
SELECT lives_ok(format('SELECT tenancy.set_tenant(%s)', :a), 'require_binding: a member of tenancy_admin acts as any tenant');
RESET ROLE;
REVOKE tenancy_admin FROM tap_bind_free;
SELECT lives_ok(format('SELECT tenancy.set_tenant(%s)', :c), 'require_binding: a superuser acts as any tenant');
RESET tenancy.require_binding;
-- Only superusers change it, by any route.
SET ROLE tap_bind_login;
SELECT throws_ok('SET tenancy.require_binding = off', '42501', NULL, 'SET by a plain role: 42501');
SELECT throws_ok($$SELECT set_config('tenancy.require_binding', 'off', true)$$, '42501', NULL,
                 'set_config by a plain role: 42501');
SELECT throws_ok('ALTER ROLE tap_bind_login SET tenancy.require_binding = off', '42501', NULL,
                 'ALTER ROLE ... SET on itself: 42501');
RESET ROLE;
CREATE SCHEMA tap_bind_own AUTHORIZATION tap_bind_login;
SET ROLE tap_bind_login;
SELECT throws_ok($$CREATE FUNCTION tap_bind_own.f() RETURNS int LANGUAGE sql SET tenancy.require_binding = off
                   AS 'SELECT 1'$$, '42501', NULL, 'a function''s SET clause by a plain role: 42501');
RESET ROLE;

-- unbind_role; a binding of a dropped role ------------------------------------------
SET ROLE tap_bind_admin;
SET client_min_messages = error;  -- the warning that the group is now unrestricted
SELECT is(tenancy.unbind_role('tap_bind_group', :b), true, 'unbind_role returns true when it removed one');
RESET client_min_messages;
RESET ROLE;
SET ROLE tap_bind_member;
SELECT lives_ok(format('SELECT tenancy.set_tenant(%s)', :a), 'after its last binding is gone the member is free again');
RESET ROLE;
CREATE ROLE tap_bind_gone;
SELECT tenancy.bind_role('tap_bind_gone', :c);
SELECT 'tap_bind_gone'::regrole::oid AS gone \gset
DROP ROLE tap_bind_gone;
SELECT results_eq(format('SELECT role::text, role_exists FROM tenancy.role_bindings WHERE tenant = %s', :c),
                  format($$VALUES (%L, false)$$, :gone),
                  'a binding of a dropped role shows its OID and role_exists false');
SELECT is(tenancy.unbind_role(:gone::oid::regrole, :c), true, 'and can be removed by OID');

-- set_tenant_by_api_key ---------------------------------------------------------------
SELECT tenancy.issue_api_key(:a) AS key_a, tenancy.issue_api_key(:b) AS key_b, tenancy.issue_api_key(:c) AS key_c \gset
SELECT tenancy.issue_api_key(:c) AS key_revoked \gset
SET ROLE tap_bind_worker;
SELECT is(tenancy.set_tenant_by_api_key(:'key_b'), :b::bigint, 'a key sets its tenant and returns it');
SELECT is(tenancy.current_tenant(), :b::bigint, 'the tenant is current');
SELECT throws_ok(format('SELECT tenancy.set_tenant(%s)', :a), '42501', NULL,
                 'a role granted only set_tenant_by_api_key cannot choose a tenant by id');
SELECT throws_ok($$SELECT tenancy.set_tenant_by_api_key(NULL)$$, '22023', 'key must not be NULL', 'NULL key: 22023');
SELECT throws_ok(format('SELECT tenancy.set_tenant_by_api_key(%L, NULL)', :'key_b'), '22023',
                 'is_local must not be NULL', 'NULL is_local: 22023');
RESET ROLE;
-- A bound role with another tenant's key: the key is the credential.
SET ROLE tap_bind_login;
SELECT throws_ok(format('SELECT tenancy.set_tenant(%s)', :b), '42501', NULL, 'bound to A: set_tenant(B) is refused');
SELECT is(tenancy.set_tenant_by_api_key(:'key_b'), :b::bigint, 'but B''s key, through the granted function, gives B');
RESET ROLE;
SET ROLE tap_bind_member;
SELECT throws_ok(format('SELECT tenancy.set_tenant_by_api_key(%L)', :'key_b'), '42501', NULL,
                 'without the grant the key is of no use');
RESET ROLE;
SET tenancy.require_binding = on;
SET ROLE tap_bind_worker;
SELECT is(tenancy.set_tenant_by_api_key(:'key_c'), :c::bigint, 'require_binding does not apply to a key login');
RESET ROLE;
RESET tenancy.require_binding;

-- One error for every key that is not valid, whatever the reason.
SELECT tenancy.revoke_api_keys(:c);
SELECT tenancy.delete_tenant(:a);
CREATE TEMP TABLE bad_keys (why text, key text);
INSERT INTO bad_keys VALUES
    ('unknown', 'tnk_' || repeat('0', 64)), ('revoked', :'key_revoked'), ('deleted tenant', :'key_a'),
    ('empty', ''), ('prefix only', 'tnk_'), ('upper case', upper(:'key_b')), ('one character short', left(:'key_b', 67)),
    ('one character more', :'key_b' || '0'), ('not hex', 'tnk_' || repeat('g', 64)), ('no prefix', substr(:'key_b', 5)),
    ('huge', repeat('x', 1000000)), ('NUL-free junk', E'\\x01\\x02'), ('SQL', $$'; DROP TABLE tenancy.tenant; --$$);
CREATE TEMP TABLE bad_key_errors AS SELECT why, ''::text AS error FROM bad_keys WHERE false;
GRANT ALL ON bad_keys, bad_key_errors TO tap_bind_worker;
SET ROLE tap_bind_worker;
DO $$
DECLARE k record; state text; msg text; detail text; hint text;
BEGIN
    FOR k IN SELECT * FROM bad_keys LOOP
        BEGIN
            PERFORM tenancy.set_tenant_by_api_key(k.key);
            INSERT INTO bad_key_errors VALUES (k.why, 'accepted');
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                                    hint = PG_EXCEPTION_HINT;
            INSERT INTO bad_key_errors VALUES (k.why, concat_ws(' | ', state, msg, detail, hint));
        END;
    END LOOP;
END $$;
RESET ROLE;
SELECT is((SELECT count(*) FROM bad_key_errors), (SELECT count(*) FROM bad_keys), 'every bad key was tried');
SELECT results_eq('SELECT DISTINCT error FROM bad_key_errors',
                  $$VALUES ('TN050 | invalid API key |  | Check the key; an administrator issues a new one with tenancy.issue_api_key.')$$,
                  'unknown, revoked, deleted and malformed keys get one identical error (TN050), nothing else');
SELECT tenancy.restore_tenant(:a);
SELECT tenancy.suspend_tenant(:b);
SET ROLE tap_bind_worker;
SELECT throws_ok(format('SELECT tenancy.set_tenant_by_api_key(%L)', :'key_b'), 'TN002', NULL,
                 'a valid key of a suspended tenant: TN002, as set_tenant');
RESET ROLE;

-- A hostile search_path cannot change the binding rule: an operator = that
-- always says true would bind everyone to everything.
CREATE SCHEMA tap_bind_evil;
CREATE FUNCTION tap_bind_evil.always(bigint, bigint) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR tap_bind_evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = tap_bind_evil.always);
GRANT USAGE ON SCHEMA tap_bind_evil TO tap_bind_login;
SET ROLE tap_bind_login;
SET search_path = tap_bind_evil, pg_catalog, public;
SELECT throws_ok(format('SELECT tenancy.set_tenant(%s)', :c), '42501', NULL,
                 'a hostile operator in the caller''s search_path does not bind the role to another tenant');
RESET search_path;
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
