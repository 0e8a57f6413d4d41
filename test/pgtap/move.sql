-- Moving tenants: the registry's record of a move (begin, steps, the switch,
-- finish, roll-back, every refusal), what migrations, purge, remove_server
-- and check do while a move is unfinished, the source's freeze (guards,
-- fence, unfreeze, mark moved) on a schema tenant, the target's claim, and
-- the table checksums.  Moving data between real servers is exercised by
-- the client tests (client/test/test_move*.cpp), which have three clusters.
BEGIN;
SELECT plan(64);

SELECT tenancy.add_server('tap-mv-a', 'host=a', capacity => 5);
SELECT tenancy.add_server('tap-mv-b', 'host=b', capacity => 5);
SELECT tenancy.add_server('tap-mv-c', 'host=c');
SELECT tenancy.add_server('tap-mv-p', 'host=p');
SELECT tenancy.add_server('tap-mv-full', 'host=full', capacity => 0);
SELECT tenancy.create_tenant('tap-mv-d', isolation => 'database', server => 'tap-mv-a') AS d \gset
SELECT tenancy.create_tenant('tap-mv-p', isolation => 'database', server => 'tap-mv-p') AS p \gset
SELECT tenancy.create_tenant('tap-mv-s', isolation => 'schema') AS s \gset
SELECT tenancy.create_tenant('tap-mv-shared') AS shared \gset
SELECT tenancy.placement_ready(:d, 1, 0);

-- begin_move: what is refused before anything is recorded ---------------------
SELECT throws_ok($$SELECT tenancy.begin_move(NULL, 'tap-mv-b')$$, '22023', 'tenant must not be NULL', 'NULL tenant');
SELECT throws_ok(format($$SELECT tenancy.begin_move(%s, NULL)$$, :d), '22023', 'target_server must not be NULL',
                 'NULL server');
SELECT throws_ok(format($$SELECT tenancy.begin_move(%s, 'tap-mv-b', NULL)$$, :d), '22023',
                 'drop_source must not be NULL', 'NULL drop_source');
SELECT throws_ok($$SELECT tenancy.begin_move(999999999, 'tap-mv-b')$$, 'TN001', NULL, 'an unknown tenant is TN001');
SELECT throws_ok(format($$SELECT tenancy.begin_move(%s, 'tap-mv-b')$$, :shared), 'TN022',
                 format('tenant %s is a shared tenant: its rows live in the shared tables', :shared),
                 'a shared tenant is not movable');
SELECT throws_ok(format($$SELECT tenancy.begin_move(%s, 'tap-mv-b')$$, :p), 'TN010', NULL,
                 'a tenant still provisioning is not moved');
SELECT throws_ok(format($$SELECT tenancy.begin_move(%s, 'tap-mv-none')$$, :d), '42704',
                 'server "tap-mv-none" is not registered', 'an unknown server');
SELECT throws_ok(format($$SELECT tenancy.begin_move(%s, 'tap-mv-a')$$, :d), '22023',
                 format('tenant %s is on server "tap-mv-a" already', :d), 'the server it is on');
SELECT throws_ok(format($$SELECT tenancy.begin_move(%s, 'tap-mv-full')$$, :d), 'TN013', NULL, 'a full server');
SELECT is((SELECT count(*) FROM tenancy.tenant_move WHERE tenant_id IN (:d, :s, :shared, :p)), 0::bigint,
          'no refused move is recorded');

-- A database tenant's move ---------------------------------------------------------
SELECT results_eq(format($$SELECT tenant, source_isolation, source_server, source_conninfo, source_database,
                                  target_server, target_conninfo, target_database, from_epoch, drop_source,
                                  state, step, registry = tenancy.registry_id(), mover_running
                             FROM tenancy.begin_move(%s, 'tap-mv-b')$$, :d),
                  format($$VALUES (%s::bigint, 'database', 'tap-mv-a', 'host=a', 'tenant_%s', 'tap-mv-b', 'host=b',
                                   'tenant_%s', 1::bigint, false, 'running', 'begun', true, false)$$, :d, :d, :d),
                  'begin_move records the move and returns both ends');
