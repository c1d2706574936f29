# Faults below HTTP, each in the same session: the emulator killed with
# SIGKILL mid-response (during a dripping body, before any byte, during
# resolve_many and during a sync), a stale keep-alive connection to a
# restarted API, a connection reset (the emulator's drop and a real RST),
# a server that accepts and never answers, one that sends headers and
# stalls, one whose backlog is full (connect never completes), a frozen
# (SIGSTOP) emulator, a closed port.  Each gives its documented SQLSTATE
# within the configured timeouts (request_timeout_ms 2000,
# connect_timeout_ms 1000), retries happen exactly as documented, a sync
# leaves the inventory as it was, and the NEXT call works.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use lib "$FindBin::RealBin/../reliability";
use CommsEmulator;
use CommsTest qw(new_node load_local point_server);
use IO::Socket::INET;
use PostgreSQL::Test::Utils;
use RelTest qw(install_checksum checksum sqlstate_of raw_server fixed_inventory emulator_on_port);
use Test::More;
use Time::HiRes qw(time usleep);

my $POOL = 'comms_senderpool_01h9krwprkeee8fzqspvwy6nq8';
my $TIMEOUT = 2.0;    # request_timeout_ms
my $CONNECT = 1.0;    # connect_timeout_ms
my $inv = fixed_inventory();
my $creds = ['AC1:emulator-secret'];

my $node = new_node('faults2');
load_local($node, $inv);
install_checksum($node);
my $emu = CommsEmulator->new(inventory => $inv, credentials => $creds);
END { local $?; $emu->stop if $emu }
point_server($node, $emu,
	server => { retries => '0', request_timeout_ms => '2000', connect_timeout_ms => '1000', retry_ceiling_ms => '300' });

my $s = $node->background_psql('postgres', on_error_stop => 0, timeout => 120);
my $pid = $s->query_safe('SELECT pg_backend_pid()');
$s->query_safe('SET client_min_messages = warning');
my $CALL = "SELECT count(*) FROM comms_resolve.resolve('$POOL', '[\"+14155552671\", \"jane\@example.com\"]', NULL, 'remote')";
my $MANY = "SELECT count(*) FROM comms_resolve.resolve_many('$POOL', (SELECT jsonb_agg(jsonb_build_array('+1415555' || lpad(g::text, 4, '0'))) FROM generate_series(1, 16) g), NULL, 'remote')";
my @timings;

sub set_url { $node->safe_psql('postgres', "ALTER SERVER comms_api OPTIONS (SET base_url '$_[0]')") }
sub set_opt { $node->safe_psql('postgres', "ALTER SERVER comms_api OPTIONS (SET $_[0] '$_[1]')") }

