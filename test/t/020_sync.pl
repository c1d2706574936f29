# Inventory sync against the emulator: 2,500 senders, 12 pools and about
# 4,000 memberships in pages of 100.  sync() mirrors them exactly, a
# second sync changes nothing, remote changes arrive with the right
# counts (for sync() and sync(pool)), a 500 on the 7th page leaves the
# local tables as they were, and after a sync local and remote resolution
# agree.
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
srand(20);
my $node = new_node('sync');
my $inv = random_inventory(senders => 2500, pools => 12, member_rate => 4000 / (2500 * 12));
# tags and timestamps as the API has them
for my $s (@{ $inv->{senders} })
{
	$s->{tags} = { team => 'support', tier => 't' . int(rand(3)) } if rand() < 0.3;
	$s->{createdAt} = sprintf('2024-%02d-%02dT10:%02d:00Z', 1 + int(rand(12)), 1 + int(rand(28)), int(rand(60)));
	$s->{updatedAt} = '2025-06-01T12:00:00.123Z';
}
my $members = 0;
$members += scalar @{ $_->{senders} } for @{ $inv->{senderPools} };
diag("inventory: " . scalar(@{ $inv->{senders} }) . " senders, 12 pools, $members memberships");

my $emu = CommsEmulator->new(inventory => $inv, credentials => ['AC1:emulator-secret'], page_size => 100);
point_server($node, $emu, server => { retries => '1', retry_ceiling_ms => '100' });
# let the API choose its page size (the emulator's: 100)
$node->safe_psql('postgres', 'ALTER DATABASE postgres SET comms_resolve.page_size = 0');

