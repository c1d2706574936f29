-- remote_config: the comms_resolve foreign-data wrapper, its server and
-- user mappings; no request leaves the machine in this test.

SELECT fdwname, fdwvalidator::regproc, fdwhandler FROM pg_foreign_data_wrapper WHERE fdwname = 'comms_resolve';
SELECT srvname, srvoptions FROM pg_foreign_server WHERE srvname = 'comms_api';

-- Server options: base_url (http or https, nothing secret in it) and limits.
SELECT crt.try($$CREATE SERVER s1 FOREIGN DATA WRAPPER comms_resolve$$);
SELECT crt.try($$CREATE SERVER s1 FOREIGN DATA WRAPPER comms_resolve OPTIONS (base_url 'ftp://example.com/v1')$$);
SELECT crt.try($$CREATE SERVER s1 FOREIGN DATA WRAPPER comms_resolve OPTIONS (base_url 'file:///etc/passwd')$$);
SELECT crt.try($$CREATE SERVER s1 FOREIGN DATA WRAPPER comms_resolve OPTIONS (base_url 'not a url')$$);
SELECT crt.try($$CREATE SERVER s1 FOREIGN DATA WRAPPER comms_resolve OPTIONS (base_url 'https://AC1:tok@example.com/v1')$$);
SELECT crt.try($$CREATE SERVER s1 FOREIGN DATA WRAPPER comms_resolve OPTIONS (base_url 'https://example.com/v1?x=1')$$);
SELECT crt.try($$CREATE SERVER s1 FOREIGN DATA WRAPPER comms_resolve OPTIONS (base_url 'https://example.com/v1/')$$);
SELECT crt.try($$CREATE SERVER s1 FOREIGN DATA WRAPPER comms_resolve OPTIONS (base_url 'https://example.com/v1', auth_token 'x')$$);
SELECT crt.try($$CREATE SERVER s1 FOREIGN DATA WRAPPER comms_resolve OPTIONS (base_url 'https://example.com/v1', account_id 'x')$$);
SELECT crt.try($$CREATE SERVER s1 FOREIGN DATA WRAPPER comms_resolve OPTIONS (base_url 'https://example.com/v1', host 'x')$$);
SELECT crt.try($$CREATE SERVER s1 FOREIGN DATA WRAPPER comms_resolve OPTIONS (base_url 'https://example.com/v1', retries '11')$$);
SELECT crt.try($$CREATE SERVER s1 FOREIGN DATA WRAPPER comms_resolve OPTIONS (base_url 'https://example.com/v1', request_timeout_ms 'soon')$$);
SELECT crt.try($$CREATE SERVER s1 FOREIGN DATA WRAPPER comms_resolve OPTIONS (base_url 'https://example.com/v1', verify_tls 'maybe')$$);
SELECT crt.try($$CREATE SERVER s1 FOREIGN DATA WRAPPER comms_resolve OPTIONS (base_url 'https://example.com/v1', ca_file 'relative.pem')$$);
SELECT crt.try($$CREATE SERVER s1 FOREIGN DATA WRAPPER comms_resolve OPTIONS (base_url 'http://127.0.0.1:8080/v1',
    connect_timeout_ms '100', request_timeout_ms '1000', retries '0', retry_ceiling_ms '0',
    max_response_bytes '1024', ca_file '/tmp/ca.pem', verify_tls 'on')$$);
SELECT crt.try($$ALTER SERVER s1 OPTIONS (DROP base_url)$$);
SELECT crt.try($$ALTER FOREIGN DATA WRAPPER comms_resolve OPTIONS (base_url 'https://example.com/v1')$$);
DROP SERVER s1;

-- User mappings: exactly one complete credential pair, nothing else.
SELECT crt.try($$CREATE USER MAPPING FOR CURRENT_USER SERVER comms_api OPTIONS (account_id 'AC1')$$);
SELECT crt.try($$CREATE USER MAPPING FOR CURRENT_USER SERVER comms_api OPTIONS (auth_token 'secret-1')$$);
SELECT crt.try($$CREATE USER MAPPING FOR CURRENT_USER SERVER comms_api OPTIONS (api_key 'SK1')$$);
SELECT crt.try($$CREATE USER MAPPING FOR CURRENT_USER SERVER comms_api OPTIONS (account_id 'AC1', auth_token 'secret-1', api_key 'SK1', api_key_secret 'secret-2')$$);
SELECT crt.try($$CREATE USER MAPPING FOR CURRENT_USER SERVER comms_api OPTIONS (account_id 'AC1', auth_token '')$$);
SELECT crt.try($$CREATE USER MAPPING FOR CURRENT_USER SERVER comms_api OPTIONS (account_id 'AC:1', auth_token 'secret-1')$$);
SELECT crt.try($$CREATE USER MAPPING FOR CURRENT_USER SERVER comms_api OPTIONS (account_id 'AC1', auth_token 'secret-1', base_url 'https://x/v1')$$);
SELECT crt.try($$CREATE USER MAPPING FOR CURRENT_USER SERVER comms_api OPTIONS (user 'AC1', password 'secret-1')$$);
-- no error above quoted a secret value
SELECT crt.try($$CREATE USER MAPPING FOR CURRENT_USER SERVER comms_api OPTIONS (api_key 'SK1', api_key_secret 'sec:ret')$$);
DROP USER MAPPING FOR CURRENT_USER SERVER comms_api;

-- Using the remote resolver needs a server of this wrapper and a mapping.
SELECT crt.try($$SELECT * FROM comms_resolve.resolve(NULL, '["+14155552671"]', NULL, 'remote')$$);
SET comms_resolve.server = 'no_such_server';
SELECT crt.try($$SELECT * FROM comms_resolve.resolve(NULL, '["+14155552671"]', NULL, 'remote')$$);
RESET comms_resolve.server;
-- input is validated before anything is sent
SELECT crt.try($$SELECT * FROM comms_resolve.resolve(NULL, '["nope"]', NULL, 'remote')$$);

-- Settings of the client, with units.
SHOW comms_resolve.server;
SHOW comms_resolve.connect_timeout;
SHOW comms_resolve.request_timeout;
SHOW comms_resolve.retries;
SHOW comms_resolve.retry_ceiling;
SHOW comms_resolve.max_response_size;
SELECT crt.try($$SET comms_resolve.retries = 11$$);
