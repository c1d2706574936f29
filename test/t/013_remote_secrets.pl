# Credentials: wrong credentials give the documented error, a role without
# a user mapping gets a clear error, other roles cannot read the secret,
# and with log_min_messages = debug5 no error path writes the secret to
# the server log.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use CommsEmulator;
use CommsTest qw(new_node random_inventory load_local point_server);
use PostgreSQL::Test::Utils;
use Test::More;

my $secret = 'Sup3r-S3cret-Token-7f9a';
my $api_secret = 'Api-Key-Secret-2b4c-0042';
srand(13);
# log_statement is off: PostgreSQL itself logs the text of statements when
# asked to, including the CREATE USER MAPPING that sets a secret; what is
# checked here is that nothing comms_resolve does, on any path, logs one.
my $node = new_node('secrets', log_min_messages => 'debug5', log_statement => 'none',
	log_error_verbosity => 'verbose');
my $inv = random_inventory(senders => 10, pools => 1);
my $emu = CommsEmulator->new(inventory => $inv, credentials => ["AC1:$secret", "SK1:$api_secret"]);
load_local($node, $inv);
point_server($node, $emu, secret => $secret, server => { retries => '1', retry_ceiling_ms => '100', request_timeout_ms => '1500' });

my $call = q{SELECT count(*) FROM comms_resolve.resolve(NULL, '["+14155552671"]', NULL, 'remote')};
my ($ret, $out, $err) = $node->psql('postgres', $call);
is($ret, 0, 'the right account credentials work');

# the API key pair works too
$node->safe_psql('postgres', "ALTER USER MAPPING FOR CURRENT_USER SERVER comms_api OPTIONS (DROP account_id, DROP auth_token, ADD api_key 'SK1', ADD api_key_secret '$api_secret')");
($ret) = $node->psql('postgres', $call);
is($ret, 0, 'the API key pair works');
is($emu->log->[-1]{user}, 'SK1', 'the API key is the Basic user');

# wrong credentials
$node->safe_psql('postgres', "ALTER USER MAPPING FOR CURRENT_USER SERVER comms_api OPTIONS (SET api_key_secret 'wrong-$api_secret')");
($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$call");
like($err, qr/28000: the Comms API did not accept the credentials/, 'wrong credentials: 28000');
unlike($err, qr/\Q$api_secret\E/, 'wrong credentials: the secret is not in the message');
$node->safe_psql('postgres', "ALTER USER MAPPING FOR CURRENT_USER SERVER comms_api OPTIONS (SET api_key_secret '$api_secret')");

# a role without a user mapping
$node->safe_psql('postgres', q{
	CREATE ROLE alice LOGIN IN ROLE comms_resolve_remote;
	CREATE ROLE bob LOGIN IN ROLE comms_resolve_local;
	CREATE USER MAPPING FOR alice SERVER comms_api OPTIONS (account_id 'AC1', auth_token 'alice-token-0451');
});
($ret, $out, $err) = $node->psql('postgres', "SET ROLE bob;\n\\set VERBOSITY verbose\n$call");
like($err, qr/42501: permission denied for foreign server comms_api/, 'a role without USAGE on the server: 42501');
$node->safe_psql('postgres', 'GRANT USAGE ON FOREIGN SERVER comms_api TO bob');
($ret, $out, $err) = $node->psql('postgres', "SET ROLE bob;\n\\set VERBOSITY verbose\n$call");
like($err, qr/28000: no user mapping for role "bob" on server "comms_api"/, 'a role without a user mapping: 28000');

# another role cannot read the secret
my $seen = $node->safe_psql('postgres', q{SET ROLE bob; SELECT coalesce(array_to_string(umoptions, ','), '<hidden>') FROM pg_user_mappings WHERE usename = 'alice'});
is($seen, '<hidden>', 'another role sees no options of alice\'s user mapping');
$seen = $node->safe_psql('postgres', q{SET ROLE alice; SELECT array_to_string(umoptions, ',') FROM pg_user_mappings WHERE usename = 'alice'});
like($seen, qr/alice-token-0451/, 'alice sees her own mapping');
($ret, $out, $err) = $node->psql('postgres', q{SET ROLE bob; SELECT * FROM pg_user_mapping});
like($err, qr/permission denied/, 'the catalog pg_user_mapping itself is not readable');

# every error path once more, with the secret in force, for the log check
$emu->faults({ path => '/v1/Senders/Resolve', status => $_, times => 1,
	body => '{"errors": [{"code": 1, "message": "injected", "infoUrl": "https://example.com", "context": null}]}' })
  for (400, 401, 403, 404, 409, 500);
for my $i (1 .. 6) { $node->psql('postgres', $call) }
for my $body ('garbage', 'truncated', 'empty', 'oversize')
{
	$emu->faults({ path => '/v1/Senders/Resolve', status => 200, body => $body, times => -1, bytes => 20_000_000 });
	$node->psql('postgres', $call);
	$emu->clear_faults;
}
$emu->faults({ path => '/v1/Senders/Resolve', status => 429, retryAfter => 0, times => -1 });
$node->psql('postgres', $call);
$emu->clear_faults;
$emu->faults({ path => '/v1/Senders/Resolve', drop => JSON::PP::true, times => -1 });
$node->psql('postgres', $call);
$emu->clear_faults;
$emu->faults({ path => '/v1/Senders/Resolve', delayMs => 5000, times => -1 });
$node->psql('postgres', $call);
$emu->clear_faults;
$node->psql('postgres', "SET statement_timeout = 200; SELECT count(*) FROM comms_resolve.resolve(NULL, '[\"+1415555\"]', NULL, 'remote')");
$node->psql('postgres', "ALTER USER MAPPING FOR CURRENT_USER SERVER comms_api OPTIONS (SET api_key_secret 'wrong-$api_secret')");
$node->psql('postgres', $call);
$node->safe_psql('postgres', "ALTER SERVER comms_api OPTIONS (SET base_url 'http://127.0.0.1:1/v1')");
$node->psql('postgres', $call);

my $log = slurp_file($node->logfile);
like($log, qr/comms_resolve: POST \/Senders\/Resolve/, 'the server log has debug output of the client');
unlike($log, qr/\Q$secret\E/, 'the account auth token never appears in the server log');
unlike($log, qr/\Q$api_secret\E/, 'the API key secret never appears in the server log');
unlike($log, qr/alice-token-0451/, 'alice\'s token never appears in the server log');
my @requests = @{ $emu->log };
ok(!grep({ ($_->{user} // '') =~ /\Q$secret\E|\Q$api_secret\E/ } @requests), 'the emulator log holds user names only');

$emu->stop;
$node->stop;
done_testing();
