-- local resolve_many: 50 people on pool A or pool B
\set n random(1, 9999)
\set which random(0, 1)
SELECT count(*) FROM comms_resolve.resolve_many(
    (SELECT v FROM rel_cfg WHERE k = CASE :which WHEN 0 THEN 'pool_a' ELSE 'pool_b' END),
    (SELECT jsonb_agg(jsonb_build_array('+1212555' || lpad(CAST((:n + g) % 10000 AS text), 4, '0'),
                                        'p' || g || '@example.org'))
       FROM generate_series(1, 50) g));
