-- Benchmark data: 10,000 members with 50 groups each.  A member's set is 45
-- fixed groups (0, 20, ..., 880) plus 5 "moving" ones, 1000 + 5*s ..
-- 1000 + 5*s + 4 for a slot s; every benchmark call picks a new random slot,
-- so 5 of the 50 links (10%) change per call and each approach knows which
-- ones from the slot alone.  The scripts spell the wanted array as a literal
-- plus five computed elements, as cheap as an array an application sends.
DROP TABLE IF EXISTS role_membership;
CREATE TABLE role_membership (
    member_id  integer NOT NULL,
    group_id   integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (member_id, group_id));

INSERT INTO role_membership (member_id, group_id)
SELECT m, g FROM generate_series(1, 10000) AS m,
                 LATERAL (SELECT i * 20 FROM generate_series(0, 44) AS i
                          UNION ALL SELECT 1000 + 5 * m + j FROM generate_series(0, 4) AS j) AS groups(g);
VACUUM ANALYZE role_membership;
