-- functions: labels, helpers and settings.

-- Volatility, parallel safety and strictness of every function.
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args,
       p.provolatile, p.proparallel, p.proisstrict, p.proretset
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'comms_resolve'
 ORDER BY 1, 2;

-- sticky_score: known values, computed independently (FNV-1a 64 over the
-- UTF-8 bytes of address || '|' || sender id, then the MurmurHash3 64-bit
-- finaliser) with a separate Python implementation.
SELECT a, s, comms_resolve.sticky_score(a, s) = v::numeric AS matches
  FROM (VALUES ('+14155552671', 'comms_sender_01h9krwprkeee8fzqspvwy6nq8', '13428375003015518544'),
               ('jane.doe@example.com', 'comms_sender_01h9krwprkeee8fzqspvwy6nq8', '6556639021812240406'),
               ('', 'comms_sender_01h9krwprkeee8fzqspvwy6nq8', '12800977889270784524'),
               ('josé@exämple.com', 'comms_sender_01h9krwprkeee8fzqspvwy6001', '17979656002594781903'),
               ('+447700900123', 'comms_sender_7zzzzzzzzzzzzzzzzzzzzzzzzz', '15726973860842998798')) t(a, s, v);
SELECT comms_resolve.sticky_score(NULL, 'x') IS NULL AS strict;

-- calling_code: the assigned prefix of an E.164 number, NULL for none.
SELECT a, comms_resolve.calling_code(a)
  FROM unnest(ARRAY['+14155552671', '+442071234567', '+79161234567', '+35312345678',
                    '+80012345678', '+80112345678', '+12', '+44', '+35', '+8',
                    '14155552671', '+0123', 'whatsapp:+14155552671']) a;

-- The local resolver runs in parallel workers and gives the same rows.
INSERT INTO comms_resolve.sender_pools (id, name) VALUES (crt.pid(7), 'parallel');
INSERT INTO comms_resolve.senders (id, address, channel)
SELECT crt.sid(n), '+1415555' || lpad(n::text, 4, '0'), (ARRAY['SMS', 'RCS', 'WHATSAPP'])[1 + n % 3]
  FROM generate_series(1, 30) n;
INSERT INTO comms_resolve.sender_pool_senders SELECT crt.pid(7), id FROM comms_resolve.senders;
CREATE TABLE crt.people AS
SELECT n, '+1' || (200 + n % 700)::text || lpad((n * 7919 % 10000000)::text, 7, '0') AS phone
  FROM generate_series(1, 20000) n;
ANALYZE crt.people;
CREATE TEMP TABLE serial_result AS
SELECT p.n, r.sender_id, r.priority
  FROM crt.people p CROSS JOIN LATERAL comms_resolve.resolve(crt.pid(7), jsonb_build_array(p.phone, 'whatsapp:' || p.phone)) r;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF)
SELECT p.n, r.sender_id, r.priority
  FROM crt.people p CROSS JOIN LATERAL comms_resolve.resolve(crt.pid(7), jsonb_build_array(p.phone, 'whatsapp:' || p.phone)) r;
CREATE TEMP TABLE parallel_result AS
SELECT p.n, r.sender_id, r.priority
  FROM crt.people p CROSS JOIN LATERAL comms_resolve.resolve(crt.pid(7), jsonb_build_array(p.phone, 'whatsapp:' || p.phone)) r;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
SELECT (SELECT count(*) FROM serial_result) AS serial_rows,
       (SELECT count(*) FROM (SELECT * FROM serial_result EXCEPT ALL SELECT * FROM parallel_result) d) AS only_serial,
       (SELECT count(*) FROM (SELECT * FROM parallel_result EXCEPT ALL SELECT * FROM serial_result) d) AS only_parallel;

DROP TABLE crt.people;
DELETE FROM comms_resolve.sender_pools;
DELETE FROM comms_resolve.senders;
