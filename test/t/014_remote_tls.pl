# HTTPS: with the emulator serving a test certificate, the remote resolver
# works when the server's ca_file names the test CA, and fails cleanly
# (08001, certificate verification) when it does not.
use strict;
use warnings;

use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::RealBin/../perl";
use CommsEmulator;
use CommsTest qw(new_node random_inventory load_local point_server);
use PostgreSQL::Test::Utils;
use Test::More;

srand(14);
my $dir = tempdir(CLEANUP => 1);
system("$FindBin::RealBin/../emulator/make-test-cert.sh", $dir) == 0 or die "make-test-cert.sh failed";
chmod 0644, glob("$dir/*");

my $node = new_node('tls');
my $inv = random_inventory(senders => 10, pools => 1);
my $emu = CommsEmulator->new(inventory => $inv, credentials => ['AC1:emulator-secret'],
	tls => { cert => "$dir/server.pem", key => "$dir/server.key", ca => "$dir/ca.pem" });
like($emu->base_url, qr{^https://127\.0\.0\.1:\d+/v1$}, 'the emulator serves HTTPS');
load_local($node, $inv);
point_server($node, $emu, server => { retries => '0' });

my $call = q{SELECT count(*) FROM comms_resolve.resolve(NULL, '["+14155552671", "a@example.org"]', NULL, 'remote')};
my $local = $node->safe_psql('postgres', q{SELECT count(*) FROM comms_resolve.resolve(NULL, '["+14155552671", "a@example.org"]', NULL, 'local')});

# without the CA: the certificate cannot be verified
my ($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$call");
like($err, qr/08001: could not connect to the Comms API/, 'without the test CA: 08001');
like($err, qr/certificate/i, 'without the test CA: the detail names the certificate problem');

# with the CA file
$node->safe_psql('postgres', "ALTER SERVER comms_api OPTIONS (ADD ca_file '$dir/ca.pem')");
($ret, $out, $err) = $node->psql('postgres', $call);
is($ret, 0, 'with the test CA: the call succeeds');
is($out, $local, 'with the test CA: remote over HTTPS agrees with local');

# the name must match too: localhost is in the certificate, another name is not
my $port = ($emu->base_url =~ /:(\d+)\//)[0];
$node->safe_psql('postgres', "ALTER SERVER comms_api OPTIONS (SET base_url 'https://localhost:$port/v1')");
($ret) = $node->psql('postgres', $call);
is($ret, 0, 'with the test CA, by the name localhost: succeeds');

# a wrong CA file: a clean error
$node->safe_psql('postgres', "ALTER SERVER comms_api OPTIONS (SET ca_file '$dir/missing.pem')");
($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$call");
like($err, qr/08001/, 'a missing CA file: 08001');

# plain HTTP to the HTTPS port is a clean error, not a hang
$node->safe_psql('postgres', "ALTER SERVER comms_api OPTIONS (SET base_url 'http://127.0.0.1:$port/v1', DROP ca_file)");
($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$call");
like($err, qr/ERROR:\s+(08006|08P01|08000):/, 'plain HTTP to an HTTPS server: a clean error');

$emu->stop;
$node->stop;
done_testing();
