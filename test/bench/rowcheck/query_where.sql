\set t random(1, 1000)
SELECT count(*), sum(amount) FROM orders_plain WHERE tenant_id = :t;
