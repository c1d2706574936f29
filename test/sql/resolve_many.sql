-- resolve_many: many people in one call.  Locally each person is ranked
-- exactly as resolve() ranks it: resolve_many(pool, people, channels) must
-- equal, row by row and in order, the loop
--
--   SELECT ord - 1, r.* FROM jsonb_array_elements(people) WITH ORDINALITY e(p, ord)
--    CROSS JOIN LATERAL comms_resolve.resolve(pool, p, channels) r
--
-- on random data (fixed seed); plus the max_results cut per person, an
-- empty people array, people without candidates, and every input error.

-- ------------------------------------------------------------------------
-- A small fixed inventory: examples and errors
-- ------------------------------------------------------------------------
INSERT INTO comms_resolve.sender_pools (id, name) VALUES (crt.pid(1), 'many'), (crt.pid(2), 'empty');
INSERT INTO comms_resolve.senders (id, display_name, address, channel, status) VALUES
    (crt.sid(1), 'SMS SF', '+14155550001', 'SMS', 'ACTIVATED'),
    (crt.sid(2), 'Mail', 'hello@example.com', 'EMAIL', 'ACTIVATED'),
    (crt.sid(3), 'WhatsApp', '+14155550003', 'WHATSAPP', 'ACTIVATED'),
    (crt.sid(4), 'SMS NY', '+12125550004', 'SMS', 'ACTIVATED'),
    (crt.sid(5), 'Old', '+14155550005', 'SMS', 'DEACTIVATED');
INSERT INTO comms_resolve.sender_pool_senders SELECT crt.pid(1), id FROM comms_resolve.senders;

-- the function and its result columns
SELECT p.proname, pg_get_function_arguments(p.oid) AS arguments, pg_get_function_result(p.oid) AS result
  FROM pg_proc p WHERE p.oid = 'comms_resolve.resolve_many'::regproc;

-- person is the 0-based index in people; person 1 (push only) and person 3
-- (filtered out below) reach nobody and have no rows; person 4 repeats a
-- recipient in both forms, which counts once
SELECT person, right(sender_id, 3) AS sender, from_address, to_address, channel, priority, display_name, to_channel
  FROM comms_resolve.resolve_many(crt.pid(1),
       '[["+14155552671", "jane@example.com"],
         [{"address": "device-1", "channel": "PUSH"}],
         ["whatsapp:+12125552671"],
         [{"address": "device-2", "channel": "PUSH"}, {"address": "device-3", "channel": "PUSH"}],
         ["jane@example.com", {"address": "jane@example.com", "channel": "EMAIL"}, "+12125550100"]]');

-- channels apply to every person
SELECT person, right(sender_id, 3) AS sender, to_address, channel, priority
  FROM comms_resolve.resolve_many(crt.pid(1),
       '[["+14155552671", "jane@example.com"], ["whatsapp:+12125552671", "+12125552671"]]',
       '{"filterIn": ["SMS", "EMAIL"], "priority": [{"channel": "EMAIL", "priority": 0}]}');

-- the max_results cut is per person
SET comms_resolve.max_results = 1;
SELECT person, right(sender_id, 3) AS sender, to_address, channel, priority
  FROM comms_resolve.resolve_many(crt.pid(1),
       '[["+14155552671", "jane@example.com"], ["jane@example.com"], ["+12125552671"]]');
RESET comms_resolve.max_results;

-- an empty people array gives no rows; so does an empty pool, and a filter
-- that lets nothing through
SELECT count(*) AS empty_people FROM comms_resolve.resolve_many(crt.pid(1), '[]');
SELECT count(*) AS empty_pool FROM comms_resolve.resolve_many(crt.pid(2), '[["+14155552671"], ["a@example.com"]]');
SELECT count(*) AS nothing_through FROM comms_resolve.resolve_many(crt.pid(1), '[["+14155552671"]]', '{"filterIn": []}');
-- NULL pool: the whole inventory; resolver 'local' and NULL (the setting)
SELECT count(*) AS null_pool FROM comms_resolve.resolve_many(NULL, '[["+14155552671", "hello@example.com"]]');
SELECT count(*) AS local_resolver FROM comms_resolve.resolve_many(crt.pid(1), '[["+14155552671"]]', NULL, 'local');
SELECT count(*) AS setting_resolver FROM comms_resolve.resolve_many(crt.pid(1), '[["+14155552671"]]', NULL, NULL);