SELECT max(id) AS m FROM tenancy.tenant_move WHERE tenant_id = :d \gset
SELECT throws_ok(format($$SELECT tenancy.begin_move(%s, 'tap-mv-b')$$, :d), 'TN020',
                 format('tenant %s is being moved already (move %s)', :d, :m), 'one unfinished move per tenant');
SELECT is(tenancy.lock_move(:m), true, 'lock_move takes the move''s session lock');
SELECT is((SELECT mover_running FROM tenancy.tenant_moves(:d)), true, 'and tenant_moves shows it running');
SELECT throws_ok($$SELECT tenancy.lock_move(999999999)$$, 'TN026', 'move 999999999 does not exist',
                 'lock_move of an unknown move');
SELECT throws_ok(format($$SELECT tenancy.record_move_step(%s, 'teleported')$$, :m), '22023',
                 'unknown move step "teleported"', 'an unknown step is refused');
SELECT throws_ok($$SELECT tenancy.record_move_step(999999999, 'synced')$$, 'TN026', NULL, 'a step of an unknown move');
SELECT lives_ok(format($$SELECT tenancy.record_move_step(%s, 'synced')$$, :m), 'record_move_step');
SELECT is((SELECT step FROM tenancy.moves WHERE move = :m), 'synced', 'the step is recorded');

-- What waits for the move ----------------------------------------------------------
SELECT throws_ok(format($$SELECT * FROM tenancy.begin_purge(%s)$$, :d), 'TN004', NULL,
                 'purge still needs a deleted tenant');
SELECT tenancy.delete_tenant(:d);
SELECT throws_ok(format($$SELECT * FROM tenancy.begin_purge(%s)$$, :d), 'TN020', NULL,
                 'a tenant being moved is not purged');
SELECT tenancy.restore_tenant(:d);
SELECT throws_ok($$SELECT tenancy.remove_server('tap-mv-b')$$, '2BP01', NULL,
                 'the target of an unfinished move is not removed');
SELECT is((SELECT count(*) FROM tenancy.check() WHERE problem = 'move_unfinished' AND tenant = :d), 0::bigint,
          'check does not report a move a session is running');
SELECT pg_advisory_unlock_all();
SELECT is((SELECT count(*) FROM tenancy.check() WHERE problem = 'move_unfinished' AND tenant = :d), 1::bigint,
          'it reports the move once no session runs it');

-- The switch ----------------------------------------------------------------------
SELECT throws_ok(format($$SELECT tenancy.switch_placement(%s, -1, '[]')$$, :m), '22023',
                 'write_pause_ms must be 0 or more', 'a negative pause');
SELECT throws_ok(format($$SELECT tenancy.switch_placement(%s, 1, NULL)$$, :m), '22023',
                 'verification must not be NULL', 'the switch records what was verified');
SELECT throws_ok(format($$SELECT tenancy.finish_move(%s, false)$$, :m), 'TN026', NULL,
                 'a move that has not switched is not finished');
SELECT is(tenancy.switch_placement(:m, 12.5, '[{"table": "t", "rows": 1}]'), 2::bigint,
          'switch_placement returns the new epoch');
SELECT results_eq(format($$SELECT isolation, server, database_name, state, epoch FROM tenancy.placement
                            WHERE tenant_id = %s$$, :d),
                  format($$VALUES ('database', 'tap-mv-b', 'tenant_%s', 'ready', 2::bigint)$$, :d),
                  'the placement points at the target, with a new epoch');
SELECT results_eq(format($$SELECT state, step, write_pause, verification FROM tenancy.tenant_move WHERE id = %s$$, :m),
                  $$VALUES ('switched', 'switched', interval '12.5 ms', '[{"table": "t", "rows": 1}]'::jsonb)$$,
                  'and the move is switched, with its pause and verification');
