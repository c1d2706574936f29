--
-- differential: the C resolver against the independent SQL reference
-- (test/reference/reference.sql) on random inventories and requests.
--
-- A fixed seed makes every run generate the same cases.  Each inventory
-- (pools of 0-60 senders over every channel and both statuses) is built,
-- then several requests run against it, with small changes to the inventory
-- between some of them; some inventories are committed, others are changed
-- again inside the same transaction (sql.md 4.5).  Results must agree row by
-- row, in order; when either side raises, both must raise the same SQLSTATE.
-- The first disagreement raises an error naming the seed, the case and both
-- results.
--
-- self-sufficient: the extension may or may not exist yet
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS comms_resolve;
RESET client_min_messages;

-- load the reference quietly
\getenv abs_srcdir PG_ABS_SRCDIR
\set calling_codes_file :abs_srcdir '/../data/calling-codes.tsv'
\set reference_file :abs_srcdir '/reference/reference.sql'
\set ECHO none
\i :reference_file
\set ECHO all

-- keep what earlier tests left in the inventory, to put it back at the end
CREATE TEMP TABLE saved_senders AS SELECT * FROM comms_resolve.senders;
CREATE TEMP TABLE saved_pools AS SELECT * FROM comms_resolve.sender_pools;
CREATE TEMP TABLE saved_members AS SELECT * FROM comms_resolve.sender_pool_senders;

CREATE SCHEMA comms_ref_diff;

-- random helpers (all randomness comes from random(), seeded by setseed())
CREATE FUNCTION comms_ref_diff.rnd(n integer) RETURNS integer
LANGUAGE sql VOLATILE RETURN floor(random() * n)::integer;

CREATE FUNCTION comms_ref_diff.chance(p float8) RETURNS boolean
LANGUAGE sql VOLATILE RETURN random() < p;

CREATE FUNCTION comms_ref_diff.pick(a text[]) RETURNS text
LANGUAGE sql VOLATILE RETURN a[1 + comms_ref_diff.rnd(cardinality(a))];

CREATE FUNCTION comms_ref_diff.digits(n integer) RETURNS text
LANGUAGE sql VOLATILE
RETURN (SELECT coalesce(string_agg(comms_ref_diff.rnd(10)::text, '' ORDER BY i), '')
          FROM generate_series(1, n) AS i);

-- A TypeID with this prefix; the suffix is usually 26 characters, sometimes
-- up to 35 (the longest the id pattern accepts).
CREATE FUNCTION comms_ref_diff.gen_id(prefix text) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    alphabet constant text := '0123456789abcdefghjkmnpqrstvwxyz';
    len integer := CASE WHEN comms_ref_diff.chance(0.9) THEN 25 ELSE 25 + comms_ref_diff.rnd(10) END;
    s text := prefix || '_' || comms_ref_diff.rnd(8)::text;
BEGIN
    FOR i IN 1 .. len LOOP
        s := s || substr(alphabet, 1 + comms_ref_diff.rnd(32), 1);
    END LOOP;
    RETURN s;
END $$;

-- An E.164 number from a small space, so that numbers repeat and calling
-- and area codes often match: +1 with a few area codes (and numbers too short
-- for an area code), 44, 7, 33, 49, 353, the unassigned +80 and +210, the
-- non-geographic +800, and the longest form.
CREATE FUNCTION comms_ref_diff.gen_e164() RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    k integer := comms_ref_diff.rnd(20);
    sub text := '55501' || comms_ref_diff.rnd(3)::text || comms_ref_diff.rnd(2)::text;
BEGIN
    RETURN CASE
        WHEN k < 6 THEN '+1' || comms_ref_diff.pick('{415,503,212,650}') || sub
        WHEN k = 6 THEN '+1' || comms_ref_diff.digits(3) || comms_ref_diff.digits(7)
        WHEN k = 7 THEN '+1' || comms_ref_diff.pick('{"",4,41,415}')
        WHEN k = 8 THEN '+44' || comms_ref_diff.pick('{20,7911}') || sub
        WHEN k = 9 THEN '+447' || sub
        WHEN k = 10 THEN '+7' || comms_ref_diff.pick('{495,701}') || sub
        WHEN k = 11 THEN '+33' || comms_ref_diff.pick('{1,6}') || sub
        WHEN k = 12 THEN '+49' || comms_ref_diff.pick('{30,151}') || sub
        WHEN k = 13 THEN '+353' || comms_ref_diff.pick('{1,85}') || sub
        WHEN k = 14 THEN '+80' || sub
        WHEN k = 15 THEN '+800' || sub
        WHEN k = 16 THEN '+210' || sub
        WHEN k = 17 THEN '+' || (1 + comms_ref_diff.rnd(9))::text || comms_ref_diff.digits(14)
        WHEN k = 18 THEN '+' || (1 + comms_ref_diff.rnd(9))::text || comms_ref_diff.digits(1 + comms_ref_diff.rnd(6))
        ELSE '+1' || comms_ref_diff.pick('{415,503}') || '5550100'
    END;
