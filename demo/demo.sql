\pset footer off
\echo
\echo '== The inventory'
SELECT id, channel, address, status, display_name FROM comms_resolve.senders ORDER BY channel, address;

\echo
\echo '== The reference example: one person, three addresses, channels filtered and prioritised'
SELECT sender_id, channel, from_address, to_address, to_channel, priority
  FROM comms_resolve.resolve(
    'comms_senderpool_01h9krwprkeee8fzqspvwy6nq8',
    '[{"address": "+14155552671", "channel": "PHONE"},
      {"address": "+14155552671", "channel": "WHATSAPP"},
      {"address": "jane.doe@example.com", "channel": "EMAIL"}]',
    '{"filterIn": ["SMS", "EMAIL", "WHATSAPP"],
      "priority": [{"channel": "EMAIL", "priority": 0},
                   {"channel": "SMS", "priority": 1},
                   {"channel": "WHATSAPP", "priority": 2}]}');

\echo
\echo '== The same request body, API-shaped, through resolve_request()'
SELECT jsonb_pretty(comms_resolve.resolve_request('{
  "senderPoolId": "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8",
  "recipientAddresses": [
    {"address": "+14155552671", "channel": "PHONE"},
    {"address": "+14155552671", "channel": "WHATSAPP"},
    {"address": "jane.doe@example.com", "channel": "EMAIL"}],
  "channels": {"filterIn": ["SMS", "EMAIL", "WHATSAPP"],
               "priority": [{"channel": "EMAIL", "priority": 0},
                            {"channel": "SMS", "priority": 1},
                            {"channel": "WHATSAPP", "priority": 2}]}}')) AS response;

\echo
\echo '== A reporting query: the first choice for each customer (regional SMS numbers first, then by sticky score)'
SELECT c.name, r.channel, r.from_address, r.display_name, r.to_address
  FROM customers c
 CROSS JOIN LATERAL (
        SELECT * FROM comms_resolve.resolve(
            'comms_senderpool_01h9krwprkeee8fzqspvwy6nq8',
            (SELECT jsonb_agg(a) FROM unnest(ARRAY[c.phone, c.email]) a WHERE a IS NOT NULL),
            '{"filterIn": ["SMS", "EMAIL"]}')
        LIMIT 1) r
 ORDER BY c.id;