SELECT is(tenancy.switch_placement(:m, 99, '[]'), 2::bigint, 'a repeated switch changes nothing');
SELECT throws_ok(format($$SELECT tenancy.abort_move(%s)$$, :m), 'TN026', NULL,
                 'a switched move is not rolled back');
SELECT throws_ok(format($$SELECT tenancy.apply_migrations(%s, tenancy.registry_id(), '[]')$$, :d), 'TN014', NULL,
                 'migrations still check the database''s claim');
SELECT lives_ok(format($$SELECT tenancy.finish_move(%s, false)$$, :m), 'finish_move');
SELECT results_eq(format($$SELECT state, step, source_dropped, finished_at IS NOT NULL FROM tenancy.tenant_move
                            WHERE id = %s$$, :m),
                  $$VALUES ('done', 'done', false, true)$$, 'the move is done and kept its source');
SELECT throws_ok($$SELECT tenancy.remove_server('tap-mv-a')$$, '2BP01', NULL,
                 'a server holding a copy a move kept is not removed');
SELECT lives_ok(format($$SELECT tenancy.finish_move(%s, true)$$, :m), 'finish_move records the kept copy dropped');
SELECT lives_ok($$SELECT tenancy.remove_server('tap-mv-a')$$, 'and the server may go');
SELECT throws_ok(format($$SELECT tenancy.record_move_step(%s, 'synced')$$, :m), 'TN026', NULL,
                 'a finished move records no step');

-- A roll-back, and a switch whose placement changed meanwhile ----------------------
SELECT move AS m2 FROM tenancy.begin_move(:d, 'tap-mv-c'::text) \gset
SELECT lives_ok(format($$SELECT tenancy.abort_move(%s)$$, :m2), 'abort_move');
SELECT is((SELECT state FROM tenancy.tenant_move WHERE id = :m2), 'aborted', 'the move is rolled back');
SELECT throws_ok(format($$SELECT tenancy.switch_placement(%s, 1, '[]')$$, :m2), 'TN026', NULL,
                 'a rolled-back move does not switch');
SELECT lives_ok(format($$SELECT tenancy.abort_move(%s)$$, :m2), 'a repeated roll-back changes nothing');
SELECT move AS m3 FROM tenancy.begin_move(:d, 'tap-mv-c'::text) \gset
UPDATE tenancy.placement SET epoch = epoch + 1 WHERE tenant_id = :d;
SELECT throws_ok(format($$SELECT tenancy.switch_placement(%s, 1, '[]')$$, :m3), 'TN015', NULL,
                 'a placement that changed since the move began is not overwritten');
SELECT tenancy.abort_move(:m3);

-- A schema tenant's source: migrations wait, the freeze refuses writes -------------------
CREATE TABLE tenant_:s.items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text);
INSERT INTO tenant_:s.items (name) VALUES ('one'), ('two');
SELECT coalesce(max(version), 0) + 1 AS next FROM tenancy.migration \gset
SELECT move AS ms FROM tenancy.begin_move(:s, 'tap-mv-b'::text) \gset
SELECT tenancy.add_migration(:next, 'tap move', 'CREATE TABLE later (a int)');
SELECT throws_ok(format('SELECT tenancy.migrate_tenant(%s)', :s), 'TN020', NULL,
                 'a schema tenant being moved is not migrated');
SELECT throws_ok(format($$SELECT tenancy.prepare_move_out(%s, gen_random_uuid(), %s)$$, :s, :ms), 'TN014', NULL,
                 'another registry''s copy is refused');
SELECT lives_ok(format($$SELECT tenancy.prepare_move_out(%s, tenancy.registry_id(), %s)$$, :s, :ms),
                'prepare_move_out of a schema tenant');