-- ------------------------------------------------------------------------
-- Input errors: 22023 naming the element ($.people[i][j]...), 42704 for an
-- unknown pool; nothing is returned partially
-- ------------------------------------------------------------------------
CREATE FUNCTION crt.m(people jsonb, channels jsonb DEFAULT NULL, pool text DEFAULT crt.pid(1),
                      resolver text DEFAULT NULL)
RETURNS text LANGUAGE sql AS $$
    SELECT crt.try(format('SELECT * FROM comms_resolve.resolve_many(%L, %L, %L, %L)',
                          pool, people, channels, resolver))
$$;
-- people: NULL, JSON null, not an array
SELECT crt.try($$SELECT * FROM comms_resolve.resolve_many(crt.pid(1), NULL)$$);
SELECT crt.m('null');
SELECT crt.m('{}');
SELECT crt.m('"+14155552671"');
SELECT crt.m('5');
-- an element that is not an array of recipients
SELECT crt.m('[["+14155552671"], "+14155552671"]');
SELECT crt.m('[["+14155552671"], ["+14155552671"], {"address": "+14155552671", "channel": "PHONE"}]');
SELECT crt.m('[null]');
SELECT crt.m('[["+14155552671"], []]');
SELECT crt.m((SELECT jsonb_build_array('["a@example.com"]'::jsonb, jsonb_agg('+1415555' || lpad(n::text, 4, '0')))
                FROM generate_series(1, 101) n));
-- an invalid recipient in person 3, after three good people
SELECT crt.m('[["+14155552671"], ["a@example.com"], ["whatsapp:+14155552671"],
               ["+14155552671", {"address": "14155552671", "channel": "PHONE"}]]');
SELECT crt.m('[["+14155552671"], ["a@example.com"], ["whatsapp:+14155552671"], ["+14155552671", "hello"]]');
SELECT crt.m('[["+14155552671"], ["a@example.com"], ["whatsapp:+14155552671"],
               ["+14155552671", {"address": "+14155552671", "channel": "FAX"}]]');
SELECT crt.m('[["+14155552671"], ["a@example.com"], ["whatsapp:+14155552671"],
               ["+14155552671", {"address": "+14155552671", "channel": "PHONE", "x": 1}]]');
-- the first bad person is named
SELECT crt.m('[["+14155552671"], ["ok@example.com", "a@@b.com"], ["+0123"]]');
-- channels
SELECT crt.m('[["+14155552671"]]', '{"filterIn": ["MMS"]}');
SELECT crt.m('[["+14155552671"]]', '{"exclude": ["SMS"]}');
SELECT crt.m('[["+14155552671"]]', '{"priority": [{"channel": "SMS", "priority": -1}]}');
-- pools
SELECT crt.m('[["+14155552671"]]', NULL, 'pool-1');
SELECT crt.m('[["+14155552671"]]', NULL, crt.sid(1));
SELECT crt.m('[["+14155552671"]]', NULL, crt.pid(999));
-- the pool is checked even when there is nobody to resolve
SELECT crt.m('[]', NULL, crt.pid(999));
-- resolvers
SELECT crt.m('[["+14155552671"]]', NULL, crt.pid(1), 'cloud');
SELECT crt.m('[["+14155552671"]]', NULL, crt.pid(1), 'LOCAL');
-- remotely, input is checked locally before anything else (this database
-- has no user mapping: a valid call would fail with 28000)
SELECT crt.m('[["+14155552671"], ["x"]]', NULL, crt.pid(1), 'remote');
SELECT crt.m('[["+14155552671"]]', NULL, crt.pid(1), 'remote');

-- no rows at all come out of a failing call, even through a cursor
BEGIN;
DECLARE c CURSOR FOR
    SELECT person FROM comms_resolve.resolve_many(crt.pid(1),
        '[["+14155552671"], ["a@example.com"], ["whatsapp:+14155552671"], ["+14155552671", "hello"]]');
SELECT crt.try('FETCH 1 FROM c');
ROLLBACK;

-- the settings of the remote resolver's batches
SHOW comms_resolve.max_concurrency;
SHOW comms_resolve.requests_per_second;
SELECT crt.try($$SET comms_resolve.max_concurrency = 0$$);
SELECT crt.try($$SET comms_resolve.max_concurrency = 65$$);
SELECT crt.try($$SET comms_resolve.max_concurrency = 64$$);
SELECT crt.try($$SET comms_resolve.requests_per_second = -1$$);
RESET comms_resolve.max_concurrency;

-- ------------------------------------------------------------------------
-- Random data: resolve_many equals the loop of resolve
-- ------------------------------------------------------------------------
DELETE FROM comms_resolve.sender_pools;
DELETE FROM comms_resolve.senders;
CREATE SCHEMA crm;
SELECT setseed(0.3030);

