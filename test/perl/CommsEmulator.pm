# CommsEmulator.pm: start and drive the project's Comms API emulator
# (test/emulator/comms_emulator) from TAP tests.
#
#   my $emu = CommsEmulator->new(inventory => \%inv, credentials => ['AC1:tok']);
#   $emu->base_url;                      # http://127.0.0.1:PORT/v1
#   $emu->faults({path => '/v1/Senders/Resolve', status => 503, times => 2});
#   my $log = $emu->log;                 # arrayref of request records
#   $emu->stop;
#
# Control calls go through the curl command-line tool, so they work over
# HTTPS with the test CA as well.
package CommsEmulator;

use strict;
use warnings;

use File::Temp qw(tempdir);
use FindBin;
use IPC::Run;
use JSON::PP;
use Time::HiRes qw(usleep);

my $json = JSON::PP->new->canonical->allow_nonref;

sub binary
{
	return $ENV{COMMS_EMULATOR} // "$FindBin::RealBin/../emulator/comms_emulator";
}

sub new
{
	my ($class, %opts) = @_;
	my $self = bless { %opts }, $class;
	my $dir = tempdir(CLEANUP => 1);
	my $inv = $opts{inventory} // { senders => [], senderPools => [] };
	my $inv_file = "$dir/inventory.json";

	open(my $fh, '>', $inv_file) or die "cannot write $inv_file: $!";
	print $fh (ref $inv ? $json->encode($inv) : $inv);
	close $fh;

	my @cmd = (binary(), '--inventory', $inv_file, '--log', "$dir/emulator.log");
	push @cmd, '--page-size', $opts{page_size} if $opts{page_size};
	push @cmd, '--credentials', $_ for @{ $opts{credentials} // [] };
	if ($opts{tls})
	{
		push @cmd, '--tls-cert', $opts{tls}{cert}, '--tls-key', $opts{tls}{key};
		$self->{cacert} = $opts{tls}{ca};
	}
	$self->{out} = '';
	$self->{err} = '';
	$self->{harness} = IPC::Run::start(\@cmd, '<', \undef, '>', \$self->{out}, '2>', \$self->{err});
	my $deadline = time + 20;
	while ($self->{out} !~ /listening on (\S+)/)
	{
		$self->{harness}->pump_nb;
		die "emulator did not start: $self->{err}" if time > $deadline || !$self->{harness}->pumpable;
		usleep(20_000);
	}
	$self->{out} =~ /listening on (\S+)/;
	$self->{base_url} = $1;
	($self->{root} = $self->{base_url}) =~ s{/v1$}{};
	return $self;
}

sub base_url { return $_[0]{base_url} }

# One control request; returns the decoded JSON answer (or undef).
sub control
{
	my ($self, $method, $path, $body) = @_;
	my @cmd = ('curl', '-sS', '--fail-with-body', '-X', $method, "$self->{root}$path");
	push @cmd, '--cacert', $self->{cacert} if $self->{cacert};
	my ($in, $out, $err) = (defined $body ? $json->encode($body) : undef, '', '');
	push @cmd, '-H', 'Content-Type: application/json', '--data-binary', '@-' if defined $in;
	IPC::Run::run(\@cmd, '<', \$in, '>', \$out, '2>', \$err)
	  or die "emulator control $method $path failed: $err $out";
	return length $out ? $json->decode($out) : undef;
}

sub faults { my ($self, @rules) = @_; return $self->control('POST', '/_emulator/faults', \@rules) }
sub clear_faults { return $_[0]->control('DELETE', '/_emulator/faults') }
sub log { return $_[0]->control('GET', '/_emulator/log') }
sub clear_log { return $_[0]->control('DELETE', '/_emulator/log') }
sub set_inventory { my ($self, $inv) = @_; return $self->control('PUT', '/_emulator/inventory', $inv) }
sub inventory { return $_[0]->control('GET', '/_emulator/inventory') }
sub config { my ($self, $cfg) = @_; return $self->control('PUT', '/_emulator/config', $cfg) }

# The requests of the log whose path matches, e.g. qr{/Senders/Resolve$}.
sub requests
{
	my ($self, $re) = @_;
	return [ grep { $_->{path} =~ $re } @{ $self->log } ];
}

sub stop
{
	my ($self) = @_;
	return unless $self->{harness};
	$self->{harness}->signal('TERM');
	eval { $self->{harness}->finish; };
	delete $self->{harness};
}

sub DESTROY { $_[0]->stop }

1;
