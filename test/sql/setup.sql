-- setup: install the extension and the helpers the other tests share.
CREATE EXTENSION comms_resolve;

-- Objects land in schema comms_resolve, which is not relocatable.
SELECT extname, extversion, nspname, extrelocatable
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'comms_resolve';

-- Settings and their defaults.
SHOW comms_resolve.resolver;
SHOW comms_resolve.max_results;

-- crt.try(sql) runs a statement and reports its outcome: 'ok', or the
-- SQLSTATE, message, detail and hint of its error, so tests lock all four.
CREATE SCHEMA crt;
CREATE FUNCTION crt.try(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    st text; m text; d text; h text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT,
                            d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    -- rows in constraint errors carry fresh ids and times: elide them
    d := regexp_replace(d, '^Failing row contains .*', 'Failing row contains (...).');
    RETURN st || ': ' || m
        || coalesce(E'\nDETAIL: ' || nullif(d, ''), '')
        || coalesce(E'\nHINT: ' || nullif(h, ''), '');
END
$$;

-- crt.sid(n) is a fixed, valid sender id, so expected output is stable.
CREATE FUNCTION crt.sid(n int) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 'comms_sender_01h9krwprkeee8fzqspvwy6' || lpad(n::text, 3, '0');
CREATE FUNCTION crt.pid(n int) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 'comms_senderpool_01h9krwprkeee8fzqspvwy6' || lpad(n::text, 3, '0');

-- crt.r(...) renders resolve() rows compactly, in rank order.
CREATE FUNCTION crt.r(pool text, recipients jsonb, channels jsonb DEFAULT NULL)
RETURNS TABLE (rank bigint, sender text, from_address text, channel text,
               to_address text, to_channel text, priority int)
LANGUAGE sql AS $$
    SELECT ord, right(sender_id, 3), from_address, channel, to_address,
           to_channel, priority
      FROM comms_resolve.resolve(pool, recipients, channels) WITH ORDINALITY
           AS r(sender_id, from_address, to_address, channel, priority,
                display_name, to_channel, ord)
$$;
