-- TRUNCATE refusal and partitioned tables: an application role granted ALL
-- on every table, not the owner, cannot truncate, read or write another
-- tenant's rows of a protected plain or partitioned table, through the
-- partitioned table or any partition; partitions created, attached or
-- detached later stay protected; unprotect undoes all of it.
BEGIN;
SELECT plan(74);

CREATE ROLE tap_pt_owner;
CREATE ROLE tap_pt_app;
CREATE ROLE tap_pt_admin BYPASSRLS;
CREATE ROLE tap_pt_coowner IN ROLE tap_pt_owner;
GRANT USAGE ON SCHEMA tenancy TO tap_pt_owner, tap_pt_app, tap_pt_admin, tap_pt_coowner;
GRANT EXECUTE ON FUNCTION tenancy.protect(regclass, name), tenancy.unprotect(regclass) TO tap_pt_owner, tap_pt_app;
GRANT EXECUTE ON FUNCTION tenancy.set_tenant(bigint, boolean) TO tap_pt_owner, tap_pt_app, tap_pt_admin;
CREATE SCHEMA tap_pt AUTHORIZATION tap_pt_owner;
GRANT USAGE ON SCHEMA tap_pt TO tap_pt_app, tap_pt_admin, tap_pt_coowner;

SELECT tenancy.create_tenant('tap-pt-a') AS a, tenancy.create_tenant('tap-pt-b') AS b \gset

SET ROLE tap_pt_owner;
-- A plain table, and a table it references (not protected).
CREATE TABLE tap_pt.lookup (id bigint PRIMARY KEY);
CREATE TABLE tap_pt.notes (id bigint PRIMARY KEY, tenant_id bigint, lookup_id bigint REFERENCES tap_pt.lookup);
-- Two levels: by range of time, then the 2024 partition by hash.
CREATE TABLE tap_pt.events (id bigint, tenant_id bigint, at date NOT NULL, body text) PARTITION BY RANGE (at);
CREATE TABLE tap_pt.events_2024 PARTITION OF tap_pt.events
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') PARTITION BY HASH (id);
CREATE TABLE tap_pt.events_2024_h0 PARTITION OF tap_pt.events_2024 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE tap_pt.events_2024_h1 PARTITION OF tap_pt.events_2024 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE tap_pt.events_2025 PARTITION OF tap_pt.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
SELECT tenancy.protect('tap_pt.notes');
SELECT tenancy.protect('tap_pt.events');
-- Created after protect: at the top level and below the intermediate level.
CREATE TABLE tap_pt.events_2026 PARTITION OF tap_pt.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
-- Attached after protect.
CREATE TABLE tap_pt.events_2027 (id bigint, tenant_id bigint NOT NULL, at date NOT NULL, body text);
ALTER TABLE tap_pt.events ATTACH PARTITION tap_pt.events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
-- The common mistake: GRANT ALL on every table to the application.
GRANT ALL ON ALL TABLES IN SCHEMA tap_pt TO tap_pt_app, tap_pt_admin;
RESET ROLE;
INSERT INTO tap_pt.lookup VALUES (1);
INSERT INTO tap_pt.notes VALUES (1, :a, 1), (2, :b, 1);
INSERT INTO tap_pt.events (id, tenant_id, at, body) SELECT g, CASE WHEN g % 2 = 0 THEN :a ELSE :b END, d, 'x'
  FROM unnest(ARRAY['2024-02-01', '2024-03-01', '2024-04-01', '2024-05-01', '2025-02-01', '2025-03-01',
                    '2026-02-01', '2026-03-01', '2027-02-01', '2027-03-01']::date[]) WITH ORDINALITY AS u (d, g);

CREATE TEMP TABLE members (name text, leaf boolean);
INSERT INTO members VALUES ('tap_pt.events', false), ('tap_pt.events_2024', false), ('tap_pt.events_2024_h0', true),
    ('tap_pt.events_2024_h1', true), ('tap_pt.events_2025', true), ('tap_pt.events_2026', true),
    ('tap_pt.events_2027', true);
