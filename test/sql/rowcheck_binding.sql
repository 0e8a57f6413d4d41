-- Tenant binding as an administrator and an application see it: the
-- warnings of bind_role and unbind_role, the lifetime of a tenant set with
-- an API key, and a role that cannot forge tenancy.require_binding off.
\set SHOW_CONTEXT never
SELECT current_user AS superuser \gset
CREATE ROLE regress_bind_app LOGIN;
CREATE ROLE regress_bind_admin IN ROLE tenancy_admin;
GRANT USAGE ON SCHEMA tenancy TO regress_bind_app;
GRANT EXECUTE ON FUNCTION tenancy.set_tenant(bigint, boolean), tenancy.set_tenant_by_api_key(text, boolean)
    TO regress_bind_app;
ALTER TABLE tenancy.tenant ALTER COLUMN id RESTART WITH 3001;
SELECT tenancy.create_tenant('bind-one') AS one, tenancy.create_tenant('bind-two') AS two \gset

-- Binding a role that acts as any tenant anyway is allowed, and pointless.
SELECT tenancy.bind_role('regress_bind_admin', :one);
SELECT tenancy.unbind_role('regress_bind_admin', :one);

-- Bound to one: the other tenant is refused, naming the role and the tenant.
SELECT tenancy.bind_role('regress_bind_app', :one);
SELECT role, role_exists, tenant, slug, status FROM tenancy.role_bindings;
SET ROLE regress_bind_app;
SELECT tenancy.set_tenant(:two);
RESET ROLE;
-- Removing its last binding frees the role while require_binding is off.
SELECT tenancy.unbind_role('regress_bind_app', :one);

-- Logging in with an API key: transaction-local by default, like set_tenant.
SELECT tenancy.issue_api_key(:two) AS key \gset
SET ROLE regress_bind_app;
BEGIN;
SELECT tenancy.set_tenant_by_api_key(:'key');
SELECT tenancy.current_tenant();
COMMIT;
SELECT tenancy.current_tenant();
SELECT tenancy.set_tenant_by_api_key(:'key');
SELECT tenancy.set_tenant_by_api_key(:'key', is_local => false);
SELECT tenancy.current_tenant();
SELECT tenancy.clear_tenant();
SELECT tenancy.set_tenant_by_api_key('tnk_not-a-key');
RESET ROLE;

-- A superuser makes binding mandatory for a role (or a database, or the
-- server).  In a new session, before the module is loaded, the role can SET
-- the name as a placeholder; loading the module discards the forged value.
ALTER ROLE regress_bind_app SET tenancy.require_binding = on;
\c - regress_bind_app
SET tenancy.require_binding = off;
SELECT tenancy.set_tenant(:one);
SHOW tenancy.require_binding;
SET tenancy.require_binding = off;
\c - :superuser

DELETE FROM tenancy.api_key WHERE tenant_id IN (:one, :two);
DELETE FROM tenancy.tenant WHERE id IN (:one, :two);
DROP OWNED BY regress_bind_app;
DROP ROLE regress_bind_app, regress_bind_admin;
