-- local resolve on pool A (written to concurrently by writes.sql)
\set n random(1, 9999)
SELECT count(*) FROM comms_resolve.resolve((SELECT v FROM rel_cfg WHERE k = 'pool_a'),
    jsonb_build_array('+1415555' || lpad(CAST(:n AS text), 4, '0'),
                      'whatsapp:+4479' || lpad(CAST(:n AS text), 8, '0'),
                      'u' || :n || '@example.org'));
