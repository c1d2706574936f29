-- consistency in one READ COMMITTED statement: the resolve result and the
-- pool's ACTIVATED members read by the same statement's snapshot
\set n random(1, 9999)
\set which random(0, 1)
SELECT rel_check_statement(:which, :n);
