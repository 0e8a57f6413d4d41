\echo Use "ALTER EXTENSION tenancy UPDATE" to load this file. \quit

-- 0.5.0 -> 0.6.0: moving a tenant to another server (docs/placement.md,
-- "Moving a tenant").

-- A tenant database's claim records the state of a move of it
-- (sql/install/placement.sql).
ALTER TABLE tenancy.database_claim
    ADD COLUMN move_state text,
    ADD COLUMN move_id bigint,
    ADD COLUMN moved_to text,
    ADD COLUMN move_state_at timestamptz,
    ADD CONSTRAINT database_claim_move_state_valid
        CHECK (move_state OPERATOR(pg_catalog.=) ANY (ARRAY['moving', 'frozen', 'moved', 'incoming'])),
    ADD CONSTRAINT database_claim_move_shape CHECK ((move_state IS NULL) OPERATOR(pg_catalog.=) (move_id IS NULL));

-- database_claim() returns the move's state too.  A function's result type
-- cannot change in place, so it is dropped and created again; the EXECUTE
-- grants an administrator gave on the old one are carried over.
SELECT pg_catalog.set_config('tenancy_upgrade.database_claim_grantees',
       coalesce(pg_catalog.string_agg(pg_catalog.quote_ident(r.rolname), ','), ''), true)
  FROM pg_catalog.pg_proc p
 CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) a
  JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.grantee
 WHERE p.oid OPERATOR(pg_catalog.=) 'tenancy.database_claim()'::pg_catalog.regprocedure
   AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
   AND a.grantee OPERATOR(pg_catalog.<>) p.proowner;

DROP FUNCTION tenancy.database_claim();

CREATE FUNCTION tenancy.database_claim()
RETURNS TABLE (tenant bigint, registry uuid, slug text, claimed_at timestamptz,
               move_state text, move_id bigint, moved_to text)
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_database_claim';
COMMENT ON FUNCTION tenancy.database_claim()
    IS 'The tenant and registry this database belongs to, and the state of a move of it; no row if unclaimed';
REVOKE ALL ON FUNCTION tenancy.database_claim() FROM PUBLIC;

DO $$
DECLARE
    grantee text;
BEGIN
    FOREACH grantee IN ARRAY pg_catalog.string_to_array(
            pg_catalog.current_setting('tenancy_upgrade.database_claim_grantees'), ',') LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION tenancy.database_claim() TO %s', grantee);
    END LOOP;
END
$$;

-- Moving a tenant to another server (docs/placement.md, "Moving a tenant").
--
-- A database tenant (or a schema tenant, which graduates to a database of its
-- own) is copied to a database on another server with PostgreSQL's own tools:
-- its schema with pg_dump/pg_restore, its data with a publication on the
-- source and a subscription on the target.  The client
-- (tenancy::orchestration::Mover, tenancyctl tenant move) drives the steps;
-- the registry records each one in tenancy.tenant_move, so a move stopped at
-- any point is resumed or rolled back.  At the cutover the source is frozen
-- (writes refused), the target catches up, both are verified, and the
-- placement switches to the target and its epoch grows in one registry
-- transaction.
--
-- Same conventions as the other parts: pinned search_path everywhere, every
-- reference qualified, EXECUTE revoked from PUBLIC on everything.

-- Registry side -------------------------------------------------------------

CREATE TABLE tenancy.tenant_move (
    id               bigint GENERATED ALWAYS AS IDENTITY,
    -- Bookkeeping of the tenant: it goes with its row (purge_tenant).
    tenant_id        bigint NOT NULL REFERENCES tenancy.tenant (id) ON DELETE CASCADE,
    -- Where the tenant was: a database on a server, or a schema of the
    -- registry database (source_server and source_database NULL).
    source_isolation text NOT NULL,
    source_server    text,
    source_database  text,
    schema_name      text NOT NULL,
    -- Servers are named, not referenced: a finished move's record outlives
    -- them (remove_server refuses while a move or a kept copy needs one).
    target_server    text NOT NULL,
    target_database  text NOT NULL,
    from_epoch       bigint NOT NULL,
    drop_source      boolean NOT NULL,
    -- running: the source is authoritative; switched: the target is (the
    -- placement points there), clean-up remains; done; aborted (rolled back).
    state            text NOT NULL DEFAULT 'running',
    step             text NOT NULL DEFAULT 'begun',
    error            text,
    verification     jsonb,
    write_pause      interval,
    source_dropped   boolean NOT NULL DEFAULT false,
    started_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    step_changed_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    finished_at      timestamptz,
    started_by       name NOT NULL DEFAULT pg_catalog.session_user(),
    CONSTRAINT tenant_move_pkey PRIMARY KEY (id),
    CONSTRAINT tenant_move_state_valid
        CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['running', 'switched', 'done', 'aborted'])),
    CONSTRAINT tenant_move_source_valid CHECK (CASE source_isolation
        WHEN 'schema' THEN source_server IS NULL AND source_database IS NULL
        WHEN 'database' THEN source_server IS NOT NULL AND source_database IS NOT NULL
        ELSE false END)
);
-- One unfinished move per tenant: a second one waits for the first's row and
-- is refused (TN020).
CREATE UNIQUE INDEX tenant_move_one_unfinished ON tenancy.tenant_move (tenant_id)
    WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['running', 'switched']);
