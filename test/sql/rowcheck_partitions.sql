-- TRUNCATE and partitioned tables as a table owner and an application see
-- them: the refusal with its hint, protect on a partitioned table, a
-- partition created later, and the warning for protecting a partition alone.
\set SHOW_CONTEXT never
CREATE ROLE regress_pt_app;
GRANT USAGE ON SCHEMA tenancy TO regress_pt_app;
CREATE TABLE pt_orders (id bigint, tenant_id bigint, placed date NOT NULL) PARTITION BY RANGE (placed);
CREATE TABLE pt_orders_2024 PARTITION OF pt_orders FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
GRANT ALL ON pt_orders, pt_orders_2024 TO regress_pt_app;
SELECT tenancy.protect('pt_orders');
CREATE TABLE pt_orders_2025 PARTITION OF pt_orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
GRANT ALL ON pt_orders_2025 TO regress_pt_app;
SELECT table_name, partition_of, complete FROM tenancy.protected_tables
 WHERE table_name::text LIKE 'pt_orders%' ORDER BY 1::text;

SET ROLE regress_pt_app;
TRUNCATE pt_orders;
TRUNCATE pt_orders_2025;
SELECT tenancy.unprotect('pt_orders_2025');
RESET ROLE;
SELECT tenancy.unprotect('pt_orders_2025');

-- A partition of an unprotected table can be protected, but its rows stay
-- readable through the partitioned table.
CREATE TABLE pt_plain (tenant_id bigint, n int) PARTITION BY LIST (n);
CREATE TABLE pt_plain_1 PARTITION OF pt_plain FOR VALUES IN (1);
SELECT tenancy.protect('pt_plain_1');

SELECT tenancy.unprotect('pt_plain_1'), tenancy.unprotect('pt_orders');
SELECT count(*) AS still_protected FROM tenancy.protected_table WHERE tbl::text LIKE 'pt_%';
DROP TABLE pt_orders, pt_plain;
DROP OWNED BY regress_pt_app;
DROP ROLE regress_pt_app;
