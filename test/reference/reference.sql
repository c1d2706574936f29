-- test/reference/reference.sql: an independent pure-SQL model of the local
-- sender resolution of comms_resolve.resolve (shared/spec/sql.md, 4.1-4.5).
--
-- Written from the specification alone, not from src/, so the differential
-- test (test/sql/differential.sql) can hold the C resolver against it.  It
-- creates schema comms_ref:
--
--   comms_ref.resolve(sender_pool_id text, recipients jsonb,
--                     channels jsonb DEFAULT NULL)
--     the same columns as comms_resolve.resolve, plus ordinal (1-based rank),
--     and the same SQLSTATEs: 22023 for any rejected input, 42704 for a
--     well-formed pool id naming no pool.
--
-- It reads the inventory tables comms_resolve.senders, sender_pools and
-- sender_pool_senders, the setting comms_resolve.max_results (default 10)
-- and uses comms_resolve.sticky_score(), which is unit-tested on its own.
-- Country calling codes come from data/calling-codes.tsv, never from the
-- extension: set the psql variable calling_codes_file to that file's path
-- before running this script.  psql reads the file (client side), so the
-- server need not see the checkout.
--
-- Interpretation decisions (beyond the words of the spec):
--   * E.164: '+' then 2..15 ASCII digits, the first not 0.
--   * A bare string recipient is, in this order: 'whatsapp:' + E.164 ->
--     WHATSAPP (prefix dropped); E.164 -> PHONE; contains '@' -> EMAIL
--     (and must pass the email check); anything else is rejected.
--   * Email: exactly one '@', local part 1..64 octets, a domain of at least
--     two non-empty dot-separated labels, at most 254 octets in all, and no
--     whitespace or control character (code points <= U+0020,
--     U+007F..U+009F, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029,
--     U+202F, U+205F, U+3000).  PUSH: 1..256 characters.
--   * Priority numbers are integers 0..2147483647; integral JSON numbers
--     such as 1.0 or 1e2 count as integers.
--   * The default numbering of unlisted channels starts after the largest
--     number listed in channels.priority, over every listed entry whether or
--     not that channel occurs among the candidates; a number above
--     2147483647 is rejected with 22023.
--   * The geographic score is a global sort key right after the recipient
--     position: 2 = both calling code 1 and the same 3-digit area code, 1 =
--     the same calling code, 0 = anything else (including no assigned code,
--     non-E.164 sender addresses, and every channel but SMS and WHATSAPP).
--   * Sender ids tie-break bytewise (COLLATE "C").
--   * All input is validated (22023) before the pool is looked up (42704).

CREATE SCHEMA comms_ref;

------------------------------------------------------------------------
-- Country calling codes, loaded from the TSV
------------------------------------------------------------------------

CREATE TABLE comms_ref.calling_codes (
    code text PRIMARY KEY CHECK (code ~ '^[1-9][0-9]{0,2}$')
);

-- Fill comms_ref.calling_codes from the text of calling-codes.tsv: '#' lines
-- are comments, the first other line is the header (code, regions), every
-- following non-empty line starts with a code.  Returns the number of codes.
CREATE FUNCTION comms_ref.load_calling_codes(tsv text)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    line       text;
    seen_header boolean := false;
    n          integer := 0;
BEGIN
    DELETE FROM comms_ref.calling_codes;
    FOREACH line IN ARRAY string_to_array(tsv, E'\n') LOOP
        line := rtrim(line, E'\r');
        CONTINUE WHEN line = '' OR left(line, 1) = '#';
        IF NOT seen_header THEN
            IF split_part(line, E'\t', 1) <> 'code' THEN
                RAISE EXCEPTION 'calling code file: unexpected header "%"', line;
            END IF;
            seen_header := true;
            CONTINUE;
        END IF;
        INSERT INTO comms_ref.calling_codes VALUES (split_part(line, E'\t', 1));
        n := n + 1;
    END LOOP;
    IF n = 0 THEN
        RAISE EXCEPTION 'calling code file: no codes';
    END IF;
    -- the file promises prefix-free codes; the model relies on it
    IF EXISTS (SELECT 1
                 FROM comms_ref.calling_codes a
                 JOIN comms_ref.calling_codes b
                   ON a.code <> b.code AND left(b.code, length(a.code)) = a.code) THEN
        RAISE EXCEPTION 'calling code file: codes are not prefix-free';
    END IF;
    RETURN n;
END
$$;

\set calling_codes_text `cat :'calling_codes_file'`
SELECT comms_ref.load_calling_codes(:'calling_codes_text')
       AS comms_ref_calling_codes \gset

------------------------------------------------------------------------
-- Address checks
------------------------------------------------------------------------

