\echo Use "ALTER EXTENSION tenancy UPDATE" to load this file. \quit

-- 0.4.0 -> 0.5.0 (issue 12a): tenant binding and API-key login.
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

-- Protected tables: a TRUNCATE guard, and partitioned tables (docs/rowcheck.md).
ALTER TABLE tenancy.protected_table ADD COLUMN partition_of regclass;

-- Statement-level BEFORE TRUNCATE trigger of protected tables: TRUNCATE is
-- not subject to row-level security, so it would remove every tenant's rows.
CREATE FUNCTION tenancy.truncate_guard()
RETURNS trigger
LANGUAGE C
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_truncate_guard';
COMMENT ON FUNCTION tenancy.truncate_guard()
    IS 'Trigger of protected tables: refuses TRUNCATE to every role but the table owner and superusers';

-- Whether each protected table still has every part.  A part counts as
-- present if the table has an equivalent one, whoever created it: any
-- foreign key on the tenant column alone to tenancy.tenant (id), any valid
-- index whose first column is the tenant column.  A partitioned table needs
-- no row trigger of its own (rows live in, and are guarded by, its
-- partitions).  Columns added after 0.4.0 follow `complete`.
CREATE OR REPLACE VIEW tenancy.protected_tables AS
SELECT p.tbl AS table_name,
       p.tenant_column,
       parts.not_null, parts.foreign_key, parts.index, parts.rls_enabled, parts.rls_forced,
       parts.policy, parts.trigger,
       (parts.not_null AND parts.foreign_key AND parts.index AND parts.rls_enabled AND parts.rls_forced
        AND parts.policy AND parts.trigger AND parts.truncate_guard) AS complete,
       parts.truncate_guard,
       p.partition_of
  FROM tenancy.protected_table p
  LEFT JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) p.tbl
  LEFT JOIN pg_catalog.pg_attribute a
         ON a.attrelid OPERATOR(pg_catalog.=) p.tbl AND a.attname OPERATOR(pg_catalog.=) p.tenant_column
        AND NOT a.attisdropped
 CROSS JOIN LATERAL (SELECT
       coalesce(a.attnotnull, false) AS not_null,
       EXISTS (SELECT FROM pg_catalog.pg_constraint k
                WHERE k.conrelid OPERATOR(pg_catalog.=) p.tbl AND k.contype OPERATOR(pg_catalog.=) 'f'
                  AND k.confrelid OPERATOR(pg_catalog.=) 'tenancy.tenant'::pg_catalog.regclass
                  AND k.conkey OPERATOR(pg_catalog.=) ARRAY[a.attnum]) AS foreign_key,
       EXISTS (SELECT FROM pg_catalog.pg_index i
                WHERE i.indrelid OPERATOR(pg_catalog.=) p.tbl AND i.indisvalid
                  AND i.indkey[0] OPERATOR(pg_catalog.=) a.attnum) AS index,
       coalesce(c.relrowsecurity, false) AS rls_enabled,
       coalesce(c.relforcerowsecurity, false) AS rls_forced,
       EXISTS (SELECT FROM pg_catalog.pg_policy pol
                WHERE pol.polrelid OPERATOR(pg_catalog.=) p.tbl
                  AND pol.polname OPERATOR(pg_catalog.=) 'tenancy_isolation') AS policy,
       (c.relkind OPERATOR(pg_catalog.=) 'p'
        OR EXISTS (SELECT FROM pg_catalog.pg_trigger t
                    WHERE t.tgrelid OPERATOR(pg_catalog.=) p.tbl
                      AND t.tgname OPERATOR(pg_catalog.=) 'tenancy_tenant_guard'
                      AND t.tgenabled OPERATOR(pg_catalog.<>) 'D'
                      AND t.tgfoid OPERATOR(pg_catalog.=) 'tenancy.tenant_guard()'::pg_catalog.regprocedure)) AS trigger,
       EXISTS (SELECT FROM pg_catalog.pg_trigger t
                WHERE t.tgrelid OPERATOR(pg_catalog.=) p.tbl
                  AND t.tgname OPERATOR(pg_catalog.=) 'tenancy_truncate_guard'
                  AND t.tgenabled OPERATOR(pg_catalog.<>) 'D'
                  AND t.tgfoid OPERATOR(pg_catalog.=) 'tenancy.truncate_guard()'::pg_catalog.regprocedure) AS truncate_guard
 ) parts;

