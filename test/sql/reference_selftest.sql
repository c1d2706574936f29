--
-- reference_selftest: hand-checked cases of the SQL reference resolver
-- (test/reference/reference.sql) alone, so that the differential test
-- compares the C resolver with something itself tested.
--
-- self-sufficient: the extension may or may not exist yet
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS comms_resolve;
RESET client_min_messages;

\getenv abs_srcdir PG_ABS_SRCDIR
\set calling_codes_file :abs_srcdir '/../data/calling-codes.tsv'
\set reference_file :abs_srcdir '/reference/reference.sql'
\set ECHO none
\i :reference_file
\set ECHO all
-- errors show their SQLSTATE only
\set VERBOSITY sqlstate

-- the calling codes come from the TSV
SELECT count(*) > 200 AS many_codes,
       count(*) FILTER (WHERE code IN ('1', '7', '44', '353', '800')) AS known,
       count(*) FILTER (WHERE code IN ('80', '28', '210')) AS unassigned
  FROM comms_ref.calling_codes;
SELECT a, comms_ref.calling_code(a)
  FROM unnest(ARRAY['+14155552671', '+79161234567', '+442071234567', '+353861234567',
                    '+80012345678', '+8012345678', '+2101234567', '+12']) AS a;

-- start from an empty inventory; put back what earlier tests left at the end
CREATE TEMP TABLE saved_senders AS SELECT * FROM comms_resolve.senders;
CREATE TEMP TABLE saved_pools AS SELECT * FROM comms_resolve.sender_pools;
CREATE TEMP TABLE saved_members AS SELECT * FROM comms_resolve.sender_pool_senders;
DELETE FROM comms_resolve.sender_pool_senders;
DELETE FROM comms_resolve.sender_pools;
DELETE FROM comms_resolve.senders;

INSERT INTO comms_resolve.sender_pools (id, name) VALUES
    ('comms_senderpool_01h9krwprkeee8fzqspvwy6nq8', 'seed'),
    ('comms_senderpool_01h9krwprkeee8fzqspvwy6nq9', 'defaults'),
    ('comms_senderpool_01h9krwprkeee8fzqspvwy6nqg', 'geo'),
    ('comms_senderpool_01h9krwprkeee8fzqspvwy6nqs', 'sticky'),
    ('comms_senderpool_01h9krwprkeee8fzqspvwy6nqe', 'empty');
INSERT INTO comms_resolve.senders (id, display_name, address, channel, status) VALUES
    ('comms_sender_01h9krwprkeee8fzqspvwy6nqa', 'Customer Support', 'support@company.com', 'EMAIL', 'ACTIVATED'),
    ('comms_sender_01h9krwprkeee8fzqspvwy6nqb', 'Customer Support', '+15035551234', 'SMS', 'ACTIVATED'),
    ('comms_sender_01h9krwprkeee8fzqspvwy6nqc', 'Customer Support', '+15035551234', 'WHATSAPP', 'ACTIVATED'),
    ('comms_sender_01h9krwprkeee8fzqspvwy6nqd', 'Branded', '+15035550001', 'RCS', 'ACTIVATED'),
    ('comms_sender_01h9krwprkeee8fzqspvwy6nq1', 'g1', '+14155550000', 'SMS', 'ACTIVATED'),
    ('comms_sender_01h9krwprkeee8fzqspvwy6nq2', 'g2', '+15035550000', 'SMS', 'ACTIVATED'),
    ('comms_sender_01h9krwprkeee8fzqspvwy6nq3', 'g3', '+442071234567', 'SMS', 'ACTIVATED'),
    ('comms_sender_01h9krwprkeee8fzqspvwy6nq4', 'g4', '+8012345678', 'SMS', 'ACTIVATED'),
    ('comms_sender_01h9krwprkeee8fzqspvwy6nq5', 'g5', 'ACME', 'SMS', 'ACTIVATED'),
    ('comms_sender_01h9krwprkeee8fzqspvwy6nq6', 'g6', '+12125550000', 'SMS', 'ACTIVATED'),
    ('comms_sender_01h9krwprkeee8fzqspvwy6nq7', 'g7', '+1415555', 'SMS', 'ACTIVATED'),
    ('comms_sender_01h9krwprkeee8fzqspvwy6nq8', 'g8', '+14155559999', 'SMS', 'DEACTIVATED'),
    ('comms_sender_01h9krwprkeee8fzqspvwy6nq9', 'g9', '+14155550009', 'RCS', 'ACTIVATED'),
    ('comms_sender_01h9krwprkeee8fzqspvwy6nqh', 'w1', '+14155550000', 'WHATSAPP', 'ACTIVATED'),
    ('comms_sender_01h9krwprkeee8fzqspvwy6nqj', 'w2', '+442071234567', 'WHATSAPP', 'ACTIVATED'),
    ('comms_sender_01h9krwprkeee8fzqspvwy6nqk', 'e1', 'a@company.com', 'EMAIL', 'ACTIVATED'),
    ('comms_sender_01h9krwprkeee8fzqspvwy6nqm', 'e2', 'b@company.com', 'EMAIL', 'ACTIVATED'),
    ('comms_sender_01h9krwprkeee8fzqspvwy6nqn', 'e3', 'c@company.com', 'EMAIL', 'ACTIVATED'),
    ('comms_sender_01h9krwprkeee8fzqspvwy6nqp', 'e4', 'd@company.com', 'EMAIL', 'ACTIVATED'),
    ('comms_sender_01h9krwprkeee8fzqspvwy6nqq', 'p1', 'fcm:device-1', 'PUSH', 'ACTIVATED');
