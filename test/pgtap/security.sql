-- Security properties of the whole extension: these checks iterate over every
-- function and table the extension owns, so objects added later are covered too.
BEGIN;
SELECT plan(27);

CREATE TEMP VIEW extension_functions AS
    SELECT p.oid, p.oid::regprocedure::text AS signature, p.proconfig, p.prosecdef, p.proacl, p.prokind
      FROM pg_proc p
      JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'tenancy';

SELECT cmp_ok((SELECT count(*) FROM extension_functions), '>=', 9::bigint, 'the extension has functions to check');
-- The hot functions pin their search path in C instead of with a SET clause
-- (docs/security.md, "Hot functions"); the hostile-search_path section at the
-- end is their check.  Any other function without the clause fails here.
CREATE TEMP TABLE hot_functions (signature text PRIMARY KEY);
INSERT INTO hot_functions VALUES
    ('tenancy.adjust_storage(bigint,bigint,text,text)'),
    ('tenancy.sync_links(regclass,name,anyelement,name,anycompatiblearray)'),
    ('tenancy.sync_links(regclass,name,text,name,anycompatiblearray)'),
    ('tenancy.set_tenant(bigint,boolean)'),
    ('tenancy.current_tenant()'),
    ('tenancy.tenant_guard()');
SELECT is_empty($$SELECT signature FROM extension_functions
                   WHERE prokind IN ('f', 'p')
                     AND signature NOT IN (SELECT signature FROM hot_functions)
                     AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (proconfig), false)$$,
                'every function but the hot ones pins search_path to pg_catalog, pg_temp');
SELECT set_eq($$SELECT signature FROM extension_functions WHERE proconfig IS NULL$$,
              $$SELECT signature FROM hot_functions$$,
              'exactly the hot functions carry no SET clause (and no other setting)');
SELECT is_empty($$SELECT c.oid::regclass FROM pg_class c
                    JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
                    JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'tenancy'
                   WHERE has_table_privilege('public', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')$$,
                'PUBLIC cannot write any extension table');

-- A plain application role that is not the owner of anything.
CREATE ROLE tenancy_test_app LOGIN;
CREATE ROLE tenancy_test_nobody LOGIN;
GRANT USAGE ON SCHEMA tenancy TO tenancy_test_app, tenancy_test_nobody;
GRANT EXECUTE ON FUNCTION tenancy.create_tenant(text, text, bigint, jsonb, text, text),
                          tenancy.search_tenants(text, bigint, integer, integer, boolean),
                          tenancy.issue_api_key(bigint)
    TO tenancy_test_app;

SET ROLE tenancy_test_nobody;
SELECT throws_ok($$SELECT tenancy.create_tenant('sneaky')$$, '42501', NULL,
                 'a role without the grant cannot create tenants');
SELECT throws_ok($$SELECT * FROM tenancy.search_tenants()$$, '42501', NULL,
                 'a role without the grant cannot list tenants');
SELECT throws_ok($$SELECT tenancy.delete_tenant(1)$$, '42501', NULL,
                 'a role without the grant cannot delete tenants');
SELECT throws_ok($$SELECT * FROM tenancy.tenant$$, '42501', NULL, 'a plain role cannot read the tenant table');
SELECT is(tenancy.tenant_for_api_key('tnk_nothing'), NULL, 'anyone may resolve a key (it reveals nothing without one)');
RESET ROLE;

SET ROLE tenancy_test_app;
SELECT lives_ok($$SELECT tenancy.create_tenant('granted')$$, 'a granted role creates a tenant');
SELECT is((SELECT slug FROM tenancy.search_tenants('granted')), 'granted', 'and finds it');
SELECT throws_ok($$UPDATE tenancy.tenant SET storage_quota = 0$$, '42501', NULL,
                 'but cannot bypass the functions to write the table');
SELECT throws_ok($$SELECT tenancy.suspend_tenant(1)$$, '42501', NULL, 'nor call functions it was not granted');
RESET ROLE;

-- A hostile search_path does not redirect the extension's lookups: with
-- pg_catalog listed after evil, an unpinned function's now() would be evil's.
CREATE SCHEMA evil;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT '1999-01-01'::timestamptz $$;
SELECT tenancy.create_tenant('pathcheck') AS pathcheck \gset
SET search_path = evil, pg_catalog;
SELECT tenancy.suspend_tenant(:pathcheck);
RESET search_path;
SELECT cmp_ok((SELECT updated_at FROM tenancy.tenant WHERE id = :pathcheck), '>', '2000-01-01'::timestamptz,
              'functions ignore objects in the caller''s search_path');

-- Hot functions under a hostile search_path ------------------------------------
-- Schema evil, first in the path, shadows every binary operator of pg_catalog
-- on the types the extension's statements use, the functions, aggregates and
-- type names they could use unqualified, and the extension's tables.  Each
-- shadow raises 'hijacked' when it is used at all.  Every hot function is
-- called under that path twice: once when its saved plans are first prepared
-- in this session, once after DISCARD PLANS forces them to be parsed again.
CREATE FUNCTION evil.trap(what text) RETURNS boolean LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'hijacked: %', what; END $$;
DO $$
DECLARE
    op record;
    fn text;
BEGIN
    FOR op IN SELECT o.oprname, o.oprleft::regtype AS l, o.oprright::regtype AS r,
                     row_number() OVER () AS n
                FROM pg_operator o
               WHERE o.oprnamespace = 'pg_catalog'::regnamespace AND o.oprkind = 'b'
                 AND o.oprleft IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'text'::regtype,
                                   'bool'::regtype, 'name'::regtype, 'oid'::regtype, 'numeric'::regtype,
                                   'timestamptz'::regtype, 'interval'::regtype, 'jsonb'::regtype,
                                   'anyarray'::regtype, 'anycompatiblearray'::regtype, 'anyelement'::regtype)
                 AND o.oprright IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'text'::regtype,
                                    'bool'::regtype, 'name'::regtype, 'oid'::regtype, 'numeric'::regtype,
                                    'timestamptz'::regtype, 'interval'::regtype, 'jsonb'::regtype,
                                    'anyarray'::regtype, 'anycompatiblearray'::regtype, 'anyelement'::regtype)
    LOOP
        fn := format('evil.op_%s', op.n);
        EXECUTE format('CREATE FUNCTION %s(%s, %s) RETURNS boolean LANGUAGE sql AS %L',
                       fn, op.l, op.r, format('SELECT evil.trap(%L)', op.oprname || ' ' || op.l || ' ' || op.r));
        EXECUTE format('CREATE OPERATOR evil.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = %s)',
                       op.oprname, op.l, op.r, fn);
    END LOOP;
