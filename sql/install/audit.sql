
-- Isolation audit: what row-level security leaves open, read from the system
-- catalogs (docs/security.md, "The isolation audit").  One row per hazard:
-- severity 'error' (another tenant's rows can be read or written, or the
-- isolation can be switched off), 'warning' (a side channel, or a layout a
-- distributed engine could not shard by tenant) or 'info'; a stable short
-- code; the object; why it is a hazard; the statement that fixes it, or NULL
-- when only a person can decide.  schema_name is NULL for findings that
-- belong to no schema (role bindings, grants of the extension's functions):
-- tenancy.audit(schema) leaves those out.
CREATE VIEW tenancy.isolation_hazards AS
WITH RECURSIVE
privileged AS (   -- roles that row-level security does not filter
    SELECT r.oid, r.rolname FROM pg_catalog.pg_roles r WHERE r.rolsuper OR r.rolbypassrls
),
audited_schemas AS (
    SELECT n.oid, n.nspname FROM pg_catalog.pg_namespace n
     WHERE n.nspname OPERATOR(pg_catalog.<>) ALL (ARRAY['pg_catalog', 'information_schema', 'tenancy']::pg_catalog.name[])
       AND n.nspname OPERATOR(pg_catalog.!~) '^pg_(toast|temp_|toast_temp_)'
),
-- Tables and views of the application: not the system's, not an extension's.
relations AS (
    SELECT c.oid, c.relkind, c.relowner, c.relispartition, c.reloptions, s.nspname
      FROM pg_catalog.pg_class c
      JOIN audited_schemas s ON s.oid OPERATOR(pg_catalog.=) c.relnamespace
     WHERE c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p', 'v', 'm']::"char"[])
       AND c.relpersistence OPERATOR(pg_catalog.<>) 't'
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                        WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                          AND d.objid OPERATOR(pg_catalog.=) c.oid AND d.deptype OPERATOR(pg_catalog.=) 'e')
),
protected AS (
    SELECT p.tbl AS oid, p.tenant_column, p.partition_of, a.attnum
      FROM tenancy.protected_table p
      JOIN pg_catalog.pg_attribute a
        ON a.attrelid OPERATOR(pg_catalog.=) p.tbl AND a.attname OPERATOR(pg_catalog.=) p.tenant_column
       AND NOT a.attisdropped
),
-- A tenant column: one named like a protected table's (or tenant_id), or
-- one with a foreign key of its own to tenancy.tenant (id).
tenant_columns AS (
    SELECT DISTINCT ON (r.oid) r.oid, a.attname, a.atttypid
      FROM relations r
      JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) r.oid AND a.attnum OPERATOR(pg_catalog.>) 0
       AND NOT a.attisdropped
     WHERE r.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p']::"char"[])
       AND (a.attname OPERATOR(pg_catalog.=) 'tenant_id'
            OR a.attname OPERATOR(pg_catalog.=) ANY (SELECT p.tenant_column FROM tenancy.protected_table p)
            OR EXISTS (SELECT FROM pg_catalog.pg_constraint k
                        WHERE k.conrelid OPERATOR(pg_catalog.=) r.oid AND k.contype OPERATOR(pg_catalog.=) 'f'
                          AND k.confrelid OPERATOR(pg_catalog.=) 'tenancy.tenant'::pg_catalog.regclass
                          AND k.conkey OPERATOR(pg_catalog.=) ARRAY[a.attnum]))
     ORDER BY r.oid, a.attname OPERATOR(pg_catalog.<>) 'tenant_id', a.attnum
),
-- Which relations each view or materialized view reads, directly or through
-- other views.
view_reads (view_oid, rel_oid) AS (
    SELECT rw.ev_class, d.refobjid
      FROM pg_catalog.pg_rewrite rw
      JOIN pg_catalog.pg_depend d
        ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass
       AND d.objid OPERATOR(pg_catalog.=) rw.oid
       AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.refobjid OPERATOR(pg_catalog.<>) rw.ev_class
  UNION
    SELECT vr.view_oid, d.refobjid
      FROM view_reads vr
      JOIN pg_catalog.pg_rewrite rw ON rw.ev_class OPERATOR(pg_catalog.=) vr.rel_oid
      JOIN pg_catalog.pg_depend d
        ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass
       AND d.objid OPERATOR(pg_catalog.=) rw.oid
       AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.refobjid OPERATOR(pg_catalog.<>) rw.ev_class
),
views_over_protected AS (
    SELECT r.oid, r.relkind, r.relowner, r.nspname,
           EXISTS (SELECT FROM pg_catalog.pg_options_to_table(r.reloptions) o
                    WHERE o.option_name OPERATOR(pg_catalog.=) 'security_invoker'
                      AND pg_catalog.lower(o.option_value) OPERATOR(pg_catalog.=) ANY (ARRAY['true', 'on', 'yes', '1', 't', 'y'])) AS invoker,
           (SELECT pg_catalog.array_agg(DISTINCT c.relowner) FROM view_reads vr
              JOIN protected p ON p.oid OPERATOR(pg_catalog.=) vr.rel_oid
              JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) p.oid
             WHERE vr.view_oid OPERATOR(pg_catalog.=) r.oid) AS table_owners,
           (SELECT pg_catalog.string_agg(DISTINCT p.oid::pg_catalog.regclass::text, ', ') FROM view_reads vr
              JOIN protected p ON p.oid OPERATOR(pg_catalog.=) vr.rel_oid
             WHERE vr.view_oid OPERATOR(pg_catalog.=) r.oid) AS tables
      FROM relations r
     WHERE r.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['v', 'm']::"char"[])
       AND EXISTS (SELECT FROM view_reads vr JOIN protected p ON p.oid OPERATOR(pg_catalog.=) vr.rel_oid
                    WHERE vr.view_oid OPERATOR(pg_catalog.=) r.oid)
),
-- Unique indexes (primary keys and unique constraints included) of protected
-- tables; a partition's copy of its partitioned table's index is left out.
unique_keys AS (
    SELECT i.indexrelid, i.indrelid, r.nspname, p.attnum AS tenant_attnum, p.tenant_column,
           k.conname, k.contype,
           i.indexprs IS NOT NULL OR i.indpred IS NOT NULL
             OR i.indnatts OPERATOR(pg_catalog.<>) i.indnkeyatts AS irregular,
           (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY kc.n)
              FROM pg_catalog.generate_series(0, i.indnkeyatts OPERATOR(pg_catalog.-) 1) AS kc (n)
              JOIN pg_catalog.pg_attribute a
                ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid AND a.attnum OPERATOR(pg_catalog.=) i.indkey[kc.n]) AS columns,
           -- every key column takes values nobody chooses (identity, serial, random uuid)
           NOT EXISTS (SELECT FROM pg_catalog.generate_series(0, i.indnkeyatts OPERATOR(pg_catalog.-) 1) AS kc (n)
                         LEFT JOIN pg_catalog.pg_attribute a
                           ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid AND a.attnum OPERATOR(pg_catalog.=) i.indkey[kc.n]
                         LEFT JOIN pg_catalog.pg_attrdef ad
                           ON ad.adrelid OPERATOR(pg_catalog.=) a.attrelid AND ad.adnum OPERATOR(pg_catalog.=) a.attnum
                        WHERE a.attnum IS NULL
                           OR NOT (a.attidentity OPERATOR(pg_catalog.<>) ''
                                   OR coalesce(pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)
                                               OPERATOR(pg_catalog.~) '^(nextval\(|gen_random_uuid\(|uuid_generate_v[14])', false))) AS generated
      FROM pg_catalog.pg_index i
      JOIN protected p ON p.oid OPERATOR(pg_catalog.=) i.indrelid
      JOIN relations r ON r.oid OPERATOR(pg_catalog.=) i.indrelid
      LEFT JOIN pg_catalog.pg_constraint k
        ON k.conindid OPERATOR(pg_catalog.=) i.indexrelid AND k.conrelid OPERATOR(pg_catalog.=) i.indrelid
       AND k.contype OPERATOR(pg_catalog.=) ANY (ARRAY['p', 'u']::"char"[])
     WHERE i.indisunique
       AND NOT (p.attnum OPERATOR(pg_catalog.=) ANY (i.indkey[0:i.indnkeyatts OPERATOR(pg_catalog.-) 1]))
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits h WHERE h.inhrelid OPERATOR(pg_catalog.=) i.indexrelid)
),
-- Foreign keys into protected tables, with both sides' columns; a
-- partition's copy of its partitioned table's key is left out.
references_in AS (
    SELECT k.oid, k.conname, k.conrelid, k.confrelid, k.confdeltype, k.confupdtype, r.nspname,
           src.tenant_column AS src_tenant, dst.tenant_column AS dst_tenant, src.oid IS NOT NULL AS from_protected,
           EXISTS (SELECT FROM ROWS FROM (pg_catalog.unnest(k.conkey), pg_catalog.unnest(k.confkey)) AS pair (attnum, refattnum)
                    WHERE pair.attnum OPERATOR(pg_catalog.=) src.attnum
                      AND pair.refattnum OPERATOR(pg_catalog.=) dst.attnum) AS pairs_tenants,
           (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY u.n)
              FROM pg_catalog.unnest(k.conkey) WITH ORDINALITY AS u (attnum, n)
              JOIN pg_catalog.pg_attribute a
                ON a.attrelid OPERATOR(pg_catalog.=) k.conrelid AND a.attnum OPERATOR(pg_catalog.=) u.attnum) AS columns,
           (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY u.n)
              FROM pg_catalog.unnest(k.confkey) WITH ORDINALITY AS u (attnum, n)
              JOIN pg_catalog.pg_attribute a
                ON a.attrelid OPERATOR(pg_catalog.=) k.confrelid AND a.attnum OPERATOR(pg_catalog.=) u.attnum) AS ref_columns
      FROM pg_catalog.pg_constraint k
      JOIN protected dst ON dst.oid OPERATOR(pg_catalog.=) k.confrelid
      JOIN relations r ON r.oid OPERATOR(pg_catalog.=) k.conrelid
      LEFT JOIN protected src ON src.oid OPERATOR(pg_catalog.=) k.conrelid
     WHERE k.contype OPERATOR(pg_catalog.=) 'f' AND k.conparentid OPERATOR(pg_catalog.=) 0
),
bindings AS (
    SELECT b.role, b.tenant_id, r.rolname, r.rolsuper,
           coalesce(r.oid IS NOT NULL AND EXISTS (SELECT FROM pg_catalog.pg_roles a
                                                   WHERE a.rolname OPERATOR(pg_catalog.=) 'tenancy_admin')
                    AND pg_catalog.pg_has_role(r.oid, 'tenancy_admin', 'MEMBER'), false) AS admin
      FROM tenancy.role_binding b
      LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) b.role
),
findings (schema_name, severity, hazard, object, explanation, fix) AS (
    -- A table with a tenant column that nobody protected.
    SELECT r.nspname, 'error', 'unprotected_tenant_table', r.oid::pg_catalog.regclass::text,
           pg_catalog.format('has the tenant column %I but is not protected: every role that may read or write it '
                             'reaches every tenant''s rows', t.attname)
           OPERATOR(pg_catalog.||) CASE WHEN t.atttypid OPERATOR(pg_catalog.<>) 'pg_catalog.int8'::pg_catalog.regtype
                THEN pg_catalog.format('; the column is %s, and protect needs bigint', pg_catalog.format_type(t.atttypid, NULL))
                ELSE '' END,
           CASE WHEN t.atttypid OPERATOR(pg_catalog.=) 'pg_catalog.int8'::pg_catalog.regtype
                THEN pg_catalog.format('SELECT tenancy.protect(%L, %L);', r.oid::pg_catalog.regclass::text, t.attname) END
      FROM relations r JOIN tenant_columns t ON t.oid OPERATOR(pg_catalog.=) r.oid
     WHERE NOT EXISTS (SELECT FROM tenancy.protected_table p WHERE p.tbl OPERATOR(pg_catalog.=) r.oid)
       AND NOT r.relispartition  -- its partitioned table is reported (or protected: unprotected_partition)
  UNION ALL
    -- A partition of a protected table that is not protected (the event
    -- trigger was disabled when it was created or attached).  The fix names
    -- the tenant column of the topmost protected ancestor, which protect
    -- requires of a partition (the default, tenant_id, may not be it).
    SELECT r.nspname, 'error', 'unprotected_partition', r.oid::pg_catalog.regclass::text,
           'a partition of a protected table that is not protected itself: queried directly, its rows are not isolated',
           pg_catalog.format('SELECT tenancy.protect(%L, %L);', r.oid::pg_catalog.regclass::text, root.tenant_column)
      FROM relations r
      CROSS JOIN LATERAL (
           SELECT p.tenant_column
             FROM pg_catalog.pg_partition_ancestors(r.oid) WITH ORDINALITY AS a (relid, n)
             JOIN tenancy.protected_table p ON p.tbl OPERATOR(pg_catalog.=) a.relid
            ORDER BY a.n DESC LIMIT 1) AS root
     WHERE r.relispartition
       AND NOT EXISTS (SELECT FROM tenancy.protected_table p WHERE p.tbl OPERATOR(pg_catalog.=) r.oid)
  UNION ALL
    -- A protected table that lost part of its protection.
    SELECT r.nspname, 'error', 'incomplete_protection', r.oid::pg_catalog.regclass::text,
           'protected, but missing: ' OPERATOR(pg_catalog.||) pg_catalog.concat_ws(', ',
               CASE WHEN NOT pt.not_null THEN 'NOT NULL on the tenant column' END,
               CASE WHEN NOT pt.foreign_key THEN 'the foreign key to tenancy.tenant' END,
               CASE WHEN NOT pt.index THEN 'an index on the tenant column' END,
               CASE WHEN NOT pt.rls_enabled THEN 'row-level security' END,
               CASE WHEN NOT pt.rls_forced THEN 'forced row-level security' END,
               CASE WHEN NOT pt.policy THEN 'the policy tenancy_isolation' END,
               CASE WHEN NOT pt.trigger THEN 'the trigger tenancy_tenant_guard' END,
               CASE WHEN NOT pt.truncate_guard THEN 'the trigger tenancy_truncate_guard' END),
           pg_catalog.format('SELECT tenancy.protect(%L, %L);', r.oid::pg_catalog.regclass::text, pt.tenant_column)
      FROM tenancy.protected_tables pt JOIN relations r ON r.oid OPERATOR(pg_catalog.=) pt.table_name
     WHERE NOT pt.complete
  UNION ALL
    -- Another permissive policy is OR-ed with tenancy_isolation: whatever it
    -- allows, every tenant gets.
    SELECT r.nspname, 'error', 'permissive_policy', pg_catalog.format('%I on %s', pol.polname, r.oid::pg_catalog.regclass),
           'a permissive policy besides tenancy_isolation: rows it allows are visible whatever the current tenant; '
           'make it AS RESTRICTIVE (drop and create it again) if it is meant to narrow access further',
           NULL
      FROM pg_catalog.pg_policy pol
      JOIN protected p ON p.oid OPERATOR(pg_catalog.=) pol.polrelid
      JOIN relations r ON r.oid OPERATOR(pg_catalog.=) pol.polrelid
     WHERE pol.polpermissive AND pol.polname OPERATOR(pg_catalog.<>) 'tenancy_isolation'
  UNION ALL
    -- A unique key without the tenant column.
    SELECT u.nspname, CASE WHEN u.generated THEN 'warning' ELSE 'error' END, 'unique_without_tenant',
           pg_catalog.format('%s on %s', u.indexrelid::pg_catalog.regclass, u.indrelid::pg_catalog.regclass),
           pg_catalog.format('unique on (%s) without the tenant column %I: ', u.columns, u.tenant_column)
           OPERATOR(pg_catalog.||) CASE WHEN u.generated
                THEN 'its values come from a sequence or are random, so tenants do not collide, but a tenant that '
                     'inserts a chosen value learns from the unique violation whether another tenant has it, and the '
                     'key cannot be sharded by tenant'
                ELSE 'a tenant that inserts a value another tenant already has gets a unique violation, which reveals '
                     'that the value exists and keeps this tenant from using it' END
           OPERATOR(pg_catalog.||) CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_constraint f
                                                       WHERE f.contype OPERATOR(pg_catalog.=) 'f'
                                                         AND f.conindid OPERATOR(pg_catalog.=) u.indexrelid)
                THEN '; foreign keys reference it, and must then reference the new key' ELSE '' END,
           CASE WHEN u.irregular THEN NULL
                WHEN u.conname IS NOT NULL
                THEN pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I %s (%I, %s);',
                                       u.indrelid::pg_catalog.regclass, u.conname, u.conname,
                                       CASE u.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END,
                                       u.tenant_column, u.columns)
                ELSE pg_catalog.format('DROP INDEX %s; CREATE UNIQUE INDEX %I ON %s (%I, %s);',
                                       u.indexrelid::pg_catalog.regclass,
                                       (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) u.indexrelid),
                                       u.indrelid::pg_catalog.regclass, u.tenant_column, u.columns) END
      FROM unique_keys u
  UNION ALL
    -- A foreign key between protected tables that does not pair the tenant
    -- columns: a row can point at another tenant's row.
    SELECT f.nspname, 'error', 'cross_tenant_foreign_key',
           pg_catalog.format('%I on %s', f.conname, f.conrelid::pg_catalog.regclass),
           pg_catalog.format('references %s without the tenant column: a row of one tenant can reference a row of '
                             'another, and the foreign-key errors reveal which of its rows exist; the referenced table '
                             'needs a unique key on (%I, %s) first', f.confrelid::pg_catalog.regclass, f.dst_tenant,
                             f.ref_columns),
           pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I FOREIGN KEY (%I, %s) REFERENCES %s (%I, %s)%s%s;',
                             f.conrelid::pg_catalog.regclass, f.conname, f.conname, f.src_tenant, f.columns,
                             f.confrelid::pg_catalog.regclass, f.dst_tenant, f.ref_columns,
                             CASE f.confupdtype WHEN 'r' THEN ' ON UPDATE RESTRICT' WHEN 'c' THEN ' ON UPDATE CASCADE'
                                  WHEN 'n' THEN ' ON UPDATE SET NULL' WHEN 'd' THEN ' ON UPDATE SET DEFAULT' ELSE '' END,
                             CASE f.confdeltype WHEN 'r' THEN ' ON DELETE RESTRICT' WHEN 'c' THEN ' ON DELETE CASCADE'
                                  WHEN 'n' THEN pg_catalog.format(' ON DELETE SET NULL (%s)', f.columns)
                                  WHEN 'd' THEN pg_catalog.format(' ON DELETE SET DEFAULT (%s)', f.columns) ELSE '' END)
      FROM references_in f
     WHERE f.from_protected AND NOT f.pairs_tenants
  UNION ALL
    -- A table without a tenant column that references a protected table.
    SELECT f.nspname, 'warning', 'reference_from_shared_table',
           pg_catalog.format('%I on %s', f.conname, f.conrelid::pg_catalog.regclass),
           pg_catalog.format('a table that is not protected references protected table %s: its rows point at tenants'' '
                             'rows, and the foreign-key errors reveal which rows exist to whoever writes it',
                             f.confrelid::pg_catalog.regclass),
           NULL
      FROM references_in f
     WHERE NOT f.from_protected
       AND NOT EXISTS (SELECT FROM tenant_columns t WHERE t.oid OPERATOR(pg_catalog.=) f.conrelid)
  UNION ALL
    -- A protected table owned by a role that row-level security does not filter.
    SELECT r.nspname, 'warning', 'privileged_table_owner', r.oid::pg_catalog.regclass::text,
           pg_catalog.format('owned by %I, which bypasses row-level security (FORCE ROW LEVEL SECURITY does not apply '
                             'to it): the owner, and every view and SECURITY DEFINER function it owns, reads every '
                             'tenant''s rows; give the table an ordinary owner', pr.rolname),
           NULL
      FROM relations r
      JOIN protected p ON p.oid OPERATOR(pg_catalog.=) r.oid
      JOIN privileged pr ON pr.oid OPERATOR(pg_catalog.=) r.relowner
     WHERE p.partition_of IS NULL
  UNION ALL
    -- A materialized view of a protected table: no row-level security.
    SELECT v.nspname, 'error', 'materialized_view_over_protected_table', v.oid::pg_catalog.regclass::text,
           pg_catalog.format('a materialized view of %s: materialized views have no row-level security, so every '
                             'role that may read it sees the rows of every tenant its last refresh saw', v.tables),
           NULL
      FROM views_over_protected v
     WHERE v.relkind OPERATOR(pg_catalog.=) 'm'
  UNION ALL
    -- A view that reads protected tables with its owner's rights, owned by a
    -- role that row-level security does not filter.
    SELECT v.nspname, 'error', 'view_bypasses_isolation', v.oid::pg_catalog.regclass::text,
           pg_catalog.format('a view of %s owned by %I, which bypasses row-level security, and not security_invoker: '
                             'every role that may read it sees every tenant''s rows', v.tables, pr.rolname),
           pg_catalog.format('ALTER VIEW %s SET (security_invoker = true);', v.oid::pg_catalog.regclass)
      FROM views_over_protected v
      JOIN privileged pr ON pr.oid OPERATOR(pg_catalog.=) v.relowner
     WHERE v.relkind OPERATOR(pg_catalog.=) 'v' AND NOT v.invoker
  UNION ALL
    -- A view that reads protected tables with the rights of an owner that is
    -- not theirs.
    SELECT v.nspname, 'warning', 'view_owner_differs', v.oid::pg_catalog.regclass::text,
           pg_catalog.format('a view of %s owned by %I, not by the table owner, and not security_invoker: it reads the '
                             'tables with its owner''s privileges (still filtered by the current tenant), so whoever may '
                             'read the view reads what its owner may', v.tables, pg_catalog.pg_get_userbyid(v.relowner)),
           pg_catalog.format('ALTER VIEW %s SET (security_invoker = true);', v.oid::pg_catalog.regclass)
      FROM views_over_protected v
     WHERE v.relkind OPERATOR(pg_catalog.=) 'v' AND NOT v.invoker
       AND NOT EXISTS (SELECT FROM privileged pr WHERE pr.oid OPERATOR(pg_catalog.=) v.relowner)
       AND NOT (v.relowner OPERATOR(pg_catalog.=) ALL (v.table_owners))
  UNION ALL
    -- A SECURITY DEFINER function owned by a role that row-level security
    -- does not filter: whatever protected table it reads, it reads whole.
    SELECT s.nspname,
           CASE WHEN reads.tables IS NOT NULL THEN 'error' ELSE 'warning' END,
           'privileged_security_definer', f.oid::pg_catalog.regprocedure::text,
           pg_catalog.format('SECURITY DEFINER and owned by %I, which bypasses row-level security: ', pr.rolname)
           OPERATOR(pg_catalog.||) CASE WHEN reads.tables IS NOT NULL
                THEN pg_catalog.format('it reads every tenant''s rows of %s to whoever may call it', reads.tables)
                ELSE 'every protected table it reads, it reads whole (the audit cannot see which tables a function '
                     'body reads)' END
           OPERATOR(pg_catalog.||) '; or give it an owner that does not bypass row-level security',
           pg_catalog.format('ALTER FUNCTION %s SECURITY INVOKER;', f.oid::pg_catalog.regprocedure)
      FROM pg_catalog.pg_proc f
      JOIN audited_schemas s ON s.oid OPERATOR(pg_catalog.=) f.pronamespace
      JOIN privileged pr ON pr.oid OPERATOR(pg_catalog.=) f.proowner
      CROSS JOIN LATERAL (
          -- A BEGIN ATOMIC body records what it reads; any other body is
          -- searched for the tables' names.
          SELECT pg_catalog.string_agg(p.oid::pg_catalog.regclass::text, ', ' ORDER BY p.oid::pg_catalog.regclass::text) AS tables
            FROM protected p JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) p.oid
           WHERE p.partition_of IS NULL
             AND (EXISTS (SELECT FROM pg_catalog.pg_depend d
                           WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
                             AND d.objid OPERATOR(pg_catalog.=) f.oid AND d.refobjid OPERATOR(pg_catalog.=) p.oid)
                  OR pg_catalog.strpos(pg_catalog.lower(f.prosrc), pg_catalog.lower(c.relname::text)) OPERATOR(pg_catalog.>) 0)
      ) reads
     WHERE f.prosecdef
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                        WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
                          AND d.objid OPERATOR(pg_catalog.=) f.oid AND d.deptype OPERATOR(pg_catalog.=) 'e')
  UNION ALL
    -- A role, not a superuser, that bypasses row-level security and may use
    -- protected tables.
    SELECT r.nspname, 'warning', 'bypassrls_role', pg_catalog.quote_ident(rl.rolname),
           pg_catalog.format('bypasses row-level security and has privileges on %s protected table(s) of schema %I: '
                             'it reads and writes every tenant''s rows', pg_catalog.count(*), r.nspname),
           pg_catalog.format('ALTER ROLE %I NOBYPASSRLS;', rl.rolname)
      FROM pg_catalog.pg_roles rl
      CROSS JOIN relations r
      JOIN protected p ON p.oid OPERATOR(pg_catalog.=) r.oid
     WHERE rl.rolbypassrls AND NOT rl.rolsuper AND p.partition_of IS NULL
       AND pg_catalog.has_table_privilege(rl.oid, r.oid, 'SELECT, INSERT, UPDATE, DELETE')
     GROUP BY r.nspname, rl.rolname
  UNION ALL
    -- Everyone may choose any tenant.
    SELECT NULL, 'error', 'set_tenant_granted_to_public', 'function tenancy.set_tenant(bigint,boolean)',
           'PUBLIC may execute tenancy.set_tenant: every role may act as any tenant',
           'REVOKE EXECUTE ON FUNCTION tenancy.set_tenant(bigint, boolean) FROM PUBLIC;'
     WHERE pg_catalog.has_function_privilege('public', 'tenancy.set_tenant(bigint, boolean)', 'EXECUTE')
  UNION ALL
    -- Role bindings that are stale or do nothing.
    SELECT NULL, 'warning', 'binding_of_dropped_role', pg_catalog.format('role %s, tenant %s', b.role::pg_catalog.oid, b.tenant_id),
           'a binding of a role that was dropped; a new role that got the same OID would inherit it',
           pg_catalog.format('SELECT tenancy.unbind_role(%s::pg_catalog.oid::pg_catalog.regrole, %s);',
                             b.role::pg_catalog.oid, b.tenant_id)
      FROM bindings b WHERE b.rolname IS NULL
  UNION ALL
    SELECT NULL, 'info', 'binding_of_unrestricted_role', pg_catalog.format('role %I, tenant %s', b.rolname, b.tenant_id),
           CASE WHEN b.rolsuper THEN 'a binding of a superuser, who acts as any tenant: it restricts nothing'
                ELSE 'a binding of a member of tenancy_admin, which acts as any tenant: it restricts nothing' END,
           pg_catalog.format('SELECT tenancy.unbind_role(%L, %s);', b.rolname, b.tenant_id)
      FROM bindings b WHERE b.rolname IS NOT NULL AND (b.rolsuper OR b.admin)
  UNION ALL
    SELECT NULL, 'info', 'binding_not_required', 'setting tenancy.require_binding',
           'roles are bound to tenants but tenancy.require_binding is off here: a role without bindings acts as any tenant',
           NULL
     WHERE EXISTS (SELECT FROM tenancy.role_binding)
       AND pg_catalog.current_setting('tenancy.require_binding', true) IS DISTINCT FROM 'on'
)
SELECT schema_name, severity, hazard, object, explanation, fix FROM findings;
COMMENT ON VIEW tenancy.isolation_hazards IS 'What tenancy.audit reports, with the schema of each finding';

CREATE FUNCTION tenancy.audit(schema name DEFAULT NULL)
RETURNS TABLE (severity text, hazard text, object text, explanation text, fix text)
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_audit';
COMMENT ON FUNCTION tenancy.audit(name)
    IS 'Isolation hazards that row-level security leaves open, in one schema or all, with the statement that fixes each';

REVOKE ALL ON FUNCTION tenancy.audit(name) FROM PUBLIC;