INSERT INTO comms_resolve.sender_pool_senders VALUES
    ('comms_senderpool_01h9krwprkeee8fzqspvwy6nq8', 'comms_sender_01h9krwprkeee8fzqspvwy6nqa'),
    ('comms_senderpool_01h9krwprkeee8fzqspvwy6nq8', 'comms_sender_01h9krwprkeee8fzqspvwy6nqb'),
    ('comms_senderpool_01h9krwprkeee8fzqspvwy6nq8', 'comms_sender_01h9krwprkeee8fzqspvwy6nqc'),
    ('comms_senderpool_01h9krwprkeee8fzqspvwy6nq9', 'comms_sender_01h9krwprkeee8fzqspvwy6nqb'),
    ('comms_senderpool_01h9krwprkeee8fzqspvwy6nq9', 'comms_sender_01h9krwprkeee8fzqspvwy6nqc'),
    ('comms_senderpool_01h9krwprkeee8fzqspvwy6nq9', 'comms_sender_01h9krwprkeee8fzqspvwy6nqd');
INSERT INTO comms_resolve.sender_pool_senders
SELECT 'comms_senderpool_01h9krwprkeee8fzqspvwy6nqg', 'comms_sender_01h9krwprkeee8fzqspvwy6nq' || d
  FROM unnest('{1,2,3,4,5,6,7,8,9,h,j}'::text[]) AS d;
INSERT INTO comms_resolve.sender_pool_senders
SELECT 'comms_senderpool_01h9krwprkeee8fzqspvwy6nqs', 'comms_sender_01h9krwprkeee8fzqspvwy6nq' || d
  FROM unnest('{k,m,n,p}'::text[]) AS d;

-- the seed example (Resolve Senders reference page): exactly three rows
SELECT * FROM comms_ref.resolve('comms_senderpool_01h9krwprkeee8fzqspvwy6nq8',
    '[{"address": "+14155552671", "channel": "PHONE"},
      {"address": "+14155552671", "channel": "WHATSAPP"},
      {"address": "jane.doe@example.com", "channel": "EMAIL"}]',
    '{"filterIn": ["SMS", "EMAIL", "WHATSAPP"],
      "priority": [{"channel": "EMAIL", "priority": 0},
                   {"channel": "SMS", "priority": 1},
                   {"channel": "WHATSAPP", "priority": 2}]}');

