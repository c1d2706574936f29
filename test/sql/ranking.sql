-- ranking: candidates, priorities, order and cut (sql.md 4.2-4.4).

-- Pool 1: one sender per channel, as in the API's examples.
-- Pool 2: many SMS senders for geography and stickiness.
INSERT INTO comms_resolve.sender_pools (id, name) VALUES
    (crt.pid(1), 'one of each'), (crt.pid(2), 'sms fleet'), (crt.pid(3), 'empty');
INSERT INTO comms_resolve.senders (id, display_name, address, channel, status) VALUES
    (crt.sid(1), 'Cool Support', 'coolsupport_123abc_sender', 'RCS', 'ACTIVATED'),
    (crt.sid(2), 'Support', '+15035551234', 'SMS', 'ACTIVATED'),
    (crt.sid(3), 'Support', '+15035551234', 'WHATSAPP', 'ACTIVATED'),
    (crt.sid(4), 'Support', 'support@company.com', 'EMAIL', 'ACTIVATED'),
    (crt.sid(5), NULL, 'push-app-1', 'PUSH', 'ACTIVATED'),
    (crt.sid(6), 'Gone', '+15035559999', 'SMS', 'DEACTIVATED'),
    -- pool 2
    (crt.sid(10), 'SF', '+14155550100', 'SMS', 'ACTIVATED'),      -- same area as 415 recipients
    (crt.sid(11), 'SF 2', '+14155550101', 'SMS', 'ACTIVATED'),
    (crt.sid(12), 'NYC', '+12125550100', 'SMS', 'ACTIVATED'),     -- country code 1, other area
    (crt.sid(13), 'London', '+442071234567', 'SMS', 'ACTIVATED'), -- 44
    (crt.sid(14), 'Paris', '+33142685300', 'SMS', 'ACTIVATED'),   -- 33
    (crt.sid(15), 'Short', '55555', 'SMS', 'ACTIVATED'),          -- not E.164
    (crt.sid(16), 'Freephone', '+80012345678', 'SMS', 'ACTIVATED'), -- 800: non-geographic, assigned
    (crt.sid(22), 'Nowhere', '+80112345678', 'SMS', 'ACTIVATED'), -- 801: no assigned code
    (crt.sid(17), 'Toronto', '+14165550100', 'SMS', 'ACTIVATED'), -- code 1, other area
    (crt.sid(18), 'London 2', '+447700900001', 'SMS', 'ACTIVATED'),
    (crt.sid(19), 'SF RCS', '+14155550199', 'RCS', 'ACTIVATED'),  -- RCS: no geography
    (crt.sid(20), 'SF WA', '+14155550177', 'WHATSAPP', 'ACTIVATED'),
    (crt.sid(21), 'UK WA', '+447700900002', 'WHATSAPP', 'ACTIVATED');
INSERT INTO comms_resolve.sender_pool_senders
SELECT crt.pid(1), crt.sid(n) FROM generate_series(1, 6) n
UNION ALL
SELECT crt.pid(2), crt.sid(n) FROM generate_series(10, 22) n;

-- 4.3 defaults: a PHONE recipient with RCS and SMS senders gets RCS 0, SMS 1.
SELECT * FROM crt.r(crt.pid(1), '[{"address": "+14155552671", "channel": "PHONE"}]');
-- adding a WHATSAPP recipient (and sender) gives RCS 0, WHATSAPP 1, SMS 2.
SELECT * FROM crt.r(crt.pid(1), '["+14155552671", "whatsapp:+14155552671"]');
-- all four recipient channels; the default order goes on with EMAIL, PUSH.
SELECT * FROM crt.r(crt.pid(1),
    '["+14155552671", "whatsapp:+14155552671", "jane@example.com", {"address": "device-token-1", "channel": "PUSH"}]');

-- Listed priorities are echoed; unlisted channels that occur follow the
-- largest listed number densely, in default order.
SELECT * FROM crt.r(crt.pid(1), '["+14155552671", "whatsapp:+14155552671", "jane@example.com"]',
    '{"priority": [{"channel": "SMS", "priority": 5}]}');
