-- inventory: the local tables, their constraints and new_id().

-- Ids minted by default are TypeIDs with a 26-character UUIDv7 suffix.
INSERT INTO comms_resolve.sender_pools (name) VALUES ('minted') RETURNING
    id ~ '^comms_senderpool_[0-7][0-9a-hjkmnp-tv-z]{25}$' AS pool_id_ok;
INSERT INTO comms_resolve.senders (address, channel) VALUES ('+15550001111', 'SMS')
RETURNING id ~ '^comms_sender_[0-7][0-9a-hjkmnp-tv-z]{25}$' AS sender_id_ok,
          status, tags, created_at = updated_at AS fresh;

-- new_id: valid, unique and increasing within a backend, with a UUIDv7
-- timestamp close to now.
SELECT count(*) AS n, count(DISTINCT id) AS distinct_ids,
       bool_and(comms_resolve.is_valid_id('comms_sender', id)) AS all_valid,
       bool_and(length(id) = length('comms_sender_') + 26) AS all_26
  FROM (SELECT comms_resolve.new_id('comms_sender') AS id
          FROM generate_series(1, 5000)) s;
SELECT bool_and(a < b) AS increasing
  FROM (SELECT id AS a, lead(id) OVER (ORDER BY n) AS b
          FROM (SELECT n, comms_resolve.new_id('x') AS id
                  FROM generate_series(1, 5000) n) s) t
 WHERE b IS NOT NULL;
SELECT comms_resolve.new_id('comms_operation') ~ '^comms_operation_[0-7]' AS other_prefix;
SELECT crt.try($$SELECT comms_resolve.new_id('Bad')$$);
SELECT crt.try($$SELECT comms_resolve.new_id('_x')$$);
SELECT crt.try($$SELECT comms_resolve.new_id('')$$);

-- is_valid_id follows the API's pattern: [0-7] then 25..34 base32 characters.
SELECT id, comms_resolve.is_valid_id('comms_sender', id) AS valid
  FROM (VALUES ('comms_sender_01h9krwprkeee8fzqspvwy6nq8'),
               ('comms_sender_01h9krwprkeee8fzqspvwy6nq8abcdefghj'),
               ('comms_sender_01h9krwprkeee8fzqspvwy6nq8abcdefghjk'),
               ('comms_sender_81h9krwprkeee8fzqspvwy6nq8'),
               ('comms_sender_01h9krwprkeee8fzqspvwy6nq'),
               ('comms_sender_01h9krwprkeee8fzqspvwy6nqu'),
               ('comms_sender_01H9KRWPRKEEE8FZQSPVWY6NQ8'),
               ('comms_senderpool_01h9krwprkeee8fzqspvwy6nq8')) v(id);

-- Constraints: id patterns, enums, tags, (channel, address) uniqueness.
SELECT crt.try($$INSERT INTO comms_resolve.senders (id, address, channel) VALUES ('comms_sender_nope', '+1555', 'SMS')$$);
SELECT crt.try($$INSERT INTO comms_resolve.senders (address, channel) VALUES ('+15550002222', 'MMS')$$);
SELECT crt.try($$INSERT INTO comms_resolve.senders (address, channel) VALUES ('+15550002222', 'sms')$$);
SELECT crt.try($$INSERT INTO comms_resolve.senders (address, channel, status) VALUES ('+15550002222', 'SMS', 'PAUSED')$$);
SELECT crt.try($$INSERT INTO comms_resolve.senders (address, channel) VALUES ('', 'SMS')$$);
SELECT crt.try($$INSERT INTO comms_resolve.senders (address, channel) VALUES (NULL, 'SMS')$$);
SELECT crt.try($$INSERT INTO comms_resolve.senders (address, channel) VALUES ('+15550001111', 'SMS')$$);
SELECT crt.try($$INSERT INTO comms_resolve.senders (address, channel) VALUES ('+15550001111', 'WHATSAPP')$$);
SELECT crt.try($$INSERT INTO comms_resolve.sender_pools (id, name) VALUES ('comms_sender_01h9krwprkeee8fzqspvwy6nq8', 'x')$$);
SELECT crt.try($$INSERT INTO comms_resolve.sender_pools (name) VALUES (NULL)$$);

-- Tags: an object of at most 10 string pairs; keys <= 128, values <= 256
-- characters, both from [a-zA-Z0-9._~-].
SELECT t, comms_resolve.tags_are_valid(t::jsonb) AS valid
  FROM (VALUES ('{}'), ('{"team": "support", "tier.1": "a-b_c~d"}'),
               ('[]'), ('"x"'), ('{"k": 1}'), ('{"k": ""}'), ('{"": "v"}'),
               ('{"k": "has space"}'), ('{"k/": "v"}'), ('{"k": null}')) v(t);
SELECT comms_resolve.tags_are_valid((SELECT jsonb_object_agg('k' || n, 'v') FROM generate_series(1, 10) n)) AS ten_ok,
       comms_resolve.tags_are_valid((SELECT jsonb_object_agg('k' || n, 'v') FROM generate_series(1, 11) n)) AS eleven_ok,
       comms_resolve.tags_are_valid(jsonb_build_object(repeat('k', 128), repeat('v', 256))) AS max_ok,
       comms_resolve.tags_are_valid(jsonb_build_object(repeat('k', 129), 'v')) AS long_key_ok,
       comms_resolve.tags_are_valid(jsonb_build_object('k', repeat('v', 257))) AS long_value_ok;
SELECT crt.try($$INSERT INTO comms_resolve.senders (address, channel, tags) VALUES ('+15550003333', 'SMS', '{"a b": "c"}')$$);

-- updated_at follows updates unless the writer sets it (as a sync does).
CREATE TEMP TABLE t0 AS SELECT updated_at FROM comms_resolve.senders WHERE address = '+15550001111' AND channel = 'SMS';
SELECT pg_sleep(0.01);
UPDATE comms_resolve.senders SET display_name = 'Renamed' WHERE address = '+15550001111' AND channel = 'SMS';
SELECT s.updated_at > t0.updated_at AS touched
  FROM comms_resolve.senders s, t0 WHERE s.address = '+15550001111' AND s.channel = 'SMS';
UPDATE comms_resolve.senders SET display_name = 'Synced', updated_at = '2024-01-02 03:04:05+00'
 WHERE address = '+15550001111' AND channel = 'SMS';
SELECT updated_at = '2024-01-02 03:04:05+00' AS kept
  FROM comms_resolve.senders WHERE address = '+15550001111' AND channel = 'SMS';

-- Memberships cascade from both sides.
INSERT INTO comms_resolve.sender_pool_senders
SELECT p.id, s.id FROM comms_resolve.sender_pools p, comms_resolve.senders s;
SELECT count(*) FROM comms_resolve.sender_pool_senders;
SELECT crt.try($$INSERT INTO comms_resolve.sender_pool_senders VALUES ('comms_senderpool_01h9krwprkeee8fzqspvwy6nq8', 'comms_sender_01h9krwprkeee8fzqspvwy6nq8')$$);
DELETE FROM comms_resolve.senders WHERE address = '+15550001111';
SELECT count(*) FROM comms_resolve.sender_pool_senders;
DELETE FROM comms_resolve.sender_pools;

-- The three tables are extension configuration: pg_dump dumps their rows.
SELECT c.relname
  FROM pg_extension e, unnest(e.extconfig) AS cfg(oid)
  JOIN pg_class c ON c.oid = cfg.oid
 WHERE e.extname = 'comms_resolve'
 ORDER BY 1;