END $$;

CREATE FUNCTION comms_ref_diff.gen_email() RETURNS text
LANGUAGE sql VOLATILE
RETURN comms_ref_diff.pick('{jane.doe,support,info,a,x.y+z,noreply}')
       || '@' || comms_ref_diff.pick('{example.com,company.com,mail.example.org,b.c}');

CREATE FUNCTION comms_ref_diff.gen_push() RETURNS text
LANGUAGE sql VOLATILE
RETURN comms_ref_diff.pick('{fcm:,apn:,"",device-,"token "}') || comms_ref_diff.rnd(6)::text;

-- A sender address for the channel: mostly E.164 for SMS, RCS and WHATSAPP,
-- sometimes not (short codes, alphanumeric ids, malformed numbers).
CREATE FUNCTION comms_ref_diff.gen_sender_address(channel text) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF channel IN ('SMS', 'RCS') AND comms_ref_diff.chance(0.2) THEN
        RETURN comms_ref_diff.pick(ARRAY['12345', 'ACME', '+0123456', '+1', '14155550100', '+1415555010x',
                                         '+1 4155550100', '+1234567890123456', 'agent:acme',
                                         E'+14155550100\n', '+14155550100 ', '+44+2071234567']);
    ELSIF channel = 'WHATSAPP' AND comms_ref_diff.chance(0.1) THEN
        RETURN comms_ref_diff.pick(ARRAY['whatsapp:+14155550100', 'whatsapp:+442071234567', '14155550100', '+',
                                         E'+14155550100\n']);
    ELSIF channel IN ('SMS', 'RCS', 'WHATSAPP') THEN
        RETURN comms_ref_diff.gen_e164();
    ELSIF channel = 'EMAIL' THEN
        RETURN comms_ref_diff.gen_email();
    ELSE
        RETURN comms_ref_diff.pick('{fcm:,apn:,device-}') || comms_ref_diff.rnd(6)::text;
    END IF;
END $$;

-- Replace the whole inventory with a random one; returns the pool ids.
CREATE FUNCTION comms_ref_diff.gen_inventory() RETURNS text[]
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    channels constant text[] := '{SMS,RCS,EMAIL,WHATSAPP,PUSH}';
    -- now and then a large inventory, for the whole-inventory (NULL pool) case
    n_senders integer := CASE WHEN comms_ref_diff.chance(0.03) THEN 200 + comms_ref_diff.rnd(300)
                              ELSE comms_ref_diff.rnd(91) END;
    ids text[] := '{}';
    keys text[] := '{}';
    pools text[] := '{}';
    ch text;
    addr text;
    id text;
    size integer;
    j integer;
    members text[];
BEGIN
    DELETE FROM comms_resolve.sender_pool_senders;
    DELETE FROM comms_resolve.sender_pools;
    DELETE FROM comms_resolve.senders;
    FOR i IN 1 .. n_senders LOOP
        ch := comms_ref_diff.pick(channels);
        addr := comms_ref_diff.gen_sender_address(ch);
        id := comms_ref_diff.gen_id('comms_sender');
        CONTINUE WHEN (ch || ' ' || addr) = ANY (keys) OR id = ANY (ids);
        INSERT INTO comms_resolve.senders (id, display_name, address, channel, status)
        VALUES (id,
                CASE WHEN comms_ref_diff.chance(0.3) THEN NULL
                     ELSE comms_ref_diff.pick('{"Customer Support",Alerts,Marketing,""}') END,
                addr, ch,
                CASE WHEN comms_ref_diff.chance(0.75) THEN 'ACTIVATED' ELSE 'DEACTIVATED' END);
        ids := ids || id;
        keys := keys || (ch || ' ' || addr);
    END LOOP;
    FOR p IN 1 .. 1 + comms_ref_diff.rnd(4) LOOP
        id := comms_ref_diff.gen_id('comms_senderpool');
        CONTINUE WHEN id = ANY (pools);
        INSERT INTO comms_resolve.sender_pools (id, name) VALUES (id, 'pool ' || p);
        pools := pools || id;
        -- a random subset of 0-60 senders: a partial Fisher-Yates shuffle
        size := least(comms_ref_diff.rnd(61), cardinality(ids));
        members := ids;
        FOR k IN 1 .. size LOOP
            j := k + comms_ref_diff.rnd(cardinality(members) - k + 1);
            id := members[j];
            members[j] := members[k];
            members[k] := id;
            INSERT INTO comms_resolve.sender_pool_senders VALUES (pools[cardinality(pools)], id);
        END LOOP;
    END LOOP;
    RETURN pools;
