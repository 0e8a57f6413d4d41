SELECT count(*), sum(amount) FROM orders_plain WHERE tenant_id = 500;
