\echo Use "CREATE EXTENSION tenancy_tap" to load this file. \quit

-- tenancy_tap: pgTAP assertions about tenant isolation, for the test suites
-- of the people who use the tenancy extension (docs/testing.md).
--
-- Each assertion returns TAP through pgTAP's own ok() and diag(), so it
-- counts in the plan and numbering like any pgTAP test.  Conventions:
--  * every function pins search_path (pg_catalog, pg_temp); the SQL they
--    run names every object with its schema (operators too).  PL/pgSQL
--    expressions are evaluated under the pinned path, where pg_catalog comes
--    first and operators are never looked up in pg_temp;
--  * pgTAP's functions call each other without a schema, so _tap widens the
--    path to pg_catalog, pgTAP's schema, pg_temp for exactly that call
--    (pgTAP is relocatable, and PostgreSQL 15 has no @extschema:pgtap@);
--  * functions that change anything (is_isolated writes throwaway rows and
--    tenants, then rolls them back) have EXECUTE revoked from PUBLIC.

-- Emits one TAP test: pgTAP's ok(pass, description), then the diagnostics
-- (if any) as pgTAP comments.
CREATE FUNCTION tenancy_tap._tap(pass boolean, description text, diagnostics text)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tap_schema name;
    line text;
    note text;
BEGIN
    SELECT n.nspname INTO tap_schema
      FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
     WHERE e.extname OPERATOR(pg_catalog.=) 'pgtap';
    IF tap_schema IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = 'extension "pgtap" is not installed in this database',
            HINT = 'CREATE EXTENSION pgtap;';
    END IF;
    -- pg_catalog first: pgTAP's schema may be writable by others (public),
    -- and a function there named like a built-in one pgTAP calls (substr,
    -- an operator) must not win over the built-in in a superuser's session.
    PERFORM pg_catalog.set_config('search_path',
        'pg_catalog, ' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(tap_schema) OPERATOR(pg_catalog.||) ', pg_temp', true);
    EXECUTE pg_catalog.format('SELECT %I.ok($1, $2)', tap_schema) INTO line USING pass, description;
    IF diagnostics IS NOT NULL AND diagnostics OPERATOR(pg_catalog.<>) '' THEN
        EXECUTE pg_catalog.format('SELECT %I.diag($1)', tap_schema) INTO note USING diagnostics;
        line := line OPERATOR(pg_catalog.||) E'\n' OPERATOR(pg_catalog.||) note;
    END IF;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    RETURN line;
END
$$;
COMMENT ON FUNCTION tenancy_tap._tap(boolean, text, text) IS 'Internal: one TAP test through pgTAP''s ok() and diag()';

-- Refuses a NULL argument with 22023, as the tenancy functions do.
CREATE FUNCTION tenancy_tap._required(value anyelement, argument text)
RETURNS anyelement
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = pg_catalog.format('argument %s must not be NULL', argument);
    END IF;
    RETURN value;
END
$$;
COMMENT ON FUNCTION tenancy_tap._required(anyelement, text) IS 'Internal: 22023 for a NULL argument';

-- is_isolated ---------------------------------------------------------------------
--
-- Proves, by trying, that a session of tenant B running as `as_role` cannot
-- read, change, delete, re-home or create rows of tenant A in `tbl` (and in
-- each of its partitions), nor switch row-level security off.  Every attempt
-- runs in a subtransaction that is rolled back after its effect has been
-- measured as the caller, so attempts cannot influence each other; the whole
-- check runs in one more subtransaction that is rolled back at the end, so
-- the throwaway tenants and rows are gone whatever the test does afterwards.
--
-- An attempt passes when PostgreSQL refuses it with 42501 (row-level
-- security, the guard trigger, a missing privilege) or when it has no effect
-- on tenant A's rows (and, for reads, shows none of them).  It fails when it
-- reads or changes another tenant's rows, and also when it fails with any
-- other error, because then it proves nothing (the diagnostics say which).

