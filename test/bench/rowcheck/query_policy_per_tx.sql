\set t random(1, 1000)
BEGIN;
SELECT tenancy.set_tenant(:t);
SELECT count(*), sum(amount) FROM orders_protected;
COMMIT;
