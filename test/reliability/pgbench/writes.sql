-- inventory writes on pool A, one row per statement (no deadlocks, no
-- spurious errors): churn senders come and go with their membership,
-- stable senders flip status, leave and rejoin the pool
\set op random(1, 5)
\set k random(1, 400)
\set s random(1, 40)
\if :op = 1
WITH s AS (
    INSERT INTO comms_resolve.senders (display_name, address, channel, status)
    VALUES ('Churn ' || :k, '+1999555' || lpad(CAST(:k AS text), 4, '0'), 'SMS', 'ACTIVATED')
    ON CONFLICT DO NOTHING RETURNING id)
INSERT INTO comms_resolve.sender_pool_senders
SELECT (SELECT v FROM rel_cfg WHERE k = 'pool_a'), id FROM s;
\elif :op = 2
DELETE FROM comms_resolve.senders WHERE channel = 'SMS' AND address = '+1999555' || lpad(CAST(:k AS text), 4, '0');
\elif :op = 3
UPDATE comms_resolve.senders
   SET status = CASE status WHEN 'ACTIVATED' THEN 'DEACTIVATED' ELSE 'ACTIVATED' END
 WHERE id = (SELECT id FROM rel_stable WHERE n = :s);
\elif :op = 4
DELETE FROM comms_resolve.sender_pool_senders
 WHERE sender_pool_id = (SELECT v FROM rel_cfg WHERE k = 'pool_a')
   AND sender_id = (SELECT id FROM rel_stable WHERE n = :s);
\else
INSERT INTO comms_resolve.sender_pool_senders
SELECT (SELECT v FROM rel_cfg WHERE k = 'pool_a'), id FROM rel_stable WHERE n = :s
ON CONFLICT DO NOTHING;
\endif
