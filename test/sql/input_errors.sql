-- input_errors: every rejected input, with SQLSTATE, message, DETAIL (the
-- API-style context path) and HINT.  Nothing is returned partially.

INSERT INTO comms_resolve.sender_pools (id, name) VALUES (crt.pid(1), 'errors');
INSERT INTO comms_resolve.senders (id, display_name, address, channel, status) VALUES
    (crt.sid(1), 'SMS one', '+14155550001', 'SMS', 'ACTIVATED'),
    (crt.sid(2), 'Mail', 'hello@example.com', 'EMAIL', 'ACTIVATED'),
    (crt.sid(3), 'Old', '+14155550003', 'SMS', 'DEACTIVATED');
INSERT INTO comms_resolve.sender_pool_senders SELECT crt.pid(1), id FROM comms_resolve.senders;

CREATE FUNCTION crt.e(recipients jsonb, channels jsonb DEFAULT NULL, pool text DEFAULT crt.pid(1))
RETURNS text LANGUAGE sql AS $$
    SELECT crt.try(format('SELECT * FROM comms_resolve.resolve(%L, %L, %L)', pool, recipients, channels))
$$;

-- recipients: presence, type, size
SELECT crt.try($$SELECT * FROM comms_resolve.resolve(NULL, NULL)$$);
SELECT crt.e('null');
SELECT crt.e('{}');
SELECT crt.e('"+14155552671"');
SELECT crt.e('[]');
SELECT crt.e((SELECT jsonb_agg('+1415555' || lpad(n::text, 4, '0')) FROM generate_series(1, 101) n));
SELECT crt.e((SELECT jsonb_agg('+1415555' || lpad(n::text, 4, '0')) FROM generate_series(1, 100) n));
-- elements of the wrong kind
SELECT crt.e('[5]');
SELECT crt.e('["+14155552671", null]');
SELECT crt.e('[true]');
SELECT crt.e('[["+14155552671"]]');
-- object elements: exactly address and channel
SELECT crt.e('[{"address": "+14155552671", "channel": "PHONE", "name": "x"}]');
SELECT crt.e('[{"address": "+14155552671"}]');
SELECT crt.e('[{"channel": "PHONE"}]');
SELECT crt.e('[{"address": "+14155552671", "channel": 1}]');
SELECT crt.e('[{"address": "+14155552671", "channel": "phone"}]');
SELECT crt.e('[{"address": "+14155552671", "channel": "SMS"}]');
SELECT crt.e('[{"address": 14155552671, "channel": "PHONE"}]');
SELECT crt.e('[{"address": null, "channel": "PHONE"}]');
-- E.164: '+' then 2..15 digits, the first not 0
SELECT a, crt.e(jsonb_build_array(jsonb_build_object('address', a, 'channel', 'PHONE')))
  FROM unnest(ARRAY['+12', '+1', '+123456789012345', '+1234567890123456', '+01234',
                    '14155552671', '+1 415 555 2671', '+1415555267a', '＋14155552671',
                    'whatsapp:+14155552671']) a;
SELECT crt.e('[{"address": "whatsapp:+14155552671", "channel": "WHATSAPP"}]');
-- email syntax
SELECT CASE WHEN length(a) > 40 THEN left(a, 12) || '...(' || length(a) || ' chars)' ELSE a END AS a,
       crt.e(jsonb_build_array(jsonb_build_object('address', a, 'channel', 'EMAIL')))
  FROM unnest(ARRAY['jane@example.com', 'jane@localhost', 'jane@@example.com', 'jane@ex@ample.com',
                    '@example.com', 'jane@', 'jane@example..com', 'jane@.example.com',
                    'jane@example.com.', 'ja ne@example.com', E'jane\t@example.com',
                    'jane@exam' || chr(160) || 'ple.com', 'jane' || chr(12288) || '@example.com',
                    'jane' || chr(133) || '@example.com', 'josé@exämple.com',
                    repeat('l', 64) || '@example.com', repeat('l', 65) || '@example.com',
                    'a@' || repeat('d', 248) || '.com', 'a@' || repeat('d', 249) || '.com']) a;
-- push: 1..256 characters
SELECT crt.e('[{"address": "", "channel": "PUSH"}]');
SELECT crt.e(jsonb_build_array(jsonb_build_object('address', repeat('é', 256), 'channel', 'PUSH')));
SELECT crt.e(jsonb_build_array(jsonb_build_object('address', repeat('é', 257), 'channel', 'PUSH')));
-- bare strings: the channel is inferred or the element is rejected
SELECT crt.e('["hello"]');
SELECT crt.e('["+0123"]');
SELECT crt.e('["whatsapp:12345"]');
SELECT crt.e('["whatsapp:+0123"]');
SELECT crt.e('["WhatsApp:+14155552671"]');
SELECT crt.e('["a b@example.com"]');
SELECT crt.e('[""]');
-- a one-megabyte string is quoted only in part
SELECT crt.e(jsonb_build_array(repeat('x', 1048576)));
SELECT crt.e(jsonb_build_array(jsonb_build_object('address', repeat('+1', 524288), 'channel', 'WHATSAPP')));
-- the first bad element is named, after good ones
SELECT crt.e('["+14155552671", "jane@example.com", {"address": "+14155552671", "channel": "FAX"}]');

