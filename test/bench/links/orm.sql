-- (a) The ORM pattern, as a client transaction: load the member's rows, work
-- out the difference in the client, delete each removed row and insert each
-- added one by primary key, commit.  (Members are split between clients: this
-- pattern is not safe for concurrent syncs of one member.)
\set m 1 + :client_id + :nclients * random(0, 10000 / :nclients - 1)
\set s random(0, 99999)
BEGIN;
-- The ORM loads all 50 rows; the client keeps the last (highest) group,
-- the top of the old moving slot, to know which 5 rows to delete.
SELECT group_id AS top FROM role_membership WHERE member_id = :m ORDER BY group_id \aset
\set old (:top - 1004) / 5
DELETE FROM role_membership WHERE member_id = :m AND group_id = 1000 + 5 * :old + 0;
DELETE FROM role_membership WHERE member_id = :m AND group_id = 1000 + 5 * :old + 1;
DELETE FROM role_membership WHERE member_id = :m AND group_id = 1000 + 5 * :old + 2;
DELETE FROM role_membership WHERE member_id = :m AND group_id = 1000 + 5 * :old + 3;
DELETE FROM role_membership WHERE member_id = :m AND group_id = 1000 + 5 * :old + 4;
INSERT INTO role_membership (member_id, group_id) VALUES (:m, 1000 + 5 * :s + 0);
INSERT INTO role_membership (member_id, group_id) VALUES (:m, 1000 + 5 * :s + 1);
INSERT INTO role_membership (member_id, group_id) VALUES (:m, 1000 + 5 * :s + 2);
INSERT INTO role_membership (member_id, group_id) VALUES (:m, 1000 + 5 * :s + 3);
INSERT INTO role_membership (member_id, group_id) VALUES (:m, 1000 + 5 * :s + 4);
COMMIT;