END $$;

-- A small change to the inventory between two requests.
CREATE FUNCTION comms_ref_diff.mutate(pools text[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    ids text[] := ARRAY(SELECT s.id FROM comms_resolve.senders s ORDER BY s.id COLLATE "C");
    sid text;
    ch text;
    k integer := comms_ref_diff.rnd(6);
BEGIN
    IF cardinality(ids) = 0 OR k = 0 THEN
        ch := comms_ref_diff.pick('{SMS,RCS,EMAIL,WHATSAPP,PUSH}');
        sid := comms_ref_diff.gen_id('comms_sender');
        INSERT INTO comms_resolve.senders (id, address, channel)
        VALUES (sid, comms_ref_diff.gen_sender_address(ch), ch)
        ON CONFLICT DO NOTHING;
        IF FOUND AND cardinality(pools) > 0 THEN
            INSERT INTO comms_resolve.sender_pool_senders VALUES (comms_ref_diff.pick(pools), sid);
        END IF;
        RETURN;
    END IF;
    sid := comms_ref_diff.pick(ids);
    CASE k
        WHEN 1 THEN
            UPDATE comms_resolve.senders
               SET status = CASE status WHEN 'ACTIVATED' THEN 'DEACTIVATED' ELSE 'ACTIVATED' END
             WHERE senders.id = sid;
        WHEN 2 THEN
            DELETE FROM comms_resolve.senders WHERE senders.id = sid;
        WHEN 3 THEN
            DELETE FROM comms_resolve.sender_pool_senders WHERE sender_id = sid;
        WHEN 4 THEN
            IF cardinality(pools) > 0 THEN
                INSERT INTO comms_resolve.sender_pool_senders
                VALUES (comms_ref_diff.pick(pools), sid) ON CONFLICT DO NOTHING;
            END IF;
        ELSE
            UPDATE comms_resolve.senders SET display_name = 'Renamed ' || comms_ref_diff.rnd(10)
             WHERE senders.id = sid;
    END CASE;
END $$;

-- A recipient element, mostly valid, in object or bare-string form.
CREATE FUNCTION comms_ref_diff.gen_recipient(utf8 boolean) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    k integer := comms_ref_diff.rnd(100);
    e164 text;
    -- non-ASCII characters only in a UTF8 database (chr() of a variable, so
    -- that no branch is folded into a constant the encoding cannot hold)
    nbsp text := chr(CASE WHEN utf8 THEN 160 ELSE 32 END);
    e_acute text := chr(CASE WHEN utf8 THEN 233 ELSE 101 END);
    odd text := chr(CASE WHEN utf8 THEN comms_ref_diff.pick('{133,5760,8192,8202,8203,8232,8233,8239,8287,12288,65279,127,159,1}')
                         ELSE comms_ref_diff.pick('{127,1,9,95}') END::integer);
    digit text := chr(CASE WHEN utf8 THEN 1633 ELSE 49 END);
BEGIN
    IF k < 28 THEN  -- PHONE
        e164 := comms_ref_diff.gen_e164();
        RETURN CASE WHEN comms_ref_diff.chance(0.5) THEN to_jsonb(e164)
                    ELSE jsonb_build_object('address', e164, 'channel', 'PHONE') END;
    ELSIF k < 50 THEN  -- WHATSAPP
        e164 := comms_ref_diff.gen_e164();
        RETURN CASE WHEN comms_ref_diff.chance(0.5) THEN to_jsonb('whatsapp:' || e164)
                    ELSE jsonb_build_object('address', e164, 'channel', 'WHATSAPP') END;
    ELSIF k < 72 THEN  -- EMAIL
        e164 := comms_ref_diff.gen_email();
        RETURN CASE WHEN comms_ref_diff.chance(0.5) THEN to_jsonb(e164)
                    ELSE jsonb_build_object('address', e164, 'channel', 'EMAIL') END;
    ELSIF k < 88 THEN  -- PUSH
        RETURN jsonb_build_object('address', comms_ref_diff.gen_push(), 'channel', 'PUSH');
    ELSIF k < 94 THEN  -- unusual but valid, or invalid, bare strings
        RETURN to_jsonb(comms_ref_diff.pick(ARRAY[
            '+12', '+1', '+0123456', '+123456789012345', '+1234567890123456', '14155550100',
            '+1 4155550100', '+14155550100' || E'\n', ' +14155550100', '+1415555010x',
            'whatsapp:+0123', 'whatsapp:14155550100', 'WHATSAPP:+14155550100', 'Whatsapp:+14155550100',
            'whatsapp:+1@x.io', 'whatsapp: +14155550100', 'whatsapp:', 'whatsapp:+12', '',
            'a@@b.com', '@b.com', 'a@b', 'a@.b.com', 'a@b..com', 'a@b.com.', 'a b@c.com',
            'a@b.com ', 'a' || E'\t' || 'b@c.com', 'a@b.c@d', 'a@[1.2.3.4]', 'a@-.-', 'jane@x',
            repeat('l', 64) || '@b.com', repeat('l', 65) || '@b.com',
            'a@' || repeat('d', 249) || '.com', 'a@' || repeat('d', 248) || '.com',
            'j' || nbsp || 'd@b.com', 'j' || odd || 'd@b.com', 'jane@exa' || odd || 'mple.com',
            repeat(e_acute, 32) || '@b.com', repeat(e_acute, 33) || '@b.com',
            'x@' || repeat(e_acute, 124) || '.com', 'x@' || repeat(e_acute, 125) || '.com',
            '+' || digit || digit, 'plainstring', '@', 'a@b.c']));
    ELSE  -- odd objects and other JSON values
        RETURN (comms_ref_diff.pick(ARRAY[
            '{"address": "+14155550100", "channel": "phone"}',
            '{"address": "+14155550100", "channel": "SMS"}',
            '{"address": "x", "channel": "PUSH", "extra": 1}',
            '{"address": "x"}', '{"channel": "PUSH"}', '{}',
            '{"address": 123, "channel": "PUSH"}', '{"address": null, "channel": "PUSH"}',
            '{"address": "x", "channel": null}', '{"address": "x", "channel": ["PUSH"]}',
            '{"address": "", "channel": "PUSH"}',
            '{"address": "whatsapp:+14155550100", "channel": "WHATSAPP"}',
            '{"address": "jane@example.com", "channel": "PHONE"}',
            '{"address": "+14155550100", "channel": "EMAIL"}',
            '{"address": "jane @example.com", "channel": "PUSH"}',
            '{"address": "+14155550100", "channel": "PUSH"}',
            '{"address": "+12", "channel": "WHATSAPP"}',
            '{"address": "+1", "channel": "WHATSAPP"}',
            jsonb_build_object('address', repeat('p', 256), 'channel', 'PUSH')::text,
            jsonb_build_object('address', repeat('p', 257), 'channel', 'PUSH')::text,
            jsonb_build_object('address', repeat(e_acute, 256), 'channel', 'PUSH')::text,
            jsonb_build_object('address', repeat(e_acute, 257), 'channel', 'PUSH')::text,
            jsonb_build_object('address', 'j' || odd || 'd@b.com', 'channel', 'EMAIL')::text,
            'null', '1', 'true', '[]', '["+14155550100"]']))::jsonb;
    END IF;
END $$;

CREATE FUNCTION comms_ref_diff.gen_recipients(utf8 boolean) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    a jsonb := '[]';
    e jsonb;
    k integer := comms_ref_diff.rnd(200);
    s text;
BEGIN
    IF k = 0 THEN RETURN NULL;
    ELSIF k = 1 THEN RETURN '[]';
    ELSIF k = 2 THEN RETURN 'null';
    ELSIF k = 3 THEN RETURN '{"address": "+14155550100", "channel": "PHONE"}';
    ELSIF k = 4 THEN RETURN '"+14155550100"';
    ELSIF k = 5 THEN  -- 100 valid elements: the most allowed
        RETURN (SELECT jsonb_agg(CASE comms_ref_diff.rnd(4)
                                     WHEN 0 THEN to_jsonb(comms_ref_diff.gen_e164())
                                     WHEN 1 THEN to_jsonb('whatsapp:' || comms_ref_diff.gen_e164())
                                     WHEN 2 THEN to_jsonb(comms_ref_diff.gen_email())
                                     ELSE jsonb_build_object('address', comms_ref_diff.gen_push(), 'channel', 'PUSH') END
                                 ORDER BY i)
                  FROM generate_series(1, 100) AS i);
    ELSIF k = 6 THEN  -- 101 elements: one too many
        RETURN (SELECT jsonb_agg(to_jsonb('+1415555' || lpad(i::text, 4, '0'))) FROM generate_series(1, 101) AS i);
    END IF;
    FOR i IN 1 .. 1 + comms_ref_diff.rnd(6) LOOP
        IF i > 1 AND comms_ref_diff.chance(0.25) THEN
            -- a repeat of an earlier recipient, sometimes in the other form
            e := a -> comms_ref_diff.rnd(i - 1);
            IF jsonb_typeof(e) = 'string' AND comms_ref_diff.chance(0.5) THEN
                s := e #>> '{}';
                e := CASE
                    WHEN left(s, 9) = 'whatsapp:' THEN jsonb_build_object('address', substr(s, 10), 'channel', 'WHATSAPP')
                    WHEN left(s, 1) = '+' THEN jsonb_build_object('address', s, 'channel', 'PHONE')
                    ELSE jsonb_build_object('address', s, 'channel', 'EMAIL') END;
            ELSIF jsonb_typeof(e) = 'object' AND comms_ref_diff.chance(0.5) AND e ->> 'channel' = 'WHATSAPP' THEN
                e := to_jsonb('whatsapp:' || (e ->> 'address'));
            ELSIF jsonb_typeof(e) = 'object' AND comms_ref_diff.chance(0.5) AND e ->> 'channel' = 'PHONE' THEN
                -- same address on the other phone-like channel
                e := jsonb_build_object('address', e ->> 'address', 'channel', 'WHATSAPP');
            END IF;
        ELSE
            e := comms_ref_diff.gen_recipient(utf8);
        END IF;
        a := a || jsonb_build_array(e);
    END LOOP;
    RETURN a;
END $$;

CREATE FUNCTION comms_ref_diff.gen_channels() RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    all_channels constant text[] := '{SMS,RCS,EMAIL,WHATSAPP,PUSH}';
    k integer := comms_ref_diff.rnd(100);
    c jsonb := '{}';
    f jsonb;
    p jsonb;
    n integer;
    shuffled text[];
BEGIN
    IF k < 22 THEN RETURN NULL;
    ELSIF k < 25 THEN RETURN 'null';
    ELSIF k < 28 THEN RETURN '{}';
    ELSIF k < 33 THEN
        RETURN (comms_ref_diff.pick(ARRAY[
            '[]', '"SMS"', '1', '{"filterIn": "SMS"}', '{"filterIn": null}', '{"priority": null}',
            '{"filterIn": ["sms"]}', '{"filterIn": ["PHONE"]}', '{"filterIn": ["SMS", "SMS"]}',
            '{"filterIn": [null]}', '{"filterIn": [1]}', '{"filterin": []}', '{"other": 1}',
            '{"filterIn": [], "other": 1}',
            '{"priority": [{"channel": "SMS"}]}', '{"priority": [{"priority": 1}]}',
            '{"priority": [{"channel": "SMS", "priority": -1}]}',
            '{"priority": [{"channel": "SMS", "priority": 2147483648}]}',
            '{"priority": [{"channel": "SMS", "priority": 1.5}]}',
            '{"priority": [{"channel": "SMS", "priority": 1e-1}]}',
            '{"priority": [{"channel": "SMS", "priority": "1"}]}',
            '{"priority": [{"channel": "SMS", "priority": null}]}',
            '{"priority": [{"channel": "SMS", "priority": true}]}',
            '{"priority": [{"channel": "SMS", "priority": 1}, {"channel": "SMS", "priority": 2}]}',
            '{"priority": [{"channel": "SMS", "priority": 1, "x": 0}]}',
            '{"priority": [null]}', '{"priority": ["SMS"]}',
            '{"priority": {"channel": "SMS", "priority": 1}}',
            '{"priority": [{"channel": "PHONE", "priority": 1}]}',
            '{"priority": [{"channel": "sms", "priority": 1}]}',
            '{"priority": [{"channel": 1, "priority": 1}]}',
            '{"priority": [{"channel": "SMS", "priority": 1e400}]}',
            '{"priority": [{"channel": "SMS", "priority": 1e-400}]}',
            '{"priority": [{"channel": "SMS", "priority": 0.0000000000000000000001}]}',
            '{"priority": [{"channel": "SMS", "priority": 2147483647.5}]}',
            '{"priority": [{"channel": "SMS", "priority": 2147483647.0000000000000000001}]}',
            '{"priority": [{"channel": "SMS", "priority": 2.1474836475e9}]}',
            '{"priority": [{"channel": "SMS", "priority": 1.00000000000000000001}]}',
            '{"priority": [{"channel": "SMS", "priority": -0.5}]}',
            '{"priority": [{"channel": "SMS", "priority": 18446744073709551616}]}',
            '{"priority": [{"channel": "SMS", "priority": 4294967296}]}',
            -- valid edge forms
            '{"priority": [{"channel": "SMS", "priority": 1.0}]}',
            '{"priority": [{"channel": "RCS", "priority": 1e1}]}',
            '{"priority": [{"channel": "SMS", "priority": 2147483647.000}]}',
            '{"priority": [{"channel": "WHATSAPP", "priority": -0}]}',
            '{"priority": [{"channel": "EMAIL", "priority": 0e5}]}',
            '{"priority": [{"channel": "SMS", "priority": 2.147483647e9}]}',
            '{"priority": [{"channel": "SMS", "priority": 1E0}, {"channel": "RCS", "priority": 1.000}]}',
            '{"priority": [{"channel": "SMS", "priority": 0.0}]}',
            '{"priority": []}', '{"filterIn": []}', '{"filterIn": [], "priority": []}']))::jsonb;
    END IF;
    IF comms_ref_diff.chance(0.55) THEN
        shuffled := ARRAY(SELECT x FROM unnest(all_channels) AS x);
        n := comms_ref_diff.rnd(6);
        f := '[]';
        FOR i IN 1 .. n LOOP
            -- partial shuffle: the first n channels in random order
            DECLARE j integer := i + comms_ref_diff.rnd(5 - i + 1); t text;
            BEGIN
                t := shuffled[j]; shuffled[j] := shuffled[i]; shuffled[i] := t;
                f := f || to_jsonb(t);
            END;
        END LOOP;
        c := c || jsonb_build_object('filterIn', f);
    END IF;
    IF comms_ref_diff.chance(0.6) THEN
        shuffled := all_channels;
        n := comms_ref_diff.rnd(6);
        p := '[]';
        FOR i IN 1 .. n LOOP
            DECLARE j integer := i + comms_ref_diff.rnd(5 - i + 1); t text; v jsonb;
            BEGIN
                t := shuffled[j]; shuffled[j] := shuffled[i]; shuffled[i] := t;
                v := CASE comms_ref_diff.rnd(12)
                    WHEN 0 THEN '0' WHEN 1 THEN '2147483647' WHEN 2 THEN '2147483646'
                    WHEN 3 THEN to_jsonb(comms_ref_diff.rnd(1000))
                    WHEN 4 THEN (comms_ref_diff.rnd(4)::text || '.0')::jsonb
                    ELSE to_jsonb(comms_ref_diff.rnd(4)) END;
                p := p || jsonb_build_array(jsonb_build_object('channel', t, 'priority', v));
            END;
        END LOOP;
        c := c || jsonb_build_object('priority', p);
    END IF;
    RETURN c;
END $$;

-- The pool argument of a request.
CREATE FUNCTION comms_ref_diff.gen_pool(pools text[]) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    k integer := comms_ref_diff.rnd(100);
BEGIN
    IF k < 60 AND cardinality(pools) > 0 THEN RETURN comms_ref_diff.pick(pools);
    ELSIF k < 82 THEN RETURN NULL;
    ELSIF k < 92 THEN RETURN comms_ref_diff.gen_id('comms_senderpool');  -- well-formed, no such pool
    ELSE
        RETURN comms_ref_diff.pick(ARRAY[
            '', 'comms_senderpool_', 'comms_sender_01h9krwprkeee8fzqspvwy6nq8',
            'comms_senderpool_81h9krwprkeee8fzqspvwy6nq8', 'comms_senderpool_01h9krwprkeee8fzqspvwy6nqi',
            'comms_senderpool_01h9krwprkeee8fzqspvwy6nql', 'comms_senderpool_01h9krwprkeee8fzqspvwy6nqo',
            'comms_senderpool_01h9krwprkeee8fzqspvwy6nqu', 'COMMS_SENDERPOOL_01H9KRWPRKEEE8FZQSPVWY6NQ8',
            'comms_senderpool_01H9KRWPRKEEE8FZQSPVWY6NQ8',
            'comms_senderpool_01h9krwprkeee8fzqspvwy6nq',            -- 25 characters
            'comms_senderpool_01h9krwprkeee8fzqspvwy6nq8abcdefghj',  -- 35 characters: well-formed
            'comms_senderpool_01h9krwprkeee8fzqspvwy6nq8abcdefghjk', -- 36 characters
            ' comms_senderpool_01h9krwprkeee8fzqspvwy6nq8', 'comms_senderpool_01h9krwprkeee8fzqspvwy6nq8 ',
            'comms_senderpool_01h9krwprkeee8fzqspvwy6nq8' || E'\n', 'comms_senderpool-01h9krwprkeee8fzqspvwy6nq8']);
    END IF;
END $$;

-- One resolve call, as (sqlstate, message, rows); sqlstate NULL on success.
CREATE FUNCTION comms_ref_diff.run_c(pool text, recipients jsonb, channels jsonb,
                                     OUT state text, OUT message text, OUT result jsonb)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    SELECT coalesce(jsonb_agg(jsonb_build_array(r.sender_id, r.from_address, r.to_address, r.channel,
                                                r.priority, r.display_name, r.to_channel)
                              ORDER BY r.ord), '[]')
      INTO result
      FROM comms_resolve.resolve(pool, recipients, channels) WITH ORDINALITY AS r(
               sender_id, from_address, to_address, channel, priority, display_name, to_channel, ord);
EXCEPTION WHEN OTHERS THEN
    state := SQLSTATE;
    message := SQLERRM;
    result := NULL;
END $$;

CREATE FUNCTION comms_ref_diff.run_ref(pool text, recipients jsonb, channels jsonb,
                                       OUT state text, OUT message text, OUT result jsonb)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    SELECT coalesce(jsonb_agg(jsonb_build_array(r.sender_id, r.from_address, r.to_address, r.channel,
                                                r.priority, r.display_name, r.to_channel)
                              ORDER BY r.ordinal), '[]')
      INTO result
      FROM comms_ref.resolve(pool, recipients, channels) AS r;
EXCEPTION WHEN OTHERS THEN
    state := SQLSTATE;
    message := SQLERRM;
    result := NULL;
END $$;

CREATE TABLE comms_ref_diff.summary (
    cases integer, mismatches integer, ok integer, with_rows integer, cut integer,
    e22023 integer, e42704 integer, overflow integer, after_rollback integer
);

-- Generate one request against the inventory, run it on both sides and
-- compare; the first mismatch raises.  Returns how the case ended: 'rows',
-- 'empty', 'cut' (as many rows as max_results), or the SQLSTATE, with
-- 'overflow' for a default priority out of range.
CREATE FUNCTION comms_ref_diff.one_case(seed float8, n integer, pools text[]) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    pool text := comms_ref_diff.gen_pool(pools);
    recipients jsonb := comms_ref_diff.gen_recipients(getdatabaseencoding() = 'UTF8');
    channels jsonb := comms_ref_diff.gen_channels();
    max_results integer;
    c record;
    r record;
BEGIN
    IF comms_ref_diff.chance(0.3) THEN
        -- mostly small cuts; sometimes the largest, to compare whole orders
        max_results := CASE WHEN comms_ref_diff.chance(0.1) THEN 1000 ELSE 1 + comms_ref_diff.rnd(15) END;
        PERFORM set_config('comms_resolve.max_results', max_results::text, false);
    ELSE
        RESET comms_resolve.max_results;
    END IF;

    c := comms_ref_diff.run_c(pool, recipients, channels);
    r := comms_ref_diff.run_ref(pool, recipients, channels);

    IF c.state IS DISTINCT FROM r.state
       OR c.result IS DISTINCT FROM r.result
       OR coalesce(c.state, '22023') NOT IN ('22023', '42704') THEN
        RAISE EXCEPTION '%', format(E'differential mismatch (seed %s, case %s)\n'
                                    'request: sender_pool_id=%s recipients=%s channels=%s max_results=%s\n'
                                    'C:         sqlstate=%s message=%s rows=%s\n'
                                    'reference: sqlstate=%s message=%s rows=%s',
                                    seed, n,
                                    coalesce(quote_literal(pool), 'NULL'),
                                    coalesce(recipients::text, 'NULL'),
                                    coalesce(channels::text, 'NULL'),
                                    coalesce(max_results::text, 'default'),
                                    coalesce(c.state, 'none'), c.message, c.result,
                                    coalesce(r.state, 'none'), r.message, r.result);
    END IF;
    RETURN CASE
        WHEN c.state IS NULL AND jsonb_array_length(c.result) = 0 THEN 'empty'
        WHEN c.state IS NULL AND jsonb_array_length(c.result) = coalesce(max_results, 10) THEN 'cut'
        WHEN c.state IS NULL THEN 'rows'
        WHEN r.message = 'default priority out of range' THEN 'overflow'
        ELSE c.state END;
END $$;

-- Run the cases from this seed: per inventory, requests cases (with small
-- changes to the inventory between some of them).  Every fourth inventory is
-- committed; the one after it is rolled back and two more cases then run
-- against the committed inventory (caches must forget what was rolled back);
-- the others stay in the open transaction and are replaced within it.
CREATE PROCEDURE comms_ref_diff.run(seed float8, inventories integer, requests integer)
LANGUAGE plpgsql AS $$
DECLARE
    pools text[];
    committed_pools text[] := '{}';
    outcome text;
    n integer := 0;
    after_rollback integer := 0;
    tally jsonb := '{}';
BEGIN
    PERFORM setseed(seed);
    FOR inv IN 1 .. inventories LOOP
        pools := comms_ref_diff.gen_inventory();
        FOR req IN 1 .. requests + 2 LOOP
            IF req = requests + 1 THEN
                CONTINUE WHEN inv % 4 <> 1;
                ROLLBACK;
                pools := committed_pools;
            END IF;
            IF req BETWEEN 2 AND requests AND comms_ref_diff.chance(0.15) THEN
                PERFORM comms_ref_diff.mutate(pools);
            END IF;
            n := n + 1;
            IF req > requests THEN
                after_rollback := after_rollback + 1;
            END IF;
            outcome := comms_ref_diff.one_case(seed, n, pools);
            tally := tally || jsonb_build_object(outcome, coalesce((tally ->> outcome)::integer, 0) + 1);
        END LOOP;
        IF inv % 4 = 0 THEN
            COMMIT;
            committed_pools := pools;
        END IF;
    END LOOP;
    RESET comms_resolve.max_results;
    INSERT INTO comms_ref_diff.summary
    SELECT n, 0,
           coalesce((tally ->> 'rows')::integer, 0) + coalesce((tally ->> 'cut')::integer, 0)
             + coalesce((tally ->> 'empty')::integer, 0),
           coalesce((tally ->> 'rows')::integer, 0) + coalesce((tally ->> 'cut')::integer, 0),
           coalesce((tally ->> 'cut')::integer, 0),
           coalesce((tally ->> '22023')::integer, 0) + coalesce((tally ->> 'overflow')::integer, 0),
           coalesce((tally ->> '42704')::integer, 0),
           coalesce((tally ->> 'overflow')::integer, 0),
           after_rollback;
END $$;

CALL comms_ref_diff.run(0.20240601, 1000, 10);

-- every case agreed (a mismatch raises above); the cases covered enough ground
SELECT format('%s cases, %s mismatches', cases, mismatches) AS result,
       ok > cases / 3 AS many_ok,
       with_rows > cases / 4 AS many_with_rows,
       cut > cases / 50 AS some_cut,
       e22023 > cases / 10 AS many_invalid,
       e42704 > cases / 50 AS some_unknown_pools,
       overflow > 10 AS some_overflows,
       after_rollback > 100 AS some_after_rollback
  FROM comms_ref_diff.summary;

-- put the inventory back as earlier tests left it
DELETE FROM comms_resolve.sender_pool_senders;
DELETE FROM comms_resolve.sender_pools;
DELETE FROM comms_resolve.senders;
INSERT INTO comms_resolve.senders SELECT * FROM saved_senders;
INSERT INTO comms_resolve.sender_pools SELECT * FROM saved_pools;
INSERT INTO comms_resolve.sender_pool_senders SELECT * FROM saved_members;
SET client_min_messages = warning;
DROP SCHEMA comms_ref_diff CASCADE;
DROP SCHEMA comms_ref CASCADE;
RESET client_min_messages;