GRANT SELECT ON members TO tap_pt_app, tap_pt_owner;
-- Both tenants have a row in every leaf.
SELECT is((SELECT count(DISTINCT (tableoid, tenant_id)) FROM tap_pt.events), 10::bigint,
          'both tenants have a row in each of the five leaves');

-- Structure: every member has its own protection -------------------------------------
SELECT is((SELECT count(*) FROM tenancy.protected_tables p JOIN members m ON p.table_name = m.name::regclass
            WHERE p.complete), 7::bigint, 'every member, created or attached later included, is complete');
SELECT is((SELECT array_agg(p.table_name::text ORDER BY p.table_name::text) FROM tenancy.protected_tables p
            WHERE p.partition_of = 'tap_pt.events'::regclass),
          ARRAY['tap_pt.events_2024', 'tap_pt.events_2024_h0', 'tap_pt.events_2024_h1', 'tap_pt.events_2025',
                'tap_pt.events_2026', 'tap_pt.events_2027'],
          'every partition, at every level, is protected through the partitioned table');
SELECT is((SELECT count(*) FROM members m JOIN pg_class c ON c.oid = m.name::regclass
            WHERE c.relrowsecurity AND c.relforcerowsecurity), 7::bigint, 'row-level security is forced on every member');
SELECT is((SELECT count(*) FROM members m JOIN pg_policy p ON p.polrelid = m.name::regclass
            WHERE p.polname = 'tenancy_isolation'), 7::bigint, 'every member has the isolation policy');
SELECT is((SELECT count(*) FROM members m JOIN pg_trigger t ON t.tgrelid = m.name::regclass
            WHERE t.tgname = 'tenancy_truncate_guard'), 7::bigint, 'every member has the TRUNCATE guard');
SELECT is((SELECT count(*) FROM members m JOIN pg_trigger t ON t.tgrelid = m.name::regclass
            WHERE t.tgname = 'tenancy_tenant_guard' AND t.tgparentid = 0), 5::bigint,
          'every leaf has its own row guard (not a clone that detaching would drop)');
SELECT is((SELECT count(*) FROM members m JOIN pg_attribute a ON a.attrelid = m.name::regclass
            WHERE a.attname = 'tenant_id' AND a.attnotnull), 7::bigint, 'the tenant column is NOT NULL everywhere');
SELECT fk_ok('tap_pt', 'events', 'tenant_id', 'tenancy', 'tenant', 'id', 'the partitioned table references tenancy.tenant');
SELECT is((SELECT count(*) FROM tenancy.cross_tenant_foreign_keys WHERE table_name::text LIKE 'tap_pt.%'), 0::bigint,
          'no cross-tenant foreign key reported for the partitions'' copies');

-- TRUNCATE --------------------------------------------------------------------------
SET ROLE tap_pt_app;
SELECT throws_ok('TRUNCATE tap_pt.notes', '42501', 'permission denied to truncate protected table tap_pt.notes',
                 'an application role granted ALL cannot truncate a protected table');
SET client_min_messages = warning;  -- PostgreSQL's notice that the truncate cascades
SELECT throws_ok('TRUNCATE tap_pt.lookup CASCADE', '42501', 'permission denied to truncate protected table tap_pt.notes',
                 'nor reach it with TRUNCATE ... CASCADE through a table it references');
RESET client_min_messages;
SELECT throws_ok('TRUNCATE tap_pt.lookup, tap_pt.notes', '42501', NULL, 'nor name it among other tables');
SELECT throws_ok('TRUNCATE tap_pt.events', '42501', NULL, 'nor truncate the partitioned table');
SELECT throws_ok(format('TRUNCATE %s', name), '42501', 'permission denied to truncate protected table ' || name,
                 'nor truncate partition ' || name) FROM members WHERE name <> 'tap_pt.events' ORDER BY name;
RESET ROLE;
SELECT is((SELECT count(*) FROM tap_pt.notes), 2::bigint, 'nothing was truncated');
SELECT is((SELECT count(*) FROM tap_pt.events), 10::bigint, '(partitions neither)');
SELECT is((SELECT count(*) FROM tap_pt.lookup), 1::bigint, '(nor the referenced table: the statement failed whole)');
SET ROLE tap_pt_admin;
SELECT throws_ok('TRUNCATE tap_pt.events_2025', '42501', NULL, 'a BYPASSRLS role that is not the owner cannot truncate');
RESET ROLE;