-- default priorities: a PHONE recipient, RCS and SMS senders -> RCS 0, SMS 1
SELECT channel, priority, to_address, to_channel, ordinal
  FROM comms_ref.resolve('comms_senderpool_01h9krwprkeee8fzqspvwy6nq9', '["+14155552671"]');
-- PHONE and WHATSAPP (bare strings), RCS, WHATSAPP, SMS -> RCS 0, WHATSAPP 1, SMS 2;
-- the whatsapp: prefix is dropped from to_address
SELECT channel, priority, to_address, to_channel, ordinal
  FROM comms_ref.resolve('comms_senderpool_01h9krwprkeee8fzqspvwy6nq9',
                         '["+14155552671", "whatsapp:+14155552671"]');
-- unlisted channels are numbered after the largest listed number, even one
-- whose channel has no candidate (PUSH); filterIn drops RCS
SELECT channel, priority, ordinal
  FROM comms_ref.resolve('comms_senderpool_01h9krwprkeee8fzqspvwy6nq9',
                         '["+14155552671", "whatsapp:+14155552671"]',
                         '{"priority": [{"channel": "PUSH", "priority": 7}, {"channel": "SMS", "priority": 3}]}');
SELECT channel, priority, ordinal
  FROM comms_ref.resolve('comms_senderpool_01h9krwprkeee8fzqspvwy6nq9',
                         '["+14155552671", "whatsapp:+14155552671"]',
                         '{"filterIn": ["SMS", "WHATSAPP"], "priority": [{"channel": "SMS", "priority": 1.0}]}');
-- the largest numbers: 2147483646 listed leaves room for one unlisted channel only
SELECT channel, priority
  FROM comms_ref.resolve('comms_senderpool_01h9krwprkeee8fzqspvwy6nq9', '["+14155552671"]',
                         '{"priority": [{"channel": "SMS", "priority": 2147483646}]}');
SELECT channel, priority
  FROM comms_ref.resolve('comms_senderpool_01h9krwprkeee8fzqspvwy6nq9',
                         '["+14155552671", "whatsapp:+14155552671"]',
                         '{"priority": [{"channel": "SMS", "priority": 2147483646}]}');
SELECT channel, priority
  FROM comms_ref.resolve('comms_senderpool_01h9krwprkeee8fzqspvwy6nq9', '["+14155552671"]',
                         '{"priority": [{"channel": "PUSH", "priority": 2147483647}]}');
-- ... but only when an unlisted channel occurs among the candidates
SELECT channel, priority
  FROM comms_ref.resolve('comms_senderpool_01h9krwprkeee8fzqspvwy6nq9', '["+14155552671"]',
                         '{"filterIn": ["SMS"], "priority": [{"channel": "PUSH", "priority": 2147483647},
                                                             {"channel": "SMS", "priority": 5}]}');

-- geography: for +1 415 the two 415 senders (g1, g7) first, then the other
-- +1 senders (g2, g6), then the rest (g3 +44, g4 unassigned +80, g5 ACME);
-- sticky score inside each group; g8 is deactivated; RCS (g9) has no geo score
SELECT display_name AS s, from_address, comms_ref.geo_score(channel, from_address, to_channel, to_address) AS geo,
       comms_resolve.sticky_score(to_address, sender_id) AS sticky, ordinal
  FROM comms_ref.resolve('comms_senderpool_01h9krwprkeee8fzqspvwy6nqg', '["+14155552671"]',
                         '{"filterIn": ["SMS"]}');
-- the same with max_results 3
SET comms_resolve.max_results = 3;
SELECT display_name AS s, ordinal
  FROM comms_ref.resolve('comms_senderpool_01h9krwprkeee8fzqspvwy6nqg', '["+14155552671"]',
                         '{"filterIn": ["SMS"]}');
