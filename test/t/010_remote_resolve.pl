# The remote resolver against the emulator: it agrees with the local
# resolver on 1,000 random requests over the same inventory, and the
# reference example gives its three pairs through every entry point.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use CommsEmulator;
use CommsTest qw(new_node random_inventory load_local sql_quote point_server agreement);
use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;

my $json = JSON::PP->new->canonical;
srand(20261203);

my $node = new_node('remote');
my $inv = random_inventory(senders => 90, pools => 5);

# the reference example's pool, alongside
my $seed_pool = 'comms_senderpool_01h9krwprkeee8fzqspvwy6nq8';
my @seed = (
	[ 'comms_sender_01h9krwprkeee8fzqspvwy6001', 'support@company.com', 'EMAIL' ],
	[ 'comms_sender_01h9krwprkeee8fzqspvwy6002', '+15035551234', 'SMS' ],
	[ 'comms_sender_01h9krwprkeee8fzqspvwy6003', '+15035551234', 'WHATSAPP' ]);
for my $s (@seed)
{
	push @{ $inv->{senders} },
	  { id => $s->[0], displayName => 'Customer Support', address => $s->[1], channel => $s->[2],
		status => 'ACTIVATED', tags => {}, createdAt => '2024-01-01T00:00:00Z', updatedAt => '2024-01-01T00:00:00Z' };
}
push @{ $inv->{senderPools} },
  { id => $seed_pool, name => 'Customer Support', tags => {}, createdAt => '2024-01-01T00:00:00Z',
	updatedAt => '2024-01-01T00:00:00Z', senders => [ map { $_->[0] } @seed ] };

my $emu = CommsEmulator->new(inventory => $inv, credentials => ['AC1:emulator-secret']);
load_local($node, $inv);
point_server($node, $emu);

# --- the reference example, remotely
my $seed_recipients = '[{"address": "+14155552671", "channel": "PHONE"}, {"address": "+14155552671", "channel": "WHATSAPP"}, {"address": "jane.doe@example.com", "channel": "EMAIL"}]';
my $seed_channels = '{"filterIn": ["SMS", "EMAIL", "WHATSAPP"], "priority": [{"channel": "EMAIL", "priority": 0}, {"channel": "SMS", "priority": 1}, {"channel": "WHATSAPP", "priority": 2}]}';
my $q = "SELECT string_agg(concat_ws(' ', channel, from_address, to_address, to_channel, priority, display_name), E'\\n' ORDER BY o)
         FROM comms_resolve.resolve('$seed_pool', '$seed_recipients', '$seed_channels', %s)
              WITH ORDINALITY r(sender_id, from_address, to_address, channel, priority, display_name, to_channel, o)";
my $expected = join("\n",
	'EMAIL support@company.com jane.doe@example.com EMAIL 0 Customer Support',
	'SMS +15035551234 +14155552671 PHONE 1 Customer Support',
	'WHATSAPP +15035551234 +14155552671 WHATSAPP 2 Customer Support');
is($node->safe_psql('postgres', sprintf($q, "'remote'")), $expected, 'reference example through the remote resolver');
is($node->safe_psql('postgres', sprintf($q, "'local'")), $expected, 'reference example through the local resolver');
is($node->safe_psql('postgres', "SET comms_resolve.resolver = remote; " . sprintf($q, 'NULL')),
	$expected, 'the setting comms_resolve.resolver picks the remote resolver');

my $body = $json->encode({ senderPoolId => $seed_pool,
	recipientAddresses => $json->decode($seed_recipients), channels => $json->decode($seed_channels) });
my $resp = $json->decode($node->safe_psql('postgres',
	"SELECT comms_resolve.resolve_request(" . sql_quote($body) . ", 'remote')"));
is(scalar @{ $resp->{results} }, 3, 'resolve_request remote returns the API body with three results');
is_deeply([ sort map { "$_->{from}{channel} $_->{priority}" } @{ $resp->{results} } ],
	[ 'EMAIL 0', 'SMS 1', 'WHATSAPP 2' ], 'resolve_request remote: the three pairs of the example');
my $log = $emu->requests(qr{/Senders/Resolve$});
is($log->[-1]{user}, 'AC1', 'requests carry Basic auth with the mapped account id');

# form B remotely: one sender
is($node->safe_psql('postgres', q{
	SELECT string_agg(channel || ' ' || to_address || ' ' || priority, ', ')
	  FROM comms_resolve.resolve_from_sender('{"address": "+15035551234", "channel": "SMS"}',
	       '["+14155552671", "jane.doe@example.com"]', NULL, 'remote')}),
	'SMS +14155552671 0', 'resolve_from_sender through the remote resolver');

# --- local and remote agree on 1,000 random requests
my ($agree, $first_bad) = agreement($node, $inv, 1000);
is($agree, 1000, 'local and remote resolution agree on 1,000 random requests')
  or diag("first disagreement: " . $json->encode($first_bad));
my $resolves = scalar @{ $emu->requests(qr{/Senders/Resolve$}) };
cmp_ok($resolves, '>=', 1000, "the emulator answered the remote side ($resolves Resolve requests)");

# the client sorts by priority itself: the emulator shuffles its results
my $sorted = $node->safe_psql('postgres', q{
	SELECT bool_and(priority >= lag) FROM (
	  SELECT priority, coalesce(lag(priority) OVER (ORDER BY o), 0) AS lag
	    FROM comms_resolve.resolve(NULL, '["+14155552671", "whatsapp:+14155552671", "a@example.org", {"address": "d", "channel": "PUSH"}]', NULL, 'remote')
	         WITH ORDINALITY r(sender_id, from_address, to_address, channel, priority, display_name, to_channel, o)) s});
is($sorted, 't', 'remote rows come out sorted by priority');

# keep-alive: one backend's calls share one connection; with
# reuse_connections off every call opens its own
sub connections_of
{
	my ($settings) = @_;
	$emu->clear_log;
	$node->safe_psql('postgres', qq{$settings
		SELECT count(*) FROM generate_series(1, 20) g
		 CROSS JOIN LATERAL comms_resolve.resolve(NULL, jsonb_build_array('+1415555' || lpad(g::text, 4, '0')), NULL, 'remote')});
	my $reqs = $emu->requests(qr{/Senders/Resolve$});
	my %conns = map { $_->{conn} => 1 } @$reqs;
	return (scalar @$reqs, scalar keys %conns);
}
my ($reqs, $conns) = connections_of('');
is($reqs, 20, '20 calls, 20 requests');
is($conns, 1, 'with reuse, one backend sends them all on one connection');
($reqs, $conns) = connections_of('SET comms_resolve.reuse_connections = off;');
is($conns, 20, 'with reuse_connections off, every call opens a connection');

$emu->stop;
$node->stop;
done_testing();
