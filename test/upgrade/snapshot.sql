-- Describes every object of the tenancy extension as sorted text lines, with
-- no OIDs, so that two databases can be compared with diff: functions with
-- their full definitions (body, volatility, security, SET search_path) and
-- privileges, tables with columns, constraints, indexes, policies, triggers,
-- row-level-security flags and privileges, views, and which tables pg_dump
-- treats as configuration.
\pset format unaligned
\pset tuples_only on
WITH members AS (
    SELECT d.classid, d.objid
      FROM pg_depend d
      JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid
     WHERE e.extname = 'tenancy' AND d.deptype = 'e'
), tables AS (
    SELECT c.oid, c.oid::regclass::text AS name, c.relkind, c.relrowsecurity, c.relforcerowsecurity, c.relacl
      FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
)
SELECT line FROM (
    SELECT 'member: ' || pg_describe_object(classid, objid, 0) AS line FROM members
    UNION ALL
    SELECT 'function: ' || pg_get_functiondef(p.oid) || ' acl=' || coalesce(p.proacl::text, 'default')
      FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
    UNION ALL
    SELECT format('relation: %s kind=%s rls=%s force_rls=%s acl=%s', name, relkind, relrowsecurity,
                  relforcerowsecurity, coalesce(relacl::text, 'default'))
      FROM tables
    UNION ALL
    SELECT format('column: %s.%s %s notnull=%s default=%s identity=%s generated=%s', t.name, a.attname,
                  format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid),
                  a.attidentity, a.attgenerated)
      FROM tables t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    UNION ALL
    SELECT format('constraint: %s %s %s', t.name, co.conname, pg_get_constraintdef(co.oid))
      FROM tables t JOIN pg_constraint co ON co.conrelid = t.oid
    UNION ALL
    SELECT 'index: ' || pg_get_indexdef(i.indexrelid)
      FROM tables t JOIN pg_index i ON i.indrelid = t.oid
    UNION ALL
    SELECT format('policy: %s %s %s %s roles=%s using=%s check=%s', t.name, po.polname, po.polcmd,
                  po.polpermissive, po.polroles::regrole[]::text, pg_get_expr(po.polqual, po.polrelid),
                  pg_get_expr(po.polwithcheck, po.polrelid))
      FROM tables t JOIN pg_policy po ON po.polrelid = t.oid
    UNION ALL
    SELECT 'trigger: ' || pg_get_triggerdef(tg.oid)
      FROM tables t JOIN pg_trigger tg ON tg.tgrelid = t.oid AND NOT tg.tgisinternal
    UNION ALL
    SELECT format('view: %s %s', t.name, pg_get_viewdef(t.oid))
      FROM tables t WHERE t.relkind IN ('v', 'm')
    UNION ALL
    SELECT format('comment: %s %s', pg_describe_object(m.classid, m.objid, 0), d.description)
      FROM members m JOIN pg_description d ON d.classoid = m.classid AND d.objoid = m.objid
    UNION ALL
    SELECT 'config-dump: ' || cfg::regclass::text || ' filter=' || coalesce(cond, '')
      FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u(cfg, cond)
     WHERE e.extname = 'tenancy'
    UNION ALL
    SELECT 'version: ' || extversion FROM pg_extension WHERE extname = 'tenancy'
) lines
ORDER BY line;