CREATE FUNCTION crm.rnd(n integer) RETURNS integer LANGUAGE sql VOLATILE RETURN floor(random() * n)::integer;
CREATE FUNCTION crm.pick(a text[]) RETURNS text LANGUAGE sql VOLATILE RETURN a[1 + crm.rnd(cardinality(a))];
-- phone numbers from a small space, so that people share numbers and
-- calling and area codes match senders'
CREATE FUNCTION crm.e164() RETURNS text LANGUAGE sql VOLATILE
RETURN crm.pick('{+1415,+1212,+1646,+44,+33,+49,+353}') || '55501' || crm.rnd(4)::text || crm.rnd(3)::text;

-- 40 senders (crt.sid(1..40)): every channel, 1 in 8 DEACTIVATED
INSERT INTO comms_resolve.senders (id, display_name, address, channel, status)
SELECT crt.sid(n),
       CASE WHEN crm.rnd(5) = 0 THEN NULL ELSE 'Sender ' || n END,
       CASE ch WHEN 'EMAIL' THEN 'sender' || n || '@example.com'
               WHEN 'PUSH' THEN 'app-' || n
               WHEN 'RCS' THEN CASE WHEN crm.rnd(2) = 0 THEN 'rcs_agent_' || n
                                    ELSE crm.pick('{+1415,+1212,+44,+33}') || '7000' || lpad(n::text, 3, '0') END
               ELSE crm.pick('{+1415,+1212,+1646,+1503,+44,+33,+49,+91}') || '8000' || lpad(n::text, 3, '0') END,
       ch,
       CASE WHEN crm.rnd(8) = 0 THEN 'DEACTIVATED' ELSE 'ACTIVATED' END
  FROM (SELECT n, crm.pick('{SMS,SMS,SMS,RCS,WHATSAPP,WHATSAPP,EMAIL,EMAIL,PUSH}') AS ch
          FROM generate_series(1, 40) n) s;
-- pool 1: most senders; pool 2: a few; pool 3: none
INSERT INTO comms_resolve.sender_pools (id, name) VALUES (crt.pid(1), 'most'), (crt.pid(2), 'few'), (crt.pid(3), 'none');
INSERT INTO comms_resolve.sender_pool_senders SELECT crt.pid(1), crt.sid(n) FROM generate_series(1, 40) n WHERE random() < 0.85;
INSERT INTO comms_resolve.sender_pool_senders SELECT crt.pid(2), crt.sid(n) FROM generate_series(1, 40) n WHERE random() < 0.2;
SELECT channel, status, count(*) > 0 AS present FROM comms_resolve.senders GROUP BY 1, 2 ORDER BY 1, 2;

-- A random recipient: bare strings and objects of every recipient channel.
CREATE FUNCTION crm.recipient() RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    k integer := crm.rnd(10);
    a text;
BEGIN
    IF k < 3 THEN
        a := crm.e164();
        RETURN CASE WHEN crm.rnd(2) = 0 THEN to_jsonb(a) ELSE jsonb_build_object('address', a, 'channel', 'PHONE') END;
    ELSIF k < 5 THEN
        a := crm.e164();
        RETURN CASE WHEN crm.rnd(2) = 0 THEN to_jsonb('whatsapp:' || a)
                    ELSE jsonb_build_object('address', a, 'channel', 'WHATSAPP') END;
    ELSIF k < 8 THEN
        a := crm.pick('{jane,john,info,x.y+z}') || crm.rnd(5) || '@' || crm.pick('{example.com,example.org}');
        RETURN CASE WHEN crm.rnd(2) = 0 THEN to_jsonb(a) ELSE jsonb_build_object('address', a, 'channel', 'EMAIL') END;
    ELSE
        RETURN jsonb_build_object('address', 'device-' || crm.rnd(10), 'channel', 'PUSH');
    END IF;
END $$;

-- A person: 1 to 5 recipients; sometimes a repeat of an earlier one, in the
-- same form or the other (bare string / object), which counts once.
CREATE FUNCTION crm.person() RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    p jsonb := '[]';
    r jsonb;
