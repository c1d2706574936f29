-- remote resolve on pool B, against the emulator
\set n random(1, 9999)
SELECT count(*) FROM comms_resolve.resolve((SELECT v FROM rel_cfg WHERE k = 'pool_b'),
    jsonb_build_array('+1415555' || lpad(CAST(:n AS text), 4, '0'), 'u' || :n || '@example.org'),
    NULL, 'remote');
