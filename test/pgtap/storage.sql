-- Storage accounting: every rule, every error code, the boundaries.
BEGIN;
SELECT plan(115);
-- The clamp WARNINGs and quota NOTICEs are asserted through their records here.
SET LOCAL client_min_messages = error;

-- Structure and privileges ------------------------------------------------------
SELECT has_table('tenancy', 'storage_anomaly', 'tenancy.storage_anomaly exists');
SELECT columns_are('tenancy', 'storage_anomaly',
    ARRAY['id', 'tenant_id', 'attempted_delta', 'used_before', 'lost', 'occurred_at'],
    'storage_anomaly has the documented columns');
SELECT has_table('tenancy', 'storage_idempotency_key', 'tenancy.storage_idempotency_key exists');
SELECT col_is_pk('tenancy', 'storage_idempotency_key', ARRAY['tenant_id', 'idempotency_key'],
                 'idempotency keys are unique per tenant');

CREATE TEMP VIEW storage_functions AS
    SELECT p.oid::regprocedure AS fn, p.prosecdef, p.provolatile
      FROM pg_proc p
     WHERE p.pronamespace = 'tenancy'::regnamespace
       AND p.proname IN ('adjust_storage', 'adjust_storage_many', 'storage', 'set_storage_quota',
                         'purge_idempotency_keys');
SELECT is((SELECT count(*) FROM storage_functions), 5::bigint, 'five storage functions');
SELECT is_empty($$SELECT fn FROM storage_functions WHERE has_function_privilege('public', fn, 'EXECUTE')$$,
                'PUBLIC may execute none of them');
SELECT is_empty($$SELECT fn FROM storage_functions WHERE NOT prosecdef$$, 'all are SECURITY DEFINER');
SELECT is((SELECT provolatile::text FROM storage_functions WHERE fn = 'tenancy.storage(bigint)'::regprocedure), 's',
          'storage() is STABLE');

-- Fixtures: t (quota 1000), big (quota = bigint max), s (to be suspended).
SELECT tenancy.create_tenant('st-t', storage_quota => 1000) AS t \gset
SELECT tenancy.create_tenant('st-big', storage_quota => 9223372036854775807) AS big \gset
SELECT tenancy.create_tenant('st-s', storage_quota => 1000) AS s \gset
SELECT tenancy.create_tenant('st-d', storage_quota => 1000) AS d \gset
SELECT max(id) + 1000 AS missing FROM tenancy.tenant \gset
CREATE TEMP VIEW used AS SELECT id, storage_used FROM tenancy.tenant;
CREATE TEMP TABLE anomaly_mark AS SELECT coalesce(max(id), 0) AS id FROM tenancy.storage_anomaly;
CREATE TEMP VIEW new_anomalies AS
    SELECT tenant_id, attempted_delta, used_before, lost FROM tenancy.storage_anomaly
     WHERE id > (SELECT id FROM anomaly_mark) ORDER BY id;

-- adjust_storage: quota rule ----------------------------------------------------
SELECT is(tenancy.adjust_storage(:t, 0), 0::bigint, 'delta 0 on an empty tenant returns 0');
SELECT is(tenancy.adjust_storage(:t, 400), 400::bigint, 'a positive delta returns the new usage');
SELECT is(tenancy.adjust_storage(:t, 600), 1000::bigint, 'exactly reaching the quota is allowed');
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, 1)', :t), 'TN003', NULL, '1 byte over the quota is TN003');
SELECT is((SELECT storage_used FROM used WHERE id = :t), 1000::bigint, '... and changes nothing');
SELECT is(tenancy.adjust_storage(:t, 0), 1000::bigint, 'delta 0 is allowed at the quota');
SELECT is(tenancy.adjust_storage(:t, -1), 999::bigint, 'a negative delta is allowed at the quota');
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, 2)', :t), 'TN003',
                 'storage quota of tenant ' || :t || ' exceeded: 999 used + 2 added > 1000 allowed',
                 'the TN003 message gives use, delta and quota');
SELECT is(tenancy.adjust_storage(:t, 1), 1000::bigint, 'the freed byte can be used again');

-- bigint boundaries
SELECT is(tenancy.adjust_storage(:big, 9223372036854775807), 9223372036854775807::bigint,
          'delta = bigint max fits an empty tenant with quota bigint max');