BEGIN
    FOR i IN 1 .. 1 + crm.rnd(5) LOOP
        IF i > 1 AND crm.rnd(6) = 0 THEN
            r := p -> crm.rnd(i - 1);
            IF jsonb_typeof(r) = 'string' AND crm.rnd(2) = 0 THEN
                r := CASE WHEN r #>> '{}' LIKE 'whatsapp:%'
                          THEN jsonb_build_object('address', substr(r #>> '{}', 10), 'channel', 'WHATSAPP')
                          WHEN r #>> '{}' LIKE '+%' THEN jsonb_build_object('address', r #>> '{}', 'channel', 'PHONE')
                          ELSE jsonb_build_object('address', r #>> '{}', 'channel', 'EMAIL') END;
            END IF;
        ELSE
            r := crm.recipient();
        END IF;
        p := p || jsonb_build_array(r);
    END LOOP;
    RETURN p;
END $$;

-- 300 people; 1 in 10 a copy of an earlier person
CREATE TABLE crm.people (i integer PRIMARY KEY, p jsonb NOT NULL);
DO $$
DECLARE
    j integer;
BEGIN
    FOR k IN 0 .. 299 LOOP
        IF k > 0 AND crm.rnd(10) = 0 THEN
            j := crm.rnd(k);
            INSERT INTO crm.people SELECT k, x.p FROM crm.people x WHERE x.i = j;
        ELSE
            INSERT INTO crm.people VALUES (k, crm.person());
        END IF;
    END LOOP;
END $$;
SELECT count(*) AS people,
       count(*) FILTER (WHERE jsonb_array_length(p) = 5) > 20 AS some_with_5,
       count(*) FILTER (WHERE jsonb_array_length(p) = 1) > 20 AS some_with_1,
       count(*) FILTER (WHERE (SELECT count(*) FROM jsonb_array_elements(p) e WHERE jsonb_typeof(e) = 'string') > 0) > 50
           AS some_with_bare_strings,
       count(*) FILTER (WHERE (SELECT count(DISTINCT e) FROM jsonb_array_elements(p) e) < jsonb_array_length(p)) > 5
           AS some_with_repeats,
       count(*) - count(DISTINCT p) > 5 AS some_repeated_people
  FROM crm.people;
CREATE TABLE crm.all_people AS SELECT jsonb_agg(p ORDER BY i) AS people FROM crm.people;

-- The cases: pool, channels, max_results.
CREATE TABLE crm.cases (n integer, pool text, channels jsonb, max_results integer);
INSERT INTO crm.cases VALUES
    (1, crt.pid(1), NULL, NULL),
    (2, crt.pid(1), '{"filterIn": ["SMS", "WHATSAPP", "EMAIL"]}', NULL),
    (3, crt.pid(1), '{"priority": [{"channel": "EMAIL", "priority": 0}, {"channel": "SMS", "priority": 0}]}', 1000),
    (4, crt.pid(1), '{"filterIn": ["RCS", "PUSH", "SMS"], "priority": [{"channel": "PUSH", "priority": 3}]}', 2),
    (5, crt.pid(2), NULL, NULL),
    (6, NULL, NULL, 3),
    (7, NULL, '{"priority": [{"channel": "WHATSAPP", "priority": 5}]}', 1000),
    (8, crt.pid(3), NULL, NULL),
    (9, crt.pid(1), '{"filterIn": []}', NULL),
    (10, crt.pid(1), 'null', 1);

-- One case: the rows of resolve_many (with their order) and of the loop.
CREATE FUNCTION crm.check(c crm.cases) RETURNS TABLE (
    n integer, max_results text, rows bigint, people_with_rows bigint, max_per_person bigint,
    many_except_loop bigint, loop_except_many bigint, same_order boolean)
LANGUAGE plpgsql AS $$
DECLARE
    people jsonb := (SELECT a.people FROM crm.all_people a);
BEGIN
    IF c.max_results IS NULL THEN
        RESET comms_resolve.max_results;
    ELSE
        PERFORM set_config('comms_resolve.max_results', c.max_results::text, true);
    END IF;
    CREATE TEMP TABLE many ON COMMIT DROP AS
    SELECT m.* FROM comms_resolve.resolve_many(c.pool, people, c.channels) WITH ORDINALITY
           AS m(person, sender_id, from_address, to_address, channel, priority, display_name, to_channel, o);
    CREATE TEMP TABLE lp ON COMMIT DROP AS
    SELECT (e.ord - 1)::integer AS person, r.sender_id, r.from_address, r.to_address, r.channel, r.priority,
           r.display_name, r.to_channel, row_number() OVER (ORDER BY e.ord, r.o) AS o
      FROM jsonb_array_elements(people) WITH ORDINALITY e(p, ord)
     CROSS JOIN LATERAL comms_resolve.resolve(c.pool, e.p, c.channels) WITH ORDINALITY
           AS r(sender_id, from_address, to_address, channel, priority, display_name, to_channel, o);
    RETURN QUERY SELECT
        c.n, current_setting('comms_resolve.max_results'),
        (SELECT count(*) FROM many),
        (SELECT count(DISTINCT person) FROM many),
        (SELECT coalesce(max(k), 0) FROM (SELECT count(*) AS k FROM many GROUP BY person) g),
        (SELECT count(*) FROM (SELECT person, sender_id, from_address, to_address, channel, priority, display_name, to_channel
                                 FROM many
                               EXCEPT ALL
                               SELECT person, sender_id, from_address, to_address, channel, priority, display_name, to_channel
                                 FROM lp) d),
        (SELECT count(*) FROM (SELECT person, sender_id, from_address, to_address, channel, priority, display_name, to_channel
                                 FROM lp
                               EXCEPT ALL
                               SELECT person, sender_id, from_address, to_address, channel, priority, display_name, to_channel
                                 FROM many) d),
        (SELECT string_agg(concat_ws('|', person, sender_id, from_address, to_address, channel, priority, display_name,
                                     to_channel), ';' ORDER BY o) FROM many)
          IS NOT DISTINCT FROM
        (SELECT string_agg(concat_ws('|', person, sender_id, from_address, to_address, channel, priority, display_name,
                                     to_channel), ';' ORDER BY o) FROM lp);
    DROP TABLE many;
    DROP TABLE lp;
END $$;

BEGIN;
SELECT r.* FROM crm.cases c, LATERAL crm.check(c) r ORDER BY c.n;
COMMIT;
RESET comms_resolve.max_results;

-- the cut: with max_results 2 every person has min(2, its rows at 1000)
SET comms_resolve.max_results = 1000;
CREATE TABLE crm.full_counts AS
SELECT person, count(*) AS k FROM comms_resolve.resolve_many(crt.pid(1), (SELECT people FROM crm.all_people)) GROUP BY person;
SET comms_resolve.max_results = 2;
SELECT count(*) AS people_compared,
       count(*) FILTER (WHERE f.k > 2) > 50 AS many_cut,
       count(*) FILTER (WHERE coalesce(m.k, 0) IS DISTINCT FROM least(f.k, 2)) AS wrong_counts
  FROM crm.full_counts f
  FULL JOIN (SELECT person, count(*) AS k
               FROM comms_resolve.resolve_many(crt.pid(1), (SELECT people FROM crm.all_people))
              GROUP BY person) m USING (person);
RESET comms_resolve.max_results;

-- resolve_many called once per chunk in one statement (a lateral join over
-- chunks of 40 people) gives the same rows as one call over everyone
SELECT count(*) AS rows,
       (SELECT string_agg(concat_ws('|', x.k * 40 + x.person, x.sender_id, x.to_address, x.priority), ';' ORDER BY x.k, x.o)
          FROM (SELECT ch.k, m.* FROM (SELECT i / 40 AS k, jsonb_agg(p ORDER BY i) AS people
                                         FROM crm.people GROUP BY i / 40) ch
                 CROSS JOIN LATERAL comms_resolve.resolve_many(crt.pid(1), ch.people) WITH ORDINALITY
                       AS m(person, sender_id, from_address, to_address, channel, priority, display_name, to_channel, o)) x)
       = string_agg(concat_ws('|', person, sender_id, to_address, priority), ';' ORDER BY o) AS chunks_agree
  FROM comms_resolve.resolve_many(crt.pid(1), (SELECT people FROM crm.all_people)) WITH ORDINALITY
       AS m(person, sender_id, from_address, to_address, channel, priority, display_name, to_channel, o);

-- the snapshot: a change in the same transaction is seen by the next call
BEGIN;
UPDATE comms_resolve.senders SET status = 'DEACTIVATED' WHERE channel = 'EMAIL';
SELECT count(*) AS email_rows_after_deactivation
  FROM comms_resolve.resolve_many(crt.pid(1), (SELECT people FROM crm.all_people)) WHERE channel = 'EMAIL';
ROLLBACK;
SELECT count(*) > 0 AS email_rows_again
  FROM comms_resolve.resolve_many(crt.pid(1), (SELECT people FROM crm.all_people)) WHERE channel = 'EMAIL';

-- leave the inventory empty, as the other tests do
SET client_min_messages = warning;
DROP SCHEMA crm CASCADE;
DROP FUNCTION crt.m(jsonb, jsonb, text, text);
RESET client_min_messages;
DELETE FROM comms_resolve.sender_pools;
DELETE FROM comms_resolve.senders;