CREATE FUNCTION tenancy_tap._is_isolated(
    tbl regclass, as_role name, sample jsonb, tenant_a bigint, tenant_b bigint, description text)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rollback_marker constant text := 'tenancy_tap: rolling back is_isolated';
    caller name := current_user;
    throwaway boolean := tenant_a IS NULL;
    a bigint := tenant_a;
    b bigint := tenant_b;
    nsp name;
    relname name;
    kind_of_tbl "char";
    col name;
    columns text;          -- the columns of a row written for A, quoted, comma-separated
    row_a jsonb;           -- one row of tenant A, as JSON
    base_count bigint;
    base_fp text;
    rel record;
    i integer;
    attempt_route text;
    attempt_context text;
    attempt_kind text;
    attempt_setup text;
    attempt_sql text;
    arbiter record;
    probes text[][] := '{}';
    affected bigint;
    after_count bigint;
    after_fp text;
    b_rows bigint;
    failed_state text;
    failed_message text;
    verdict text;
    problems text[] := '{}';
    notes text[] := '{}';
    bypass_roles text;
    fp_sql text;
    insert_sql text;
    sample_columns text;
    writing bigint;
    setup_failure text;
    upsert_columns text;
BEGIN
    PERFORM tenancy_tap._required(tbl, 'tbl');
    PERFORM tenancy_tap._required(as_role, 'as_role');
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) as_role) THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = pg_catalog.format('role "%s" does not exist', as_role);
    END IF;
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) caller) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = 'tenancy_tap.is_isolated must be called by a superuser',
            DETAIL = 'It creates throwaway tenants, writes rows of two tenants and switches to the role under test.',
            HINT = 'Run the pgTAP suite as a superuser (pg_prove -U postgres ...).';
    END IF;
    description := coalesce(description,
        pg_catalog.format('table %s is isolated between tenants for role %s', tbl, as_role));

    SELECT n.nspname, c.relname, c.relkind INTO nsp, relname, kind_of_tbl
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
     WHERE c.oid OPERATOR(pg_catalog.=) tbl;
    IF relname IS NULL THEN  -- a regclass made from a number that names nothing
        RAISE EXCEPTION USING ERRCODE = 'undefined_table',
            MESSAGE = pg_catalog.format('relation with OID %s does not exist', tbl::pg_catalog.oid);
    END IF;
    IF kind_of_tbl OPERATOR(pg_catalog.<>) ALL (ARRAY['r', 'p']::"char"[]) THEN
        RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
            MESSAGE = pg_catalog.format('%s is not a table', tbl),
            HINT = 'is_isolated tests tables (and partitioned tables); test a view through the tables under it.';
    END IF;
    -- The tenant column: the one protect recorded, else tenant_id.
    SELECT p.tenant_column INTO col FROM tenancy.protected_table p WHERE p.tbl OPERATOR(pg_catalog.=) $1;
    IF col IS NULL THEN
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute t
                        WHERE t.attrelid OPERATOR(pg_catalog.=) tbl AND t.attname OPERATOR(pg_catalog.=) 'tenant_id'
                          AND NOT t.attisdropped) THEN
            RETURN tenancy_tap._tap(false, description, pg_catalog.format(
                '%s is not protected (tenancy.protect) and has no tenant_id column', tbl));
        END IF;
        col := 'tenant_id';
        notes := notes OPERATOR(pg_catalog.||) pg_catalog.format('%s is not protected by tenancy.protect', tbl);
    END IF;

    -- A role that bypasses row-level security, or can become one, is not isolated.
    IF (SELECT r.rolsuper OR r.rolbypassrls FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) as_role) THEN
        RETURN tenancy_tap._tap(false, description, pg_catalog.format(
            'role %s bypasses row-level security (superuser or BYPASSRLS): it reads and writes every tenant', as_role));
    END IF;
    SELECT pg_catalog.string_agg(r.rolname::text, ', ' ORDER BY r.rolname) INTO bypass_roles
      FROM pg_catalog.pg_roles r
     WHERE r.rolname OPERATOR(pg_catalog.<>) as_role AND (r.rolsuper OR r.rolbypassrls)
       AND pg_catalog.pg_has_role(as_role, r.oid, 'MEMBER');
    IF bypass_roles IS NOT NULL THEN
        problems := problems OPERATOR(pg_catalog.||) pg_catalog.format(
            'role %s is a member of %s, which bypass(es) row-level security (SET ROLE)', as_role, bypass_roles);
    END IF;

    -- A row written for tenant A by the attempts carries the tenant column
    -- and the columns that must have a value (taken from A's row); the rest
    -- take their defaults, so an identity key does not collide with A's.
    SELECT pg_catalog.string_agg(pg_catalog.quote_ident(t.attname), ', ' ORDER BY t.attnum) INTO columns
      FROM pg_catalog.pg_attribute t
     WHERE t.attrelid OPERATOR(pg_catalog.=) tbl AND t.attnum OPERATOR(pg_catalog.>) 0
       AND NOT t.attisdropped AND t.attgenerated OPERATOR(pg_catalog.=) ''
       AND (t.attname OPERATOR(pg_catalog.=) col OR (t.attnotnull AND NOT t.atthasdef AND t.attidentity OPERATOR(pg_catalog.=) ''));
    fp_sql := pg_catalog.format(
        'SELECT pg_catalog.count(*), pg_catalog.md5(coalesce(pg_catalog.string_agg(t::text, %L ORDER BY t::text), %L))'
        ' FROM %I.%I AS t WHERE t.%I OPERATOR(pg_catalog.=) $1', E'\n', '', nsp, relname, col);
    insert_sql := 'INSERT INTO %I.%I AS t (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM pg_catalog.jsonb_populate_record(NULL::%I.%I, $3)';

    BEGIN  -- everything from here on is rolled back at the end
        IF NOT throwaway THEN
            -- Unknown or inactive tenants get tenancy's own errors (TN001, TN002).
            PERFORM tenancy.set_tenant(a);
            PERFORM tenancy.set_tenant(b);
            PERFORM tenancy.clear_tenant();
        ELSE
            a := tenancy.create_tenant('tenancy-tap-a-' OPERATOR(pg_catalog.||) pg_catalog.md5(pg_catalog.random()::text));
            b := tenancy.create_tenant('tenancy-tap-b-' OPERATOR(pg_catalog.||) pg_catalog.md5(pg_catalog.random()::text));
            -- One row of each tenant, written as the caller with that tenant
            -- set.  Tenant A's row is required; B's may be refused by a unique
            -- index without the tenant column (the attempts then start from
            -- no row of B, and the diagnostics say why).
            SELECT pg_catalog.string_agg(pg_catalog.quote_ident(k.key), ', ' ORDER BY k.key) INTO sample_columns
              FROM pg_catalog.jsonb_object_keys(sample OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(col, 0)) AS k (key);
            FOREACH writing IN ARRAY ARRAY[a, b] LOOP
                BEGIN
                    PERFORM tenancy.set_tenant(writing);
                    EXECUTE pg_catalog.format(insert_sql, nsp, relname, sample_columns, sample_columns, nsp, relname)
                      USING NULL::bigint, NULL::bigint, sample OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(col, writing);
                    PERFORM tenancy.clear_tenant();
                EXCEPTION WHEN OTHERS THEN
                    IF writing OPERATOR(pg_catalog.=) a THEN
                        setup_failure := pg_catalog.format(
                            'could not write a sample row of %s (%s: %s); pass sample => ''{"column": value, ...}'' with the values its constraints need',
                            tbl, SQLSTATE, SQLERRM);
                        RAISE EXCEPTION USING MESSAGE = rollback_marker;
                    END IF;
                    notes := notes OPERATOR(pg_catalog.||) pg_catalog.format(
                        'could not write the same sample row for tenant B (%s: %s)', SQLSTATE, SQLERRM);
                END;
            END LOOP;
        END IF;

        EXECUTE fp_sql INTO base_count, base_fp USING a;
        IF base_count OPERATOR(pg_catalog.=) 0 THEN
            setup_failure := pg_catalog.format('tenant %s has no row in %s: there is nothing to prove isolated', a, tbl);
            RAISE EXCEPTION USING MESSAGE = rollback_marker;
        END IF;
        EXECUTE pg_catalog.format('SELECT pg_catalog.to_jsonb(t) FROM %I.%I AS t WHERE t.%I OPERATOR(pg_catalog.=) $1 LIMIT 1',
                                  nsp, relname, col) INTO row_a USING a;

        -- Control: as tenant A, the role must see A's rows.  A role that
        -- cannot (no SELECT grant, no policy admitting them) is refused
        -- everything below for that reason alone, which would prove nothing.
        BEGIN
            PERFORM tenancy.set_tenant(a);
            PERFORM pg_catalog.set_config('role', as_role, true);
            EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %I.%I AS t WHERE t.%I OPERATOR(pg_catalog.=) $1',
                                      nsp, relname, col) INTO affected USING a;
            IF affected OPERATOR(pg_catalog.=) 0 THEN
                problems := problems OPERATOR(pg_catalog.||) pg_catalog.format(
                    'as tenant A, role %s sees none of A''s rows, so the refusals below prove nothing (is there a policy admitting them?)',
                    as_role);
            END IF;
            RAISE EXCEPTION USING MESSAGE = rollback_marker;
        EXCEPTION WHEN OTHERS THEN
            IF SQLERRM OPERATOR(pg_catalog.<>) rollback_marker THEN
                problems := problems OPERATOR(pg_catalog.||) pg_catalog.format(
                    'as tenant A, role %s cannot read %s (%s: %s), so the refusals below prove nothing',
                    as_role, tbl, SQLSTATE, SQLERRM);
            END IF;
        END;

        -- The table itself and, for a partitioned table, every partition.
        FOR rel IN
            SELECT n.nspname AS nsp, c.relname AS name, c.oid::pg_catalog.regclass AS oid, c.relkind
              FROM (SELECT tbl AS relid, 0 AS level
                     UNION SELECT t.relid, t.level FROM pg_catalog.pg_partition_tree(tbl) AS t) AS tree
              JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) tree.relid
              JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
             ORDER BY tree.level, c.relname
        LOOP
            EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %I.%I AS t WHERE t.%I OPERATOR(pg_catalog.=) $1',
                                      rel.nsp, rel.name, col) INTO b_rows USING b;
            -- Each attempt: route, tenant context (b or none), kind (visible,
            -- copy, reach, write, upsert, ddl), a statement the role runs first (or
            -- ''), the statement.  Parameters: $1 tenant B, $2 tenant A, $3 a row.
            probes := ARRAY[
                ['SELECT', 'b', 'visible', '',
                 pg_catalog.format('SELECT pg_catalog.count(*) FROM %I.%I AS t WHERE t.%I IS DISTINCT FROM $1', rel.nsp, rel.name, col)],
                ['SELECT with no tenant set', 'none', 'visible', '',
                 pg_catalog.format('SELECT pg_catalog.count(*) FROM %I.%I AS t', rel.nsp, rel.name)],
                ['SELECT with row_security = off', 'b', 'visible', 'SET LOCAL row_security = off',
                 pg_catalog.format('SELECT pg_catalog.count(*) FROM %I.%I AS t WHERE t.%I IS DISTINCT FROM $1', rel.nsp, rel.name, col)],
                ['COPY TO', 'b', 'copy', '',
                 pg_catalog.format('COPY %I.%I TO %L', rel.nsp, rel.name, '/dev/null')],
                ['UPDATE of other tenants'' rows', 'b', 'reach', '',
                 pg_catalog.format('UPDATE %I.%I AS t SET %I = t.%I WHERE t.%I IS DISTINCT FROM $1', rel.nsp, rel.name, col, col, col)],
                ['UPDATE moving tenant A''s rows to tenant B', 'b', 'reach', '',
                 pg_catalog.format('UPDATE %I.%I AS t SET %I = $1 WHERE t.%I OPERATOR(pg_catalog.=) $2', rel.nsp, rel.name, col, col)],
                ['UPDATE moving tenant B''s rows to tenant A', 'b', 'write', '',
                 pg_catalog.format('UPDATE %I.%I AS t SET %I = $2 WHERE t.%I OPERATOR(pg_catalog.=) $1', rel.nsp, rel.name, col, col)],
                ['DELETE', 'b', 'reach', '',
                 pg_catalog.format('DELETE FROM %I.%I AS t WHERE t.%I IS DISTINCT FROM $1', rel.nsp, rel.name, col)],
                ['TRUNCATE', 'b', 'write', '',
                 pg_catalog.format('TRUNCATE %I.%I CASCADE', rel.nsp, rel.name)],
                ['INSERT of a row for tenant A', 'b', 'write', '',
                 pg_catalog.format(insert_sql, rel.nsp, rel.name, columns, columns, rel.nsp, rel.name)],
                ['INSERT with no tenant set', 'none', 'write', '',
                 pg_catalog.format(insert_sql, rel.nsp, rel.name, columns, columns, rel.nsp, rel.name)],
                ['ALTER TABLE ... DISABLE ROW LEVEL SECURITY', 'b', 'ddl', '',
                 pg_catalog.format('ALTER TABLE %I.%I DISABLE ROW LEVEL SECURITY', rel.nsp, rel.name)],
                ['ALTER TABLE ... NO FORCE ROW LEVEL SECURITY', 'b', 'ddl', '',
                 pg_catalog.format('ALTER TABLE %I.%I NO FORCE ROW LEVEL SECURITY', rel.nsp, rel.name)],
                ['ALTER TABLE ... DISABLE TRIGGER USER', 'b', 'ddl', '',
                 pg_catalog.format('ALTER TABLE %I.%I DISABLE TRIGGER USER', rel.nsp, rel.name)]];
            -- Dropping each policy of the table.
            FOR arbiter IN SELECT pol.polname FROM pg_catalog.pg_policy pol
                            WHERE pol.polrelid OPERATOR(pg_catalog.=) rel.oid ORDER BY pol.polname LOOP
                probes := probes OPERATOR(pg_catalog.||) ARRAY[[
                    pg_catalog.format('DROP POLICY %I', arbiter.polname), 'b', 'ddl', '',
                    pg_catalog.format('DROP POLICY %I ON %I.%I', arbiter.polname, rel.nsp, rel.name)]];
            END LOOP;
            -- An upsert of a copy of A's row can reach A's row only through a
            -- unique index without the tenant column.
            -- The copy carries the key, the tenant column (B) and the columns
            -- that must have a value; the others take their defaults, so no
            -- other unique index (an identity key, say) gets in the way.
            FOR arbiter IN
                SELECT pg_catalog.string_agg(pg_catalog.quote_ident(t.attname), ', ' ORDER BY k.n) AS key,
                       pg_catalog.array_agg(t.attname::text ORDER BY k.n) AS key_names
                  FROM pg_catalog.pg_index i
                 CROSS JOIN LATERAL pg_catalog.generate_series(0, i.indnkeyatts OPERATOR(pg_catalog.-) 1) AS k (n)
                  JOIN pg_catalog.pg_attribute t
                    ON t.attrelid OPERATOR(pg_catalog.=) i.indrelid AND t.attnum OPERATOR(pg_catalog.=) i.indkey[k.n]
                 WHERE i.indrelid OPERATOR(pg_catalog.=) rel.oid AND i.indisunique AND i.indisvalid
                   AND i.indpred IS NULL AND i.indexprs IS NULL
                 GROUP BY i.indexrelid
                HAVING NOT pg_catalog.bool_or(t.attname OPERATOR(pg_catalog.=) col)
                 ORDER BY i.indexrelid
            LOOP
                IF EXISTS (SELECT FROM pg_catalog.unnest(arbiter.key_names) AS k (name)
                            WHERE coalesce(row_a OPERATOR(pg_catalog.->) k.name, 'null') OPERATOR(pg_catalog.=) 'null'::jsonb) THEN
                    notes := notes OPERATOR(pg_catalog.||) pg_catalog.format(
                        'INSERT ... ON CONFLICT (%s) on %s not tried: tenant A''s row has NULL in that key', arbiter.key, rel.oid);
                    CONTINUE;
                END IF;
                SELECT pg_catalog.string_agg(pg_catalog.quote_ident(t.attname), ', ' ORDER BY t.attnum) INTO upsert_columns
                  FROM pg_catalog.pg_attribute t
                 WHERE t.attrelid OPERATOR(pg_catalog.=) rel.oid AND t.attnum OPERATOR(pg_catalog.>) 0
                   AND NOT t.attisdropped AND t.attgenerated OPERATOR(pg_catalog.=) ''
                   AND (t.attname OPERATOR(pg_catalog.=) ANY (arbiter.key_names::name[]) OR t.attname OPERATOR(pg_catalog.=) col
                        OR (t.attnotnull AND NOT t.atthasdef AND t.attidentity OPERATOR(pg_catalog.=) ''));
                probes := probes OPERATOR(pg_catalog.||) ARRAY[[
                    pg_catalog.format('INSERT ... ON CONFLICT (%s) DO UPDATE', arbiter.key), 'b', 'upsert', '',
                    pg_catalog.format(insert_sql, rel.nsp, rel.name, upsert_columns, upsert_columns, rel.nsp, rel.name)
                      OPERATOR(pg_catalog.||) pg_catalog.format(' ON CONFLICT (%s) DO UPDATE SET %I = EXCLUDED.%I', arbiter.key, col, col)]];
            END LOOP;

            FOR i IN 1 .. pg_catalog.array_length(probes, 1) LOOP
                attempt_route := probes[i][1];
                attempt_context := probes[i][2];
                attempt_kind := probes[i][3];
                attempt_setup := probes[i][4];
                attempt_sql := probes[i][5];
                affected := NULL; after_count := NULL; after_fp := NULL; failed_state := NULL; failed_message := NULL;
                BEGIN
                    IF attempt_context OPERATOR(pg_catalog.=) 'none' THEN
                        PERFORM tenancy.clear_tenant();
                    ELSE
                        PERFORM tenancy.set_tenant(b);
                    END IF;
                    IF attempt_kind OPERATOR(pg_catalog.=) 'copy' THEN
                        -- COPY to a server file needs this role; it does not touch row-level security.
                        EXECUTE pg_catalog.format('GRANT pg_write_server_files TO %I', as_role);
                    END IF;
                    PERFORM pg_catalog.set_config('role', as_role, true);
                    IF attempt_setup OPERATOR(pg_catalog.<>) '' THEN
                        EXECUTE attempt_setup;
                    END IF;
                    IF attempt_kind OPERATOR(pg_catalog.=) 'visible' THEN
                        EXECUTE attempt_sql INTO affected USING b, a;
                    ELSIF attempt_kind OPERATOR(pg_catalog.=) 'copy' THEN
                        EXECUTE attempt_sql;
                    ELSIF attempt_kind IN ('write', 'upsert') AND attempt_sql LIKE 'INSERT%' THEN
                        EXECUTE attempt_sql USING b, a, pg_catalog.jsonb_set(row_a, ARRAY[col::text],
                            pg_catalog.to_jsonb(CASE attempt_kind WHEN 'upsert' THEN b ELSE a END));
                    ELSE
                        EXECUTE attempt_sql USING b, a;
                    END IF;
                    IF attempt_kind OPERATOR(pg_catalog.<>) 'visible' THEN
                        GET DIAGNOSTICS affected = ROW_COUNT;
                    END IF;
                    PERFORM pg_catalog.set_config('role', caller, true);
                    EXECUTE fp_sql INTO after_count, after_fp USING a;
                    RAISE EXCEPTION USING MESSAGE = rollback_marker;
                EXCEPTION WHEN OTHERS THEN
                    IF SQLERRM OPERATOR(pg_catalog.<>) rollback_marker THEN
                        failed_state := SQLSTATE;
                        failed_message := SQLERRM;
                    END IF;
                END;

                verdict := NULL;
                IF failed_state IS NOT NULL THEN
                    IF failed_state OPERATOR(pg_catalog.<>) '42501'
                       AND NOT (attempt_kind OPERATOR(pg_catalog.=) 'copy' AND rel.relkind OPERATOR(pg_catalog.=) 'p'
                                AND failed_state OPERATOR(pg_catalog.=) '0A000') THEN
                        verdict := pg_catalog.format('failed with %s (%s), not with the 42501 of a refusal: this proves nothing',
                                                     failed_state, failed_message);
                    END IF;
                ELSIF attempt_kind OPERATOR(pg_catalog.=) 'visible' AND affected OPERATOR(pg_catalog.>) 0 THEN
                    verdict := pg_catalog.format('read %s row(s) of other tenants', affected);
                ELSIF attempt_kind OPERATOR(pg_catalog.=) 'copy' AND affected OPERATOR(pg_catalog.>) b_rows THEN
                    verdict := pg_catalog.format('wrote %s row(s), %s of them not tenant B''s', affected, affected OPERATOR(pg_catalog.-) b_rows);
                ELSIF attempt_kind OPERATOR(pg_catalog.=) 'reach' AND affected OPERATOR(pg_catalog.>) 0 THEN
                    verdict := pg_catalog.format('reached %s row(s) of other tenants', affected);
                ELSIF attempt_kind OPERATOR(pg_catalog.=) 'ddl' THEN
                    verdict := 'succeeded: the role can switch the isolation off';
                ELSIF after_count OPERATOR(pg_catalog.<>) base_count OR after_fp OPERATOR(pg_catalog.<>) base_fp THEN
                    verdict := pg_catalog.format('changed tenant A''s rows (%s row(s) before, %s after)', base_count, after_count);
                END IF;
                IF verdict IS NOT NULL THEN
                    problems := problems OPERATOR(pg_catalog.||) pg_catalog.format('%s on %s: %s', attempt_route, rel.oid, verdict);
                END IF;
            END LOOP;
        END LOOP;

        RAISE EXCEPTION USING MESSAGE = rollback_marker;
    EXCEPTION WHEN OTHERS THEN
        IF SQLERRM OPERATOR(pg_catalog.<>) rollback_marker THEN
            RAISE;
        END IF;
    END;

    IF setup_failure IS NOT NULL THEN
        RETURN tenancy_tap._tap(false, description, setup_failure);
    END IF;
    RETURN tenancy_tap._tap(
        pg_catalog.cardinality(problems) OPERATOR(pg_catalog.=) 0,
        description,
        pg_catalog.array_to_string(problems OPERATOR(pg_catalog.||) notes, E'\n'));