-- Isolation through the partitioned table and through every partition ---------------
SET ROLE tap_pt_app;
SELECT tenancy.set_tenant(:a);
SELECT results_eq('SELECT DISTINCT tenant_id FROM tap_pt.events', ARRAY[:a::bigint],
                  'through the partitioned table A sees only its rows');
SELECT is((SELECT count(*) FROM tap_pt.events), 5::bigint, '(all five of them)');
SELECT is((SELECT count(*) FILTER (WHERE tenant_id <> :a) FROM tap_pt.events_2024_h0)
          + (SELECT count(*) FILTER (WHERE tenant_id <> :a) FROM tap_pt.events_2024_h1)
          + (SELECT count(*) FILTER (WHERE tenant_id <> :a) FROM tap_pt.events_2024)
          + (SELECT count(*) FILTER (WHERE tenant_id <> :a) FROM tap_pt.events_2025)
          + (SELECT count(*) FILTER (WHERE tenant_id <> :a) FROM tap_pt.events_2026)
          + (SELECT count(*) FILTER (WHERE tenant_id <> :a) FROM tap_pt.events_2027), 0::bigint,
          'queried directly, no partition shows a row of B');
SELECT is((SELECT count(*) FROM tap_pt.events_2025) + (SELECT count(*) FROM tap_pt.events_2026)
          + (SELECT count(*) FROM tap_pt.events_2027) + (SELECT count(*) FROM tap_pt.events_2024), 5::bigint,
          'and each shows A''s rows');
-- Writes aimed at B's rows, through the partitioned table and each leaf.
UPDATE tap_pt.events SET body = 'hacked' WHERE tenant_id = :b;
UPDATE tap_pt.events_2025 SET body = 'hacked';
UPDATE tap_pt.events_2026 SET body = 'hacked' WHERE tenant_id = :b;
DELETE FROM tap_pt.events_2027 WHERE tenant_id = :b;
DELETE FROM tap_pt.events_2024_h0 WHERE tenant_id = :b;
DELETE FROM tap_pt.events_2024_h1 WHERE tenant_id = :b;
SELECT throws_ok(format($$INSERT INTO tap_pt.events VALUES (100, %s, '2025-06-01', 'x')$$, :b), '42501',
                 format('row of table tap_pt.events_2025 belongs to tenant %s, not to the current tenant %s', :b, :a),
                 'inserting B''s row through the partitioned table is refused');
SELECT throws_ok(format($$INSERT INTO tap_pt.events_2026 VALUES (101, %s, '2026-06-01', 'x')$$, :b), '42501', NULL,
                 'inserting B''s row into a partition directly is refused');
SELECT throws_ok(format($$INSERT INTO tap_pt.events_2024 VALUES (102, %s, '2024-06-01', 'x')$$, :b), '42501', NULL,
                 'inserting B''s row into the intermediate level is refused');
SELECT throws_ok(format($$UPDATE tap_pt.events SET tenant_id = %s WHERE id = 2$$, :b), '42501', NULL,
                 'moving A''s row to B through the partitioned table is refused');
SELECT throws_ok(format($$UPDATE tap_pt.events_2027 SET tenant_id = %s$$, :b), '42501', NULL,
                 'moving A''s row to B in a partition is refused');
SELECT lives_ok($$INSERT INTO tap_pt.events_2025 (id, tenant_id, at, body) VALUES (103, NULL, '2025-07-01', 'mine')$$,
                'a NULL tenant is filled in, in a partition');
SELECT tenancy.clear_tenant();
SELECT is((SELECT count(*) FROM tap_pt.events) + (SELECT count(*) FROM tap_pt.events_2025), 0::bigint,
          'with no tenant, nothing is visible through the partitioned table or a partition');
SELECT throws_ok($$INSERT INTO tap_pt.events_2026 VALUES (104, NULL, '2026-06-01', 'x')$$, '42501', NULL,
                 'with no tenant, a partition refuses writes');
