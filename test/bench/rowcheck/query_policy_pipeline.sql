-- The tenant set per transaction in one round trip: BEGIN, set_tenant, the
-- query and COMMIT sent as one pipeline (what Client::in_tenant does).
\set t random(1, 1000)
\startpipeline
BEGIN;
SELECT tenancy.set_tenant(:t);
SELECT count(*), sum(amount) FROM orders_protected;
COMMIT;
\endpipeline
