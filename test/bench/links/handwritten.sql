-- (b) The hand-written pair in a transaction: delete what is not wanted,
-- insert what is wanted, skipping rows that exist.
\set m 1 + :client_id + :nclients * random(0, 10000 / :nclients - 1)
\set s random(0, 99999)
BEGIN;
DELETE FROM role_membership WHERE member_id = :m AND group_id <> ALL ('{0,20,40,60,80,100,120,140,160,180,200,220,240,260,280,300,320,340,360,380,400,420,440,460,480,500,520,540,560,580,600,620,640,660,680,700,720,740,760,780,800,820,840,860,880}'::integer[] || ARRAY[1000 + 5 * :s, 1001 + 5 * :s, 1002 + 5 * :s, 1003 + 5 * :s, 1004 + 5 * :s]);
INSERT INTO role_membership (member_id, group_id)
    SELECT :m, g FROM unnest('{0,20,40,60,80,100,120,140,160,180,200,220,240,260,280,300,320,340,360,380,400,420,440,460,480,500,520,540,560,580,600,620,640,660,680,700,720,740,760,780,800,820,840,860,880}'::integer[] || ARRAY[1000 + 5 * :s, 1001 + 5 * :s, 1002 + 5 * :s, 1003 + 5 * :s, 1004 + 5 * :s]) AS g ON CONFLICT DO NOTHING;
COMMIT;