RESET ROLE;
SELECT is((SELECT count(*) FROM tap_pt.events WHERE tenant_id = :b AND body = 'x'), 5::bigint,
          'B''s five rows survived every update and delete unchanged');
SELECT is((SELECT tenant_id FROM tap_pt.events WHERE id = 103), :a::bigint, 'the NULL tenant was filled with A');

-- The owner cannot switch protection off a partition alone -----------------------
SET ROLE tap_pt_owner;
SELECT throws_ok($$SELECT tenancy.unprotect('tap_pt.events_2025')$$, 'TN051',
                 'table tap_pt.events_2025 is protected through its partitioned table tap_pt.events',
                 'unprotecting one partition is refused (TN051)');
SELECT throws_ok($$SELECT tenancy.protect('tap_pt.events_2025', 'id')$$, '22023', NULL,
                 'protecting a partition on another column is refused');
SELECT lives_ok($$SELECT tenancy.protect('tap_pt.events_2025')$$, 'protecting a partition again is a no-op');
SELECT is((SELECT partition_of::text FROM tenancy.protected_tables WHERE table_name = 'tap_pt.events_2025'::regclass),
          'tap_pt.events', 'and keeps it protected through the partitioned table');
RESET ROLE;
SET ROLE tap_pt_app;
SELECT throws_ok($$SELECT tenancy.unprotect('tap_pt.events')$$, '42501', 'must be owner of table tap_pt.events',
                 'an application role with EXECUTE cannot unprotect the partitioned table');
RESET ROLE;

-- Detaching: the detached table stays protected, on its own ------------------------
SET ROLE tap_pt_owner;
ALTER TABLE tap_pt.events DETACH PARTITION tap_pt.events_2026;
ALTER TABLE tap_pt.events_2024 DETACH PARTITION tap_pt.events_2024_h1;
RESET ROLE;
SELECT results_eq($$SELECT table_name::text, partition_of IS NULL, complete FROM tenancy.protected_tables
                     WHERE table_name IN ('tap_pt.events_2026'::regclass, 'tap_pt.events_2024_h1'::regclass)
                     ORDER BY 1$$,
                  $$VALUES ('tap_pt.events_2024_h1', true, true), ('tap_pt.events_2026', true, true)$$,
                  'detached partitions (from either level) stay complete, protected on their own');
SET ROLE tap_pt_app;
SELECT tenancy.set_tenant(:a);
SELECT is((SELECT count(*) FROM tap_pt.events_2026 WHERE tenant_id = :b), 0::bigint,
          'a detached table is still isolated');
SELECT throws_ok('TRUNCATE tap_pt.events_2026', '42501', NULL, 'and still refuses TRUNCATE');
RESET ROLE;

-- Damage the event trigger cannot see: check reports it, repair fixes it --------------
ALTER EVENT TRIGGER tenancy_protect_partitions DISABLE;
SET ROLE tap_pt_owner;
CREATE TABLE tap_pt.events_2028 PARTITION OF tap_pt.events FOR VALUES FROM ('2028-01-01') TO ('2029-01-01');
ALTER TABLE tap_pt.events DETACH PARTITION tap_pt.events_2027;
RESET ROLE;
ALTER EVENT TRIGGER tenancy_protect_partitions ENABLE;
SELECT results_eq($$SELECT problem, object, repaired FROM tenancy.check()
                     WHERE object LIKE 'tap_pt.%' ORDER BY 1$$,
                  $$VALUES ('detached_partition', 'tap_pt.events_2027', false),
                           ('unprotected_partition', 'tap_pt.events_2028', false)$$,
                  'check reports a partition created and one detached while the event trigger was disabled');
SELECT results_eq($$SELECT problem, repaired FROM tenancy.check(repair => true) WHERE object LIKE 'tap_pt.%' ORDER BY 1$$,
                  $$VALUES ('detached_partition', true), ('unprotected_partition', true)$$, 'repair fixes both');
SELECT is((SELECT complete FROM tenancy.protected_tables WHERE table_name = 'tap_pt.events_2028'::regclass), true,
          'the new partition is protected');