-- Foreign keys between two protected tables that do not pair the referencing
-- table's tenant column with the referenced table's: through them a row of
-- one tenant can point at a row of another.  A key of a partitioned table is
-- listed once, not once more for each partition's copy (conparentid).
CREATE OR REPLACE VIEW tenancy.cross_tenant_foreign_keys AS
SELECT k.conname AS constraint_name,
       k.conrelid::pg_catalog.regclass AS table_name,
       k.confrelid::pg_catalog.regclass AS referenced_table
  FROM pg_catalog.pg_constraint k
  JOIN tenancy.protected_table p ON p.tbl OPERATOR(pg_catalog.=) k.conrelid
  JOIN tenancy.protected_table q ON q.tbl OPERATOR(pg_catalog.=) k.confrelid
  JOIN pg_catalog.pg_attribute pa
    ON pa.attrelid OPERATOR(pg_catalog.=) p.tbl AND pa.attname OPERATOR(pg_catalog.=) p.tenant_column
  JOIN pg_catalog.pg_attribute qa
    ON qa.attrelid OPERATOR(pg_catalog.=) q.tbl AND qa.attname OPERATOR(pg_catalog.=) q.tenant_column
 WHERE k.contype OPERATOR(pg_catalog.=) 'f'
   AND k.conparentid OPERATOR(pg_catalog.=) 0
   AND NOT EXISTS (SELECT FROM ROWS FROM (pg_catalog.unnest(k.conkey), pg_catalog.unnest(k.confkey)) AS pair (attnum, refattnum)
                    WHERE pair.attnum OPERATOR(pg_catalog.=) pa.attnum
                      AND pair.refattnum OPERATOR(pg_catalog.=) qa.attnum);
COMMENT ON FUNCTION tenancy.protect(regclass, name)
    IS 'Makes a table, or a partitioned table and every partition, tenant-isolated (NOT NULL, foreign key, index, forced row-level security, guard and TRUNCATE triggers); idempotent';
COMMENT ON FUNCTION tenancy.unprotect(regclass)
    IS 'Removes exactly what tenancy.protect added, from every partition too; false if the table was not protected';

-- Partitions created or attached later are protected like their protected
-- parent, and a detached partition stays protected on its own (see
-- docs/rowcheck.md, "Partitioned tables"; tenancy.check reports and repairs
-- what this trigger could not see, e.g. while it was disabled).
CREATE FUNCTION tenancy.protect_new_partitions()
RETURNS event_trigger
LANGUAGE C
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_protect_new_partitions';
COMMENT ON FUNCTION tenancy.protect_new_partitions()
    IS 'Event trigger: protects partitions created or attached under a protected table, keeps detached ones protected';

CREATE EVENT TRIGGER tenancy_protect_partitions ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'CREATE FOREIGN TABLE', 'ALTER TABLE')
    EXECUTE FUNCTION tenancy.protect_new_partitions();

-- Tables protected before 0.5.0 get the TRUNCATE guard now, rather than at
-- the next tenancy.check(repair => true).
DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT p.tbl FROM tenancy.protected_table p
               JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) p.tbl LOOP
        EXECUTE pg_catalog.format('CREATE OR REPLACE TRIGGER tenancy_truncate_guard BEFORE TRUNCATE ON %s'
                                  ' FOR EACH STATEMENT EXECUTE FUNCTION tenancy.truncate_guard()', t);
    END LOOP;
END
$$;