SELECT is(tenancy.adjust_storage(:big, -9223372036854775807), 0::bigint, 'and can be freed again');
SELECT is(tenancy.adjust_storage(:big, 1), 1::bigint, 'one byte');
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, 9223372036854775807)', :big), '22003', NULL,
                 'used + delta beyond bigint is 22003, not an internal error');
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, 9223372036854775807)', :t), '22003', NULL,
                 'overflow is 22003 even when the quota would refuse it too');
SELECT is((SELECT storage_used FROM used WHERE id = :big), 1::bigint, 'overflow changes nothing');
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, -9223372036854775808, on_underflow => %L)', :big, 'error'),
                 'TN005', NULL, 'delta = bigint min with on_underflow error is TN005');
SELECT is((SELECT storage_used FROM used WHERE id = :big), 1::bigint, 'and changes nothing');
SELECT is(tenancy.adjust_storage(:big, -9223372036854775808), 0::bigint, 'delta = bigint min is clamped to 0');
SELECT results_eq('SELECT tenant_id, attempted_delta, used_before, lost FROM new_anomalies',
                  format('VALUES (%s::bigint, (-9223372036854775807 - 1)::bigint, 1::bigint, 9223372036854775807::numeric)', :big),
                  'the clamp is recorded with the lost amount');
SELECT is((SELECT occurred_at FROM tenancy.storage_anomaly ORDER BY id DESC LIMIT 1), now(),
          'with the time of the transaction');
UPDATE anomaly_mark SET id = (SELECT max(id) FROM tenancy.storage_anomaly);

-- underflow rule
SELECT is(tenancy.adjust_storage(:t, -1000), 0::bigint, 'freeing exactly everything gives 0');
SELECT is_empty('SELECT * FROM new_anomalies', '... and is no anomaly');
SELECT is(tenancy.adjust_storage(:t, 10), 10::bigint, 'refill 10');
SELECT is(tenancy.adjust_storage(:t, -11), 0::bigint, 'freeing 1 byte too many is clamped to 0');
SELECT results_eq('SELECT tenant_id, attempted_delta, used_before, lost FROM new_anomalies',
                  format('VALUES (%s::bigint, -11::bigint, 10::bigint, 1::numeric)', :t), 'and recorded');
SELECT is(tenancy.adjust_storage(:t, 10), 10::bigint, 'refill 10 again');
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, -11, on_underflow => %L)', :t, 'error'), 'TN005',
                 'storage of tenant ' || :t || ' would fall below zero: 10 used, -11 freed',
                 'on_underflow => error refuses with TN005');
SELECT is((SELECT storage_used FROM used WHERE id = :t), 10::bigint, '... and changes nothing');
SELECT is((SELECT count(*) FROM new_anomalies), 1::bigint, '... and records nothing');
SELECT is(tenancy.adjust_storage(:t, -10, on_underflow => 'error'), 0::bigint,
          'on_underflow => error allows reaching exactly 0');
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, -1, on_underflow => %L)', :t, 'Clamp'), '22023',
                 'on_underflow must be ''clamp'' or ''error'', not ''Clamp''', 'on_underflow values are exact');
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, -1, on_underflow => NULL)', :t), '22023',
                 'on_underflow must not be NULL', 'on_underflow NULL is 22023');

-- status rule
SELECT tenancy.adjust_storage(:s, 500);
SELECT tenancy.suspend_tenant(:s);
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, 1)', :s), 'TN002', NULL,
                 'a suspended tenant cannot add storage');
SELECT is(tenancy.adjust_storage(:s, -100), 400::bigint, 'a suspended tenant can free storage');
SELECT is(tenancy.adjust_storage(:s, 0), 400::bigint, 'delta 0 is allowed for a suspended tenant');
SELECT is(tenancy.adjust_storage(:s, -500), 0::bigint, 'a suspended tenant''s underflow is clamped too');
SELECT tenancy.adjust_storage(:d, 300);
SELECT tenancy.delete_tenant(:d);
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, 1)', :d), 'TN002', NULL,
                 'a deleted tenant cannot add storage');
SELECT is(tenancy.adjust_storage(:d, -300), 0::bigint, 'a deleted tenant''s storage can still be freed');

-- unknown tenant and NULLs
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, 1)', :missing), 'TN001', NULL, 'unknown tenant, delta > 0');
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, -1)', :missing), 'TN001', NULL, 'unknown tenant, delta < 0');
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, 0)', :missing), 'TN001', NULL, 'unknown tenant, delta 0');
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, 1, %L)', :missing, 'k'), 'TN001', NULL,
                 'unknown tenant with an idempotency key');