SELECT is((SELECT count(*) FROM tenancy.check() WHERE object LIKE 'tap_pt.%'), 0::bigint, 'and check is clean again');

-- Re-attaching a detached table protects it through the partitioned table again ------
SET ROLE tap_pt_owner;
ALTER TABLE tap_pt.events ATTACH PARTITION tap_pt.events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
RESET ROLE;
SELECT is((SELECT partition_of::text FROM tenancy.protected_tables WHERE table_name = 'tap_pt.events_2026'::regclass),
          'tap_pt.events', 're-attached: protected through the partitioned table again');

-- A partition the event trigger cannot protect makes the command fail --------------
SET ROLE tap_pt_owner;
CREATE TABLE tap_pt.other_column (id bigint, tenant_id bigint NOT NULL, at date NOT NULL, body text);
SELECT tenancy.protect('tap_pt.other_column', 'id');
SELECT throws_ok($$ALTER TABLE tap_pt.events ATTACH PARTITION tap_pt.other_column
                   FOR VALUES FROM ('2030-01-01') TO ('2031-01-01')$$, '22023', NULL,
                 'attaching a table protected on another column fails');
SELECT is((SELECT count(*) FROM pg_inherits WHERE inhrelid = 'tap_pt.other_column'::regclass), 0::bigint,
          'and leaves it unattached');
RESET ROLE;

-- Every partition must be the caller's, and rules on partitions keep unprotect off --
CREATE TABLE tap_pt.mixed (tenant_id bigint, n int) PARTITION BY LIST (n);
ALTER TABLE tap_pt.mixed OWNER TO tap_pt_owner;
CREATE TABLE tap_pt.mixed_1 PARTITION OF tap_pt.mixed FOR VALUES IN (1);
ALTER TABLE tap_pt.mixed_1 OWNER TO tap_pt_app;
SET ROLE tap_pt_owner;
SELECT throws_ok($$SELECT tenancy.protect('tap_pt.mixed')$$, '42501', 'must be owner of table tap_pt.mixed_1',
                 'protecting a partitioned table needs ownership of every partition');
RESET ROLE;
SELECT is((SELECT count(*) FROM tenancy.protected_table WHERE tbl IN ('tap_pt.mixed'::regclass, 'tap_pt.mixed_1'::regclass)),
          0::bigint, 'and nothing of it is protected');
ALTER TABLE tap_pt.mixed_1 OWNER TO tap_pt_owner;
SET ROLE tap_pt_owner;
SELECT tenancy.protect('tap_pt.mixed');
CREATE UNIQUE INDEX ON tap_pt.mixed_1 (tenant_id, n);
RESET ROLE;
GRANT EXECUTE ON FUNCTION tenancy.require_row(regclass, jsonb) TO tap_pt_owner;
SET ROLE tap_pt_owner;
SELECT tenancy.require_row('tap_pt.mixed_1', '{"n": 1}');
SELECT throws_ok($$SELECT tenancy.unprotect('tap_pt.mixed')$$, '2BP01', NULL,
                 'a required-row rule on a partition keeps the partitioned table protected');
RESET ROLE;

-- A foreign table cannot be a partition of a protected table (no row-level security).
CREATE EXTENSION file_fdw;
CREATE SERVER tap_pt_files FOREIGN DATA WRAPPER file_fdw;
CREATE TABLE tap_pt.remote (tenant_id bigint, n int) PARTITION BY LIST (n);
CREATE FOREIGN TABLE tap_pt.remote_1 PARTITION OF tap_pt.remote FOR VALUES IN (1)
    SERVER tap_pt_files OPTIONS (filename '/dev/null');
SELECT throws_ok($$SELECT tenancy.protect('tap_pt.remote')$$, '42809', 'tap_pt.remote_1 is not an ordinary or partitioned table',
                 'a partitioned table with a foreign partition is refused, naming the partition');

-- The event trigger queries only for commands that can change a partition tree ---------
-- It fires for every CREATE and ALTER TABLE in the database; the others
-- return before any query (seen in the scans of tenancy.protected_table).
CREATE TEMP VIEW protected_table_scans AS
    SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) AS n FROM pg_stat_xact_all_tables
     WHERE relid = 'tenancy.protected_table'::regclass;