SELECT * FROM crt.r(crt.pid(1), '["+14155552671", "whatsapp:+14155552671", "jane@example.com"]',
    '{"priority": [{"channel": "EMAIL", "priority": 0}, {"channel": "PUSH", "priority": 40}]}');
-- equal priorities: the recipient's input position decides
SELECT * FROM crt.r(crt.pid(1), '["jane@example.com", "+14155552671"]',
    '{"priority": [{"channel": "EMAIL", "priority": 3}, {"channel": "SMS", "priority": 3}, {"channel": "RCS", "priority": 3}]}');
-- a listed number may be very large when nothing unlisted occurs
SELECT * FROM crt.r(crt.pid(1), '["+14155552671"]',
    '{"priority": [{"channel": "SMS", "priority": 2147483647}, {"channel": "RCS", "priority": 2147483646}]}');

-- filterIn keeps only those sender channels; [] keeps none.
SELECT * FROM crt.r(crt.pid(1), '["+14155552671", "whatsapp:+14155552671", "jane@example.com"]',
    '{"filterIn": ["SMS", "EMAIL"]}');
SELECT * FROM crt.r(crt.pid(1), '["+14155552671", "whatsapp:+14155552671"]', '{"filterIn": []}');
SELECT * FROM crt.r(crt.pid(1), '["+14155552671"]', '{"filterIn": ["PUSH"]}');
-- filtered-out channels do not take a default number
SELECT * FROM crt.r(crt.pid(1), '["+14155552671", "whatsapp:+14155552671"]', '{"filterIn": ["SMS", "WHATSAPP"]}');

-- Deactivated senders, other pools' senders and unreachable channels are
-- not candidates; an empty pool gives no rows, not an error.
SELECT array_agg(right(sender_id, 3)) FROM comms_resolve.resolve(crt.pid(1), '["+15035559999"]', '{"filterIn": ["SMS"]}');
SELECT count(*) FROM comms_resolve.resolve(crt.pid(3), '["+14155552671"]');
SELECT count(*) FROM comms_resolve.resolve(crt.pid(2), '["jane@example.com"]');

-- A repeated recipient counts once, at its first position.
SELECT * FROM crt.r(crt.pid(1), '["jane@example.com", "+14155552671", {"address": "jane@example.com", "channel": "EMAIL"}, "+14155552671"]',
    '{"priority": [{"channel": "EMAIL", "priority": 1}, {"channel": "SMS", "priority": 1}, {"channel": "RCS", "priority": 1}]}');
-- ... but the same address on another channel is another recipient.
SELECT * FROM crt.r(crt.pid(1), '["+15035550000", {"address": "+15035550000", "channel": "WHATSAPP"}]');

-- 4.4 geography: for a 415 number, same area code first, then country
-- code 1, then the rest (by sticky score).  RCS has no geography.
SELECT * FROM crt.r(crt.pid(2), '["+14155552671"]', '{"filterIn": ["SMS"]}');
-- for a UK number, the two +44 senders first
SELECT * FROM crt.r(crt.pid(2), '["+447911123456"]', '{"filterIn": ["SMS"]}');
-- WhatsApp senders match WhatsApp recipients the same way
SELECT * FROM crt.r(crt.pid(2), '["whatsapp:+447911123456"]');
SELECT * FROM crt.r(crt.pid(2), '["whatsapp:+14155552671"]');
-- +800 is an assigned non-geographic code: the +800 sender matches
SELECT * FROM crt.r(crt.pid(2), '["+80099999999"]', '{"filterIn": ["SMS"]}');
-- a number with no assigned calling code matches nothing: sticky order only
SELECT * FROM crt.r(crt.pid(2), '["+80199999999"]', '{"filterIn": ["SMS"]}');

-- Sticky score: among equal senders the order is sticky_score descending,
-- then sender id; it is the same on every call.
SELECT array_agg(right(sender_id, 3)) AS resolve_order
  FROM comms_resolve.resolve(crt.pid(2), '["+80199999999"]', '{"filterIn": ["SMS"]}');
