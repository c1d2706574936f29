/* comms_resolve--1.0.sql: the local inventory and the resolution functions */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION comms_resolve" to load this file. \quit

------------------------------------------------------------------------
-- Helpers used by the inventory's defaults and constraints
------------------------------------------------------------------------

CREATE FUNCTION comms_resolve.new_id(prefix text)
RETURNS text
AS 'MODULE_PATHNAME', 'comms_resolve_new_id'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION comms_resolve.new_id(text) IS
'A new TypeID "<prefix>_<26 base32 characters>" encoding a UUIDv7';

CREATE FUNCTION comms_resolve.is_valid_id(prefix text, id text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'comms_resolve_is_valid_id'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION comms_resolve.is_valid_id(text, text) IS
'Whether id is a TypeID with this prefix as the Comms API accepts it';

-- sql.md 2 / api.md Tags: at most 10 pairs, keys up to 128 and values up
-- to 256 characters, both from [a-zA-Z0-9._~-].
CREATE FUNCTION comms_resolve.tags_are_valid(tags jsonb)
RETURNS boolean
AS 'MODULE_PATHNAME', 'comms_resolve_tags_are_valid'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION comms_resolve.tags_are_valid(jsonb) IS
'Whether tags is an object of at most 10 string pairs within the API''s limits';

-- Keep updated_at current unless the writer sets it itself, or the writer
-- is sync(), which mirrors the API's own timestamps.
CREATE FUNCTION comms_resolve.touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at
       AND current_setting('comms_resolve.syncing', true) IS DISTINCT FROM 'on' THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;

------------------------------------------------------------------------
-- The local inventory (sql.md 2)
------------------------------------------------------------------------

CREATE TABLE comms_resolve.senders (
    id           text PRIMARY KEY
                 DEFAULT comms_resolve.new_id('comms_sender')
                 CONSTRAINT senders_id_check
                 CHECK (comms_resolve.is_valid_id('comms_sender', id)),
    display_name text,
    address      text NOT NULL
                 CONSTRAINT senders_address_check CHECK (address <> ''),
    channel      text NOT NULL
                 CONSTRAINT senders_channel_check
                 CHECK (channel IN ('SMS', 'RCS', 'EMAIL', 'WHATSAPP', 'PUSH')),
    status       text NOT NULL DEFAULT 'ACTIVATED'
                 CONSTRAINT senders_status_check
                 CHECK (status IN ('ACTIVATED', 'DEACTIVATED')),
    tags         jsonb NOT NULL DEFAULT '{}'
                 CONSTRAINT senders_tags_check
                 CHECK (comms_resolve.tags_are_valid(tags)),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT senders_channel_address_key UNIQUE (channel, address)
);

CREATE TABLE comms_resolve.sender_pools (
    id           text PRIMARY KEY
                 DEFAULT comms_resolve.new_id('comms_senderpool')
                 CONSTRAINT sender_pools_id_check
                 CHECK (comms_resolve.is_valid_id('comms_senderpool', id)),
    name         text NOT NULL,
    tags         jsonb NOT NULL DEFAULT '{}'
                 CONSTRAINT sender_pools_tags_check
                 CHECK (comms_resolve.tags_are_valid(tags)),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE comms_resolve.sender_pool_senders (
    sender_pool_id text NOT NULL
                   REFERENCES comms_resolve.sender_pools (id) ON DELETE CASCADE,
    sender_id      text NOT NULL
                   REFERENCES comms_resolve.senders (id) ON DELETE CASCADE,
    PRIMARY KEY (sender_pool_id, sender_id)
);

-- deleting a sender cascades through this index
CREATE INDEX sender_pool_senders_sender_id_idx
    ON comms_resolve.sender_pool_senders (sender_id);

CREATE TRIGGER senders_touch_updated_at
    BEFORE UPDATE ON comms_resolve.senders
    FOR EACH ROW EXECUTE FUNCTION comms_resolve.touch_updated_at();
CREATE TRIGGER sender_pools_touch_updated_at
    BEFORE UPDATE ON comms_resolve.sender_pools
    FOR EACH ROW EXECUTE FUNCTION comms_resolve.touch_updated_at();

COMMENT ON TABLE comms_resolve.senders IS 'Sender inventory: one row per sending address on a channel';
COMMENT ON TABLE comms_resolve.sender_pools IS 'Named sets of senders';
COMMENT ON TABLE comms_resolve.sender_pool_senders IS 'Pool membership';

-- a user's inventory is data: pg_dump dumps it
SELECT pg_catalog.pg_extension_config_dump('comms_resolve.senders', '');
SELECT pg_catalog.pg_extension_config_dump('comms_resolve.sender_pools', '');
SELECT pg_catalog.pg_extension_config_dump('comms_resolve.sender_pool_senders', '');

------------------------------------------------------------------------
-- Resolution (sql.md 3 and 4)
------------------------------------------------------------------------

CREATE FUNCTION comms_resolve.resolve(
    sender_pool_id text,
    recipients     jsonb,
    channels       jsonb DEFAULT NULL,
    resolver       text  DEFAULT NULL)
RETURNS TABLE (sender_id text, from_address text, to_address text,
               channel text, priority integer, display_name text,
               to_channel text)
AS 'MODULE_PATHNAME', 'comms_resolve_resolve'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION comms_resolve.resolve(text, jsonb, jsonb, text) IS
'Ranked (sender, recipient) pairs for one person''s addresses, from a pool or the whole inventory';

CREATE FUNCTION comms_resolve.resolve_from_sender(
    sender     jsonb,
    recipients jsonb,
    channels   jsonb DEFAULT NULL,
    resolver   text  DEFAULT NULL)
RETURNS TABLE (sender_id text, from_address text, to_address text,
               channel text, priority integer, display_name text,
               to_channel text)
AS 'MODULE_PATHNAME', 'comms_resolve_resolve_from_sender'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION comms_resolve.resolve_from_sender(jsonb, jsonb, jsonb, text) IS
'Ranked (sender, recipient) pairs from one given sender address (request form B)';

CREATE FUNCTION comms_resolve.resolve_request(
    request  jsonb,
    resolver text DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'comms_resolve_resolve_request'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;

COMMENT ON FUNCTION comms_resolve.resolve_request(jsonb, text) IS
'Takes a Resolve request body as the API does and returns the API-shaped response';

CREATE FUNCTION comms_resolve.resolve_many(
    sender_pool_id text,
    people         jsonb,             -- an array of recipient arrays, one per person
    channels       jsonb DEFAULT NULL,
    resolver       text  DEFAULT NULL)
RETURNS TABLE (person integer, sender_id text, from_address text, to_address text,
               channel text, priority integer, display_name text, to_channel text)
AS 'MODULE_PATHNAME', 'comms_resolve_resolve_many'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1000;

COMMENT ON FUNCTION comms_resolve.resolve_many(text, jsonb, jsonb, text) IS
'The rows of resolve() for many people at once, each with its 0-based index in people';

CREATE FUNCTION comms_resolve.sticky_score(to_address text, sender_id text)
RETURNS numeric
AS 'MODULE_PATHNAME', 'comms_resolve_sticky_score'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION comms_resolve.sticky_score(text, text) IS
'The unsigned 64-bit sticky score of a (recipient address, sender id) pair; larger ranks first';

CREATE FUNCTION comms_resolve.calling_code(address text)
RETURNS integer
AS 'MODULE_PATHNAME', 'comms_resolve_calling_code'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION comms_resolve.calling_code(text) IS
'The country calling code prefixing an E.164 number, or NULL when none is assigned';

------------------------------------------------------------------------
-- The remote resolver's endpoint and credentials (sql.md 5)
------------------------------------------------------------------------

CREATE FUNCTION comms_resolve.fdw_validator(options text[], catalog oid)
RETURNS void
AS 'MODULE_PATHNAME', 'comms_resolve_fdw_validator'
LANGUAGE C STRICT;

COMMENT ON FUNCTION comms_resolve.fdw_validator(text[], oid) IS
'Validates the options of the comms_resolve foreign-data wrapper, its servers and user mappings';

-- a validator, no handler: the wrapper holds endpoints and credentials only
CREATE FOREIGN DATA WRAPPER comms_resolve
    VALIDATOR comms_resolve.fdw_validator;

CREATE SERVER comms_api
    FOREIGN DATA WRAPPER comms_resolve
    OPTIONS (base_url 'https://comms.twilio.com/v1');

COMMENT ON SERVER comms_api IS
'The Comms API; credentials go in a user mapping (account_id + auth_token, or api_key + api_key_secret)';

------------------------------------------------------------------------
-- Remote listing (read-only) and inventory sync (sql.md 6)
------------------------------------------------------------------------

CREATE FUNCTION comms_resolve.remote_senders(channel text DEFAULT NULL, status text DEFAULT NULL)
RETURNS SETOF comms_resolve.senders
AS 'MODULE_PATHNAME', 'comms_resolve_remote_senders'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION comms_resolve.remote_senders(text, text) IS
'The account''s senders, from the Comms API (every page), shaped like comms_resolve.senders';

CREATE FUNCTION comms_resolve.remote_sender(sender_id text)
RETURNS SETOF comms_resolve.senders
AS 'MODULE_PATHNAME', 'comms_resolve_remote_sender'
LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 1;

COMMENT ON FUNCTION comms_resolve.remote_sender(text) IS
'One sender from the Comms API, or no row when it does not exist';

CREATE FUNCTION comms_resolve.remote_search_senders(address text, channel text, status text DEFAULT NULL)
RETURNS SETOF comms_resolve.senders
AS 'MODULE_PATHNAME', 'comms_resolve_remote_search_senders'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION comms_resolve.remote_search_senders(text, text, text) IS
'Senders of the account with this address on this channel, from the Comms API';

CREATE FUNCTION comms_resolve.remote_sender_pools()
RETURNS SETOF comms_resolve.sender_pools
AS 'MODULE_PATHNAME', 'comms_resolve_remote_sender_pools'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION comms_resolve.remote_sender_pools() IS
'The account''s sender pools, from the Comms API (every page), shaped like comms_resolve.sender_pools';

CREATE FUNCTION comms_resolve.remote_sender_pool(sender_pool_id text)
RETURNS SETOF comms_resolve.sender_pools
AS 'MODULE_PATHNAME', 'comms_resolve_remote_sender_pool'
LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 1;

COMMENT ON FUNCTION comms_resolve.remote_sender_pool(text) IS
'One sender pool from the Comms API, or no row when it does not exist';

CREATE FUNCTION comms_resolve.remote_pool_members(sender_pool_id text, channel text DEFAULT NULL,
                                                  status text DEFAULT NULL)
RETURNS SETOF comms_resolve.senders
AS 'MODULE_PATHNAME', 'comms_resolve_remote_pool_members'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION comms_resolve.remote_pool_members(text, text, text) IS
'The senders of one pool, from the Comms API (every page)';

-- sync: mirror the remote inventory (all of it, or one pool with its
-- members) into the local tables, in the caller's transaction.
--
-- Remote rows are first staged, page by page as they arrive, in temporary
-- tables (memory stays bounded; the inventory is untouched while pages
-- are fetched, so a failure on any page leaves it exactly as it was); then
-- one merge deletes what is gone, updates what differs and inserts what is
-- new, and reports the counts.  Rows that are already equal are not
-- written, so a sync with nothing new writes nothing.  Syncs serialize on
-- an advisory lock.
CREATE FUNCTION comms_resolve.sync(sender_pool_id text DEFAULT NULL)
RETURNS TABLE (table_name text, inserted bigint, updated bigint, deleted bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET comms_resolve.syncing = on
AS $$
DECLARE
    pool_id text := sync.sender_pool_id;
    pool record;
    pool_gone boolean := false;
    s_ins bigint := 0; s_upd bigint := 0; s_del bigint := 0;
    p_ins bigint := 0; p_upd bigint := 0; p_del bigint := 0;
    m_ins bigint := 0; m_del bigint := 0;
BEGIN
    IF pool_id IS NOT NULL AND NOT comms_resolve.is_valid_id('comms_senderpool', pool_id) THEN
        RAISE EXCEPTION 'invalid sender pool id "%"', left(pool_id, 40)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A sender pool id is "comms_senderpool_" followed by 26 to 35 lower-case base32 characters.';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('comms_resolve.sync'));

    -- (a failed sync's staging tables vanish with its (sub)transaction)
    CREATE TEMP TABLE comms_resolve_sync_senders (LIKE comms_resolve.senders) ON COMMIT DROP;
    CREATE TEMP TABLE comms_resolve_sync_pools (LIKE comms_resolve.sender_pools) ON COMMIT DROP;
    CREATE TEMP TABLE comms_resolve_sync_members (sender_pool_id text, sender_id text) ON COMMIT DROP;

    -- 1. fetch every page into the staging tables
    IF pool_id IS NULL THEN
        INSERT INTO comms_resolve_sync_senders SELECT * FROM comms_resolve.remote_senders();
        INSERT INTO comms_resolve_sync_pools SELECT * FROM comms_resolve.remote_sender_pools();
        FOR pool IN SELECT id FROM comms_resolve_sync_pools ORDER BY id LOOP
            INSERT INTO comms_resolve_sync_members
            SELECT pool.id, m.id FROM comms_resolve.remote_pool_members(pool.id) m;
        END LOOP;
    ELSE
        INSERT INTO comms_resolve_sync_pools SELECT * FROM comms_resolve.remote_sender_pool(pool_id);
        pool_gone := NOT FOUND;
        IF NOT pool_gone THEN
            INSERT INTO comms_resolve_sync_senders SELECT * FROM comms_resolve.remote_pool_members(pool_id);
            INSERT INTO comms_resolve_sync_members SELECT DISTINCT pool_id, id FROM comms_resolve_sync_senders;
        END IF;
    END IF;
    ANALYZE comms_resolve_sync_senders, comms_resolve_sync_pools, comms_resolve_sync_members;

    -- 2. delete what is gone (memberships first, so each is counted once)
    DELETE FROM comms_resolve.sender_pool_senders m
     WHERE (pool_id IS NULL OR m.sender_pool_id = pool_id)
       AND NOT EXISTS (SELECT 1 FROM comms_resolve_sync_members t
                        WHERE t.sender_pool_id = m.sender_pool_id AND t.sender_id = m.sender_id);
    GET DIAGNOSTICS m_del = ROW_COUNT;
    IF pool_id IS NULL THEN
        DELETE FROM comms_resolve.senders s
         WHERE NOT EXISTS (SELECT 1 FROM comms_resolve_sync_senders t WHERE t.id = s.id);
        GET DIAGNOSTICS s_del = ROW_COUNT;
    END IF;
    DELETE FROM comms_resolve.sender_pools p
     WHERE (pool_id IS NULL OR p.id = pool_id)
       AND NOT EXISTS (SELECT 1 FROM comms_resolve_sync_pools t WHERE t.id = p.id);
    GET DIAGNOSTICS p_del = ROW_COUNT;

    -- 3. update what differs, insert what is new
    UPDATE comms_resolve.senders s
       SET display_name = t.display_name, address = t.address, channel = t.channel,
           status = t.status, tags = t.tags, created_at = t.created_at, updated_at = t.updated_at
      FROM comms_resolve_sync_senders t
     WHERE s.id = t.id
       AND (s.display_name, s.address, s.channel, s.status, s.tags, s.created_at, s.updated_at)
           IS DISTINCT FROM
           (t.display_name, t.address, t.channel, t.status, t.tags, t.created_at, t.updated_at);
    GET DIAGNOSTICS s_upd = ROW_COUNT;
    INSERT INTO comms_resolve.senders
    SELECT t.* FROM comms_resolve_sync_senders t
     WHERE NOT EXISTS (SELECT 1 FROM comms_resolve.senders s WHERE s.id = t.id);
    GET DIAGNOSTICS s_ins = ROW_COUNT;

    UPDATE comms_resolve.sender_pools p
       SET name = t.name, tags = t.tags, created_at = t.created_at, updated_at = t.updated_at
      FROM comms_resolve_sync_pools t
     WHERE p.id = t.id
       AND (p.name, p.tags, p.created_at, p.updated_at)
           IS DISTINCT FROM (t.name, t.tags, t.created_at, t.updated_at);
    GET DIAGNOSTICS p_upd = ROW_COUNT;
    INSERT INTO comms_resolve.sender_pools
    SELECT t.* FROM comms_resolve_sync_pools t
     WHERE NOT EXISTS (SELECT 1 FROM comms_resolve.sender_pools p WHERE p.id = t.id);
    GET DIAGNOSTICS p_ins = ROW_COUNT;

    INSERT INTO comms_resolve.sender_pool_senders (sender_pool_id, sender_id)
    SELECT DISTINCT t.sender_pool_id, t.sender_id FROM comms_resolve_sync_members t
     WHERE NOT EXISTS (SELECT 1 FROM comms_resolve.sender_pool_senders m
                        WHERE m.sender_pool_id = t.sender_pool_id AND m.sender_id = t.sender_id);
    GET DIAGNOSTICS m_ins = ROW_COUNT;

    DROP TABLE comms_resolve_sync_senders, comms_resolve_sync_pools, comms_resolve_sync_members;

    RETURN QUERY VALUES ('senders'::text, s_ins, s_upd, s_del),
                        ('sender_pools', p_ins, p_upd, p_del),
                        ('sender_pool_senders', m_ins, 0::bigint, m_del);
END
$$;

COMMENT ON FUNCTION comms_resolve.sync(text) IS
'Mirrors the Comms API''s senders, pools and memberships (all, or one pool) into the local tables';

------------------------------------------------------------------------
-- Privileges
------------------------------------------------------------------------
-- Nothing that can reach the network is executable by PUBLIC.  Four roles,
-- made here when missing (roles belong to the cluster, not to a database
-- or the extension), carry the privileges of each use:
--
--   comms_resolve_reader   read the local inventory
--   comms_resolve_local    and resolve with the local resolver
--   comms_resolve_remote   and use the remote resolver and remote listing
--                          (USAGE on comms_api; a user mapping is still
--                          needed per role)
--   comms_resolve_sync     and sync: write the local inventory
--
-- The resolution functions serve both resolvers; the remote one also
-- needs USAGE on the server, which only comms_resolve_remote has.
REVOKE ALL ON FUNCTION
    comms_resolve.resolve(text, jsonb, jsonb, text),
    comms_resolve.resolve_from_sender(jsonb, jsonb, jsonb, text),
    comms_resolve.resolve_request(jsonb, text),
    comms_resolve.resolve_many(text, jsonb, jsonb, text),
    comms_resolve.remote_senders(text, text),
    comms_resolve.remote_sender(text),
    comms_resolve.remote_search_senders(text, text, text),
    comms_resolve.remote_sender_pools(),
    comms_resolve.remote_sender_pool(text),
    comms_resolve.remote_pool_members(text, text, text),
    comms_resolve.sync(text)
FROM PUBLIC;

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['comms_resolve_reader', 'comms_resolve_local',
                             'comms_resolve_remote', 'comms_resolve_sync'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$$;

GRANT USAGE ON SCHEMA comms_resolve TO comms_resolve_reader;
GRANT SELECT ON comms_resolve.senders, comms_resolve.sender_pools,
                comms_resolve.sender_pool_senders TO comms_resolve_reader;

GRANT comms_resolve_reader TO comms_resolve_local;
GRANT EXECUTE ON FUNCTION
    comms_resolve.resolve(text, jsonb, jsonb, text),
    comms_resolve.resolve_from_sender(jsonb, jsonb, jsonb, text),
    comms_resolve.resolve_request(jsonb, text),
    comms_resolve.resolve_many(text, jsonb, jsonb, text)
TO comms_resolve_local;

GRANT comms_resolve_local TO comms_resolve_remote;
GRANT USAGE ON FOREIGN SERVER comms_api TO comms_resolve_remote;
GRANT EXECUTE ON FUNCTION
    comms_resolve.remote_senders(text, text),
    comms_resolve.remote_sender(text),
    comms_resolve.remote_search_senders(text, text, text),
    comms_resolve.remote_sender_pools(),
    comms_resolve.remote_sender_pool(text),
    comms_resolve.remote_pool_members(text, text, text)
TO comms_resolve_remote;

GRANT comms_resolve_remote TO comms_resolve_sync;
GRANT INSERT, UPDATE, DELETE ON comms_resolve.senders, comms_resolve.sender_pools,
                                comms_resolve.sender_pool_senders TO comms_resolve_sync;
GRANT EXECUTE ON FUNCTION comms_resolve.sync(text) TO comms_resolve_sync;
