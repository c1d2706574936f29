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
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN jsonb_typeof(tags) = 'object'
   AND (SELECT count(*) <= 10
               AND coalesce(bool_and(
                     jsonb_typeof(t.value) = 'string'
                     AND length(t.key) BETWEEN 1 AND 128
                     AND t.key ~ '^[a-zA-Z0-9._~-]+$'
                     AND length(t.value #>> '{}') BETWEEN 1 AND 256
                     AND (t.value #>> '{}') ~ '^[a-zA-Z0-9._~-]+$'), true)
          FROM pg_catalog.jsonb_each(
                 CASE WHEN jsonb_typeof(tags) = 'object' THEN tags ELSE '{}' END) AS t);

COMMENT ON FUNCTION comms_resolve.tags_are_valid(jsonb) IS
'Whether tags is an object of at most 10 string pairs within the API''s limits';

-- Keep updated_at current unless the writer sets it itself (as sync does).
CREATE FUNCTION comms_resolve.touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
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
