-- seed_example: the Resolve Senders reference example, end to end.
-- One pool with an email, an SMS and a WhatsApp sender; one person with a
-- phone number, the same number on WhatsApp and an email address; channels
-- filtered to SMS, EMAIL and WHATSAPP and prioritised EMAIL 0, SMS 1,
-- WHATSAPP 2.  Expected: exactly three pairs, in that order.
DELETE FROM comms_resolve.sender_pools;
DELETE FROM comms_resolve.senders;
INSERT INTO comms_resolve.sender_pools (id, name)
VALUES ('comms_senderpool_01h9krwprkeee8fzqspvwy6nq8', 'Customer Support');
INSERT INTO comms_resolve.senders (id, display_name, address, channel) VALUES
    (crt.sid(1), 'Customer Support', 'support@company.com', 'EMAIL'),
    (crt.sid(2), 'Customer Support', '+15035551234', 'SMS'),
    (crt.sid(3), 'Customer Support', '+15035551234', 'WHATSAPP'),
    -- filtered out by filterIn, or not in the pool
    (crt.sid(4), 'Rich', 'support_rcs_agent', 'RCS'),
    (crt.sid(5), 'Elsewhere', 'other@company.com', 'EMAIL');
INSERT INTO comms_resolve.sender_pool_senders (sender_pool_id, sender_id)
SELECT 'comms_senderpool_01h9krwprkeee8fzqspvwy6nq8', crt.sid(n) FROM generate_series(1, 4) n;

-- through resolve()
SELECT channel, from_address, to_address, to_channel, priority, display_name
  FROM comms_resolve.resolve(
    'comms_senderpool_01h9krwprkeee8fzqspvwy6nq8',
    '[{"address": "+14155552671", "channel": "PHONE"},
      {"address": "+14155552671", "channel": "WHATSAPP"},
      {"address": "jane.doe@example.com", "channel": "EMAIL"}]',
    '{"filterIn": ["SMS", "EMAIL", "WHATSAPP"],
      "priority": [{"channel": "EMAIL", "priority": 0},
                   {"channel": "SMS", "priority": 1},
                   {"channel": "WHATSAPP", "priority": 2}]}');

-- through resolve_request(), the same body the API takes
SELECT jsonb_pretty(comms_resolve.resolve_request('{
  "senderPoolId": "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8",
  "recipientAddresses": [
    {"address": "+14155552671", "channel": "PHONE"},
    {"address": "+14155552671", "channel": "WHATSAPP"},
    {"address": "jane.doe@example.com", "channel": "EMAIL"}
  ],
  "channels": {
    "filterIn": ["SMS", "EMAIL", "WHATSAPP"],
    "priority": [
      {"channel": "EMAIL", "priority": 0},
      {"channel": "SMS", "priority": 1},
      {"channel": "WHATSAPP", "priority": 2}
    ]
  }
}'));

-- both forms give the same pairs in the same order
WITH req AS (
    SELECT '{"senderPoolId": "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8",
             "recipientAddresses": ["+14155552671", "whatsapp:+14155552671", "jane.doe@example.com"],
             "channels": {"filterIn": ["SMS", "EMAIL", "WHATSAPP"],
                          "priority": [{"channel": "EMAIL", "priority": 0},
                                       {"channel": "SMS", "priority": 1},
                                       {"channel": "WHATSAPP", "priority": 2}]}}'::jsonb AS body
), via_request AS (
    SELECT array_agg(jsonb_build_array(r -> 'from' ->> 'senderId', r -> 'from' ->> 'channel',
                                       r -> 'from' ->> 'address', r -> 'to' ->> 'address',
                                       r -> 'to' ->> 'channel', (r ->> 'priority')::int) ORDER BY ord) AS pairs
      FROM req, jsonb_array_elements(comms_resolve.resolve_request(req.body) -> 'results') WITH ORDINALITY e(r, ord)
), via_resolve AS (
    SELECT array_agg(jsonb_build_array(sender_id, channel, from_address, to_address, to_channel, priority) ORDER BY ord) AS pairs
      FROM req, comms_resolve.resolve(req.body ->> 'senderPoolId', req.body -> 'recipientAddresses',
                                      req.body -> 'channels') WITH ORDINALITY r(sender_id, from_address, to_address,
                                      channel, priority, display_name, to_channel, ord)
)
SELECT cardinality(via_request.pairs) AS pairs, via_request.pairs = via_resolve.pairs AS same
  FROM via_request, via_resolve;

-- a reporting-style query: many people at once, one pool
SELECT c.name, r.channel, r.to_address, r.priority
  FROM (VALUES ('Jane', '+14155552671', 'jane.doe@example.com'),
               ('Raj', '+919876543210', 'raj@example.org'),
               ('Ana', '+5511912345678', NULL)) c(name, phone, email)
 CROSS JOIN LATERAL comms_resolve.resolve(
        'comms_senderpool_01h9krwprkeee8fzqspvwy6nq8',
        (SELECT jsonb_agg(a) FROM unnest(ARRAY[c.phone, 'whatsapp:' || c.phone, c.email]) a WHERE a IS NOT NULL),
        '{"filterIn": ["SMS", "EMAIL", "WHATSAPP"]}') r
 ORDER BY c.name, r.priority;

DELETE FROM comms_resolve.sender_pools;
DELETE FROM comms_resolve.senders;
