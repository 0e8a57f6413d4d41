-- The tenant context: how long a tenant stays set, and who can set one.
\set SHOW_CONTEXT never
CREATE ROLE regress_rc_ctx_app;
CREATE ROLE regress_rc_ctx_nobody;
GRANT USAGE ON SCHEMA tenancy TO regress_rc_ctx_app, regress_rc_ctx_nobody;
GRANT EXECUTE ON FUNCTION tenancy.set_tenant(bigint, boolean) TO regress_rc_ctx_app;

-- Before the module is loaded, PostgreSQL accepts any "tenancy.*" setting as
-- a placeholder.  Loading the module (the first call of any tenancy
-- function) discards a value a plain role forged that way.  A new session,
-- because the GRANTs above already loaded the module (its event trigger
-- fires on DDL).
\c
SET ROLE regress_rc_ctx_app;
SET tenancy.tenant_id = '1';
SELECT tenancy.current_tenant() IS NULL AS forged_value_discarded;
SHOW tenancy.tenant_id;
RESET ROLE;

ALTER TABLE tenancy.tenant ALTER COLUMN id RESTART WITH 2001;
SELECT tenancy.create_tenant('ctx-one') AS one, tenancy.create_tenant('ctx-two') AS two,
       tenancy.create_tenant('ctx-paused') AS paused, tenancy.create_tenant('ctx-gone') AS gone \gset
SELECT tenancy.suspend_tenant(:paused), tenancy.delete_tenant(:gone);

SET ROLE regress_rc_ctx_app;
-- Transaction-local (the default): gone at COMMIT and at ROLLBACK.
BEGIN;
SELECT tenancy.set_tenant(:one);
SELECT tenancy.current_tenant();
COMMIT;
SELECT tenancy.current_tenant();
BEGIN;
SELECT tenancy.set_tenant(:one);
ROLLBACK;
SELECT tenancy.current_tenant();
-- Outside a transaction block a local tenant lasts one statement: a warning
-- says so, and the next statement has no tenant.
SELECT tenancy.set_tenant(:one);
SELECT tenancy.current_tenant();
-- Session-wide on request, until cleared; a local value wins inside its
-- transaction only.
SELECT tenancy.set_tenant(:one, is_local => false);
SELECT tenancy.current_tenant();
BEGIN;
SELECT tenancy.set_tenant(:two);
SELECT tenancy.current_tenant();
COMMIT;
SELECT tenancy.current_tenant();
-- A session setting made in a transaction that rolls back is undone.
BEGIN;
SELECT tenancy.set_tenant(:two, false);
ROLLBACK;
SELECT tenancy.current_tenant();
SELECT tenancy.clear_tenant();
SELECT tenancy.current_tenant();
-- What a connection pooler runs between clients clears it too.
SELECT tenancy.set_tenant(:one, false);
RESET ROLE;
DISCARD ALL;
SET ROLE regress_rc_ctx_app;
SELECT tenancy.current_tenant();

-- Only active tenants, and clear errors for the rest.
SELECT tenancy.set_tenant(:paused);
SELECT tenancy.set_tenant(:gone);
SELECT tenancy.set_tenant(-1);
SELECT tenancy.set_tenant(NULL);
SELECT tenancy.set_tenant(:one, NULL);

-- Nobody but set_tenant sets the context: not SET, set_config, RESET, a
-- function's SET clause or a role setting.
SET tenancy.tenant_id = '2001';
SET LOCAL tenancy.tenant_id = '2001';
SELECT set_config('tenancy.tenant_id', '2001', true);
RESET tenancy.tenant_id;
CREATE FUNCTION pg_temp.as_tenant() RETURNS bigint LANGUAGE sql
    SET tenancy.tenant_id = '2001' AS 'SELECT tenancy.current_tenant()';
ALTER ROLE regress_rc_ctx_app SET tenancy.tenant_id = '2001';
SET tenancy.other = 'x';  -- the tenancy. prefix is reserved
RESET ROLE;

-- A role without EXECUTE on set_tenant cannot choose a tenant at all.
SET ROLE regress_rc_ctx_nobody;
SELECT tenancy.set_tenant(:one);
SELECT tenancy.current_tenant();
RESET ROLE;

-- The stored value is validated even for a superuser.
SET tenancy.tenant_id = 'abc';
SET tenancy.tenant_id = '0';

DROP OWNED BY regress_rc_ctx_app, regress_rc_ctx_nobody;
DROP ROLE regress_rc_ctx_app, regress_rc_ctx_nobody;
