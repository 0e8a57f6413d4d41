\set t random(1, 1000)
BEGIN;
SELECT bench_app.set_tenant_checked(:t);
COMMIT;