CREATE INDEX tenant_move_by_tenant ON tenancy.tenant_move (tenant_id, id);
COMMENT ON TABLE tenancy.tenant_move
    IS 'Moves of tenants between servers: every step recorded, so that an interrupted move is resumed or rolled back';

SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant_move', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant_move_id_seq', '');

-- In every database that holds tenant data: the fence of a cutover.  The
-- source writes a move's row when it freezes; the row reaches the target
-- through the move's subscription after everything committed before it, so
-- its arrival means the target has caught up.  Rows live only during a move.
CREATE TABLE tenancy.move_fence (
    move_id   bigint NOT NULL,
    fenced_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT move_fence_pkey PRIMARY KEY (move_id)
);
COMMENT ON TABLE tenancy.move_fence IS 'Cutover fences of tenant moves (transient)';
-- Marked like every table of the extension, so a dump taken during a cutover
-- restores the fence with the move it belongs to.
SELECT pg_catalog.pg_extension_config_dump('tenancy.move_fence', '');

-- begin_move and tenant_moves describe a move with the same columns: where it
-- comes from and goes to (with the servers' conninfos), its state and step.
CREATE FUNCTION tenancy.begin_move(tenant bigint, target_server text, drop_source boolean DEFAULT false)
RETURNS TABLE (
    move bigint, tenant bigint, slug text, source_isolation text, source_server text, source_conninfo text,
    source_database text, schema_name text, target_server text, target_conninfo text, target_database text,
    from_epoch bigint, drop_source boolean, state text, step text, error text, write_pause_ms double precision,
    source_dropped boolean, registry uuid, started_at timestamptz, step_changed_at timestamptz,
    finished_at timestamptz, mover_running boolean)
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_begin_move';
COMMENT ON FUNCTION tenancy.begin_move(bigint, text, boolean)
    IS 'Records the start of a move of a database or schema tenant to a server and returns it (step 1 of tenancyctl tenant move)';

CREATE FUNCTION tenancy.tenant_moves(tenant bigint)
RETURNS TABLE (
    move bigint, tenant bigint, slug text, source_isolation text, source_server text, source_conninfo text,
    source_database text, schema_name text, target_server text, target_conninfo text, target_database text,
    from_epoch bigint, drop_source boolean, state text, step text, error text, write_pause_ms double precision,
    source_dropped boolean, registry uuid, started_at timestamptz, step_changed_at timestamptz,
    finished_at timestamptz, mover_running boolean)
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_tenant_moves';
COMMENT ON FUNCTION tenancy.tenant_moves(bigint) IS 'The moves of a tenant, newest first';

CREATE FUNCTION tenancy.record_move_step(move bigint, step text, error text DEFAULT NULL)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_record_move_step';
COMMENT ON FUNCTION tenancy.record_move_step(bigint, text, text)
    IS 'Records the step an unfinished move has reached (and the error that stopped it, if any)';

CREATE FUNCTION tenancy.lock_move(move bigint)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_lock_move';
COMMENT ON FUNCTION tenancy.lock_move(bigint)
    IS 'Takes the session lock that marks a move as being run; false if another session holds it';

CREATE FUNCTION tenancy.switch_placement(move bigint, write_pause_ms double precision, verification jsonb)
RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_switch_placement';
COMMENT ON FUNCTION tenancy.switch_placement(bigint, double precision, jsonb)
    IS 'The cutover''s switch: the placement moves to the target and its epoch grows, in one transaction; returns the new epoch';

CREATE FUNCTION tenancy.finish_move(move bigint, source_dropped boolean)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_finish_move';
COMMENT ON FUNCTION tenancy.finish_move(bigint, boolean)
    IS 'Marks a switched move done (or records that the source a finished move kept has been dropped)';

CREATE FUNCTION tenancy.abort_move(move bigint)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_abort_move';
COMMENT ON FUNCTION tenancy.abort_move(bigint)
    IS 'Marks a move that has not switched as rolled back; refused once the target is authoritative';

CREATE VIEW tenancy.moves AS
SELECT m.id AS move, m.tenant_id AS tenant, m.source_isolation, m.source_server, m.source_database,
       m.schema_name, m.target_server, m.target_database, m.drop_source, m.state, m.step, m.error,
       m.write_pause, m.source_dropped, m.started_at, m.step_changed_at, m.finished_at, m.started_by
  FROM tenancy.tenant_move m
 ORDER BY m.id;
COMMENT ON VIEW tenancy.moves IS 'Every move of a tenant between servers, with its state and the step it reached';

-- Tenant data side: run in the source or target database of a move ---------

CREATE FUNCTION tenancy.prepare_move_out(tenant bigint, registry uuid, move bigint)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_prepare_move_out';
COMMENT ON FUNCTION tenancy.prepare_move_out(bigint, uuid, bigint)
    IS 'In the source of a move: checks that the data is the tenant''s and stops its migrations until the move ends';

CREATE FUNCTION tenancy.freeze_for_move(tenant bigint, registry uuid, move bigint)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_freeze_for_move';
COMMENT ON FUNCTION tenancy.freeze_for_move(bigint, uuid, bigint)
    IS 'In the source of a move, first half of the freeze: a tenant database is marked frozen and made read-only for new sessions';

CREATE FUNCTION tenancy.fence_for_move(tenant bigint, registry uuid, move bigint)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_fence_for_move';
COMMENT ON FUNCTION tenancy.fence_for_move(bigint, uuid, bigint)
    IS 'In the source of a move, second half of the freeze: ends other sessions of a tenant database, refuses every further write to the tenant''s tables and writes the cutover fence';

CREATE FUNCTION tenancy.unfreeze_for_move(tenant bigint, registry uuid, move bigint, keep_moving boolean)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_unfreeze_for_move';
COMMENT ON FUNCTION tenancy.unfreeze_for_move(bigint, uuid, bigint, boolean)
    IS 'In the source of a move that did not switch: writes are accepted again (keep_moving: the move goes on)';

CREATE FUNCTION tenancy.mark_moved(tenant bigint, registry uuid, move bigint, moved_to text)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_mark_moved';
COMMENT ON FUNCTION tenancy.mark_moved(bigint, uuid, bigint, text)
    IS 'In the source of a switched move: marks the copy as moved (it stays read-only)';

CREATE FUNCTION tenancy.claim_moved_database(tenant bigint, registry uuid, slug text, move bigint, ledger jsonb)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_claim_moved_database';
COMMENT ON FUNCTION tenancy.claim_moved_database(bigint, uuid, text, bigint, jsonb)
    IS 'In the target of a move: claims the new database for the tenant as the move''s target and records its migration ledger';

CREATE FUNCTION tenancy.finish_move_in(tenant bigint, registry uuid, move bigint)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_finish_move_in';
COMMENT ON FUNCTION tenancy.finish_move_in(bigint, uuid, bigint)
    IS 'In the target of a switched move: the database becomes the tenant''s ordinary database';

-- Row counts and content checksums of every table of a schema, computed the
-- same way on both sides of a move.  SECURITY INVOKER: it reads the data with
-- the caller's rights.
CREATE FUNCTION tenancy.table_checksums(schema_name text)
RETURNS TABLE (table_name text, rows bigint, checksum text, method text)
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp
-- the settings a row's text form depends on, the same on both sides
SET datestyle = 'ISO, YMD' SET intervalstyle = 'postgres' SET timezone = 'UTC'
SET extra_float_digits = 3 SET bytea_output = 'hex' SET lc_monetary = 'C'
AS 'MODULE_PATHNAME', 'tenancy_table_checksums';
COMMENT ON FUNCTION tenancy.table_checksums(text)
    IS 'Row count and an order-independent content checksum of each table of a schema';

-- The trigger a frozen or moved copy's tables carry: it refuses every write.
CREATE FUNCTION tenancy.move_guard()
RETURNS trigger
LANGUAGE C
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tenancy_move_guard';
COMMENT ON FUNCTION tenancy.move_guard()
    IS 'Trigger on the tables of a frozen or moved copy of a tenant: refuses writes (TN021)';

REVOKE ALL ON FUNCTION
    tenancy.begin_move(bigint, text, boolean),
    tenancy.tenant_moves(bigint),
    tenancy.record_move_step(bigint, text, text),
    tenancy.lock_move(bigint),
    tenancy.switch_placement(bigint, double precision, jsonb),
    tenancy.finish_move(bigint, boolean),
    tenancy.abort_move(bigint),
    tenancy.prepare_move_out(bigint, uuid, bigint),
    tenancy.freeze_for_move(bigint, uuid, bigint),
    tenancy.fence_for_move(bigint, uuid, bigint),
    tenancy.unfreeze_for_move(bigint, uuid, bigint, boolean),
    tenancy.mark_moved(bigint, uuid, bigint, text),
    tenancy.claim_moved_database(bigint, uuid, text, bigint, jsonb),
    tenancy.finish_move_in(bigint, uuid, bigint),
    tenancy.table_checksums(text),
    tenancy.move_guard()
FROM PUBLIC;

-- ==== fix-12 (issue 12 review): the audit's fix for an unprotected partition ====
-- It names the tenant column of the partition's protected partitioned table
-- (tenancy.protect refuses a partition protected on another column), not
-- the default tenant_id.  The view again, as in sql/install/audit.sql.
CREATE OR REPLACE VIEW tenancy.isolation_hazards AS
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
-- ==== end of fix-12 section ====
