-- privileges: nothing that reaches the network is executable by PUBLIC;
-- the extension's roles carry each use; only the server's owner changes
-- its endpoint; only a superuser turns off TLS verification.

-- Functions PUBLIC may execute: the pure helpers only.
SELECT p.proname
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'comms_resolve'
   AND (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a
                                     WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'))
 ORDER BY 1;

-- What each role may do.
SELECT r AS role,
       has_schema_privilege(r, 'comms_resolve', 'USAGE') AS schema,
       has_table_privilege(r, 'comms_resolve.senders', 'SELECT') AS read,
       has_table_privilege(r, 'comms_resolve.senders', 'INSERT') AS write,
       has_function_privilege(r, 'comms_resolve.resolve(text, jsonb, jsonb, text)', 'EXECUTE') AS resolve,
       has_foreign_data_wrapper_privilege(r, 'comms_resolve', 'USAGE') AS wrapper,
       has_server_privilege(r, 'comms_api', 'USAGE') AS server,
       has_function_privilege(r, 'comms_resolve.remote_senders(text, text)', 'EXECUTE') AS listing,
       has_function_privilege(r, 'comms_resolve.sync(text)', 'EXECUTE') AS sync
  FROM unnest(ARRAY['comms_resolve_reader', 'comms_resolve_local', 'comms_resolve_remote', 'comms_resolve_sync']) r;

-- the test's own helpers are for everyone
GRANT USAGE ON SCHEMA crt TO PUBLIC;

CREATE ROLE regress_cr_nobody;
CREATE ROLE regress_cr_app IN ROLE comms_resolve_local;
CREATE ROLE regress_cr_remote IN ROLE comms_resolve_remote;
CREATE ROLE regress_cr_owner;
INSERT INTO comms_resolve.senders (id, address, channel) VALUES (crt.sid(1), '+15035551234', 'SMS');

-- a role with no grant cannot even see the schema
SET ROLE regress_cr_nobody;
SELECT crt.try($$SELECT * FROM comms_resolve.resolve(NULL, '["+14155552671"]')$$);
RESET ROLE;

-- comms_resolve_local: local resolution, but no network
SET ROLE regress_cr_app;
SELECT sender_id, priority FROM comms_resolve.resolve(NULL, '["+14155552671"]');
SELECT crt.try($$SELECT * FROM comms_resolve.resolve(NULL, '["+14155552671"]', NULL, 'remote')$$);
SELECT crt.try($$SELECT * FROM comms_resolve.remote_senders()$$);
SELECT crt.try($$SELECT * FROM comms_resolve.sync()$$);
SELECT crt.try($$INSERT INTO comms_resolve.senders (address, channel) VALUES ('+15035550000', 'SMS')$$);
RESET ROLE;

-- comms_resolve_remote: may use the server, still needs its own mapping
SET ROLE regress_cr_remote;
SELECT crt.try($$SELECT * FROM comms_resolve.resolve(NULL, '["+14155552671"]', NULL, 'remote')$$);
SELECT crt.try($$SELECT * FROM comms_resolve.remote_senders()$$);
-- but not change where it points, nor read others' secrets
SELECT crt.try($$ALTER SERVER comms_api OPTIONS (SET base_url 'https://attacker.example/v1')$$);
SELECT crt.try($$SELECT umoptions FROM pg_user_mapping$$);
RESET ROLE;

-- a role allowed to create servers of the wrapper still cannot turn off
-- TLS verification or name a CA file
GRANT USAGE ON FOREIGN DATA WRAPPER comms_resolve TO regress_cr_owner;
SET ROLE regress_cr_owner;
SELECT crt.try($$CREATE SERVER regress_s1 FOREIGN DATA WRAPPER comms_resolve OPTIONS (base_url 'https://example.com/v1', verify_tls 'false')$$);
SELECT crt.try($$CREATE SERVER regress_s1 FOREIGN DATA WRAPPER comms_resolve OPTIONS (base_url 'https://example.com/v1', ca_file '/etc/passwd')$$);
SELECT crt.try($$CREATE SERVER regress_s1 FOREIGN DATA WRAPPER comms_resolve OPTIONS (base_url 'https://example.com/v1', verify_tls 'true')$$);
SELECT crt.try($$ALTER SERVER regress_s1 OPTIONS (SET verify_tls 'off')$$);
DROP SERVER IF EXISTS regress_s1;
RESET ROLE;
-- a superuser may
SELECT crt.try($$CREATE SERVER regress_s2 FOREIGN DATA WRAPPER comms_resolve OPTIONS (base_url 'https://example.com/v1', verify_tls 'false', ca_file '/tmp/ca.pem')$$);
DROP SERVER regress_s2;

REVOKE USAGE ON FOREIGN DATA WRAPPER comms_resolve FROM regress_cr_owner;
DROP ROLE regress_cr_nobody, regress_cr_app, regress_cr_remote, regress_cr_owner;
DELETE FROM comms_resolve.senders;
REVOKE USAGE ON SCHEMA crt FROM PUBLIC;