-- channels
SELECT crt.e('["+14155552671"]', '[]');
SELECT crt.e('["+14155552671"]', '"SMS"');
SELECT crt.e('["+14155552671"]', '{"filterIn": ["SMS"], "exclude": ["RCS"]}');
SELECT crt.e('["+14155552671"]', '{"filterIn": "SMS"}');
SELECT crt.e('["+14155552671"]', '{"filterIn": null}');
SELECT crt.e('["+14155552671"]', '{"filterIn": ["SMS", null]}');
SELECT crt.e('["+14155552671"]', '{"filterIn": ["SMS", "MMS"]}');
SELECT crt.e('["+14155552671"]', '{"filterIn": ["PHONE"]}');
SELECT crt.e('["+14155552671"]', '{"filterIn": ["sms"]}');
SELECT crt.e('["+14155552671"]', '{"filterIn": ["SMS", "RCS", "SMS"]}');
SELECT crt.e('["+14155552671"]', jsonb_build_object('filterIn', (SELECT jsonb_agg('SMS'::text) FROM generate_series(1, 100000))));
SELECT crt.e('["+14155552671"]', '{"priority": {"channel": "SMS", "priority": 1}}');
SELECT crt.e('["+14155552671"]', '{"priority": ["SMS"]}');
SELECT crt.e('["+14155552671"]', '{"priority": [null]}');
SELECT crt.e('["+14155552671"]', '{"priority": [{"channel": "SMS"}]}');
SELECT crt.e('["+14155552671"]', '{"priority": [{"priority": 1}]}');
SELECT crt.e('["+14155552671"]', '{"priority": [{"channel": "SMS", "priority": 1, "weight": 2}]}');
SELECT crt.e('["+14155552671"]', '{"priority": [{"channel": "TELEX", "priority": 1}]}');
SELECT crt.e('["+14155552671"]', '{"priority": [{"channel": "SMS", "priority": "1"}]}');
SELECT crt.e('["+14155552671"]', '{"priority": [{"channel": "SMS", "priority": null}]}');
SELECT crt.e('["+14155552671"]', '{"priority": [{"channel": "SMS", "priority": 1.5}]}');
SELECT crt.e('["+14155552671"]', '{"priority": [{"channel": "SMS", "priority": -1}]}');
SELECT crt.e('["+14155552671"]', '{"priority": [{"channel": "SMS", "priority": 2147483648}]}');
SELECT crt.e('["+14155552671"]', '{"priority": [{"channel": "SMS", "priority": 1e300}]}');
SELECT crt.e('["+14155552671"]', '{"priority": [{"channel": "SMS", "priority": 1}, {"channel": "SMS", "priority": 2}]}');
-- accepted: JSON null, integral numbers written with a fraction or exponent
SELECT crt.e('["+14155552671"]', 'null');
SELECT crt.e('["+14155552671"]', '{"priority": [{"channel": "SMS", "priority": 2147483647}]}');
SELECT crt.e('["+14155552671"]', '{"priority": [{"channel": "SMS", "priority": 1.0}, {"channel": "RCS", "priority": 2e1}]}');
-- an unlisted channel that occurs needs a number after the largest listed one
SELECT crt.e('["+14155552671", "jane@example.com"]', '{"priority": [{"channel": "SMS", "priority": 2147483647}]}');
SELECT crt.e('["+14155552671", "jane@example.com"]', '{"priority": [{"channel": "PUSH", "priority": 2147483647}]}');

-- pools
SELECT crt.e('["+14155552671"]', NULL, 'pool-1');
SELECT crt.e('["+14155552671"]', NULL, 'COMMS_SENDERPOOL_01H9KRWPRKEEE8FZQSPVWY6NQ8');
SELECT crt.e('["+14155552671"]', NULL, crt.sid(1));
SELECT crt.e('["+14155552671"]', NULL, crt.pid(999));
-- the pool id is checked before the recipients, the pool's existence after
SELECT crt.e('[]', NULL, 'pool-1');
SELECT crt.e('[]', NULL, crt.pid(999));

