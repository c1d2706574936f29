# Memory stays flat: in one session, after a warm-up, a million local
# resolutions (resolve in LATERAL joins, resolve_many, resolve_request,
# resolve_from_sender, and rejected input caught in PL/pgSQL) and twenty
# thousand remote ones against the emulator (resolve, resolve_many,
# resolve_request, and malformed or error answers caught in PL/pgSQL)
# grow neither the backend's anonymous memory (RssAnon, which also sees
# malloc'd memory of libcurl and json-c) nor its memory contexts by 5 MB.
#
# Sizes: COMMS_RESOLVE_MEM_LOCAL and COMMS_RESOLVE_MEM_REMOTE (resolutions
# of each phase).  The default is the full 1,000,000 / 20,000: on the
# project's 2-core machine the whole test takes about 20 s (set
# COMMS_RESOLVE_FULL=0 for 200,000 / 4,000).  COMMS_RESOLVE_MEM_TRACE=1
# prints RssAnon after every statement.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use lib "$FindBin::RealBin/../reliability";
use CommsEmulator;
use CommsTest qw(new_node random_inventory load_local point_server);
use PostgreSQL::Test::Utils;
use RelTest qw(env_int);
use Test::More;
use Time::HiRes qw(time);

my $full = ($ENV{COMMS_RESOLVE_FULL} // '1') ne '0';
my $n_local = env_int('COMMS_RESOLVE_MEM_LOCAL', $full ? 1_000_000 : 200_000);
my $n_remote = env_int('COMMS_RESOLVE_MEM_REMOTE', $full ? 20_000 : 4_000);
my $limit_kb = 5 * 1024;
my $batch = 100_000;      # local rows per statement
my $rbatch = 2_000;       # remote calls per statement

srand(41);
my $node = new_node('memory', 'max_parallel_workers_per_gather' => 0, jit => 'off');
my $inv = random_inventory(senders => 80, pools => 2, member_rate => 0.7);
my $pool = $inv->{senderPools}[0]{id};
load_local($node, $inv);
my $emu = CommsEmulator->new(inventory => $inv, credentials => ['AC1:emulator-secret']);
END { local $?; $emu->stop if $emu }
point_server($node, $emu, server => { retries => '0', request_timeout_ms => '5000' });
my $sms = (grep { $_->{channel} eq 'SMS' && $_->{status} eq 'ACTIVATED' } @{ $inv->{senders} })[0]{address};

my $s = $node->background_psql('postgres', on_error_stop => 1, timeout => 900);
my $pid = $s->query_safe('SELECT pg_backend_pid()');
$s->query_safe('SET client_min_messages = warning');

sub rss_anon_kb
{
	open(my $fh, '<', "/proc/$pid/status") or die "cannot read /proc/$pid/status: $!";
	while (<$fh>) { return $1 if /^RssAnon:\s+(\d+)\s+kB/ }
	die 'no RssAnon';
}

sub measure
{
	my $ctx = $s->query_safe('SELECT sum(total_bytes) FROM pg_backend_memory_contexts');
	return (rss_anon_kb(), int($ctx / 1024));
}

# --- the statements, by kind; $lo..$hi numbers the people
sub local_lateral
{
	my ($lo, $hi) = @_;
	return qq{SELECT count(*), sum(r.priority) FROM generate_series($lo, $hi) g
	  CROSS JOIN LATERAL comms_resolve.resolve('$pool',
	    jsonb_build_array('+1415' || lpad(g::text, 7, '0'), 'whatsapp:+44' || lpad(g::text, 10, '0'),
	                      jsonb_build_object('address', 'u' || g || '\@example.com', 'channel', 'EMAIL'),
	                      jsonb_build_object('address', 'device-' || (g % 97), 'channel', 'PUSH')),
	    CASE g % 3 WHEN 0 THEN '{"filterIn": ["SMS", "EMAIL", "RCS"]}'::jsonb
	               WHEN 1 THEN '{"priority": [{"channel": "EMAIL", "priority": 0}]}'::jsonb END) r};
}

sub local_many
{
	my ($lo, $hi) = @_;
	return qq{SELECT count(*) FROM (SELECT g / 10000 AS chunk,
	      jsonb_agg(jsonb_build_array('+1212' || lpad(g::text, 7, '0'), 'p' || g || '\@example.org')) AS people
	    FROM generate_series($lo, $hi) g GROUP BY 1) c
	  CROSS JOIN LATERAL comms_resolve.resolve_many('$pool', c.people) r};
}

sub local_request
{
	my ($lo, $hi) = @_;
	return qq{SELECT count(*), sum(jsonb_array_length(comms_resolve.resolve_request(jsonb_build_object(
	    'senderPoolId', '$pool', 'recipientAddresses', jsonb_build_array('+1646' || lpad(g::text, 7, '0')))) -> 'results'))
	  FROM generate_series($lo, $hi) g};
}

sub local_sender
{
	my ($lo, $hi) = @_;
	return qq{SELECT count(*) FROM generate_series($lo, $hi) g
	  CROSS JOIN LATERAL comms_resolve.resolve_from_sender('{"address": "$sms", "channel": "SMS"}',
	    jsonb_build_array('+1415' || lpad(g::text, 7, '0'))) r};
}

# rejected input, caught: the error path must not leak either
sub local_errors
{
	my ($n) = @_;
	return qq{DO \$\$ DECLARE k int := 0; BEGIN
	  FOR i IN 1 .. $n LOOP
	    BEGIN
	      PERFORM count(*) FROM comms_resolve.resolve('$pool',
	        CASE i % 4 WHEN 0 THEN jsonb_build_array('+0' || i) WHEN 1 THEN jsonb_build_array(repeat('x', 10000))
	                   WHEN 2 THEN (SELECT jsonb_agg(g) FROM generate_series(1, 200) g)
	                   ELSE jsonb_build_array(jsonb_build_object('address', 'a\@b.co', 'channel', 'FAX')) END);
	    EXCEPTION WHEN invalid_parameter_value THEN k := k + 1;
	    END;
	  END LOOP;
	  IF k <> $n THEN RAISE EXCEPTION 'expected % errors, got %', $n, k; END IF;
	END \$\$};
}

sub remote_lateral
{
	my ($lo, $hi) = @_;
	return qq{SELECT count(*) FROM generate_series($lo, $hi) g
	  CROSS JOIN LATERAL comms_resolve.resolve('$pool',
	    jsonb_build_array('+1415' || lpad(g::text, 7, '0'), 'u' || g || '\@example.com'), NULL, 'remote') r};
}

sub remote_many
{
	my ($lo, $hi) = @_;
	return qq{SELECT count(*) FROM comms_resolve.resolve_many('$pool',
	    (SELECT jsonb_agg(jsonb_build_array('+1212' || lpad(g::text, 7, '0'))) FROM generate_series($lo, $hi) g), NULL, 'remote')};
}

sub remote_noreuse
{
	my ($lo, $hi) = @_;
	return 'SET comms_resolve.reuse_connections = off; ' . remote_lateral($lo, $hi)
	  . '; RESET comms_resolve.reuse_connections';
}

sub remote_sender
{
	my ($lo, $hi) = @_;
	return qq{SELECT count(*) FROM generate_series($lo, $hi) g
	  CROSS JOIN LATERAL comms_resolve.resolve_from_sender('{"address": "$sms", "channel": "SMS"}',
	    jsonb_build_array('+1415' || lpad(g::text, 7, '0')), NULL, 'remote') r};
}

sub remote_request
{
	my ($lo, $hi) = @_;
	return qq{SELECT count(*), sum(jsonb_array_length(comms_resolve.resolve_request(jsonb_build_object(
	    'senderPoolId', '$pool', 'recipientAddresses', jsonb_build_array('+1646' || lpad(g::text, 7, '0'))), 'remote') -> 'results'))
	  FROM generate_series($lo, $hi) g};
}

# malformed and error answers, caught
sub remote_errors
{
	my ($n) = @_;
	return qq{DO \$\$ DECLARE k int := 0; BEGIN
	  FOR i IN 1 .. $n LOOP
	    BEGIN
	      PERFORM count(*) FROM comms_resolve.resolve('$pool', jsonb_build_array('+1415' || lpad(i::text, 7, '0')), NULL, 'remote');
	    EXCEPTION WHEN protocol_violation OR system_error OR invalid_parameter_value OR program_limit_exceeded THEN k := k + 1;
	    END;
	  END LOOP;
	  IF k <> $n THEN RAISE EXCEPTION 'expected % errors, got %', $n, k; END IF;
	END \$\$};
}

my $trace = $ENV{COMMS_RESOLVE_MEM_TRACE};

sub run
{
	my ($sql) = @_;
	$s->query_safe($sql);
	if ($trace)
	{
		my ($kind) = $sql =~ /comms_resolve\.(\w+)/;
		diag(sprintf('%-20s RssAnon %d kB', $kind, rss_anon_kb()));
	}
}

# Run a phase: $count resolutions as @plan ([sub, share, statement
# size], ...); returns seconds.
sub phase
{
	my ($count, @plan) = @_;
	my $t0 = time;
	my $next = 1;
	for my $p (@plan)
	{
		my ($make, $share, $size) = @$p;
		my $todo = int($count * $share);
		while ($todo > 0)
		{
			my $n = $todo < $size ? $todo : $size;
			run($make->($next, $next + $n - 1));
			$next += $n;
			$todo -= $n;
		}
	}
	return time - $t0;
}

my @local_plan = ([ \&local_lateral, 0.7, $batch ], [ \&local_many, 0.1, 10_000 ], [ \&local_request, 0.1, 10_000 ],
	[ \&local_sender, 0.1, 10_000 ]);
my @remote_plan = ([ \&remote_lateral, 0.5, $rbatch ], [ \&remote_many, 0.15, 500 ], [ \&remote_request, 0.15, 500 ],
	[ \&remote_sender, 0.1, 500 ], [ \&remote_noreuse, 0.1, 500 ]);

# Memory after a statement depends on what ran last (malloc keeps or
# returns the top of its heap), so each measurement follows the same
# sequence of statement kinds and sizes: a warm-up runs every kind of the
# phase once, in the phase's order, then the baseline is read; the phase
# runs them all, in statements of the same sizes, then memory is read
# again.  A leak grows with the count; the plateau does not.
my $err_stmt = 4000;      # rejected calls per DO statement
my $n_lerr = int($n_local / 50);
my $n_rerr = int($n_remote / 10);

sub error_faults
{
	my ($n) = @_;
	my $q = $n / 4;
	$emu->clear_faults;
	$emu->faults({ path => '/v1/Senders/Resolve', status => 200, body => 'garbage', times => $q },
		{ path => '/v1/Senders/Resolve', status => 200, body => '{"results": [{"from": 5}]}', times => $q },
		{ path => '/v1/Senders/Resolve', status => 500, times => $q },
		{ path => '/v1/Senders/Resolve', status => 400, times => $q });
}

# --- local
for (1 .. 2)
{
	phase(4 * $batch, @local_plan);
	run(local_errors($err_stmt));
}
my ($rss0, $ctx0) = measure();
my $secs = phase($n_local, @local_plan);
run(local_errors($err_stmt)) for 1 .. ($n_lerr / $err_stmt < 1 ? 1 : int($n_lerr / $err_stmt));
my ($rss1, $ctx1) = measure();
diag(sprintf('local: %d resolutions in %.1f s + %d rejected; RssAnon %d -> %d kB (%+d), contexts %d -> %d kB (%+d)',
	$n_local, $secs, ($n_lerr / $err_stmt < 1 ? 1 : int($n_lerr / $err_stmt)) * $err_stmt,
	$rss0, $rss1, $rss1 - $rss0, $ctx0, $ctx1, $ctx1 - $ctx0));
cmp_ok($rss1 - $rss0, '<', $limit_kb, "local: RssAnon grew less than 5 MB ($n_local resolutions)");
cmp_ok($ctx1 - $ctx0, '<', $limit_kb, 'local: memory contexts grew less than 5 MB');

# --- remote
my $rerr_stmt = 400;
for (1 .. 2)
{
	phase(4 * $rbatch, @remote_plan);
	error_faults($rerr_stmt);
	run(remote_errors($rerr_stmt));
}
$emu->clear_faults;
$emu->clear_log;
($rss0, $ctx0) = measure();
$secs = phase($n_remote, @remote_plan);
my $nstmt = $n_rerr / $rerr_stmt < 1 ? 1 : int($n_rerr / $rerr_stmt);
for (1 .. $nstmt)
{
	error_faults($rerr_stmt);
	run(remote_errors($rerr_stmt));
}
$emu->clear_faults;
my ($rss2, $ctx2) = measure();
my $sent = scalar @{ $emu->requests(qr{/Senders/Resolve$}) };
diag(sprintf('remote: %d resolutions in %.1f s + %d error answers (%d requests); RssAnon %d -> %d kB (%+d), contexts %d -> %d kB (%+d)',
	$n_remote, $secs, $nstmt * $rerr_stmt, $sent, $rss0, $rss2, $rss2 - $rss0, $ctx0, $ctx2, $ctx2 - $ctx0));
is($sent, $n_remote + $nstmt * $rerr_stmt, 'remote: one request per resolution');
cmp_ok($rss2 - $rss0, '<', $limit_kb, "remote: RssAnon grew less than 5 MB ($n_remote resolutions)");
cmp_ok($ctx2 - $ctx0, '<', $limit_kb, 'remote: memory contexts grew less than 5 MB');

is($s->query_safe('SELECT pg_backend_pid()'), $pid, 'one backend did all of it');
$s->quit;
$emu->stop;
$node->stop;
done_testing();