# Run $sql in the session: (sqlstate, stderr, seconds).
sub call
{
	my ($sql) = @_;
	$s->{stderr} = '';
	my $t0 = time;
	$s->query("\\set VERBOSITY verbose\n" . ($sql // $CALL));
	my $secs = time - $t0;
	my $err = $s->{stderr};
	$s->{stderr} = '';
	return (sqlstate_of($err), $err, $secs);
}

# Start $sql, wait $after seconds, run $action; return (sqlstate, stderr,
# seconds from start, seconds from the action to the error).
sub call_and
{
	my ($sql, $after, $action) = @_;
	$s->{stderr} = '';
	my $t0 = time;
	$s->query_until(qr/started/, "\\echo started\n\\set VERBOSITY verbose\n$sql;\n\\echo finished\n");
	usleep(int($after * 1e6));
	my $ta = time;
	$action->();
	$s->query_until(qr/finished/, '');
	my $t1 = time;
	my $err = $s->{stderr};
	$s->{stderr} = '';
	return (sqlstate_of($err), $err, $t1 - $t0, $t1 - $ta);
}

sub check
{
	my ($label, $state, $err, $secs, $expect, $max) = @_;
	ok((grep { $_ eq $state } @$expect), "$label: $state (expected @$expect)") or diag($err);
	cmp_ok($secs, '<', $max, sprintf('%s: within %.1f s (took %.2f s)', $label, $max, $secs));
	push @timings, sprintf('%-52s %s %5.2f s', $label, $state, $secs);
}

# The next call works (after pointing the server at a live emulator).
sub next_works
{
	my ($label, $e) = @_;
	set_url($e->base_url);
	my ($state, $err) = call();
	is($state, '00000', "$label: the next call works") or diag($err);
}

# ---------------------------------------------------------------------
# SIGKILL of the emulator mid-response
# ---------------------------------------------------------------------

# a body dripping one byte every 100 ms: the status line and part of the
# body are in when the process dies, so the answer is truncated
$emu->faults({ path => '/v1/Senders/Resolve', body => 'drip', intervalMs => 100, times => -1 });
my ($state, $err, $secs, $after) = call_and($CALL, 0.6, sub { $emu->{harness}->signal('KILL') });
check('SIGKILL during a dripping body', $state, $err, $secs, ['08P01'], $TIMEOUT + 0.5);
cmp_ok($after, '<', 0.5, sprintf('SIGKILL during a dripping body: the error came %.2f s after the kill', $after));
eval { $emu->{harness}->finish };
delete $emu->{harness};
$emu = CommsEmulator->new(inventory => $inv, credentials => $creds);
next_works('SIGKILL during a dripping body', $emu);

# before any byte of the answer: the connection closes without one
$emu->faults({ path => '/v1/Senders/Resolve', delayMs => 30000, times => -1 });
($state, $err, $secs, $after) = call_and($CALL, 0.5, sub { $emu->{harness}->signal('KILL') });
# (the request went over a kept-alive connection: libcurl retries a dead
# reused connection once by itself, and that attempt is refused: 08001)
check('SIGKILL before any byte of the answer', $state, $err, $secs, [ '08006', '08001' ], $TIMEOUT + 0.5);
cmp_ok($after, '<', 0.5, sprintf('SIGKILL before any byte: the error came %.2f s after the kill', $after));
eval { $emu->{harness}->finish };
delete $emu->{harness};
$emu = CommsEmulator->new(inventory => $inv, credentials => $creds);
next_works('SIGKILL before any byte', $emu);

# resolve_many: 16 requests dripping over 8 connections
$emu->faults({ path => '/v1/Senders/Resolve', body => 'drip', intervalMs => 100, times => -1 });
($state, $err, $secs, $after) = call_and($MANY, 0.6, sub { $emu->{harness}->signal('KILL') });
check('SIGKILL during resolve_many', $state, $err, $secs, [ '08P01', '08006' ], $TIMEOUT + 0.5);
like($err, qr/person \d+ of resolve_many/, 'SIGKILL during resolve_many: the error names a person');
eval { $emu->{harness}->finish };
delete $emu->{harness};
$emu = CommsEmulator->new(inventory => $inv, credentials => $creds);
next_works('SIGKILL during resolve_many', $emu);
is((call($MANY))[0], '00000', 'SIGKILL during resolve_many: the next resolve_many works');

# sync: killed on its third page; the inventory stays as it was, and a
# sync against a new emulator then works
{
	my $sum = checksum($node);
	$s->query_safe('SET comms_resolve.page_size = 2');
	$emu->faults({ method => 'GET', path => '/v1/Senders', skip => 2, body => 'drip', intervalMs => 100, times => -1 });
	($state, $err, $secs) = call_and('SELECT * FROM comms_resolve.sync()', 0.8, sub { $emu->{harness}->signal('KILL') });
	check('SIGKILL during sync (page 3)', $state, $err, $secs, [ '08P01', '08006' ], $TIMEOUT + 1.0);
	is(checksum($node), $sum, 'SIGKILL during sync: the inventory is unchanged');
	eval { $emu->{harness}->finish };
	delete $emu->{harness};
	my $inv2 = fixed_inventory();
	$inv2->{senders}[7]{displayName} = 'Loose, renamed';
	$emu = CommsEmulator->new(inventory => $inv2, credentials => $creds);
	set_url($emu->base_url);
	my ($st2, $e2) = call('SELECT * FROM comms_resolve.sync()');
	is($st2, '00000', 'SIGKILL during sync: the next sync works') or diag($e2);
	is($node->safe_psql('postgres', "SELECT display_name FROM comms_resolve.senders WHERE id = '$inv2->{senders}[7]{id}'"),
		'Loose, renamed', 'and it brought the change');
	$s->query_safe('RESET comms_resolve.page_size');
}

# ---------------------------------------------------------------------
# a stale keep-alive connection: the API restarts on the same port
# between two calls (no retries configured)
# ---------------------------------------------------------------------
{
	my ($port) = $emu->base_url =~ m{:(\d+)/v1$};
	is((call())[0], '00000', 'a call over a keep-alive connection');
	$emu->stop;
	$emu = emulator_on_port($port, inventory => $inv, credentials => $creds);
	($state, $err, $secs) = call();
	is($state, '00000', 'after the API restarted on the same port, the next call works (no retries set)') or diag($err);
	push @timings, sprintf('%-52s %s %5.2f s', 'first call after an API restart (stale connection)', $state, $secs);
}

# ---------------------------------------------------------------------
# resets, silence, full backlog, frozen process, closed port
# ---------------------------------------------------------------------
set_opt('retries', '1');

# the emulator drops the connection without an answer: retried once
$emu->clear_log;
$emu->faults({ path => '/v1/Senders/Resolve', drop => JSON::PP::true(), times => -1 });
($state, $err, $secs) = call();
check('connection dropped without an answer', $state, $err, $secs, ['08006'], 1.5);
like($err, qr/after 2 attempts/, 'connection dropped: retried once (retries 1)');
{
	my @r = @{ $emu->requests(qr{/Senders/Resolve$}) };
	diag('connection dropped, retries 1: the API saw ' . scalar(@r) . ' requests on connections '
		  . join(', ', map { $_->{conn} } @r));
	# libcurl itself re-sends a request once when a reused keep-alive
	# connection turns out closed before any byte of the answer (README)
	cmp_ok(scalar @r, '<=', 3, 'connection dropped: the API saw at most 1 + retries requests, plus libcurl\'s one resend on a dead kept-alive connection');
}
$emu->clear_faults;
next_works('connection dropped', $emu);

# a real reset (RST) right after the request
{
	my $srv = raw_server('reset');
	set_url($srv->url);
	($state, $err, $secs) = call();
	check('connection reset (RST) after the request', $state, $err, $secs, ['08006'], 1.5);
	is($srv->requests, 2, 'connection reset: retried once');
	$srv->stop;
	next_works('connection reset', $emu);
}

# accepts and never answers: request_timeout_ms, not retried
{
	my $srv = raw_server('hold');
	set_url($srv->url);
	($state, $err, $secs) = call();
	check('a server that accepts and never answers', $state, $err, $secs, ['08000'], $TIMEOUT + 0.6);
	cmp_ok($secs, '>=', $TIMEOUT - 0.1, 'never answers: the error comes at request_timeout_ms, not before');
	is($srv->requests, 1, 'never answers: a timeout is not retried');
	$srv->stop;
	next_works('never answers', $emu);
}

# sends its headers, then nothing
{
	my $srv = raw_server('stall');
	set_url($srv->url);
	($state, $err, $secs) = call();
	check('a server that sends headers and stalls', $state, $err, $secs, ['08000'], $TIMEOUT + 0.6);
	$srv->stop;
	next_works('headers then silence', $emu);
}

# a listener whose backlog is full: the connection is never established
{
	my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 0, ReuseAddr => 1) or die;
	my @fill;
	for (1 .. 8)
	{
		my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $l->sockport, Blocking => 0);
		push @fill, $c if $c;
	}
	usleep(200_000);
	set_url('http://127.0.0.1:' . $l->sockport . '/v1');
	($state, $err, $secs) = call();
	check('a listener whose backlog is full (no connect)', $state, $err, $secs, [ '08000', '08001' ],
		2 * $CONNECT + 0.8);
	like($err, qr/timed out|Connection timed out|after \d+ attempt/, 'full backlog: a connect timeout');
	close $_ for @fill;
	close $l;
	next_works('full backlog', $emu);
}

