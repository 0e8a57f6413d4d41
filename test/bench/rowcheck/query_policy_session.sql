-- The tenant was set once for the session (ALTER ROLE ... SET, see run.sh).
SELECT count(*), sum(amount) FROM orders_protected;