RESET comms_resolve.max_results;
-- a UK number prefers the +44 sender; '+141' has no area code, so every +1
-- sender (g7 included) is merely the same country; an unassigned number
-- matches nobody, not even the unassigned sender g4
SET comms_resolve.max_results = 30;
SELECT to_address, display_name AS s, comms_ref.geo_score(channel, from_address, to_channel, to_address) AS geo,
       comms_resolve.sticky_score(to_address, sender_id) AS sticky, ordinal
  FROM comms_ref.resolve('comms_senderpool_01h9krwprkeee8fzqspvwy6nqg',
                         '["+442079460000", "+141", "+8012345678"]',
                         '{"filterIn": ["SMS"]}');
RESET comms_resolve.max_results;
-- geography is a global key: with RCS and SMS sharing priority 0, SMS senders
-- that match come before the RCS sender g9 (geo 0) whatever its sticky score
SELECT display_name AS s, channel, priority,
       comms_ref.geo_score(channel, from_address, to_channel, to_address) AS geo,
       comms_resolve.sticky_score(to_address, sender_id) AS sticky, ordinal
  FROM comms_ref.resolve('comms_senderpool_01h9krwprkeee8fzqspvwy6nqg', '["+14155552671"]',
                         '{"filterIn": ["SMS", "RCS"], "priority": [{"channel": "SMS", "priority": 0}, {"channel": "RCS", "priority": 0}]}');
-- WHATSAPP senders to a WHATSAPP recipient use geography too
SELECT to_address, display_name AS s, comms_ref.geo_score(channel, from_address, to_channel, to_address) AS geo,
       comms_resolve.sticky_score(to_address, sender_id) AS sticky, ordinal
  FROM comms_ref.resolve('comms_senderpool_01h9krwprkeee8fzqspvwy6nqg',
                         '["whatsapp:+14155552671", {"address": "+442079460000", "channel": "WHATSAPP"}]');

-- sticky score: the same senders rank differently for different recipients
SELECT to_address, display_name AS s, comms_resolve.sticky_score(to_address, sender_id) AS sticky, ordinal
  FROM comms_ref.resolve('comms_senderpool_01h9krwprkeee8fzqspvwy6nqs',
                         '["jane.doe@example.com", "john@example.org"]');

-- recipient position: a repeated recipient (also in the other form) counts
-- once, at its first position; equal priorities keep the input order
SELECT to_address, to_channel, channel, priority, ordinal
  FROM comms_ref.resolve('comms_senderpool_01h9krwprkeee8fzqspvwy6nq8',
                         '["zed@example.com", "+14155552671", {"address": "zed@example.com", "channel": "EMAIL"},
                           "alice@example.com", {"address": "+14155552671", "channel": "PHONE"}]',
                         '{"filterIn": ["SMS", "EMAIL"], "priority": [{"channel": "EMAIL", "priority": 4}, {"channel": "SMS", "priority": 4}]}');

-- NULL pool: the whole inventory, ACTIVATED senders only; empty pool: nothing
SELECT channel, count(*)
  FROM comms_ref.resolve(NULL, '["+14155552671", "whatsapp:+14155552671", "x@example.com", {"address": "tok", "channel": "PUSH"}]')
 GROUP BY channel ORDER BY channel;
SET comms_resolve.max_results = 100;
SELECT channel, count(*)
  FROM comms_ref.resolve(NULL, '["+14155552671", "whatsapp:+14155552671", "x@example.com", {"address": "tok", "channel": "PUSH"}]')
 GROUP BY channel ORDER BY channel;
RESET comms_resolve.max_results;
SELECT count(*) FROM comms_ref.resolve('comms_senderpool_01h9krwprkeee8fzqspvwy6nqe', '["+14155552671"]');
SELECT count(*) FROM comms_ref.resolve(NULL, '["+14155552671"]', '{"filterIn": []}');

-- input checks: each row gives its outcome ('rows N' or the SQLSTATE)
CREATE FUNCTION pg_temp.outcome(pool text, recipients jsonb, channels jsonb DEFAULT NULL)
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN 'rows ' || (SELECT count(*) FROM comms_ref.resolve(pool, recipients, channels));
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;