SELECT n AS scans_before FROM protected_table_scans \gset
SET ROLE tap_pt_owner;
CREATE TABLE tap_pt.plain (id bigint);
ALTER TABLE tap_pt.events_2025 SET (fillfactor = 90);
RESET ROLE;
SELECT is((SELECT n FROM protected_table_scans), :scans_before::bigint,
          'a CREATE TABLE and an ALTER TABLE that change no partition tree run no query of the event trigger');
SET ROLE tap_pt_owner;
CREATE TABLE tap_pt.events_2030 PARTITION OF tap_pt.events FOR VALUES FROM ('2030-01-01') TO ('2031-01-01');
RESET ROLE;
SELECT ok((SELECT n FROM protected_table_scans) > :scans_before,
          'a CREATE TABLE ... PARTITION OF does (and gets the partition protected)');
SELECT is((SELECT complete FROM tenancy.protected_tables WHERE table_name = 'tap_pt.events_2030'::regclass), true,
          '(the partition is protected)');

-- Who may truncate: the owner, a member of the owning role, a superuser ----------------
SET ROLE tap_pt_coowner;
SELECT lives_ok('TRUNCATE tap_pt.events_2025', 'a member of the owning role may truncate');
RESET ROLE;
SET ROLE tap_pt_owner;
SELECT lives_ok('TRUNCATE tap_pt.events', 'the owner may truncate the partitioned table');
RESET ROLE;
SELECT lives_ok('TRUNCATE tap_pt.notes', 'a superuser may truncate');
SELECT is((SELECT count(*) FROM tap_pt.events) + (SELECT count(*) FROM tap_pt.notes), 0::bigint, 'and they did');

-- unprotect undoes all ---------------------------------------------------------------
INSERT INTO members VALUES ('tap_pt.events_2028', true);
DELETE FROM members WHERE name IN ('tap_pt.events_2027', 'tap_pt.events_2024_h1');
SET ROLE tap_pt_owner;
SELECT is(tenancy.unprotect('tap_pt.events'), true, 'unprotect of the partitioned table returns true');
RESET ROLE;
SELECT is((SELECT count(*) FROM tenancy.protected_table p JOIN members m ON p.tbl = m.name::regclass), 0::bigint,
          'no member is recorded any more');
SELECT is((SELECT count(*) FROM members m JOIN pg_class c ON c.oid = m.name::regclass
            WHERE c.relrowsecurity OR c.relforcerowsecurity), 0::bigint, 'row-level security is off everywhere');
SELECT is((SELECT count(*) FROM members m JOIN pg_policy p ON p.polrelid = m.name::regclass), 0::bigint,
          'no policy is left');
SELECT is((SELECT count(*) FROM members m JOIN pg_trigger t ON t.tgrelid = m.name::regclass
            WHERE t.tgname LIKE 'tenancy%'), 0::bigint, 'no trigger is left');
SELECT is((SELECT count(*) FROM members m JOIN pg_constraint k ON k.conrelid = m.name::regclass
            WHERE k.confrelid = 'tenancy.tenant'::regclass), 0::bigint, 'no foreign key to tenancy.tenant is left');
SELECT is((SELECT count(*) FROM members m JOIN pg_index i ON i.indrelid = m.name::regclass), 0::bigint,
          'no index is left');
SELECT is((SELECT count(*) FROM members m JOIN pg_attribute a ON a.attrelid = m.name::regclass
            WHERE a.attname = 'tenant_id' AND a.attnotnull), 0::bigint, 'the tenant column is nullable again');
SELECT is((SELECT count(*) FROM tenancy.protected_tables
            WHERE table_name IN ('tap_pt.events_2027'::regclass, 'tap_pt.events_2024_h1'::regclass) AND complete),
          2::bigint, 'the tables detached earlier stay protected');
SET ROLE tap_pt_app;
SELECT lives_ok('DELETE FROM tap_pt.events_2025', 'unprotected, the partitions are plain tables again');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