SELECT lives_ok(format($$SELECT tenancy.freeze_for_move(%s, tenancy.registry_id(), %s)$$, :s, :ms), 'freeze_for_move');
SELECT lives_ok(format($$SELECT tenancy.fence_for_move(%s, tenancy.registry_id(), %s)$$, :s, :ms), 'fence_for_move');
SELECT is((SELECT count(*) FROM tenancy.move_fence WHERE move_id = :ms), 1::bigint, 'the fence is written');
SELECT throws_ok(format($$INSERT INTO tenant_%s.items (name) VALUES ('three')$$, :s), 'TN021', NULL,
                 'a frozen copy refuses inserts');
SELECT throws_ok(format($$UPDATE tenant_%s.items SET name = 'x'$$, :s), 'TN021', NULL, 'updates');
SELECT throws_ok(format($$TRUNCATE tenant_%s.items$$, :s), 'TN021', NULL, 'and truncation');
SELECT is((SELECT count(*) FROM tenant_:s.items), 2::bigint, 'and still reads');
SELECT lives_ok(format($$SELECT tenancy.fence_for_move(%s, tenancy.registry_id(), %s)$$, :s, :ms),
                'repeating the freeze is harmless');
SELECT lives_ok(format($$SELECT tenancy.unfreeze_for_move(%s, tenancy.registry_id(), %s, true)$$, :s, :ms),
                'unfreeze_for_move');
SELECT lives_ok(format($$INSERT INTO tenant_%s.items (name) VALUES ('three')$$, :s), 'writes are accepted again');
SELECT is((SELECT count(*) FROM tenancy.move_fence WHERE move_id = :ms), 0::bigint, 'the fence is gone');

-- The target's claim ----------------------------------------------------------------
SELECT throws_ok(format($$SELECT tenancy.claim_moved_database(%s, tenancy.registry_id(), 'x', %s, '[]')$$, :s, :ms),
                 'TN024', NULL, 'a database holding other relations is not claimed as a move''s target');
SELECT throws_ok(format($$SELECT tenancy.claim_moved_database(%s, tenancy.registry_id(), 'x', %s, '{}')$$, :s, :ms),
                 '22023', 'ledger must be a JSON array of applied migrations', 'a ledger that is not an array');

-- Checksums -------------------------------------------------------------------------
CREATE SCHEMA tap_mv_sums;
CREATE TABLE tap_mv_sums.a (id int PRIMARY KEY, v text);
CREATE TABLE tap_mv_sums.j (id int PRIMARY KEY, doc json);
INSERT INTO tap_mv_sums.a VALUES (1, 'x'), (2, 'y');
INSERT INTO tap_mv_sums.j VALUES (1, '{"a": 1}');
SELECT checksum AS before FROM tenancy.table_checksums('tap_mv_sums') WHERE table_name = 'a' \gset
SELECT results_eq($$SELECT table_name, rows, method FROM tenancy.table_checksums('tap_mv_sums')$$,
                  $$VALUES ('a', 2::bigint, 'hash'), ('j', 1::bigint, 'text')$$,
                  'a row count per table; a table with a json column is hashed by its text form');
UPDATE tap_mv_sums.a SET v = CASE id WHEN 1 THEN 'y' ELSE 'x' END;
SELECT isnt((SELECT checksum FROM tenancy.table_checksums('tap_mv_sums') WHERE table_name = 'a'), :'before',
            'values swapped between rows change the checksum');
UPDATE tap_mv_sums.a SET v = CASE id WHEN 1 THEN 'x' ELSE 'y' END;
SELECT is((SELECT checksum FROM tenancy.table_checksums('tap_mv_sums') WHERE table_name = 'a'), :'before',
          'the same rows give the same checksum, whatever their order on disk');
SELECT throws_ok($$SELECT * FROM tenancy.table_checksums('tap_mv_nowhere')$$, '3F000', NULL, 'an unknown schema');

SELECT * FROM finish();
ROLLBACK;