SELECT label, pg_temp.outcome(NULL, jsonb_build_array(r)) AS outcome
  FROM (VALUES
    ('number', '12'::jsonb), ('+12', '"+12"'), ('+1', '"+1"'), ('15 digits', '"+123456789012345"'),
    ('16 digits', '"+1234567890123456"'), ('leading 0', '"+0123456"'), ('no +', '"14155552671"'),
    ('space inside', '"+1 4155552671"'), ('trailing newline', to_jsonb(E'+14155552671\n'::text)),
    ('whatsapp:+E.164', '"whatsapp:+14155552671"'), ('whatsapp:+1', '"whatsapp:+1"'),
    ('WHATSAPP:+E.164', '"WHATSAPP:+14155552671"'), ('whatsapp:+1@x.io (an email)', '"whatsapp:+1@x.io"'),
    ('a@b.co', '"a@b.co"'), ('a@b', '"a@b"'), ('a@@b.co', '"a@@b.co"'), ('@b.co', '"@b.co"'),
    ('a@.b.co', '"a@.b.co"'), ('a@b..co', '"a@b..co"'), ('a@b.co.', '"a@b.co."'), ('a b@c.co', '"a b@c.co"'),
    ('a@b.c@d.e', '"a@b.c@d.e"'), ('a@-.-', '"a@-.-"'), ('plain', '"plain"'), ('empty string', '""'),
    ('local part of 64 octets', to_jsonb(repeat('l', 64) || '@b.co')),
    ('local part of 65 octets', to_jsonb(repeat('l', 65) || '@b.co')),
    ('email of 254 octets', to_jsonb('a@' || repeat('d', 248) || '.com')),
    ('email of 255 octets', to_jsonb('a@' || repeat('d', 249) || '.com')),
    ('local part of 32 x U+00E9 (64 octets)', to_jsonb(repeat(chr(233), 32) || '@b.co')),
    ('local part of 33 x U+00E9 (66 octets)', to_jsonb(repeat(chr(233), 33) || '@b.co')),
    ('U+00A0 in email', to_jsonb('j' || chr(160) || 'd@b.co')),
    ('U+0085 in email', to_jsonb('j' || chr(133) || 'd@b.co')),
    ('U+2028 in email', to_jsonb('j' || chr(8232) || 'd@b.co')),
    ('U+3000 in email', to_jsonb('j' || chr(12288) || 'd@b.co')),
    ('U+200B in email', to_jsonb('j' || chr(8203) || 'd@b.co')),
    ('U+FEFF in email', to_jsonb('j' || chr(65279) || 'd@b.co')),
    ('PHONE object', '{"address": "+14155552671", "channel": "PHONE"}'),
    ('lower-case channel', '{"address": "+14155552671", "channel": "phone"}'),
    ('sender channel', '{"address": "+14155552671", "channel": "SMS"}'),
    ('WHATSAPP object with prefix', '{"address": "whatsapp:+14155552671", "channel": "WHATSAPP"}'),
    ('EMAIL object with a number', '{"address": "+14155552671", "channel": "EMAIL"}'),
    ('extra key', '{"address": "x", "channel": "PUSH", "extra": 1}'),
    ('no channel', '{"address": "x"}'), ('numeric address', '{"address": 1, "channel": "PUSH"}'),
    ('empty PUSH', '{"address": "", "channel": "PUSH"}'),
    ('PUSH with spaces', '{"address": " a b ", "channel": "PUSH"}'),
    ('PUSH of 256 characters', jsonb_build_object('address', repeat('p', 256), 'channel', 'PUSH')),
    ('PUSH of 257 characters', jsonb_build_object('address', repeat('p', 257), 'channel', 'PUSH')),
    ('PUSH of 256 x U+00E9', jsonb_build_object('address', repeat(chr(233), 256), 'channel', 'PUSH')),
    ('PUSH of 257 x U+00E9', jsonb_build_object('address', repeat(chr(233), 257), 'channel', 'PUSH')),
    ('null', 'null'), ('array', '[]'), ('empty object', '{}')) AS t(label, r);