END $$;
CREATE FUNCTION evil.unnest(anyarray) RETURNS SETOF anyelement LANGUAGE sql
    AS $$ SELECT NULL WHERE evil.trap('unnest') $$;
CREATE FUNCTION evil.trap_count(bigint) RETURNS bigint LANGUAGE sql
    AS $$ SELECT NULL::bigint WHERE evil.trap('count') $$;
CREATE FUNCTION evil.trap_sum(bigint, bigint) RETURNS bigint LANGUAGE sql
    AS $$ SELECT NULL::bigint WHERE evil.trap('sum') $$;
CREATE AGGREGATE evil.count(*) (SFUNC = evil.trap_count, STYPE = bigint);
CREATE AGGREGATE evil.sum(bigint) (SFUNC = evil.trap_sum, STYPE = bigint);
CREATE FUNCTION evil.greatest(bigint, bigint) RETURNS bigint LANGUAGE sql
    AS $$ SELECT NULL::bigint WHERE evil.trap('greatest') $$;
CREATE FUNCTION evil.pg_advisory_xact_lock(integer, integer) RETURNS void LANGUAGE sql
    AS $$ SELECT WHERE evil.trap('pg_advisory_xact_lock') $$;
CREATE FUNCTION evil.set_config(text, text, boolean) RETURNS text LANGUAGE sql
    AS $$ SELECT NULL::text WHERE evil.trap('set_config') $$;
CREATE TYPE evil.text AS (hijacked boolean);
CREATE TYPE evil.int8 AS (hijacked boolean);
CREATE TYPE evil.int4 AS (hijacked boolean);
CREATE TYPE evil.bool AS (hijacked boolean);
CREATE VIEW evil.tenant AS SELECT 1::bigint AS id WHERE evil.trap('table tenant');
CREATE VIEW evil.storage_idempotency_key AS SELECT 1::bigint AS tenant_id WHERE evil.trap('table storage_idempotency_key');
CREATE VIEW evil.storage_anomaly AS SELECT 1::bigint AS tenant_id WHERE evil.trap('table storage_anomaly');
CREATE VIEW evil.storage_stripe AS SELECT 1::bigint AS tenant_id WHERE evil.trap('table storage_stripe');
CREATE VIEW evil.role_membership AS SELECT 1 AS member_id WHERE evil.trap('table role_membership');

-- Fixtures, made under the ordinary path (the clamp below warns: not shown).
SET client_min_messages = error;
SELECT tenancy.create_tenant('hostile', storage_quota => 1000) AS hostile \gset
SELECT tenancy.create_tenant('hostile-other') AS hostile_other \gset
CREATE TABLE hostile_orders (id serial PRIMARY KEY, tenant_id bigint, item text);
SELECT tenancy.protect('hostile_orders');
CREATE TABLE hostile_links (member_id integer, group_id integer, PRIMARY KEY (member_id, group_id));
INSERT INTO hostile_links VALUES (1, 1), (1, 2);
CREATE TEMP TABLE outcome (step text PRIMARY KEY, result text);