# a frozen emulator (SIGSTOP): silence on the kept-alive connection; once
# it is thawed, the next call works
{
	is((call())[0], '00000', 'a call before the freeze');
	my $epid = $emu->{harness}{KIDS}[0]{PID};
	kill 'STOP', $epid;
	# wait until the process is really stopped (state T in /proc)
	for (1 .. 100)
	{
		open(my $fh, '<', "/proc/$epid/stat") or last;
		my $st = <$fh>;
		close $fh;
		last if $st =~ /^\d+ \(.*\) T /;
		usleep(10_000);
	}
	($state, $err, $secs) = call();
	check('a frozen (SIGSTOP) emulator', $state, $err, $secs, ['08000'], $TIMEOUT + 0.6);
	kill 'CONT', $epid;
	next_works('a frozen emulator, thawed', $emu);
}

# a closed port: refused, retried once, fast
{
	my $closed = PostgreSQL::Test::Cluster::get_free_port();
	set_url("http://127.0.0.1:$closed/v1");
	($state, $err, $secs) = call();
	check('a closed port on 127.0.0.1', $state, $err, $secs, ['08001'], 1.5);
	like($err, qr/after 2 attempts/, 'a closed port: retried once');
	next_works('a closed port', $emu);
}

# and statement_timeout still beats a long request_timeout_ms
{
	set_opt('request_timeout_ms', '60000');
	my $srv = raw_server('hold');
	set_url($srv->url);
	$s->query_safe('SET statement_timeout = 1500');
	($state, $err, $secs) = call();
	check('statement_timeout (1.5 s) during a silent server', $state, $err, $secs, ['57014'], 2.5);
	$s->query_safe('RESET statement_timeout');
	$srv->stop;
	set_opt('request_timeout_ms', '2000');
	next_works('statement_timeout', $emu);
}

is($s->query_safe('SELECT pg_backend_pid()'), $pid, 'one backend went through every fault');
ok(!$node->log_contains(qr/terminated by signal|server process .* was terminated|PANIC/), 'no backend crashed');
diag("fault timings (request_timeout_ms 2000, connect_timeout_ms 1000):\n" . join("\n", @timings));
$s->quit;
$emu->stop;
$node->stop;
done_testing();
