
-- Tenant-row checks: the tenant context, protected tables (row-level security
-- plus a guard trigger) and the required-row rules that tenancy.check verifies
-- and repairs.  docs/rowcheck.md describes the semantics and the threat model.
--
-- Same conventions as the registry part: pinned search_path everywhere,
-- EXECUTE revoked from PUBLIC on everything that changes data or settings.

-- What tenancy.protect added to each table, so that tenancy.unprotect removes
-- exactly that and nothing the table had before.  The policy and the trigger
-- are always protect's own (fixed names, see docs/rowcheck.md).
CREATE TABLE tenancy.protected_table (
    tbl            regclass PRIMARY KEY,
    tenant_column  name NOT NULL,
    added_not_null boolean NOT NULL,
    foreign_key    name,           -- the constraint protect created, if any
    index_name     name,           -- the index protect created, if any
    enabled_rls    boolean NOT NULL,
    forced_rls     boolean NOT NULL,
    protected_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    partition_of   regclass        -- the protected partitioned table it is protected through, if any
);
COMMENT ON TABLE tenancy.protected_table IS 'Tables made tenant-isolated by tenancy.protect and the parts it added';

-- Rows every active shared tenant must have; tenancy.check finds and repairs gaps.
CREATE TABLE tenancy.required_row (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tbl        regclass NOT NULL REFERENCES tenancy.protected_table (tbl),
    template   jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT required_row_rule_key UNIQUE (tbl, template),
    CONSTRAINT required_row_template_object CHECK (pg_catalog.jsonb_typeof(template) OPERATOR(pg_catalog.=) 'object')
);
COMMENT ON TABLE tenancy.required_row IS 'Rules declared by tenancy.require_row: a row every active shared tenant must have';

SELECT pg_catalog.pg_extension_config_dump('tenancy.protected_table', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.required_row', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.required_row_id_seq', '');

-- Tenant context ---------------------------------------------------------------

CREATE FUNCTION tenancy.set_tenant(tenant bigint, is_local boolean DEFAULT true)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'tenancy_set_tenant';
COMMENT ON FUNCTION tenancy.set_tenant(bigint, boolean)
    IS 'Makes an active tenant the current one, for the transaction (default) or the session';

-- STABLE and PARALLEL SAFE so that a policy can compare an indexed column
-- with it; policies wrap it in a scalar subquery so it runs once per query.
CREATE FUNCTION tenancy.current_tenant()
RETURNS bigint
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'tenancy_current_tenant';
COMMENT ON FUNCTION tenancy.current_tenant() IS 'The current tenant set by tenancy.set_tenant, or NULL';

CREATE FUNCTION tenancy.clear_tenant()
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_clear_tenant';
COMMENT ON FUNCTION tenancy.clear_tenant() IS 'Unsets the current tenant (for the session)';

-- Protected tables -----------------------------------------------------------

CREATE FUNCTION tenancy.tenant_guard()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'tenancy_tenant_guard';
COMMENT ON FUNCTION tenancy.tenant_guard()
    IS 'Trigger of protected tables: fills the tenant column and refuses rows of other tenants';

-- Statement-level BEFORE TRUNCATE trigger of protected tables: TRUNCATE is
-- not subject to row-level security, so it would remove every tenant's rows.
CREATE FUNCTION tenancy.truncate_guard()
RETURNS trigger
LANGUAGE C
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_truncate_guard';
COMMENT ON FUNCTION tenancy.truncate_guard()
    IS 'Trigger of protected tables: refuses TRUNCATE to every role but the table owner and superusers';

CREATE FUNCTION tenancy.protect(tbl regclass, tenant_column name DEFAULT 'tenant_id')
RETURNS void
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_protect';
COMMENT ON FUNCTION tenancy.protect(regclass, name)
    IS 'Makes a table, or a partitioned table and every partition, tenant-isolated (NOT NULL, foreign key, index, forced row-level security, guard and TRUNCATE triggers); idempotent';

CREATE FUNCTION tenancy.unprotect(tbl regclass)
RETURNS boolean
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_unprotect';
COMMENT ON FUNCTION tenancy.unprotect(regclass)
    IS 'Removes exactly what tenancy.protect added, from every partition too; false if the table was not protected';

