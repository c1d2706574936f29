#!/usr/bin/perl
# raw_server.pl: a deliberately misbehaving HTTP server on 127.0.0.1 for
# the reliability tests (test/t/040_hostile_input.pl, 042_faults.pl), for
# what the emulator cannot do: bytes that are not UTF-8, a peer that
# accepts and never answers, a reset instead of an answer.
#
#   raw_server.pl MODE [FILE]
#
# MODE:
#   hold      accept connections and keep them open; never read, never answer
#   stall     read the request, send a status line and headers announcing a
#             body, then nothing more (the connection stays open)
#   reset     read the request, then close with an RST (SO_LINGER 0)
#   body      read the request, answer 200 with FILE's bytes as the JSON body
#   response  read the request, send FILE's bytes as the whole HTTP response
#   cycle     read the request, answer 200 with the next of FILE's bodies
#             (separated by a line "--8<--"), round robin, forever
#
# Prints "listening on PORT" once listening, then "request N" for every
# request read (or "connection N" in hold mode), to $RAW_SERVER_LOG when
# that is set; runs until killed.
use strict;
use warnings;

use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_LINGER);

my ($mode, $file) = @ARGV;
die "usage: raw_server.pl hold|stall|reset|body|response|cycle [FILE]\n"
  unless $mode && $mode =~ /^(hold|stall|reset|body|response|cycle)$/;
my $payload = '';
if (defined $file)
{
	open(my $fh, '<:raw', $file) or die "cannot read $file: $!";
	local $/;
	$payload = <$fh>;
	close $fh;
}

$| = 1;
my $srv = IO::Socket::INET->new(
	LocalAddr => '127.0.0.1',
	LocalPort => 0,
	Listen => 128,
	ReuseAddr => 1,
	Proto => 'tcp') or die "cannot listen: $!";
print "listening on ", $srv->sockport, "\n";
# the request log goes to $RAW_SERVER_LOG when set, so a reader that
# does not drain our stdout cannot block us
if ($ENV{RAW_SERVER_LOG})
{
	open(STDOUT, '>>', $ENV{RAW_SERVER_LOG}) or die "cannot open $ENV{RAW_SERVER_LOG}: $!";
	$| = 1;
}
$SIG{TERM} = sub { exit 0 };
$SIG{PIPE} = 'IGNORE';

# Read one request (headers and a Content-Length body); false on EOF.
sub read_request
{
	my ($c) = @_;
	my $buf = '';
	while ($buf !~ /\r\n\r\n/)
	{
		my $n = sysread($c, $buf, 65536, length $buf);
		return 0 unless $n;
	}
	my ($head, $rest) = split /\r\n\r\n/, $buf, 2;
	my ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;
	$len //= 0;
	while (length($rest) < $len)
	{
		my $n = sysread($c, $rest, 65536, length $rest);
		return 0 unless $n;
	}
	return 1;
}

my @bodies = split /\n--8<--\n/, $payload;
my (@held, $n);
while (1)
{
	my $c = $srv->accept or next;
	$n++;
	if ($mode eq 'hold')
	{
		print "connection $n\n";
		push @held, $c;
		next;
	}
	next unless read_request($c);
	print "request $n\n";
	if ($mode eq 'stall')
	{
		syswrite($c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"res");
		push @held, $c;
	}
	elsif ($mode eq 'reset')
	{
		setsockopt($c, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
		close $c;
	}
	elsif ($mode eq 'body' || $mode eq 'cycle')
	{
		my $b = $mode eq 'body' ? $payload : $bodies[ ($n - 1) % @bodies ];
		syswrite($c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
			  . length($b) . "\r\nConnection: close\r\n\r\n" . $b);
		close $c;
	}
	else
	{
		syswrite($c, $payload);
		close $c;
	}
}