-- One helper per call, each running under the hostile path (its SET clause),
-- reporting the result or the SQLSTATE and message instead of failing.
CREATE FUNCTION pg_temp.hostile(step text, statement text) RETURNS void LANGUAGE plpgsql
SET search_path = evil, pg_catalog AS $$
DECLARE
    result pg_catalog.text;
BEGIN
    BEGIN
        EXECUTE statement INTO result;
    EXCEPTION WHEN OTHERS THEN
        result := format('error %s: %s', SQLSTATE, SQLERRM);
    END;
    INSERT INTO pg_temp.outcome VALUES (step, result);
END $$;

SELECT pg_temp.hostile('adjust first prepare', format('SELECT tenancy.adjust_storage(%s, 100)', :hostile));
SELECT pg_temp.hostile('adjust with key', format('SELECT tenancy.adjust_storage(%s, 50, %L)', :hostile, 'k1'));
SELECT pg_temp.hostile('adjust key replay', format('SELECT tenancy.adjust_storage(%s, 50, %L)', :hostile, 'k1'));
SELECT pg_temp.hostile('adjust over quota', format('SELECT tenancy.adjust_storage(%s, 900)', :hostile));
SELECT pg_temp.hostile('adjust clamp', format('SELECT tenancy.adjust_storage(%s, -1000)', :hostile));
SELECT pg_temp.hostile('set_tenant', format('SELECT tenancy.set_tenant(%s)', :hostile));
SELECT pg_temp.hostile('current_tenant', 'SELECT tenancy.current_tenant()');
SELECT pg_temp.hostile('guard fills', 'INSERT INTO public.hostile_orders (item) VALUES (''book'') RETURNING tenant_id');
SELECT pg_temp.hostile('sync_links', 'SELECT format(''%s+%s'', added, removed) FROM tenancy.sync_links(''public.hostile_links'', ''member_id'', 1, ''group_id'', ARRAY[2, 3])');
DISCARD PLANS;
SELECT pg_temp.hostile('adjust re-planned', format('SELECT tenancy.adjust_storage(%s, 10)', :hostile));
SELECT pg_temp.hostile('adjust key re-planned', format('SELECT tenancy.adjust_storage(%s, 50, %L)', :hostile, 'k1'));
SELECT pg_temp.hostile('set_tenant re-planned', format('SELECT tenancy.set_tenant(%s)', :hostile_other));
SELECT pg_temp.hostile('sync_links re-planned', 'SELECT format(''%s+%s'', added, removed) FROM tenancy.sync_links(''public.hostile_links'', ''member_id'', 1, ''group_id'', ''{3,4}''::integer[])');

SELECT is((SELECT result FROM outcome WHERE step = 'adjust first prepare'), '100',
          'adjust_storage resolves nothing through a hostile search_path (first preparation)');
SELECT is((SELECT result FROM outcome WHERE step = 'adjust with key') || '/' ||
          (SELECT result FROM outcome WHERE step = 'adjust key replay'), '150/150',
          'an idempotency key is claimed and replayed under it');
SELECT matches((SELECT result FROM outcome WHERE step = 'adjust over quota'), '^error TN003: ',
               'the over-quota refusal is still TN003');
SELECT is((SELECT result FROM outcome WHERE step = 'adjust clamp'), '0', 'the clamp path works under it');
SELECT is((SELECT attempted_delta FROM tenancy.storage_anomaly WHERE tenant_id = :hostile), -1000::bigint,
          'and records its anomaly');
SELECT is((SELECT result FROM outcome WHERE step = 'adjust re-planned'), '10',
          'adjust_storage after DISCARD PLANS: re-planned with the pinned path');
SELECT is((SELECT result FROM outcome WHERE step = 'adjust key re-planned'), '150',
          'the key replay after DISCARD PLANS');
SELECT is((SELECT result FROM outcome WHERE step = 'set_tenant'), '', 'set_tenant works under it');
SELECT is((SELECT result FROM outcome WHERE step = 'current_tenant'), :'hostile', 'current_tenant too');
SELECT is((SELECT result FROM outcome WHERE step = 'guard fills'), :'hostile',
          'the guard trigger fills the tenant under it');
SELECT is((SELECT result FROM outcome WHERE step = 'set_tenant re-planned'), '',
          'set_tenant after DISCARD PLANS');
SELECT is((SELECT result FROM outcome WHERE step = 'sync_links') || ' ' ||
          (SELECT result FROM outcome WHERE step = 'sync_links re-planned'), '1+1 1+1',
          'sync_links resolves nothing through it, before and after DISCARD PLANS');
SELECT is((SELECT array_agg(group_id ORDER BY group_id) FROM hostile_links), ARRAY[3, 4],
          'and leaves exactly the wanted links');

SELECT * FROM finish();
ROLLBACK;