CREATE FUNCTION comms_ref.is_e164(a text)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT
RETURN a ~ '^\+[1-9][0-9]{1,14}$';

-- Whether the code point is whitespace or a control character in the sense
-- of the email check.
CREATE FUNCTION comms_ref.is_space_or_control(cp integer)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT
RETURN cp <= 32
    OR cp BETWEEN 127 AND 159
    OR cp = 160
    OR cp = 5760            -- U+1680
    OR cp BETWEEN 8192 AND 8202  -- U+2000..U+200A
    OR cp IN (8232, 8233, 8239, 8287, 12288);  -- U+2028 U+2029 U+202F U+205F U+3000

CREATE FUNCTION comms_ref.is_email(a text)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT
AS $$
DECLARE
    local_part text;
    domain     text;
    labels     text[];
BEGIN
    IF octet_length(a) > 254 THEN
        RETURN false;
    END IF;
    IF length(a) - length(replace(a, '@', '')) <> 1 THEN
        RETURN false;
    END IF;
    IF EXISTS (SELECT 1 FROM regexp_split_to_table(a, '') AS c
                WHERE comms_ref.is_space_or_control(ascii(c))) THEN
        RETURN false;
    END IF;
    local_part := split_part(a, '@', 1);
    domain := split_part(a, '@', 2);
    IF octet_length(local_part) NOT BETWEEN 1 AND 64 THEN
        RETURN false;
    END IF;
    labels := string_to_array(domain, '.');
    RETURN coalesce(cardinality(labels), 0) >= 2 AND NOT ('' = ANY (labels));
END
$$;

-- The assigned calling code that prefixes an E.164 number, or NULL.
CREATE FUNCTION comms_ref.calling_code(e164 text)
RETURNS text
LANGUAGE sql STABLE STRICT
RETURN (SELECT c.code FROM comms_ref.calling_codes c
         WHERE c.code IN (substr(e164, 2, 1), substr(e164, 2, 2), substr(e164, 2, 3)));

-- The geographic sort key of a (sender, recipient) pair.
CREATE FUNCTION comms_ref.geo_score(sender_channel text, sender_address text,
                                    recipient_channel text, recipient_address text)
RETURNS integer
LANGUAGE plpgsql STABLE STRICT
AS $$
DECLARE
    sc text;
    rc text;
BEGIN
    IF sender_channel NOT IN ('SMS', 'WHATSAPP')
       OR recipient_channel NOT IN ('PHONE', 'WHATSAPP')
       OR NOT comms_ref.is_e164(sender_address)
       OR NOT comms_ref.is_e164(recipient_address) THEN
        RETURN 0;
    END IF;
    sc := comms_ref.calling_code(sender_address);
    rc := comms_ref.calling_code(recipient_address);
    IF sc IS NULL OR rc IS NULL OR sc <> rc THEN
        RETURN 0;
    END IF;
    -- '+1' then a 3-digit area code
    IF sc = '1' AND length(sender_address) >= 5 AND length(recipient_address) >= 5
       AND substr(sender_address, 3, 3) = substr(recipient_address, 3, 3) THEN
        RETURN 2;
    END IF;
    RETURN 1;
END
$$;

------------------------------------------------------------------------
-- Resolution
------------------------------------------------------------------------

CREATE FUNCTION comms_ref.reject(msg text)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = msg;
END
$$;

-- Every (sender, recipient) pair of 4.2, before priorities.
CREATE FUNCTION comms_ref.candidates(pool text, r_address text[], r_channel text[],
                                     r_position integer[], filter_given boolean,
                                     filter_channels text[])
RETURNS TABLE (sender_id text, from_address text, display_name text,
               channel text, to_address text, to_channel text, recipient_position integer)
LANGUAGE sql STABLE
AS $$
    SELECT s.id, s.address, s.display_name, s.channel, r.address, r.channel, r.recipient_position
      FROM unnest(r_address, r_channel, r_position) AS r(address, channel, recipient_position)
      JOIN (VALUES ('PHONE', 'SMS'), ('PHONE', 'RCS'), ('WHATSAPP', 'WHATSAPP'),
                   ('EMAIL', 'EMAIL'), ('PUSH', 'PUSH')) AS reach(to_channel, channel)
        ON reach.to_channel = r.channel
      JOIN comms_resolve.senders s
        ON s.channel = reach.channel
     WHERE s.status = 'ACTIVATED'
       AND (pool IS NULL
            OR EXISTS (SELECT 1 FROM comms_resolve.sender_pool_senders ps
                        WHERE ps.sender_pool_id = pool AND ps.sender_id = s.id))
       AND (NOT filter_given OR s.channel = ANY (filter_channels))
