-- Security properties of the whole extension: these checks iterate over every
-- function and table the extension owns, so objects added later are covered too.
BEGIN;
SELECT plan(13);

CREATE TEMP VIEW extension_functions AS
    SELECT p.oid, p.oid::regprocedure::text AS signature, p.proconfig, p.prosecdef, p.proacl, p.prokind
      FROM pg_proc p
      JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'tenancy';

SELECT cmp_ok((SELECT count(*) FROM extension_functions), '>=', 9::bigint, 'the extension has functions to check');
SELECT is_empty($$SELECT signature FROM extension_functions
                   WHERE prokind IN ('f', 'p')
                     AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (proconfig), false)$$,
                'every function pins search_path to pg_catalog, pg_temp');
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

SELECT * FROM finish();
ROLLBACK;