SELECT throws_ok('SELECT tenancy.adjust_storage(NULL, 1)', '22023', 'tenant must not be NULL', 'NULL tenant');
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, NULL)', :t), '22023', 'delta must not be NULL', 'NULL delta');

-- quota lowered below use
SELECT tenancy.adjust_storage(:t, 800);
SELECT results_eq(format('SELECT * FROM tenancy.set_storage_quota(%s, 500)', :t), 'VALUES (800::bigint, 500::bigint, 0::bigint)',
                  'a quota below use is accepted; available is 0');
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, 1)', :t), 'TN003', NULL, 'growth is refused over quota');
SELECT is(tenancy.adjust_storage(:t, -200), 600::bigint, 'freeing is allowed over quota');
SELECT is(tenancy.adjust_storage(:t, 0), 600::bigint, 'delta 0 is allowed over quota');
SELECT results_eq(format('SELECT * FROM tenancy.set_storage_quota(%s, 1000)', :t), 'VALUES (600::bigint, 1000::bigint, 400::bigint)',
                  'raising the quota again');

-- idempotency keys ---------------------------------------------------------------
SELECT is(tenancy.adjust_storage(:t, 100, 'k-1'), 700::bigint, 'first call with a key adjusts');
SELECT is(tenancy.adjust_storage(:t, 100, 'k-1'), 700::bigint, 'second call returns the same result');
SELECT is((SELECT storage_used FROM used WHERE id = :t), 700::bigint, '... and counts once');
SELECT is(tenancy.adjust_storage(:t, -50), 650::bigint, 'another adjustment');
SELECT is(tenancy.adjust_storage(:t, 100, 'k-1'), 700::bigint, 'a replay returns the first call''s result, not today''s');
SELECT results_eq(format($$SELECT delta, storage_used FROM tenancy.storage_idempotency_key
                            WHERE tenant_id = %s AND idempotency_key = 'k-1'$$, :t),
                  'VALUES (100::bigint, 700::bigint)', 'the key row holds delta and result');
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, 101, %L)', :t, 'k-1'), 'TN006',
                 'idempotency key "k-1" of tenant ' || :t || ' was already used with delta 100, not 101',
                 'a key reused with another delta is TN006');
SELECT is(tenancy.adjust_storage(:big, 100, 'k-1'), 100::bigint, 'keys are per tenant');
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, 400, %L)', :t, 'k-2'), 'TN003', NULL,
                 'a refused call with a key ...');
SELECT is_empty(format($$SELECT 1 FROM tenancy.storage_idempotency_key
                         WHERE tenant_id = %s AND idempotency_key = 'k-2'$$, :t), '... does not keep the key');
SELECT is(tenancy.adjust_storage(:t, -400), 250::bigint, 'make room');
SELECT is(tenancy.adjust_storage(:t, 400, 'k-2'), 650::bigint, 'so that its retry counts');
SELECT is(tenancy.adjust_storage(:t, -1000, 'k-3'), 0::bigint, 'a clamped call with a key returns 0');
SELECT is(tenancy.adjust_storage(:t, -1000, 'k-3'), 0::bigint, 'its replay too');
SELECT is((SELECT count(*) FROM new_anomalies WHERE tenant_id = :t AND attempted_delta = -1000), 1::bigint,
          'and the clamp is recorded once');
SELECT tenancy.adjust_storage(:t, 10);
SELECT tenancy.suspend_tenant(:t);
SELECT is(tenancy.adjust_storage(:t, 400, 'k-2'), 650::bigint, 'a replay is answered after the tenant was suspended');
SELECT tenancy.activate_tenant(:t);
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, 1, %L)', :t, ''), '22023',
                 'idempotency_key must not be empty', 'an empty key is refused');
SELECT is(tenancy.adjust_storage(:t, 1, repeat('x', 255)), 11::bigint, 'a 255-byte key is accepted');
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, 1, %L)', :t, repeat('x', 256)), '22023', NULL,
                 'a 256-byte key is refused');
SELECT is(tenancy.adjust_storage(:t, 1, NULL), 12::bigint, 'a NULL key means no key');

-- retention
UPDATE tenancy.storage_idempotency_key SET created_at = now() - interval '25 hours'
 WHERE tenant_id = :t AND idempotency_key = 'k-1';
