# Faults of the Comms API, injected with the emulator: each gives its
# documented SQLSTATE, retries happen exactly for 429, 503 and connection
# failures (counted in the emulator's request log), a garbage, truncated
# or oversized body is a clean error, and the backend stays usable.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use CommsEmulator;
use CommsTest qw(new_node random_inventory load_local sql_quote point_server);
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

srand(11);
my $node = new_node('faults');
my $inv = random_inventory(senders => 20, pools => 1);
my $pool = $inv->{senderPools}[0]{id};
my $emu = CommsEmulator->new(inventory => $inv, credentials => ['AC1:emulator-secret']);
load_local($node, $inv);
point_server($node, $emu,
	server => { retries => '2', retry_ceiling_ms => '1500', request_timeout_ms => '3000', connect_timeout_ms => '1000',
		max_response_bytes => '1048576' });

my $call = "SELECT count(*) FROM comms_resolve.resolve('$pool', '[\"+14155552671\", \"a\@example.org\"]', NULL, 'remote')";
my $pid = $node->safe_psql('postgres', 'SELECT 1');

# Run the call once with the given fault rules; return (sqlstate, stderr,
# number of Resolve requests the emulator saw, seconds taken).
sub with_fault
{
	my (@rules) = @_;
	$emu->clear_faults;
	$emu->clear_log;
	$emu->faults(@rules) if @rules;
	my $t0 = time;
	my ($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$call", on_error_stop => 1);
	my $secs = time - $t0;
	my ($state) = $err =~ /ERROR:\s+([0-9A-Z]{5}):/;
	my $n = scalar @{ $emu->requests(qr{/Senders/Resolve$}) };
	$emu->clear_faults;
	return ($state // ($ret == 0 ? 'ok' : 'unknown'), $err, $n, $secs);
}

my ($state, $err, $n, $secs);

($state, $err, $n) = with_fault();
is($state, 'ok', 'no fault: the call succeeds');
is($n, 1, 'no fault: one request');

# 429 and 503: retried after Retry-After, bounded by retries
($state, $err, $n, $secs) = with_fault({ path => '/v1/Senders/Resolve', status => 429, retryAfter => 1, times => 1,
	body => '{"errors": [{"code": 20429, "message": "Too many requests", "infoUrl": "https://example.com", "context": null}]}' });
is($state, 'ok', '429 once: retried and succeeded');
is($n, 2, '429 once: two attempts');
cmp_ok($secs, '>=', 0.9, '429 once: Retry-After of 1 s honoured');

($state, $err, $n, $secs) = with_fault({ path => '/v1/Senders/Resolve', status => 429, retryAfter => 60, times => -1,
	body => '{"errors": [{"code": 20429, "message": "Too many requests", "infoUrl": "https://example.com", "context": null}]}' });
is($state, '53400', '429 always: 53400 after the retries');
is($n, 3, '429 always: 1 + 2 retries');
cmp_ok($secs, '<', 6, '429 always: Retry-After of 60 s capped by retry_ceiling_ms');
like($err, qr/API error 20429: Too many requests/, '429: the API message in DETAIL');

($state, $err, $n) = with_fault({ path => '/v1/Senders/Resolve', status => 503, retryAfter => 0, times => 2 });
is($state, 'ok', '503 twice: third attempt succeeds');
is($n, 3, '503 twice: three attempts');

($state, $err, $n) = with_fault({ path => '/v1/Senders/Resolve', status => 503, times => -1 });
is($state, '57P03', '503 always: 57P03');
is($n, 3, '503 always: three attempts');

# never retried: 500 and the other 4xx
for my $case ([ 500, '58000' ], [ 400, '22023' ], [ 404, '42704' ], [ 409, '55000' ], [ 401, '28000' ], [ 403, '42501' ])
{
	my ($status, $code) = @$case;
	($state, $err, $n) = with_fault({ path => '/v1/Senders/Resolve', status => $status, times => -1,
		body => qq({"errors": [{"code": 2$status, "message": "Injected $status", "infoUrl": "https://example.com", "context": "\$.recipientAddresses[1].address"}]}) });
	is($state, $code, "HTTP $status gives $code");
	is($n, 1, "HTTP $status is not retried");
	like($err, qr/API error 2$status: Injected $status \(at \$\.recipientAddresses\[1\]\.address\)/,
		"HTTP $status: code, message and context in DETAIL");
}

# malformed bodies: clean errors, never a crash
for my $case ([ 'garbage', '08P01' ], [ 'truncated', '08P01' ], [ 'empty', '08P01' ],
	[ '{"results": [{"from": {"senderId": 5}}]}', '08P01' ], [ '{"results": "none"}', '08P01' ],
	[ '{"results": [{"from": {"senderId": "x", "displayName": null, "channel": "FAX"}, "to": {"address": "a", "channel": "PHONE"}, "priority": 0}]}', '08P01' ],
	[ '{"results": [{"from": {"senderId": "x", "displayName": null, "channel": "SMS"}, "to": {"address": "a", "channel": "PHONE"}, "priority": -1}]}', '08P01' ],
	[ '{"results": []} trailing', '08P01' ])
{
	my ($body, $code) = @$case;
	($state, $err, $n) = with_fault({ path => '/v1/Senders/Resolve', status => 200, body => $body, times => -1 });
	is($state, $code, "body " . substr($body, 0, 30) . ": $code");
	is($n, 1, "body " . substr($body, 0, 30) . ": not retried");
}
($state, $err, $n) = with_fault({ path => '/v1/Senders/Resolve', status => 200, body => 'oversize', bytes => 5_000_000, times => -1 });
is($state, '54000', 'a body over max_response_bytes: 54000');
like($err, qr/exceeds 1048576 bytes/, 'oversize: the cap is named');

# dropped connections are connection failures: retried, then 08006
($state, $err, $n) = with_fault({ path => '/v1/Senders/Resolve', drop => JSON::PP::true, times => 1 });
is($state, 'ok', 'one dropped connection: retried and succeeded');
is($n, 2, 'one dropped connection: two attempts');
($state, $err, $n) = with_fault({ path => '/v1/Senders/Resolve', drop => JSON::PP::true, times => -1 });
is($state, '08006', 'dropped connections: 08006 after the retries');
is($n, 3, 'dropped connections: three attempts');

# a slow answer past request_timeout_ms: 08000, not retried
($state, $err, $n, $secs) = with_fault({ path => '/v1/Senders/Resolve', delayMs => 10000, times => -1 });
is($state, '08000', 'a delay past the request timeout: 08000');
is($n, 1, 'timeouts are not retried');
cmp_ok($secs, '<', 5, 'the timeout acts within its limit');
($state, $err, $n, $secs) = with_fault({ path => '/v1/Senders/Resolve', body => 'drip', times => -1 });
is($state, '08000', 'a body dripping past the request timeout: 08000');

# redirects are never followed
($state, $err, $n) = with_fault({ path => '/v1/Senders/Resolve', status => 302, times => -1 });
is($state, '08P01', 'a redirect is not followed: 08P01');
is($n, 1, 'a redirect: one request only');

# the backend survived all of it, and the next call works
($state) = with_fault();
is($state, 'ok', 'after every fault the next call works');

# a closed port on 127.0.0.1: 08001 after the retries, quickly
my $closed = PostgreSQL::Test::Cluster::get_free_port();
$node->safe_psql('postgres', "ALTER SERVER comms_api OPTIONS (SET base_url 'http://127.0.0.1:$closed/v1')");
my $t0 = time;
my ($ret, $out, $err2) = $node->psql('postgres', "\\set VERBOSITY verbose\n$call");
like($err2, qr/ERROR:\s+08001:/, 'a closed port: 08001');
like($err2, qr/after 3 attempts/, 'a closed port: connection failures are retried');
cmp_ok(time - $t0, '<', 10, 'a closed port fails fast');

$emu->stop;
$node->stop;
done_testing();