END
$$;
COMMENT ON FUNCTION tenancy_tap._is_isolated(regclass, name, jsonb, bigint, bigint, text)
    IS 'Internal: the attempts behind both forms of is_isolated';

CREATE FUNCTION tenancy_tap.is_isolated(
    tbl regclass, as_role name, sample jsonb DEFAULT '{}', description text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF sample IS NULL OR pg_catalog.jsonb_typeof(sample) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'sample must be a JSON object of column values',
            HINT = 'For example sample => ''{"item": "book"}''; ''{}'' when defaults suffice.';
    END IF;
    RETURN tenancy_tap._is_isolated(tbl, as_role, sample, NULL, NULL, description);
END
$$;
COMMENT ON FUNCTION tenancy_tap.is_isolated(regclass, name, jsonb, text)
    IS 'TAP: with two throwaway tenants and a sample row each, tenant B as as_role cannot reach tenant A''s rows by any route';

CREATE FUNCTION tenancy_tap.is_isolated(
    tbl regclass, as_role name, tenant_a bigint, tenant_b bigint, description text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM tenancy_tap._required(tenant_a, 'tenant_a');
    PERFORM tenancy_tap._required(tenant_b, 'tenant_b');
    IF tenant_a OPERATOR(pg_catalog.=) tenant_b THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'tenant_a and tenant_b must be two different tenants';
    END IF;
    RETURN tenancy_tap._is_isolated(tbl, as_role, NULL, tenant_a, tenant_b, description);
END
$$;
COMMENT ON FUNCTION tenancy_tap.is_isolated(regclass, name, bigint, bigint, text)
    IS 'TAP: tenant_b as as_role cannot reach the existing rows of tenant_a by any route';

-- all_protected -------------------------------------------------------------------

CREATE FUNCTION tenancy_tap.all_protected(schema name, exempt name[] DEFAULT '{}', description text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    problems text;
BEGIN
    PERFORM tenancy_tap._required(schema, 'schema');
    PERFORM tenancy_tap._required(exempt, 'exempt');
    IF pg_catalog.array_position(exempt, NULL) IS NOT NULL THEN
        -- NOT relname = ANY ('{NULL}') is NULL, which would exempt every table.
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'exempt must not contain NULL';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) schema) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_schema_name',
            MESSAGE = pg_catalog.format('schema "%s" does not exist', schema);
    END IF;
    SELECT pg_catalog.string_agg(
               CASE WHEN p.table_name IS NULL THEN pg_catalog.format('%s is not protected', c.oid::pg_catalog.regclass)
                    ELSE pg_catalog.format('%s is protected but lacks: %s', c.oid::pg_catalog.regclass,
                           pg_catalog.array_to_string(ARRAY[
                               CASE WHEN NOT p.not_null THEN 'NOT NULL' END,
                               CASE WHEN NOT p.foreign_key THEN 'foreign key' END,
                               CASE WHEN NOT p.index THEN 'index' END,
                               CASE WHEN NOT p.rls_enabled THEN 'row-level security' END,
                               CASE WHEN NOT p.rls_forced THEN 'forced row-level security' END,
                               CASE WHEN NOT p.policy THEN 'policy' END,
                               CASE WHEN NOT p.trigger THEN 'guard trigger' END,
                               CASE WHEN NOT p.truncate_guard THEN 'TRUNCATE guard trigger' END], ', '))
               END, E'\n' ORDER BY c.relname) INTO problems
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
      LEFT JOIN tenancy.protected_tables p ON p.table_name OPERATOR(pg_catalog.=) c.oid
     WHERE n.nspname OPERATOR(pg_catalog.=) schema
       AND c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p']::"char"[])
       AND NOT c.relname OPERATOR(pg_catalog.=) ANY (exempt)
       AND (p.table_name IS NULL OR NOT p.complete);
    RETURN tenancy_tap._tap(problems IS NULL,
        coalesce(description, pg_catalog.format('every table of schema %s is protected', schema)),
        problems);
END
$$;
COMMENT ON FUNCTION tenancy_tap.all_protected(name, name[], text)
    IS 'TAP: every table of the schema (but the exempt ones) is protected with all its parts';

CREATE FUNCTION tenancy_tap.all_protected(schema name, description text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT tenancy_tap.all_protected(schema, '{}'::name[], description) $$;
COMMENT ON FUNCTION tenancy_tap.all_protected(name, text)
    IS 'TAP: every table of the schema is protected with all its parts';

-- no_audit_findings --------------------------------------------------------------------

-- Findings of severity error and warning fail the test; info findings (what
-- the audit notes without calling it a hazard) are shown as diagnostics.
CREATE FUNCTION tenancy_tap.no_audit_findings(schema name, description text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    findings text;
    notes text;
BEGIN
    PERFORM tenancy_tap._required(schema, 'schema');
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) schema) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_schema_name',
            MESSAGE = pg_catalog.format('schema "%s" does not exist', schema);
    END IF;
    SELECT pg_catalog.string_agg(pg_catalog.format('%s: %s %s: %s', a.severity, a.hazard, a.object, a.explanation)
               OPERATOR(pg_catalog.||) coalesce(E'\n    fix: ' OPERATOR(pg_catalog.||) a.fix, ''),
               E'\n' ORDER BY a.severity, a.hazard, a.object) FILTER (WHERE a.severity OPERATOR(pg_catalog.<>) 'info'),
           pg_catalog.string_agg(pg_catalog.format('%s: %s %s: %s', a.severity, a.hazard, a.object, a.explanation),
               E'\n' ORDER BY a.hazard, a.object) FILTER (WHERE a.severity OPERATOR(pg_catalog.=) 'info')
      INTO findings, notes
      FROM tenancy.audit(schema) AS a;
    RETURN tenancy_tap._tap(findings IS NULL,
        coalesce(description, pg_catalog.format('tenancy.audit finds no hazard in schema %s', schema)),
        pg_catalog.concat_ws(E'\n', findings, notes));
END
$$;
COMMENT ON FUNCTION tenancy_tap.no_audit_findings(name, text)
    IS 'TAP: tenancy.audit reports no error or warning for the schema (info findings are shown, not failed)';

-- required_rows_present --------------------------------------------------------------

CREATE FUNCTION tenancy_tap.required_rows_present(description text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    problems text;
BEGIN
    SELECT pg_catalog.string_agg(
               CASE WHEN c.tenant IS NULL THEN pg_catalog.format('%s %s: %s', c.problem, c.object, c.detail)
                    ELSE pg_catalog.format('%s %s for tenant %s: %s', c.problem, c.object, c.tenant, c.detail)
               END, E'\n' ORDER BY c.object, c.tenant) INTO problems
      FROM tenancy.check() AS c
     WHERE c.problem OPERATOR(pg_catalog.=) ANY (ARRAY['missing_row', 'invalid_rule']);
    RETURN tenancy_tap._tap(problems IS NULL,
        coalesce(description, 'every active tenant has every required row'),
        problems);
END
$$;
COMMENT ON FUNCTION tenancy_tap.required_rows_present(text)
    IS 'TAP: tenancy.check() finds no missing required row and no rule it cannot check';

-- The assertions check their callers' rights themselves (is_isolated needs a
-- superuser; the others read with the caller's rights).
GRANT USAGE ON SCHEMA tenancy_tap TO PUBLIC;

REVOKE ALL ON FUNCTION
    tenancy_tap._is_isolated(regclass, name, jsonb, bigint, bigint, text),
    tenancy_tap.is_isolated(regclass, name, jsonb, text),
    tenancy_tap.is_isolated(regclass, name, bigint, bigint, text)
FROM PUBLIC;