SELECT is(tenancy.purge_idempotency_keys(), 1::bigint, 'purge removes keys older than 24 hours by default');
SELECT is((SELECT count(*) FROM tenancy.storage_idempotency_key WHERE tenant_id = :t), 3::bigint,
          'and keeps the younger ones');
SELECT is(tenancy.adjust_storage(:t, 100, 'k-1'), 112::bigint, 'a purged key counts again');
SELECT is(tenancy.purge_idempotency_keys('1 hour'), 0::bigint, 'nothing is older than an hour');
SELECT throws_ok($$SELECT tenancy.purge_idempotency_keys('-1 second')$$, '22023', NULL, 'a negative age is refused');
SELECT throws_ok('SELECT tenancy.purge_idempotency_keys(NULL)', '22023', 'older_than must not be NULL',
                 'a NULL age is refused');

-- adjust_storage_many --------------------------------------------------------------
SELECT tenancy.activate_tenant(:s);
SELECT tenancy.create_tenant('st-m1', storage_quota => 100) AS m1 \gset
SELECT tenancy.create_tenant('st-m2', storage_quota => 100) AS m2 \gset
SELECT results_eq(format('SELECT * FROM tenancy.adjust_storage_many(ARRAY[%s, %s], ARRAY[30, 70])', :m2, :m1),
                  format('VALUES (%s::bigint, 30::bigint), (%s::bigint, 70::bigint)', :m2, :m1),
                  'one row per element, in the order of the arrays');
SELECT results_eq(format('SELECT * FROM tenancy.adjust_storage_many(ARRAY[%s, %s], ARRAY[30, -30])', :m1, :m2),
                  format('VALUES (%s::bigint, 100::bigint), (%s::bigint, 0::bigint)', :m1, :m2),
                  'adjust_storage_many may reach the quota exactly');
SELECT throws_ok(format('SELECT * FROM tenancy.adjust_storage_many(ARRAY[%s]::bigint[], ARRAY[1])', :m1),
                 'TN003', NULL, 'but not go 1 byte over it');
SELECT results_eq(format('SELECT * FROM tenancy.adjust_storage_many(ARRAY[%s, %s], ARRAY[-30, 30])', :m1, :m2),
                  format('VALUES (%s::bigint, 70::bigint), (%s::bigint, 30::bigint)', :m1, :m2), 'back to 70 and 30');
SELECT throws_ok(format('SELECT * FROM tenancy.adjust_storage_many(ARRAY[%s, %s], ARRAY[-30, 31])', :m2, :m1),
                 'TN003', NULL, 'one refusal refuses all');
SELECT results_eq(format('SELECT storage_used FROM used WHERE id IN (%s, %s) ORDER BY id', :m1, :m2),
                  'VALUES (70::bigint), (30::bigint)', '... and changes nothing');
SELECT results_eq(format('SELECT * FROM tenancy.adjust_storage_many(ARRAY[%s, %s], ARRAY[-100, 0])', :m1, :m2),
                  format('VALUES (%s::bigint, 0::bigint), (%s::bigint, 30::bigint)', :m1, :m2),
                  'clamps like adjust_storage');
SELECT results_eq('SELECT tenant_id, attempted_delta, used_before, lost FROM new_anomalies ORDER BY tenant_id DESC LIMIT 1',
                  format('VALUES (%s::bigint, -100::bigint, 70::bigint, 30::numeric)', :m1), 'and records the clamp');
SELECT throws_ok(format('SELECT * FROM tenancy.adjust_storage_many(ARRAY[%s], ARRAY[-31], %L)', :m2, 'error'),
                 'TN005', NULL, 'on_underflow => error');
SELECT throws_ok(format('SELECT * FROM tenancy.adjust_storage_many(ARRAY[%s, %s], ARRAY[1, 1])', :m1, :missing),
                 'TN001', 'tenant ' || :missing || ' does not exist', 'an unknown tenant is TN001');
SELECT tenancy.suspend_tenant(:m1);
SELECT throws_ok(format('SELECT * FROM tenancy.adjust_storage_many(ARRAY[%s, %s], ARRAY[1, 1])', :m1, :m2),
                 'TN002', NULL, 'a suspended tenant cannot grow');
SELECT tenancy.activate_tenant(:m1);
SELECT throws_ok(format('SELECT * FROM tenancy.adjust_storage_many(ARRAY[%s, %s], ARRAY[1, 9223372036854775807])', :m1, :big),
                 '22003', NULL, 'overflow is 22003');
