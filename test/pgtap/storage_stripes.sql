-- Striped storage counters (docs/storage.md, "Striped counters"): the
-- contract of adjust_storage holds for a striped tenant exactly as for a
-- single counter row, and switching the stripe count moves the usage over.
BEGIN;
SELECT plan(42);
SET LOCAL client_min_messages = error;

SELECT has_table('tenancy', 'storage_stripe', 'tenancy.storage_stripe exists');
SELECT has_view('tenancy', 'storage_usage', 'tenancy.storage_usage exists');
SELECT columns_are('tenancy', 'storage_usage', ARRAY['tenant_id', 'used', 'quota', 'available', 'stripes'],
                   'storage_usage has the documented columns');
SELECT ok(NOT has_function_privilege('public', 'tenancy.set_storage_stripes(bigint, integer)', 'EXECUTE'),
          'PUBLIC may not execute set_storage_stripes');
SELECT ok(NOT has_table_privilege('public', 'tenancy.storage_usage', 'SELECT'), 'nor read storage_usage');

SELECT tenancy.create_tenant('ss-a', storage_quota => 1000) AS a \gset
SELECT tenancy.create_tenant('ss-b', storage_quota => 9223372036854775807) AS b \gset
SELECT max(id) + 1000 AS missing FROM tenancy.tenant \gset
CREATE TEMP VIEW stripes_of AS
    SELECT tenant_id, count(*) AS n, sum(used) AS used, sum(headroom) AS headroom
      FROM tenancy.storage_stripe GROUP BY tenant_id;

-- Arguments.
SELECT throws_ok(format('SELECT tenancy.set_storage_stripes(%s, 0)', :a), '22023', NULL, '0 stripes is 22023');
SELECT throws_ok(format('SELECT tenancy.set_storage_stripes(%s, 65)', :a), '22023', NULL, '65 stripes is 22023');
SELECT throws_ok(format('SELECT tenancy.set_storage_stripes(%s, NULL)', :a), '22023', 'stripes must not be NULL',
                 'NULL stripes is 22023');
SELECT throws_ok('SELECT tenancy.set_storage_stripes(NULL, 4)', '22023', 'tenant must not be NULL', 'NULL tenant is 22023');
SELECT throws_ok(format('SELECT tenancy.set_storage_stripes(%s, 4)', :missing), 'TN001', NULL, 'unknown tenant is TN001');

-- Switching moves the usage over, exactly.
SELECT tenancy.adjust_storage(:a, 300) AS ignored \gset
SELECT is(tenancy.set_storage_stripes(:a, 4), 1, 'set_storage_stripes returns the previous count (1)');
SELECT is((SELECT row(n, used, headroom)::text FROM stripes_of WHERE tenant_id = :a), '(4,300,700)',
          'four stripes hold the 300 bytes used and the 700 left');
SELECT is((SELECT storage_used FROM tenancy.tenant WHERE id = :a), 0::bigint, 'the tenant row keeps no part of it');
SELECT is((SELECT row(used, quota, available)::text FROM tenancy.storage(:a)), '(300,1000,700)',
          'storage() reports the exact total');
SELECT is((SELECT row(used, quota, available, stripes)::text FROM tenancy.storage_usage WHERE tenant_id = :a),
          '(300,1000,700,4)', 'and so does storage_usage');
SELECT is((SELECT storage_used FROM tenancy.search_tenants('ss-a')), 300::bigint, 'and search_tenants');

-- The fast path: one stripe changes, the total is exact.
SELECT is(tenancy.adjust_storage(:a, 100), 400::bigint, 'a delta that fits a stripe returns the new total');
SELECT is(tenancy.adjust_storage(:a, -50), 350::bigint, 'so does a negative one');
SELECT is((SELECT row(n, used, headroom)::text FROM stripes_of WHERE tenant_id = :a), '(4,350,600)',
          'the 100 came out of escrowed headroom; freed bytes are not escrowed again until a rebalance');