SELECT array_agg(right(id, 3) ORDER BY comms_resolve.sticky_score('+80199999999', id) DESC, id COLLATE "C") AS sticky_order
  FROM comms_resolve.senders s JOIN comms_resolve.sender_pool_senders m ON m.sender_id = s.id
 WHERE m.sender_pool_id = crt.pid(2) AND s.channel = 'SMS';
-- other recipients spread over other senders
SELECT r AS recipient, (SELECT right(sender_id, 3) FROM comms_resolve.resolve(crt.pid(2), jsonb_build_array(r), '{"filterIn": ["SMS"]}') LIMIT 1) AS first
  FROM unnest(ARRAY['+80111111111', '+80122222222', '+80133333333', '+80144444444', '+80155555555',
                    '+80166666666', '+80177777777', '+80188888888']) r;

-- max_results cuts after ordering: 1..1000, default 10.
SET comms_resolve.max_results = 3;
SELECT * FROM crt.r(crt.pid(2), '["+14155552671", "whatsapp:+14155552671"]');
SET comms_resolve.max_results = 1000;
SELECT count(*) FROM comms_resolve.resolve(crt.pid(2), '["+14155552671", "whatsapp:+14155552671"]');
RESET comms_resolve.max_results;
SELECT count(*) FROM comms_resolve.resolve(crt.pid(2), '["+14155552671", "whatsapp:+14155552671"]');
SELECT count(*) FROM comms_resolve.resolve(NULL, '["+14155552671", "whatsapp:+14155552671"]');

-- NULL pool: every activated sender of the inventory.
SET comms_resolve.max_results = 1000;
SELECT count(*) AS all_senders_pairs, count(DISTINCT sender_id) AS senders
  FROM comms_resolve.resolve(NULL, '["+14155552671", "whatsapp:+14155552671", "jane@example.com", {"address": "t", "channel": "PUSH"}]');
RESET comms_resolve.max_results;

-- Output columns: display_name may be NULL; to_address drops "whatsapp:".
SELECT * FROM comms_resolve.resolve(crt.pid(1), '[{"address": "tok", "channel": "PUSH"}, "whatsapp:+14155552671"]');

-- Request form B: one sender by channel and address, then the same rules.
SELECT * FROM comms_resolve.resolve_from_sender('{"address": "+15035551234", "channel": "SMS"}',
    '["+14155552671", "whatsapp:+14155552671", "jane@example.com"]');
SELECT * FROM comms_resolve.resolve_from_sender('{"address": "support@company.com", "name": "Support"}',
    '["+14155552671", "jane@example.com"]', '{"priority": [{"channel": "EMAIL", "priority": 7}]}');
SELECT count(*) FROM comms_resolve.resolve_from_sender('{"address": "coolsupport_123abc_sender", "channel": "RCS"}',
    '["jane@example.com"]');

-- resolve_request returns the same pairs, API-shaped, in rank order.
SELECT comms_resolve.resolve_request(jsonb_build_object('senderPoolId', crt.pid(2),
    'recipientAddresses', '["+14155552671"]'::jsonb, 'channels', '{"filterIn": ["SMS"]}'::jsonb)) -> 'results' -> 0;
SELECT (SELECT array_agg(r -> 'from' ->> 'senderId') FROM jsonb_array_elements(
            comms_resolve.resolve_request(jsonb_build_object('senderPoolId', crt.pid(2),
                'recipientAddresses', '["+14155552671", "whatsapp:+14155552671"]'::jsonb)) -> 'results') r)
     = (SELECT array_agg(sender_id) FROM comms_resolve.resolve(crt.pid(2), '["+14155552671", "whatsapp:+14155552671"]'))
       AS same_order;
SELECT comms_resolve.resolve_request('{"recipientAddresses": [{"address": "tok", "channel": "PUSH"}]}');
SELECT comms_resolve.resolve_request('{"recipientAddresses": ["nobody@nowhere.example"], "channels": {"filterIn": ["SMS"]}}');