-- Whether each protected table still has every part.  A part counts as
-- present if the table has an equivalent one, whoever created it: any
-- foreign key on the tenant column alone to tenancy.tenant (id), any valid
-- index whose first column is the tenant column.  A partitioned table needs
-- no row trigger of its own (rows live in, and are guarded by, its
-- partitions).  Columns added after 0.5.0 follow `complete`.
CREATE VIEW tenancy.protected_tables AS
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
COMMENT ON VIEW tenancy.protected_tables IS 'Protected tables and whether each still has all the parts tenancy.protect gives it';

-- Foreign keys between two protected tables that do not pair the referencing
-- table's tenant column with the referenced table's: through them a row of
-- one tenant can point at a row of another.  A key of a partitioned table is
-- listed once, not once more for each partition's copy (conparentid).
CREATE VIEW tenancy.cross_tenant_foreign_keys AS
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
COMMENT ON VIEW tenancy.cross_tenant_foreign_keys
    IS 'Foreign keys between protected tables that do not include the tenant column on both sides';

-- Required rows and the check ------------------------------------------------

-- The rules, with the unique index that keeps tenancy.check's repair from
-- inserting a duplicate when it races another repair or the application: a
-- valid, non-partial unique index on plain columns whose key columns include
-- the tenant column and are otherwise all in the template.
CREATE VIEW tenancy.required_rows AS
SELECT r.id, r.tbl AS table_name, p.tenant_column, r.template,
       (SELECT i.indexrelid::pg_catalog.regclass
          FROM pg_catalog.pg_index i
         WHERE i.indrelid OPERATOR(pg_catalog.=) r.tbl AND i.indisunique AND i.indisvalid
           AND i.indpred IS NULL AND i.indexprs IS NULL
           AND EXISTS (SELECT FROM pg_catalog.generate_series(0, i.indnkeyatts OPERATOR(pg_catalog.-) 1) AS k (n)
                         JOIN pg_catalog.pg_attribute a
                           ON a.attrelid OPERATOR(pg_catalog.=) r.tbl AND a.attnum OPERATOR(pg_catalog.=) i.indkey[k.n]
                        WHERE a.attname OPERATOR(pg_catalog.=) p.tenant_column)
           AND NOT EXISTS (SELECT FROM pg_catalog.generate_series(0, i.indnkeyatts OPERATOR(pg_catalog.-) 1) AS k (n)
                             JOIN pg_catalog.pg_attribute a
                               ON a.attrelid OPERATOR(pg_catalog.=) r.tbl AND a.attnum OPERATOR(pg_catalog.=) i.indkey[k.n]
                            WHERE a.attname OPERATOR(pg_catalog.<>) p.tenant_column
                              AND NOT r.template OPERATOR(pg_catalog.?) a.attname::text)
         ORDER BY i.indexrelid
         LIMIT 1) AS unique_index
  FROM tenancy.required_row r
  JOIN tenancy.protected_table p ON p.tbl OPERATOR(pg_catalog.=) r.tbl;
COMMENT ON VIEW tenancy.required_rows IS 'Required-row rules and the unique index that makes their repair safe';


CREATE FUNCTION tenancy.require_row(tbl regclass, template jsonb)
RETURNS bigint
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_require_row';
COMMENT ON FUNCTION tenancy.require_row(regclass, jsonb)
    IS 'Declares that every active shared tenant must have a row of tbl matching template; returns the rule id; idempotent';

CREATE FUNCTION tenancy.unrequire_row(tbl regclass, template jsonb)
RETURNS boolean
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_unrequire_row';
COMMENT ON FUNCTION tenancy.unrequire_row(regclass, jsonb)
    IS 'Removes a required-row rule; false if there was none';

CREATE FUNCTION tenancy.check(repair boolean DEFAULT false)
RETURNS TABLE (tenant bigint, problem text, object text, detail text, repaired boolean)
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_check';
COMMENT ON FUNCTION tenancy.check(boolean)
    IS 'Lists missing required rows, rows of deleted or unknown tenants, damaged protection and cross-tenant foreign keys; repairs what can be repaired without deleting anything';

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

REVOKE ALL ON FUNCTION
    tenancy.set_tenant(bigint, boolean),
    tenancy.protect(regclass, name),
    tenancy.unprotect(regclass),
    tenancy.require_row(regclass, jsonb),
    tenancy.unrequire_row(regclass, jsonb),
    tenancy.check(boolean)
FROM PUBLIC;

-- What these views show is in the system catalogs already, readable by all.
GRANT SELECT ON tenancy.protected_tables, tenancy.cross_tenant_foreign_keys TO PUBLIC;