-- Larger than any stripe's headroom: settled on the total and spread again.
SELECT is(tenancy.adjust_storage(:a, 650), 1000::bigint, 'reaching the quota exactly across stripes is allowed');
SELECT is((SELECT row(n, used, headroom)::text FROM stripes_of WHERE tenant_id = :a), '(4,1000,0)',
          'after the rebalance no stripe has headroom left');
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, 1)', :a), 'TN003', NULL, 'one byte more is TN003');
SELECT is((SELECT used FROM tenancy.storage(:a)), 1000::bigint, 'and changes nothing');
-- Negative deltas larger than any stripe's use.
SELECT is(tenancy.adjust_storage(:a, -600), 400::bigint, 'freeing more than one stripe holds');
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, -401, on_underflow => %L)', :a, 'error'), 'TN005', NULL,
                 'TN005 below zero with on_underflow => error');
SELECT is(tenancy.adjust_storage(:a, -401), 0::bigint, 'and the clamp to 0 by default');
SELECT is((SELECT row(attempted_delta, used_before, lost)::text FROM tenancy.storage_anomaly WHERE tenant_id = :a),
          '(-401,400,1)', 'the clamp is recorded with the exact total before it');

-- Keys: counted once.
SELECT is(tenancy.adjust_storage(:a, 10, 'k-1'), 10::bigint, 'a keyed adjustment of a striped tenant');
SELECT is(tenancy.adjust_storage(:a, 10, 'k-1'), 10::bigint, 'its retry returns the stored result');
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, 11, %L)', :a, 'k-1'), 'TN006', NULL,
                 'the key with another delta is TN006');
SELECT is((SELECT used FROM tenancy.storage(:a)), 10::bigint, 'and was counted once');

-- A quota lowered below use: freeing is allowed, growing refused until below it.
SELECT tenancy.adjust_storage(:a, 490) AS ignored \gset
SELECT is((SELECT row(used, available)::text FROM tenancy.set_storage_quota(:a, 300)), '(500,0)',
          'set_storage_quota reports the exact total of a striped tenant');
SELECT is((SELECT headroom FROM stripes_of WHERE tenant_id = :a), 0::numeric, 'and takes every stripe''s headroom');
SELECT is(tenancy.adjust_storage(:a, -100), 400::bigint, 'freeing works above the quota');
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, 1)', :a), 'TN003', NULL,
                 'but the freed bytes are no headroom while use is above the quota');
SELECT used AS ignored FROM tenancy.set_storage_quota(:a, 1000) \gset
SELECT is(tenancy.adjust_storage(:a, 600), 1000::bigint, 'raising the quota gives the headroom back');

-- Status, overflow, many.
SELECT tenancy.set_storage_stripes(:b, 8) AS ignored \gset
SELECT tenancy.adjust_storage(:b, 9223372036854775000) AS ignored \gset
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, 1000)', :b), '22003', NULL,
                 'beyond bigint is 22003 for a striped tenant too');
SELECT is((SELECT storage_used FROM tenancy.adjust_storage_many(ARRAY[:b, :a], ARRAY[-1000, -1000]) WHERE tenant = :b),
          9223372036854774000::bigint, 'adjust_storage_many settles striped tenants on their exact totals');
SELECT tenancy.suspend_tenant(:b) AS ignored \gset
SELECT throws_ok(format('SELECT tenancy.adjust_storage(%s, 1)', :b), 'TN002', NULL,
                 'a suspended striped tenant cannot grow (TN002)');
SELECT is(tenancy.adjust_storage(:b, -4000), 9223372036854770000::bigint, 'but can free');

-- Back to one row.
SELECT tenancy.adjust_storage(:a, 700) AS ignored \gset
SELECT is(tenancy.set_storage_stripes(:a, 1), 4, 'switching back returns 4');
SELECT is((SELECT row(t.storage_used, t.storage_stripes, (SELECT count(*) FROM tenancy.storage_stripe s WHERE s.tenant_id = t.id))::text
             FROM tenancy.tenant t WHERE t.id = :a), '(700,1,0)', 'the usage is back in the tenant row, the stripes gone');

SELECT * FROM finish();
ROLLBACK;
