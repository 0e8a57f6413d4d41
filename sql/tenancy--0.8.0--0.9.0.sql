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
