# CommsTest.pm: shared pieces of the comms_resolve TAP tests: a node with
# the extension, random inventories that can be loaded both into the
# emulator and into the local tables, and SQL quoting.
package CommsTest;

use strict;
use warnings;

use Exporter 'import';
use JSON::PP;
use PostgreSQL::Test::Cluster;

our @EXPORT_OK = qw(new_node random_inventory load_local sql_quote point_server random_request agreement);

my $json = JSON::PP->new->canonical;
my @alphabet = split //, '0123456789abcdefghjkmnpqrstvwxyz';

# A started node with comms_resolve created in database postgres.
sub new_node
{
	my ($name, %conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', join("\n", map { "$_ = $conf{$_}" } sort keys %conf) . "\n")
	  if %conf;
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION comms_resolve');
	return $node;
}

sub sql_quote
{
	my ($s) = @_;
	return 'NULL' unless defined $s;
	$s =~ s/'/''/g;
	return "'$s'";
}

sub typeid
{
	my ($prefix) = @_;
	return $prefix . '_' . int(rand(8)) . join('', map { $alphabet[ int(rand(32)) ] } 1 .. 25);
}

sub e164
{
	my @cc = ('1415', '1212', '1646', '44', '33', '49', '7', '353', '91', '801');
	return '+' . $cc[ int(rand(@cc)) ] . join('', map { int(rand(10)) } 1 .. 8);
}

# A random inventory in the emulator's file format (srand first for a
# fixed inventory): senders over every channel and both statuses, pools.
sub random_inventory
{
	my (%o) = @_;
	my $n = $o{senders} // 80;
	my $np = $o{pools} // 4;
	my (@senders, @pools, %seen);
	my @channels = qw(SMS RCS EMAIL WHATSAPP PUSH);
	for my $i (1 .. $n)
	{
		my $ch = $channels[ int(rand(@channels)) ];
		my $addr =
		    $ch eq 'EMAIL' ? "sender$i\@example.com"
		  : $ch eq 'PUSH' ? "push-app-$i"
		  : $ch eq 'RCS' && rand() < 0.5 ? "rcs_agent_$i"
		  : e164();
		next if $seen{"$ch|$addr"}++;
		push @senders,
		  {
			id => typeid('comms_sender'),
			displayName => rand() < 0.2 ? undef : "Sender $i",
			address => $addr,
			channel => $ch,
			status => rand() < 0.8 ? 'ACTIVATED' : 'DEACTIVATED',
			tags => {},
			createdAt => '2024-01-01T00:00:00Z',
			updatedAt => '2024-01-01T00:00:00Z',
		  };
	}
	my $rate = $o{member_rate} // 0.5;
	for my $p (1 .. $np)
	{
		my @members = map { $_->{id} } grep { rand() < $rate } @senders;
		push @pools,
		  {
			id => typeid('comms_senderpool'),
			name => "Pool $p",
			tags => {},
			createdAt => '2024-01-01T00:00:00Z',
			updatedAt => '2024-01-01T00:00:00Z',
			senders => \@members,
		  };
	}
	return { senders => \@senders, senderPools => \@pools };
}

# Replace the local inventory of $node with $inv.
sub load_local
{
	my ($node, $inv) = @_;
	my $sql = "BEGIN;\nDELETE FROM comms_resolve.sender_pools;\nDELETE FROM comms_resolve.senders;\n";
	for my $s (@{ $inv->{senders} })
	{
		$sql .= sprintf(
			"INSERT INTO comms_resolve.senders (id, display_name, address, channel, status) VALUES (%s, %s, %s, %s, %s);\n",
			map { sql_quote($_) } @$s{qw(id displayName address channel status)});
	}
	for my $p (@{ $inv->{senderPools} })
	{
		$sql .= sprintf("INSERT INTO comms_resolve.sender_pools (id, name) VALUES (%s, %s);\n",
			sql_quote($p->{id}), sql_quote($p->{name}));
		$sql .= sprintf("INSERT INTO comms_resolve.sender_pool_senders VALUES (%s, %s);\n",
			sql_quote($p->{id}), sql_quote($_))
		  for @{ $p->{senders} };
	}
	$sql .= "COMMIT;\n";
	$node->safe_psql('postgres', $sql);
}

# Point the comms_api server at an emulator and give the current role
# credentials.
sub point_server
{
	my ($node, $emu, %opt) = @_;
	my $user = $opt{user} // 'AC1';
	my $secret = $opt{secret} // 'emulator-secret';
	$node->safe_psql('postgres', qq{
		ALTER SERVER comms_api OPTIONS (SET base_url '@{[ $emu->base_url ]}');
		DO \$\$ BEGIN
			EXECUTE 'DROP USER MAPPING IF EXISTS FOR CURRENT_USER SERVER comms_api';
		END \$\$;
		CREATE USER MAPPING FOR CURRENT_USER SERVER comms_api
			OPTIONS (account_id '$user', auth_token '$secret');
	});
	for my $k (sort keys %{ $opt{server} // {} })
	{
		my $v = sql_quote($opt{server}{$k});
		$node->safe_psql('postgres', qq{
			DO \$\$ BEGIN
				BEGIN
					EXECUTE 'ALTER SERVER comms_api OPTIONS (ADD $k ' || quote_literal($v) || ')';
				EXCEPTION WHEN duplicate_object THEN
					EXECUTE 'ALTER SERVER comms_api OPTIONS (SET $k ' || quote_literal($v) || ')';
				END;
			END \$\$;
		});
	}
}

# A random valid request over $inv: (pool id or undef, recipients json,
# channels json or undef).
sub random_request
{
	my ($inv) = @_;
	my @pools = @{ $inv->{senderPools} };
	my $pool = rand() < 0.85 ? $pools[ int(rand(@pools)) ]{id} : undef;
	my @rec;
	for (1 .. 1 + int(rand(4)))
	{
		my $r = rand();
		my $num = e164();
		push @rec,
		    $r < 0.3 ? $num
		  : $r < 0.5 ? "whatsapp:$num"
		  : $r < 0.7 ? { address => "person" . int(rand(50)) . '@example.org', channel => 'EMAIL' }
		  : $r < 0.8 ? { address => 'device-' . int(rand(20)), channel => 'PUSH' }
		  : { address => $num, channel => (rand() < 0.5 ? 'PHONE' : 'WHATSAPP') };
	}
	my $channels;
	my $c = rand();
	if ($c < 0.3)
	{
		my @all = qw(SMS RCS EMAIL WHATSAPP PUSH);
		$channels = { filterIn => [ grep { rand() < 0.6 } @all ] };
	}
	elsif ($c < 0.6)
	{
		my @all = grep { rand() < 0.5 } qw(SMS RCS EMAIL WHATSAPP PUSH);
		$channels = { priority => [ map { { channel => $_, priority => int(rand(5)) } } @all ] };
	}
	return ($pool, $json->encode(\@rec), defined $channels ? $json->encode($channels) : undef);
}

# Run $count random requests over $inv through the local and the remote
# resolver; return (number that agree, the first case that does not).
# Each case compares the same pairs with the same priorities: the order
# among equal priorities is the API's own for the remote resolver.
sub agreement
{
	my ($node, $inv, $count) = @_;
	my @cases = map { [ random_request($inv) ] } 1 .. $count;
	my ($agree, $first_bad) = (0, undef);
	my $rows = sub {
		my ($r) = @_;
		return qq{(SELECT coalesce(string_agg(concat_ws('|', priority, sender_id, from_address, to_address, channel, display_name, to_channel), ';'
		                                      ORDER BY priority, sender_id, to_address, to_channel), '')
		             FROM comms_resolve.resolve(pool, rec, ch, '$r'))};
	};
	for (my $i = 0; $i < @cases; $i += 50)
	{
		my $last = $i + 49 < $#cases ? $i + 49 : $#cases;
		my $values = join(",\n", map {
			sprintf("(%d, %s, %s::jsonb, %s::jsonb)", $_, sql_quote($cases[$_][0]), sql_quote($cases[$_][1]),
				sql_quote($cases[$_][2]))
		} $i .. $last);
		my $res = $node->safe_psql('postgres', qq{
			WITH c(n, pool, rec, ch) AS (VALUES $values),
			     r AS (SELECT n, @{[ $rows->('local') ]} AS l, @{[ $rows->('remote') ]} AS m FROM c)
			SELECT count(*) FILTER (WHERE l IS DISTINCT FROM m), count(*),
			       coalesce(min(n) FILTER (WHERE l IS DISTINCT FROM m), -1) FROM r});
		my ($bad, $cnt, $first) = split /\|/, $res;
		$agree += $cnt - $bad;
		$first_bad //= $cases[$first] if $bad;
	}
	return ($agree, $first_bad);
}

1;
