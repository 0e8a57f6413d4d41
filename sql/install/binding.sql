
-- Tenant binding: which tenants a role may make current with
-- tenancy.set_tenant, the superuser-only setting tenancy.require_binding
-- (defined by the module) that makes a binding mandatory, the role
-- tenancy_admin that is exempt from it, and tenancy.set_tenant_by_api_key,
-- which makes current the tenant whose API key the caller presents.
-- docs/rowcheck.md ("Tenant binding") describes whose bindings count and why
-- that cannot be sidestepped.

-- Roles belong to the cluster, not to a database: the role may exist already
-- (the extension in another database, or an earlier install).  It is not a
-- member of the extension, so DROP EXTENSION leaves it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'tenancy_admin') THEN
        CREATE ROLE tenancy_admin NOLOGIN;
        COMMENT ON ROLE tenancy_admin IS 'Members may make any tenant current, bound or not (pg_tenancy)';
    END IF;
END
$$;

-- A role stored as regrole is dumped by name, so a binding survives pg_dump
-- and pg_restore into a cluster where the role has another OID.
CREATE TABLE tenancy.role_binding (
    role      regrole NOT NULL,
    tenant_id bigint NOT NULL REFERENCES tenancy.tenant (id),
    bound_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT role_binding_pkey PRIMARY KEY (role, tenant_id)
);
COMMENT ON TABLE tenancy.role_binding IS 'Tenants a role may make current with tenancy.set_tenant (tenancy.bind_role)';

SELECT pg_catalog.pg_extension_config_dump('tenancy.role_binding', '');

-- role_exists is false for a binding whose role was dropped: PostgreSQL has no
-- hook the extension could use to forget it then; tenancy.audit reports it.
CREATE VIEW tenancy.role_bindings AS
SELECT b.role, (r.oid IS NOT NULL) AS role_exists, b.tenant_id AS tenant, t.slug, t.status, b.bound_at
  FROM tenancy.role_binding b
  JOIN tenancy.tenant t ON t.id OPERATOR(pg_catalog.=) b.tenant_id
  LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) b.role;
COMMENT ON VIEW tenancy.role_bindings IS 'Role bindings with the tenant''s slug and status';

CREATE FUNCTION tenancy.bind_role(role regrole, tenant bigint)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_bind_role';
COMMENT ON FUNCTION tenancy.bind_role(regrole, bigint)
    IS 'Lets a role (and its members) make a tenant current; true if the binding is new';

CREATE FUNCTION tenancy.unbind_role(role regrole, tenant bigint)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_unbind_role';
COMMENT ON FUNCTION tenancy.unbind_role(regrole, bigint)
    IS 'Removes a role binding; false if there was none';

CREATE FUNCTION tenancy.set_tenant_by_api_key(key text, is_local boolean DEFAULT true)
RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_set_tenant_by_api_key';
COMMENT ON FUNCTION tenancy.set_tenant_by_api_key(text, boolean)
    IS 'Makes current the tenant of an API key and returns it; one error (TN050) for every key that is not valid';

REVOKE ALL ON FUNCTION
    tenancy.bind_role(regrole, bigint),
    tenancy.unbind_role(regrole, bigint),
    tenancy.set_tenant_by_api_key(text, boolean)
FROM PUBLIC;

-- Membership in tenancy_admin is the right to act as any tenant: it comes
-- with what acting as a tenant needs.
GRANT USAGE ON SCHEMA tenancy TO tenancy_admin;
GRANT EXECUTE ON FUNCTION tenancy.set_tenant(bigint, boolean) TO tenancy_admin;
