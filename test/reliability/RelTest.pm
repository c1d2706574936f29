# RelTest.pm: shared pieces of the reliability tests (test/t/04*.pl):
# an inventory checksum, a misbehaving raw HTTP server, SQLSTATE parsing
# and environment-tunable sizes.
package RelTest;

use strict;
use warnings;

use Exporter 'import';
use File::Temp qw(tempdir);
use FindBin;
use IPC::Run;
use Time::HiRes qw(usleep);

our @EXPORT_OK = qw(install_checksum checksum env_int sqlstate_of raw_server fixed_inventory emulator_on_port);

# public.rel_inventory_checksum(): md5 over every row of the three
# inventory tables with its xmin and ctid, so any write (even one that
# leaves the values equal) changes it.
sub install_checksum
{
	my ($node, $db) = @_;
	$node->safe_psql($db // 'postgres', q{
		CREATE OR REPLACE FUNCTION public.rel_inventory_checksum() RETURNS text
		LANGUAGE sql STABLE AS $$
		SELECT md5(
		  coalesce((SELECT string_agg(s.xmin::text || s.ctid::text || s::text, E'\n' ORDER BY s.id)
		              FROM comms_resolve.senders s), '') || '#' ||
		  coalesce((SELECT string_agg(p.xmin::text || p.ctid::text || p::text, E'\n' ORDER BY p.id)
		              FROM comms_resolve.sender_pools p), '') || '#' ||
		  coalesce((SELECT string_agg(m.xmin::text || m.ctid::text || m::text, E'\n'
		                              ORDER BY m.sender_pool_id, m.sender_id)
		              FROM comms_resolve.sender_pool_senders m), ''))
		$$;
	});
}

sub checksum
{
	my ($node, $db) = @_;
	return $node->safe_psql($db // 'postgres', 'SELECT public.rel_inventory_checksum()');
}

# An integer from the environment, else the default.
sub env_int
{
	my ($name, $default) = @_;
	my $v = $ENV{$name};
	return $default unless defined $v && $v =~ /^\d+$/;
	return $v + 0;
}

# The SQLSTATE of the first ERROR in psql's stderr (VERBOSITY verbose),
# '00000' when there is none.
sub sqlstate_of
{
	my ($err) = @_;
	return $1 if defined $err && $err =~ /ERROR:\s+([0-9A-Z]{5}):/;
	return '00000';
}

# A fixed inventory in the emulator's format: one pool with a sender of
# every channel (and a deactivated one), a second pool, a loose sender.
sub fixed_inventory
{
	my $t = '2024-03-01T09:00:00Z';
	my @s = (
		[ 'e01', 'Customer Support', 'support@company.com', 'EMAIL', 'ACTIVATED' ],
		[ 's01', 'Customer Support', '+15035551234', 'SMS', 'ACTIVATED' ],
		[ 's02', 'UK desk', '+447700900123', 'SMS', 'ACTIVATED' ],
		[ 'w01', 'Customer Support', '+15035551234', 'WHATSAPP', 'ACTIVATED' ],
		[ 'r01', 'Customer Support', 'company_support_agent', 'RCS', 'ACTIVATED' ],
		[ 'p01', undef, 'push-app-1', 'PUSH', 'ACTIVATED' ],
		[ 'd01', 'Old', '+15035550000', 'SMS', 'DEACTIVATED' ],
		[ 'x01', 'Loose', 'loose@company.com', 'EMAIL', 'ACTIVATED' ],
	);
	my @senders = map {
		{ id => "comms_sender_01h9krwprkeee8fzqspvwy6$_->[0]", displayName => $_->[1], address => $_->[2],
		  channel => $_->[3], status => $_->[4], tags => {}, createdAt => $t, updatedAt => $t }
	} @s;
	return {
		senders => \@senders,
		senderPools => [
			{ id => 'comms_senderpool_01h9krwprkeee8fzqspvwy6nq8', name => 'Main', tags => {},
			  createdAt => $t, updatedAt => $t, senders => [ map { $_->{id} } @senders[ 0 .. 6 ] ] },
			{ id => 'comms_senderpool_01h9krwprkeee8fzqspvwy6nq9', name => 'Email only', tags => {},
			  createdAt => $t, updatedAt => $t, senders => [ $senders[0]{id}, $senders[7]{id} ] },
		],
	};
}

# A misbehaving server (test/reliability/raw_server.pl): mode hold, stall,
# reset, body (bytes as a 200 JSON body) or response (bytes as the whole
# answer).  Returns an object with port, url, requests and stop.
sub raw_server
{
	my ($mode, $bytes) = @_;
	my $self = bless { out => '', err => '' }, 'RelTest::RawServer';
	my @cmd = ($^X, "$FindBin::RealBin/../reliability/raw_server.pl", $mode);
	my $dir = tempdir(CLEANUP => 1);
	$self->{log} = "$dir/requests.log";
	local $ENV{RAW_SERVER_LOG} = $self->{log};
	if (defined $bytes)
	{
		open(my $fh, '>:raw', "$dir/payload") or die;
		print $fh $bytes;
		close $fh;
		push @cmd, "$dir/payload";
	}
	$self->{harness} = IPC::Run::start(\@cmd, '<', \undef, '>', \$self->{out}, '2>', \$self->{err});
	my $deadline = time + 20;
	while ($self->{out} !~ /listening on (\d+)/)
	{
		$self->{harness}->pump_nb;
		die "raw server did not start: $self->{err}" if time > $deadline || !$self->{harness}->pumpable;
		usleep(10_000);
	}
	$self->{out} =~ /listening on (\d+)/;
	$self->{port} = $1;
	$self->{url} = "http://127.0.0.1:$1/v1";
	return $self;
}

# The emulator on a given port (CommsEmulator->new picks a free one):
# a CommsEmulator object, so its control methods work.
sub emulator_on_port
{
	my ($port, %opts) = @_;
	require CommsEmulator;
	require JSON::PP;
	my $dir = tempdir(CLEANUP => 1);
	open(my $fh, '>', "$dir/inventory.json") or die;
	print $fh JSON::PP->new->canonical->encode($opts{inventory});
	close $fh;
	my @cmd = (CommsEmulator::binary(), '--inventory', "$dir/inventory.json", '--port', $port);
	push @cmd, '--credentials', $_ for @{ $opts{credentials} // [] };
	my $self = bless { out => '', err => '' }, 'CommsEmulator';
	$self->{harness} = IPC::Run::start(\@cmd, '<', \undef, '>', \$self->{out}, '2>', \$self->{err});
	my $deadline = time + 20;
	while ($self->{out} !~ /listening on (\S+)/)
	{
		$self->{harness}->pump_nb;
		die "emulator did not start on port $port: $self->{err}" if time > $deadline || !$self->{harness}->pumpable;
		usleep(20_000);
	}
	$self->{out} =~ /listening on (\S+)/;
	$self->{base_url} = $1;
	($self->{root} = $self->{base_url}) =~ s{/v1$}{};
	return $self;
}

package RelTest::RawServer;

sub url { return $_[0]{url} }
sub port { return $_[0]{port} }

# Requests (or, in hold mode, connections) seen so far.
sub requests
{
	my ($self) = @_;
	open(my $fh, '<', $self->{log}) or return 0;
	my $n = grep { /^(?:request|connection) \d+$/ } <$fh>;
	close $fh;
	return $n;
}

sub stop
{
	my ($self) = @_;
	return unless $self->{harness};
	$self->{harness}->signal('KILL');
	eval { $self->{harness}->finish; };
	delete $self->{harness};
}

sub DESTROY { $_[0]->stop }

1;