# The local inventory as canonical text, and the emulator's.
sub local_state
{
	return $node->safe_psql('postgres', q{
		SELECT string_agg(concat_ws('|', id, coalesce(display_name, '<null>'), address, channel, status, tags::text,
		                            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS'),
		                            to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS')), E'\n' ORDER BY id)
		  FROM comms_resolve.senders}) . "\n--\n" .
	  $node->safe_psql('postgres', q{
		SELECT string_agg(concat_ws('|', id, name, tags::text), E'\n' ORDER BY id) FROM comms_resolve.sender_pools}) . "\n--\n" .
	  $node->safe_psql('postgres', q{
		SELECT string_agg(sender_pool_id || '|' || sender_id, E'\n' ORDER BY sender_pool_id, sender_id)
		  FROM comms_resolve.sender_pool_senders});
}

sub ts
{
	my ($t) = @_;
	my ($d, $frac) = $t =~ /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/ or die "unexpected timestamp $t";
	return $d . '.' . substr(($frac // '') . '000', 0, 3);
}

sub remote_state
{
	my ($i) = @_;
	my @s = sort { $a->{id} cmp $b->{id} } @{ $i->{senders} };
	my @p = sort { $a->{id} cmp $b->{id} } @{ $i->{senderPools} };
	my @m;
	for my $p (@p) { push @m, "$p->{id}|$_" for sort @{ $p->{senders} } }
	my $pg_json = sub {
		my ($o) = @_;
		# PostgreSQL's jsonb text: keys sorted by length then bytes, ", " and ": "
		return '{' . join(', ', map { "\"$_\": " . $json->encode($o->{$_}) }
			  sort { length($a) <=> length($b) || $a cmp $b } keys %$o) . '}';
	};
	return join("\n", map {
			join('|', $_->{id}, $_->{displayName} // '<null>', $_->{address}, $_->{channel}, $_->{status},
				$pg_json->($_->{tags}), ts($_->{createdAt}), ts($_->{updatedAt}))
		} @s) . "\n--\n" .
	  join("\n", map { join('|', $_->{id}, $_->{name}, $pg_json->($_->{tags})) } @p) . "\n--\n" .
	  join("\n", sort @m);
}

sub sync_counts
{
	my ($arg) = @_;
	my $r = $node->safe_psql('postgres',
		"SELECT string_agg(table_name || ' ' || inserted || '/' || updated || '/' || deleted, ', ' ORDER BY table_name) FROM comms_resolve.sync($arg)");
	return $r;
}

# --- listing functions: every row across pages, in a stable order
is($node->safe_psql('postgres', 'SELECT count(*) FROM comms_resolve.remote_senders()'),
	scalar @{ $inv->{senders} }, 'remote_senders() returns every sender across 25 pages');
my $order1 = $node->safe_psql('postgres', "SELECT string_agg(id, ',') FROM comms_resolve.remote_senders()");
my $order2 = $node->safe_psql('postgres', "SELECT string_agg(id, ',') FROM comms_resolve.remote_senders()");
is($order1, $order2, 'remote_senders() returns them in a stable order');
is($node->safe_psql('postgres', 'SELECT count(*) FROM comms_resolve.remote_senders(status => \'DEACTIVATED\')'),
	scalar(grep { $_->{status} eq 'DEACTIVATED' } @{ $inv->{senders} }), 'remote_senders(status) filters');
is($node->safe_psql('postgres', 'SELECT count(*) FROM comms_resolve.remote_senders(channel => \'EMAIL\')'),
	scalar(grep { $_->{channel} eq 'EMAIL' } @{ $inv->{senders} }), 'remote_senders(channel) filters');
is($node->safe_psql('postgres', 'SELECT count(*) FROM comms_resolve.remote_sender_pools()'), 12, 'remote_sender_pools()');
my $p0 = $inv->{senderPools}[0];
is($node->safe_psql('postgres', "SELECT count(*) FROM comms_resolve.remote_pool_members('$p0->{id}')"),
	scalar @{ $p0->{senders} }, 'remote_pool_members() of a pool, across pages');
my $s0 = $inv->{senders}[0];
is($node->safe_psql('postgres', "SELECT address || ' ' || channel FROM comms_resolve.remote_sender('$s0->{id}')"),
	"$s0->{address} $s0->{channel}", 'remote_sender(id)');
is($node->safe_psql('postgres', "SELECT count(*) FROM comms_resolve.remote_sender('comms_sender_01h9krwprkeee8fzqspvwy6zzz')"),
	0, 'remote_sender of an unknown id: no row');
is($node->safe_psql('postgres', "SELECT string_agg(id, ',') FROM comms_resolve.remote_search_senders(" .
	  sql_quote($s0->{address}) . ", '$s0->{channel}')"), $s0->{id}, 'remote_search_senders(address, channel)');

# --- the first sync mirrors everything
my $n_s = scalar @{ $inv->{senders} };
is(sync_counts('NULL'), "sender_pool_senders $members/0/0, sender_pools 12/0/0, senders $n_s/0/0",
	'first sync() inserts everything');
is(local_state(), remote_state($inv), 'sync() mirrors every row');

# --- a second sync changes and writes nothing
my $versions = q{SELECT md5(string_agg(ctid::text || xmin::text, ',' ORDER BY id)) FROM comms_resolve.senders};
my $before = $node->safe_psql('postgres', $versions);
is(sync_counts('NULL'), 'sender_pool_senders 0/0/0, sender_pools 0/0/0, senders 0/0/0',
	'a second sync() reports zero changes');
is($node->safe_psql('postgres', $versions), $before, 'and writes no row');

# --- a 500 on the 7th page: the error surfaces, nothing changes
my $state = local_state();
push @{ $inv->{senders} }, { %{ $inv->{senders}[1] }, id => 'comms_sender_01h9krwprkeee8fzqspvwy7new', address => '+19995550000' };
$emu->set_inventory($inv);
$emu->clear_log;
$emu->faults({ method => 'GET', path => '/v1/Senders', skip => 6, times => 1, status => 500 });
my ($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\nSELECT * FROM comms_resolve.sync()");
like($err, qr/58000: the Comms API failed/, 'a 500 on the 7th page: the error surfaces');
is(scalar @{ $emu->requests(qr{^/v1/Senders$}) }, 7, 'the sync stopped at the 7th page');
is(local_state(), $state, 'a 500 on the 7th page: the local tables are unchanged');
# also when the caller catches the error and goes on in its transaction
$emu->faults({ method => 'GET', path => '/v1/Senders', skip => 6, times => 1, status => 500 });
($ret, $out, $err) = $node->psql('postgres', q{
	DO $$ BEGIN
	  PERFORM comms_resolve.sync();
	EXCEPTION WHEN system_error THEN RAISE NOTICE 'caught';
	END $$;});
like($err, qr/NOTICE:  caught/, 'a caller can catch the failed sync');
is(local_state(), $state, 'and the local tables are unchanged after it');
$emu->clear_faults;

# --- remote changes: added, deactivated, removed senders; members added
# and removed; a pool deleted
my @senders = @{ $inv->{senders} };
my %deleted_ids;
my ($added, $deactivated, $removed) = (0, 0, 0);
for my $i (1 .. 30)
{
	push @senders, { id => sprintf('comms_sender_01h9krwprkeee8fzqspvwy8%03d', $i), displayName => "New $i",
		address => "+1777555" . sprintf('%04d', $i), channel => 'SMS', status => 'ACTIVATED', tags => {},
		createdAt => '2026-01-01T00:00:00Z', updatedAt => '2026-01-01T00:00:00Z' };
	$added++;
}
for my $s (@senders[ 10 .. 29 ])
{
	next if $s->{status} eq 'DEACTIVATED';
	$s->{status} = 'DEACTIVATED';
	$s->{updatedAt} = '2026-02-01T00:00:00Z';
	$deactivated++;
}
for my $s (@senders[ 100 .. 124 ]) { $deleted_ids{ $s->{id} } = 1; $removed++ }
@senders = grep { !$deleted_ids{ $_->{id} } } @senders;
my @pools = @{ $inv->{senderPools} };
my $gone_pool = pop @pools;
my $member_changes = { add => 0, del => 0 };
my $old_members = 0;
$old_members += scalar @{ $_->{senders} } for @{ $inv->{senderPools} };
for my $p (@pools)
{
	my @m = grep { !$deleted_ids{$_} } @{ $p->{senders} };
	splice(@m, 0, 3) if @m > 3;
	push @m, map { $_->{id} } @senders[ 2500 .. 2504 ];
	$p->{senders} = [ sort keys %{ { map { $_ => 1 } @m } } ];
}
$inv = { senders => \@senders, senderPools => \@pools };
$emu->set_inventory($inv);
my $new_members = 0;
$new_members += scalar @{ $_->{senders} } for @pools;
my $counts = sync_counts('NULL');
like($counts, qr/senders 31\/$deactivated\/$removed$/, "sync() after changes: 31 added (incl. the one from before), $deactivated updated, $removed removed")
  or diag($counts);
like($counts, qr/sender_pools 0\/0\/1/, 'sync() after changes: one pool deleted');
is(local_state(), remote_state($inv), 'after the changes, local mirrors remote exactly');
my ($mi, $md) = $counts =~ /sender_pool_senders (\d+)\/0\/(\d+)/;
is($md - $mi, $old_members - $new_members, 'membership counts add up');

# --- sync(pool): one pool, its members and their senders
my $p = $pools[0];
my @kept = @{ $p->{senders} }[ 2 .. $#{ $p->{senders} } ];
my $dropped = scalar(@{ $p->{senders} }) - scalar(@kept);
$p->{senders} = [ @kept, 'comms_sender_01h9krwprkeee8fzqspvwy9new' ];
push @{ $inv->{senders} }, { id => 'comms_sender_01h9krwprkeee8fzqspvwy9new', displayName => undef,
	address => 'new@example.com', channel => 'EMAIL', status => 'ACTIVATED', tags => {},
	createdAt => '2026-03-01T00:00:00Z', updatedAt => '2026-03-01T00:00:00Z' };
my ($member) = grep { $_->{id} eq $kept[0] } @{ $inv->{senders} };
$member->{displayName} = 'Renamed member';
$member->{updatedAt} = '2026-03-02T00:00:00Z';
$pools[1]{senders} = [];    # another pool changes too, but is out of scope
$emu->set_inventory($inv);
is(sync_counts(sql_quote($p->{id})), "sender_pool_senders 1/0/$dropped, sender_pools 0/0/0, senders 1/1/0",
	'sync(pool): its new member, the renamed member and the dropped memberships');
my $other = $node->safe_psql('postgres', "SELECT count(*) FROM comms_resolve.sender_pool_senders WHERE sender_pool_id = '$pools[1]{id}'");
cmp_ok($other, '>', 0, 'sync(pool) leaves other pools alone');
is(sync_counts(sql_quote($p->{id})), 'sender_pool_senders 0/0/0, sender_pools 0/0/0, senders 0/0/0',
	'a second sync(pool) changes nothing');
# the pool deleted remotely
my $gone = shift @{ $inv->{senderPools} };
$emu->set_inventory($inv);
my $gone_members = $node->safe_psql('postgres', "SELECT count(*) FROM comms_resolve.sender_pool_senders WHERE sender_pool_id = '$gone->{id}'");
is(sync_counts(sql_quote($gone->{id})), "sender_pool_senders 0/0/$gone_members, sender_pools 0/0/1, senders 0/0/0",
	'sync(pool) of a pool deleted remotely removes it and its memberships');
is(sync_counts('NULL') =~ /senders 0\/0\/0$/ ? 'ok' : 'changed', 'ok', 'a full sync afterwards finds the senders in place');
is(local_state(), remote_state($inv), 'and local mirrors remote exactly again');

# --- after a sync, local and remote resolution agree
my ($agree, $first_bad) = agreement($node, $inv, 1000);
is($agree, 1000, 'after sync, local and remote agree on 1,000 random requests')
  or diag('first disagreement: ' . $json->encode($first_bad));

$emu->stop;
$node->stop;
done_testing();