SELECT throws_ok(format('SELECT * FROM tenancy.adjust_storage_many(ARRAY[%s, %s], ARRAY[1, 2])', :m1, :m1),
                 '22023', 'tenant ' || :m1 || ' appears more than once in tenants', 'duplicate tenants are refused');
SELECT throws_ok(format('SELECT * FROM tenancy.adjust_storage_many(ARRAY[%s, %s], ARRAY[1])', :m1, :m2),
                 '22023', 'tenants and deltas must have the same length, not 2 and 1', 'lengths must match');
SELECT throws_ok(format('SELECT * FROM tenancy.adjust_storage_many(ARRAY[%s], ARRAY[NULL]::bigint[])', :m1),
                 '22023', 'deltas[1] must not be NULL', 'a NULL delta is refused');
SELECT throws_ok('SELECT * FROM tenancy.adjust_storage_many(NULL, ARRAY[1])', '22023', 'tenants must not be NULL',
                 'a NULL array is refused');
SELECT throws_ok(format('SELECT * FROM tenancy.adjust_storage_many(ARRAY[[%s]], ARRAY[[1]])', :m1), '22023',
                 'tenants must be a one-dimensional array', 'a 2-D array is refused');
SELECT is_empty($$SELECT * FROM tenancy.adjust_storage_many('{}', '{}')$$, 'empty arrays adjust nothing');

-- storage and set_storage_quota ----------------------------------------------------
SELECT results_eq(format('SELECT * FROM tenancy.storage(%s)', :m2), 'VALUES (30::bigint, 100::bigint, 70::bigint)',
                  'storage() returns used, quota and available');
SELECT throws_ok(format('SELECT * FROM tenancy.storage(%s)', :missing), 'TN001', NULL, 'storage() of an unknown tenant');
SELECT throws_ok('SELECT * FROM tenancy.storage(NULL)', '22023', NULL, 'storage(NULL)');
SELECT results_eq(format('SELECT * FROM tenancy.set_storage_quota(%s, 0)', :m1), 'VALUES (0::bigint, 0::bigint, 0::bigint)',
                  'a zero quota is allowed');
SELECT throws_ok(format('SELECT * FROM tenancy.set_storage_quota(%s, -1)', :m1), '22023',
                 'quota must be zero or more bytes, not -1', 'a negative quota is refused');
SELECT throws_ok(format('SELECT * FROM tenancy.set_storage_quota(%s, NULL)', :m1), '22023', NULL, 'a NULL quota is refused');
SELECT throws_ok(format('SELECT * FROM tenancy.set_storage_quota(%s, 10)', :missing), 'TN001', NULL,
                 'set_storage_quota of an unknown tenant');

-- An application role that owns nothing ----------------------------------------------
CREATE ROLE tenancy_storage_app;
CREATE ROLE tenancy_storage_nobody;
GRANT USAGE ON SCHEMA tenancy TO tenancy_storage_app, tenancy_storage_nobody;
GRANT EXECUTE ON FUNCTION tenancy.adjust_storage(bigint, bigint, text, text),
                          tenancy.adjust_storage_many(bigint[], bigint[], text),
                          tenancy.storage(bigint)
    TO tenancy_storage_app;
SET ROLE tenancy_storage_app;
SELECT is(tenancy.adjust_storage(:m2, 5, 'app-1'), 35::bigint, 'a granted role adjusts storage, with a key');
SELECT is((SELECT used FROM tenancy.storage(:m2)), 35::bigint, 'and reads it');
SELECT throws_ok(format('SELECT * FROM tenancy.set_storage_quota(%s, 10)', :m2), '42501', NULL,
                 'but cannot set quotas');
SELECT throws_ok('SELECT * FROM tenancy.storage_anomaly', '42501', NULL, 'nor read the anomaly table');
SELECT throws_ok(format('UPDATE tenancy.tenant SET storage_used = 0 WHERE id = %s', :m2), '42501', NULL,
                 'nor write the counter directly');
RESET ROLE;
SET ROLE tenancy_storage_nobody;
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, 5)', :m2), '42501', NULL,
                 'a role without the grant cannot adjust storage');
SELECT throws_ok(format('SELECT * FROM tenancy.storage(%s)', :m2), '42501', NULL, 'nor read it');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