SELECT label, pg_temp.outcome(NULL, recipients) AS outcome
  FROM (VALUES
    ('SQL NULL', NULL::jsonb), ('JSON null', 'null'), ('empty array', '[]'), ('object', '{}'),
    ('100 elements', (SELECT jsonb_agg('+1415555' || lpad(i::text, 4, '0')) FROM generate_series(1, 100) AS i)),
    ('101 elements', (SELECT jsonb_agg('+1415555' || lpad(i::text, 4, '0')) FROM generate_series(1, 101) AS i))
  ) AS t(label, recipients);

SELECT c AS channels, pg_temp.outcome('comms_senderpool_01h9krwprkeee8fzqspvwy6nq9', '["+14155552671"]', c) AS outcome
  FROM (VALUES
    (NULL::jsonb), ('null'), ('{}'), ('[]'), ('{"filterIn": []}'), ('{"filterIn": null}'),
    ('{"filterIn": ["SMS", "RCS"]}'), ('{"filterIn": ["SMS", "SMS"]}'), ('{"filterIn": ["sms"]}'),
    ('{"filterIn": ["PHONE"]}'), ('{"filterIn": [null]}'), ('{"filterIn": "SMS"}'), ('{"other": 1}'),
    ('{"priority": []}'), ('{"priority": null}'), ('{"priority": [{"channel": "SMS", "priority": 0}]}'),
    ('{"priority": [{"channel": "SMS", "priority": 2147483647}]}'),
    ('{"priority": [{"channel": "SMS", "priority": 2147483648}]}'),
    ('{"priority": [{"channel": "SMS", "priority": -1}]}'),
    ('{"priority": [{"channel": "SMS", "priority": 1.0}]}'),
    ('{"priority": [{"channel": "SMS", "priority": 1e2}]}'),
    ('{"priority": [{"channel": "SMS", "priority": 1.5}]}'),
    ('{"priority": [{"channel": "SMS", "priority": "1"}]}'),
    ('{"priority": [{"channel": "SMS", "priority": 1}, {"channel": "SMS", "priority": 2}]}'),
    ('{"priority": [{"channel": "SMS", "priority": 1, "x": 1}]}'),
    ('{"priority": [{"channel": "SMS"}]}'), ('{"priority": [{"channel": "PHONE", "priority": 1}]}'),
    ('{"priority": [null]}'), ('{"priority": {"channel": "SMS", "priority": 1}}')) AS t(c);

SELECT p AS pool, pg_temp.outcome(p, '["+14155552671"]') AS outcome
  FROM (VALUES
    (NULL::text), ('comms_senderpool_01h9krwprkeee8fzqspvwy6nq9'), ('comms_senderpool_01h9krwprkeee8fzqspvwy6nqx'),
    ('comms_senderpool_01h9krwprkeee8fzqspvwy6nq'), ('comms_senderpool_01h9krwprkeee8fzqspvwy6nq8abcdefghj'),
    ('comms_senderpool_01h9krwprkeee8fzqspvwy6nq8abcdefghjk'), ('comms_senderpool_81h9krwprkeee8fzqspvwy6nq8'),
    ('comms_senderpool_01h9krwprkeee8fzqspvwy6nqu'), ('comms_senderpool_01H9KRWPRKEEE8FZQSPVWY6NQ8'),
    ('comms_sender_01h9krwprkeee8fzqspvwy6nq8'), ('')) AS t(p);
-- invalid input wins over an unknown pool
SELECT pg_temp.outcome('comms_senderpool_01h9krwprkeee8fzqspvwy6nqx', '["nope"]') AS outcome;

-- put the inventory back
DELETE FROM comms_resolve.sender_pool_senders;
DELETE FROM comms_resolve.sender_pools;
DELETE FROM comms_resolve.senders;
INSERT INTO comms_resolve.senders SELECT * FROM saved_senders;
INSERT INTO comms_resolve.sender_pools SELECT * FROM saved_pools;
INSERT INTO comms_resolve.sender_pool_senders SELECT * FROM saved_members;
SET client_min_messages = warning;
DROP SCHEMA comms_ref CASCADE;
RESET client_min_messages;