-- resolvers
SELECT crt.try($$SELECT * FROM comms_resolve.resolve(NULL, '["+14155552671"]', NULL, 'cloud')$$);
SELECT crt.try($$SELECT * FROM comms_resolve.resolve(NULL, '["+14155552671"]', NULL, 'remote')$$);
SELECT crt.try($$SELECT * FROM comms_resolve.resolve(NULL, '["+14155552671"]', NULL, 'local')$$);
SET comms_resolve.resolver = 'remote';
SELECT crt.try($$SELECT * FROM comms_resolve.resolve(NULL, '["+14155552671"]')$$);
RESET comms_resolve.resolver;
SELECT crt.try($$SET comms_resolve.resolver = 'cloud'$$);
SELECT crt.try($$SET comms_resolve.max_results = 0$$);
SELECT crt.try($$SET comms_resolve.max_results = 1001$$);
SELECT crt.try($$SET comms_resolve.no_such_setting = 1$$);

-- request form B: resolve_from_sender
CREATE FUNCTION crt.b(sender jsonb, recipients jsonb DEFAULT '["+14155552671", "jane@example.com"]')
RETURNS text LANGUAGE sql AS $$
    SELECT crt.try(format('SELECT * FROM comms_resolve.resolve_from_sender(%L, %L)', sender, recipients))
$$;
SELECT crt.b(NULL);
SELECT crt.b('[]');
SELECT crt.b('{}');
SELECT crt.b('{"address": "+14155550001"}');
SELECT crt.b('{"address": "+14155550001", "channel": "EMAIL"}');
SELECT crt.b('{"address": "+14155550001", "channel": "PHONE"}');
SELECT crt.b('{"address": "+14155550001", "channel": "SMS", "name": "x"}');
SELECT crt.b('{"address": "", "channel": "SMS"}');
SELECT crt.b('{"address": 1, "channel": "SMS"}');
SELECT crt.b('{"address": "hello@example.com", "name": 7}');
SELECT crt.b('{"address": "not-an-email", "name": "Support"}');
SELECT crt.b('{"fcm": "comms_credential_01h9krwprkeee8fzqspvwy6nq8"}');
SELECT crt.b('{"fcm": "comms_credential_01h9krwprkeee8fzqspvwy6nq8", "apn": "nope"}');
SELECT crt.b('{"fcm": "comms_credential_01h9krwprkeee8fzqspvwy6nq8", "voip": "x"}');
SELECT crt.b('{"address": "+14155559999", "channel": "SMS"}');
SELECT crt.b('{"address": "+14155550003", "channel": "SMS"}');
SELECT crt.b('{"address": "+14155550001", "channel": "RCS"}');
SELECT crt.b('{"address": "+14155550001", "channel": "SMS"}', '[]');
SELECT crt.b('{"address": "+14155550001", "channel": "SMS"}');
SELECT crt.b('{"address": "hello@example.com", "name": "Any name"}');

-- whole requests: resolve_request
CREATE FUNCTION crt.q(request jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT crt.try(format('SELECT comms_resolve.resolve_request(%L)', request))
$$;
SELECT crt.try($$SELECT comms_resolve.resolve_request(NULL)$$);
SELECT crt.q('[]');
SELECT crt.q('{}');
SELECT crt.q('{"recipientAddresses": ["+14155552671"], "senderPool": "x"}');
SELECT crt.q(jsonb_build_object('senderPoolId', crt.pid(1), 'recipientAddresses', '["+14155552671"]'::jsonb,
                                'senderAddresses', '{"address": "+14155550001", "channel": "SMS"}'::jsonb));
SELECT crt.q('{"senderPoolId": 5, "recipientAddresses": ["+14155552671"]}');
SELECT crt.q('{"senderPoolId": "nope", "recipientAddresses": ["+14155552671"]}');
SELECT crt.q(jsonb_build_object('senderPoolId', crt.pid(999), 'recipientAddresses', '["+14155552671"]'::jsonb));
SELECT crt.q('{"recipientAddresses": [{"address": "+14155552671", "channel": "PHONE"}, {"address": "x", "channel": "EMAIL"}]}');
SELECT crt.q('{"recipientAddresses": ["+14155552671"], "channels": {"filterIn": ["SMS", "FAX"]}}');
SELECT crt.q('{"recipientAddresses": ["+14155552671"], "senderAddresses": {"address": "+14155550001", "channel": "WHATSAPP"}}');
SELECT crt.q('{"recipientAddresses": ["+14155552671"], "senderAddresses": {"apn": "comms_credential_01h9krwprkeee8fzqspvwy6nq8"}}');
-- accepted: senderPoolId null means the whole inventory
SELECT crt.q('{"senderPoolId": null, "recipientAddresses": ["+14155552671"]}');

-- an error in a later row of a join ends the statement: no partial result
SELECT crt.try($$
    SELECT count(*) FROM (VALUES (1, '["+14155552671"]'::jsonb), (2, '["nope"]'::jsonb)) v(n, r)
    CROSS JOIN LATERAL comms_resolve.resolve(NULL, v.r)
$$);

DELETE FROM comms_resolve.sender_pools;
DELETE FROM comms_resolve.senders;
