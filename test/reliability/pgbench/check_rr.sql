-- consistency in one REPEATABLE READ snapshot: rel_check raises an error
-- when resolve, resolve_request and the SQL reference disagree, or the
-- result is not the snapshot's ACTIVATED members
\set n random(1, 9999)
\set which random(0, 1)
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT rel_check(:which, :n);
COMMIT;