$$;

CREATE FUNCTION comms_ref.resolve(sender_pool_id text, recipients jsonb,
                                  channels jsonb DEFAULT NULL)
RETURNS TABLE (sender_id text, from_address text, to_address text,
               channel text, priority integer, display_name text,
               to_channel text, ordinal bigint)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    sender_channels constant text[] := ARRAY['SMS', 'RCS', 'EMAIL', 'WHATSAPP', 'PUSH'];
    default_order   constant text[] := ARRAY['RCS', 'WHATSAPP', 'SMS', 'EMAIL', 'PUSH'];
    elem        jsonb;
    idx         integer;
    str         text;
    addr        text;
    chan        text;
    keys        text[];
    r_address   text[] := '{}';
    r_channel   text[] := '{}';
    r_position  integer[] := '{}';
    dup         boolean;
    filter_given boolean := false;
    filter_channels text[] := '{}';
    p_channel   text[] := '{}';
    p_number    bigint[] := '{}';
    num         numeric;
    next_number bigint;
    occurring   text[];
    max_results integer;
BEGIN
    -- the pool id (NULL: the whole inventory)
    IF sender_pool_id IS NOT NULL
       AND sender_pool_id !~ '^comms_senderpool_[0-7][a-hjkmnpqrstv-z0-9]{25,34}$' THEN
        PERFORM comms_ref.reject('invalid sender pool id');
    END IF;

    -- recipients (4.1)
    IF recipients IS NULL OR jsonb_typeof(recipients) <> 'array'
       OR jsonb_array_length(recipients) NOT BETWEEN 1 AND 100 THEN
        PERFORM comms_ref.reject('recipients must be an array of 1 to 100 elements');
    END IF;
    FOR elem, idx IN
        SELECT e, o::integer - 1 FROM jsonb_array_elements(recipients) WITH ORDINALITY AS t(e, o)
    LOOP
        IF jsonb_typeof(elem) = 'string' THEN
            str := elem #>> '{}';
            IF left(str, 9) = 'whatsapp:' AND comms_ref.is_e164(substr(str, 10)) THEN
                chan := 'WHATSAPP';
                addr := substr(str, 10);
            ELSIF comms_ref.is_e164(str) THEN
                chan := 'PHONE';
                addr := str;
            ELSIF strpos(str, '@') > 0 THEN
                IF NOT comms_ref.is_email(str) THEN
                    PERFORM comms_ref.reject(format('invalid email address at [%s]', idx));
                END IF;
                chan := 'EMAIL';
                addr := str;
            ELSE
                PERFORM comms_ref.reject(format('cannot infer the channel at [%s]', idx));
            END IF;
        ELSIF jsonb_typeof(elem) = 'object' THEN
            SELECT array_agg(k ORDER BY k) INTO keys FROM jsonb_object_keys(elem) AS k;
            IF keys IS DISTINCT FROM ARRAY['address', 'channel']
               OR jsonb_typeof(elem -> 'address') <> 'string'
               OR jsonb_typeof(elem -> 'channel') <> 'string' THEN
                PERFORM comms_ref.reject(format('malformed recipient at [%s]', idx));
            END IF;
            addr := elem ->> 'address';
            chan := elem ->> 'channel';
            IF chan IN ('PHONE', 'WHATSAPP') THEN
                IF NOT comms_ref.is_e164(addr) THEN
                    PERFORM comms_ref.reject(format('invalid E.164 number at [%s]', idx));
                END IF;
            ELSIF chan = 'EMAIL' THEN
                IF NOT comms_ref.is_email(addr) THEN
                    PERFORM comms_ref.reject(format('invalid email address at [%s]', idx));
                END IF;
            ELSIF chan = 'PUSH' THEN
                IF length(addr) NOT BETWEEN 1 AND 256 THEN
                    PERFORM comms_ref.reject(format('invalid push address at [%s]', idx));
                END IF;
            ELSE
                PERFORM comms_ref.reject(format('invalid recipient channel at [%s]', idx));
            END IF;
        ELSE
            PERFORM comms_ref.reject(format('malformed recipient at [%s]', idx));
        END IF;

        -- a repeated recipient counts once, at its first position
        dup := false;
        FOR i IN 1 .. cardinality(r_address) LOOP
            IF r_channel[i] = chan AND r_address[i] = addr THEN
                dup := true;
                EXIT;
            END IF;
        END LOOP;
        IF NOT dup THEN
            r_address := r_address || addr;
            r_channel := r_channel || chan;
            r_position := r_position || idx;
        END IF;
    END LOOP;

    -- channels (4.1); SQL NULL and JSON null both mean absent
    IF channels IS NOT NULL AND jsonb_typeof(channels) <> 'null' THEN
        IF jsonb_typeof(channels) <> 'object' THEN
            PERFORM comms_ref.reject('channels must be an object');
        END IF;
        IF EXISTS (SELECT 1 FROM jsonb_object_keys(channels) AS k
                    WHERE k NOT IN ('filterIn', 'priority')) THEN
            PERFORM comms_ref.reject('unknown key in channels');
        END IF;
        IF channels ? 'filterIn' THEN
            IF jsonb_typeof(channels -> 'filterIn') <> 'array' THEN
                PERFORM comms_ref.reject('channels.filterIn must be an array');
            END IF;
            filter_given := true;
            FOR elem IN SELECT e FROM jsonb_array_elements(channels -> 'filterIn') AS e LOOP
                IF jsonb_typeof(elem) <> 'string'
                   OR NOT (elem #>> '{}') = ANY (sender_channels)
                   OR (elem #>> '{}') = ANY (filter_channels) THEN
                    PERFORM comms_ref.reject('invalid or repeated channel in channels.filterIn');
                END IF;
                filter_channels := filter_channels || (elem #>> '{}');
            END LOOP;
        END IF;
        IF channels ? 'priority' THEN
            IF jsonb_typeof(channels -> 'priority') <> 'array' THEN
                PERFORM comms_ref.reject('channels.priority must be an array');
            END IF;
            FOR elem IN SELECT e FROM jsonb_array_elements(channels -> 'priority') AS e LOOP
                IF jsonb_typeof(elem) <> 'object' THEN
                    PERFORM comms_ref.reject('channels.priority entries must be objects');
                END IF;
                SELECT array_agg(k ORDER BY k) INTO keys FROM jsonb_object_keys(elem) AS k;
                IF keys IS DISTINCT FROM ARRAY['channel', 'priority']
                   OR jsonb_typeof(elem -> 'channel') <> 'string'
                   OR jsonb_typeof(elem -> 'priority') <> 'number' THEN
                    PERFORM comms_ref.reject('malformed channels.priority entry');
                END IF;
                chan := elem ->> 'channel';
                IF NOT chan = ANY (sender_channels) OR chan = ANY (p_channel) THEN
                    PERFORM comms_ref.reject('invalid or repeated channel in channels.priority');
                END IF;
                num := (elem -> 'priority')::numeric;
                IF num <> trunc(num) OR num < 0 OR num > 2147483647 THEN
                    PERFORM comms_ref.reject('priority must be an integer from 0 to 2147483647');
                END IF;
                p_channel := p_channel || chan;
                p_number := p_number || num::bigint;
            END LOOP;
        END IF;
    END IF;

    -- the pool must exist
    IF sender_pool_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM comms_resolve.sender_pools p WHERE p.id = sender_pool_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
              MESSAGE = format('sender pool "%s" does not exist', sender_pool_id);
    END IF;

    -- default numbers for the unlisted channels among the candidates (4.3)
    SELECT array_agg(DISTINCT c.channel) INTO occurring
      FROM comms_ref.candidates(sender_pool_id, r_address, r_channel, r_position,
                                filter_given, filter_channels) AS c;
    next_number := coalesce((SELECT max(n) FROM unnest(p_number) AS n) + 1, 0);
    FOREACH chan IN ARRAY default_order LOOP
        IF chan = ANY (occurring) AND NOT chan = ANY (p_channel) THEN
            IF next_number > 2147483647 THEN
                PERFORM comms_ref.reject('default priority out of range');
            END IF;
            p_channel := p_channel || chan;
            p_number := p_number || next_number;
            next_number := next_number + 1;
        END IF;
    END LOOP;

    max_results := coalesce(nullif(current_setting('comms_resolve.max_results', true), '')::integer, 10);

    -- order and cut (4.4)
    RETURN QUERY
    SELECT c.sender_id, c.from_address, c.to_address, c.channel, p.number::integer,
           c.display_name, c.to_channel,
           row_number() OVER (ORDER BY p.number, c.recipient_position,
                              comms_ref.geo_score(c.channel, c.from_address,
                                                  c.to_channel, c.to_address) DESC,
                              comms_resolve.sticky_score(c.to_address, c.sender_id) DESC,
                              c.sender_id COLLATE "C")
      FROM comms_ref.candidates(sender_pool_id, r_address, r_channel, r_position,
                                filter_given, filter_channels) AS c
      JOIN unnest(p_channel, p_number) AS p(channel, number) ON p.channel = c.channel
     ORDER BY 8
     LIMIT max_results;
END
$$;
