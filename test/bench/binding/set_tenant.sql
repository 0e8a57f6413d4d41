\set t random(1, 1000)
BEGIN;
SELECT tenancy.set_tenant(:t);
COMMIT;
