# resolve_many through the remote resolver, against the emulator: it
# agrees with a loop of remote resolve() and of local resolve() on 300
# random people; it keeps at most comms_resolve.max_concurrency requests in
# flight and really overlaps them; it paces starts at
# comms_resolve.requests_per_second; it retries 429/503 per request; one
# failed person fails the whole call with one error naming the person and
# no rows; and cancel and statement_timeout end it promptly (57014), the
# backend going on working.  Counts and timings come from the emulator's
# request log (startedAt/endedAt in ms, per request).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use CommsEmulator;
use CommsTest qw(new_node random_inventory load_local sql_quote point_server random_request);
use JSON::PP;
use List::Util qw(max min);
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $json = JSON::PP->new->canonical;
srand(20300);

my $node = new_node('many');
my $inv = random_inventory(senders => 80, pools => 3);
my @pools = map { $_->{id} } @{ $inv->{senderPools} };
my $emu = CommsEmulator->new(inventory => $inv, credentials => ['AC1:emulator-secret']);
load_local($node, $inv);
# no retries server option: the setting comms_resolve.retries is used
point_server($node, $emu, server => { request_timeout_ms => '60000' });

my $cols = 'person, sender_id, from_address, to_address, channel, priority, display_name, to_channel';
my $rcols = 'sender_id, from_address, to_address, channel, priority, display_name, to_channel';

# $n random people (recipient arrays as random_request makes them: bare
# strings and objects); 1 in 5 repeats one of its recipients, 1 in 10 is a
# copy of an earlier person.
sub random_people
{
	my ($n) = @_;
	my @people;
	for my $i (0 .. $n - 1)
	{
		if ($i > 0 && rand() < 0.1)
		{
			push @people, $people[ int(rand(@people)) ];
			next;
		}
		my (undef, $rec) = random_request($inv);
		my $r = $json->decode($rec);
		push @$r, $r->[ int(rand(@$r)) ] if rand() < 0.2;
		push @people, $r;
	}
	return \@people;
}

sub resolve_requests { return $emu->requests(qr{/Senders/Resolve$}) }

# The most requests in flight at once in a log: at equal milliseconds an
# end counts before a start (so back-to-back requests on one connection are
# not counted as overlapping).
sub max_in_flight
{
	my ($reqs) = @_;
	my @ev = sort { $a->[0] <=> $b->[0] || $a->[1] <=> $b->[1] }
	  map { ([ $_->{startedAt}, 1 ], [ $_->{endedAt}, -1 ]) } @$reqs;
	my ($cur, $max) = (0, 0);
	for (@ev)
	{
		$cur += $_->[1];
		$max = $cur if $cur > $max;
	}
	return $max;
}

# Run SQL in a fresh session, verbosely; return (sqlstate or 'ok', stdout,
# stderr, seconds).
sub try_sql
{
	my ($sql) = @_;
	my $t0 = time;
	my ($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql", on_error_stop => 1);
	my $secs = time - $t0;
	my ($state) = $err =~ /ERROR:\s+([0-9A-Z]{5}):/;
	return ($state // ($ret == 0 ? 'ok' : 'unknown'), $out, $err, $secs);
}

# ------------------------------------------------------------------------
# Agreement: 300 random people in three batches (pool, channels)
# ------------------------------------------------------------------------
my @batches = (
	[ $pools[0], undef ],
	[ $pools[1], '{"filterIn": ["SMS", "WHATSAPP", "EMAIL", "PUSH"]}' ],
	[ undef, '{"priority": [{"channel": "EMAIL", "priority": 0}, {"channel": "SMS", "priority": 0}]}' ]);
$node->safe_psql('postgres', 'CREATE TABLE batch (b int PRIMARY KEY, pool text, ch jsonb, people jsonb)');
for my $b (0 .. $#batches)
{
	my $people = random_people(100);
	$node->safe_psql('postgres',
		sprintf('INSERT INTO batch VALUES (%d, %s, %s, %s)', $b, sql_quote($batches[$b][0]),
			sql_quote($batches[$b][1]), sql_quote($json->encode($people))));
}

# per person, its rows in a canonical order (the API's order among equal
# priorities is its own), as agreement() in CommsTest.pm compares them
my $canon = sub {
	my ($tbl) = @_;
	return "(SELECT person, string_agg(concat_ws('|', priority, sender_id, from_address, to_address, channel, display_name, to_channel), ';'
	                                 ORDER BY priority, sender_id, to_address, to_channel) AS s
	           FROM $tbl GROUP BY person)";
};
my $differ = sub {
	my ($t1, $t2) = @_;
	return $node->safe_psql('postgres', "SELECT count(*) FROM @{[ $canon->($t1) ]} a FULL JOIN @{[ $canon->($t2) ]} b
	                                      USING (person) WHERE a.s IS DISTINCT FROM b.s");
};

for my $b (0 .. $#batches)
{
	$emu->clear_log;
	$node->safe_psql('postgres', qq{
		CREATE TABLE mr_$b AS
		SELECT m.* FROM batch, comms_resolve.resolve_many(batch.pool, batch.people, batch.ch, 'remote') WITH ORDINALITY
		       AS m($cols, o)
		 WHERE batch.b = $b});
	is(scalar @{ resolve_requests() }, 100, "batch $b: resolve_many sends one Resolve request per person (100)");
	for my $r ([ 'lr', 'remote' ], [ 'll', 'local' ])
	{
		$node->safe_psql('postgres', qq{
			CREATE TABLE $r->[0]_$b AS
			SELECT (e.ord - 1)::integer AS person, $rcols, row_number() OVER (ORDER BY e.ord, r.o) AS o
			  FROM batch, jsonb_array_elements(batch.people) WITH ORDINALITY e(p, ord)
			 CROSS JOIN LATERAL comms_resolve.resolve(batch.pool, e.p, batch.ch, '$r->[1]') WITH ORDINALITY
			       AS r($rcols, o)
			 WHERE batch.b = $b});
	}
	my ($rows, $persons, $loop_rows) = split /\|/, $node->safe_psql('postgres',
		"SELECT count(*), count(DISTINCT person), (SELECT count(*) FROM ll_$b) FROM mr_$b");
	cmp_ok($persons, '>', 50, "batch $b: $rows rows for $persons of 100 people");
	is($rows, $loop_rows, "batch $b: as many rows as the loop of local resolve");
	is($differ->("mr_$b", "lr_$b"), 0, "batch $b: every person's rows equal those of remote resolve()");
	is($differ->("mr_$b", "ll_$b"), 0, "batch $b: every person's rows equal those of local resolve()");
	is($node->safe_psql('postgres', qq{
		SELECT count(*) FROM (SELECT person, priority, lag(person) OVER (ORDER BY o) AS lp,
		                             lag(priority) OVER (ORDER BY o) AS lpr FROM mr_$b) s
		 WHERE lp > person OR (lp = person AND lpr > priority)}), 0,
		"batch $b: rows come person ascending, each person's by priority");
	is($node->safe_psql('postgres', qq{
		SELECT (SELECT string_agg(concat_ws('|', $cols), ';' ORDER BY o) FROM mr_$b)
		       IS NOT DISTINCT FROM (SELECT string_agg(concat_ws('|', $cols), ';' ORDER BY o) FROM lr_$b)}), 't',
		"batch $b: the same rows in the same order as remote resolve() (one stable sort of the same answers)");
}

# the max_results cut per person, remotely: min(3, the person's rows), with
# the 3 smallest priorities
$emu->clear_log;
$node->safe_psql('postgres', qq{
	SET comms_resolve.max_results = 3;
	CREATE TABLE mr_cut AS
	SELECT m.* FROM batch, comms_resolve.resolve_many(batch.pool, batch.people, batch.ch, 'remote') WITH ORDINALITY
	       AS m($cols, o)
	 WHERE batch.b = 0});
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM
	  (SELECT person, string_agg(priority::text, ',' ORDER BY priority) AS s FROM mr_cut GROUP BY person) a
	  FULL JOIN
	  (SELECT person, string_agg(priority::text, ',' ORDER BY priority) AS s
	     FROM (SELECT person, priority, row_number() OVER (PARTITION BY person ORDER BY o) AS k FROM ll_0) x
	    WHERE k <= 3 GROUP BY person) b USING (person)
	 WHERE a.s IS DISTINCT FROM b.s}), 0, 'max_results = 3: each person cut to its 3 best priorities');
cmp_ok($node->safe_psql('postgres', 'SELECT max(k) FROM (SELECT count(*) AS k FROM mr_cut GROUP BY person) s'), '==', 3,
	'max_results = 3: no person has more than 3 rows');

# no people: no rows and no request
$emu->clear_log;
is($node->safe_psql('postgres', "SELECT count(*) FROM comms_resolve.resolve_many('$pools[0]', '[]', NULL, 'remote')"),
	0, 'an empty people array: no rows');
is(scalar @{ resolve_requests() }, 0, 'an empty people array: no request');

# invalid input is rejected locally, naming the element
my ($state, $out, $err, $secs) = try_sql(
	"SELECT * FROM comms_resolve.resolve_many('$pools[0]', '[[\"+14155552671\"], [\"a\@example.org\"], [\"+14155552672\"], [\"+14155552673\", {\"address\": \"14155552671\", \"channel\": \"PHONE\"}]]', NULL, 'remote')"
);
is($state, '22023', 'remote: an invalid recipient in person 3 gives 22023');
like($err, qr/DETAIL:\s+At \$\.people\[3\]\[1\]\.address\./, 'remote: DETAIL names $.people[3][1].address');
diag('requests sent before the invalid person was rejected: ' . scalar @{ resolve_requests() });

# ------------------------------------------------------------------------
# Concurrency: 20 ms per request
# ------------------------------------------------------------------------
my $big = random_people(200);
$node->safe_psql('postgres', 'CREATE TABLE big (people jsonb)');
$node->safe_psql('postgres', 'INSERT INTO big VALUES (' . sql_quote($json->encode($big)) . ')');
my $big_local = $node->safe_psql('postgres',
	"SELECT count(*) || '/' || coalesce(sum(priority), 0) FROM big, comms_resolve.resolve_many('$pools[0]', big.people) r");

# run resolve_many remotely over the first $n people of big with the given
# settings; returns (rows/sum, Resolve requests of the log, seconds)
sub run_big
{
	my ($n, $settings) = @_;
	$emu->clear_log;
	my $t0 = time;
	my $res = $node->safe_psql('postgres', qq{$settings
		SELECT count(*) || '/' || coalesce(sum(priority), 0)
		  FROM big, comms_resolve.resolve_many('$pools[0]',
		            (SELECT jsonb_agg(e ORDER BY o) FROM jsonb_array_elements(big.people) WITH ORDINALITY x(e, o) WHERE o <= $n),
		            NULL, 'remote') r});
	my $secs = time - $t0;
	return ($res, resolve_requests(), $secs);
}
sub span { my ($reqs) = @_; return (max(map { $_->{endedAt} } @$reqs) - min(map { $_->{startedAt} } @$reqs)) / 1000 }
sub conns { my ($reqs) = @_; my %c = map { $_->{conn} => 1 } @$reqs; return scalar keys %c }

$emu->faults({ path => '/v1/Senders/Resolve', delayMs => 20, times => -1 });
my ($res, $reqs);
($res, $reqs, $secs) = run_big(200, 'SET comms_resolve.max_concurrency = 8;');
is($res, $big_local, 'max_concurrency 8, 20 ms per request: the rows of the local resolver');
is(scalar @$reqs, 200, 'max_concurrency 8: 200 requests');
my $mif = max_in_flight($reqs);
cmp_ok($mif, '<=', 8, "max_concurrency 8: at most 8 requests in flight (most: $mif)");
cmp_ok($mif, '>', 1, 'max_concurrency 8: requests overlap');
cmp_ok(span($reqs), '<', 2.0, sprintf('max_concurrency 8: 200 x 20 ms took %.2f s in the log (one at a time: >= 4 s)', span($reqs)));
diag(sprintf('max_concurrency 8: %d in flight at most, %d connections, %.2f s (statement %.2f s)',
	$mif, conns($reqs), span($reqs), $secs));

($res, $reqs, $secs) = run_big(60, 'SET comms_resolve.max_concurrency = 1;');
is(scalar @$reqs, 60, 'max_concurrency 1: 60 requests');
is(max_in_flight($reqs), 1, 'max_concurrency 1: one request in flight at a time');
cmp_ok(span($reqs), '>=', 1.2, sprintf('max_concurrency 1: 60 x 20 ms took %.2f s in the log', span($reqs)));
# a finished request's slot takes the next person at once, not at the next
# wake-up of the wait loop
cmp_ok($secs, '<', 3.0, sprintf('max_concurrency 1: 60 x 20 ms in %.2f s (the next request starts as one ends)', $secs));

($res, $reqs, $secs) = run_big(60, 'SET comms_resolve.max_concurrency = 3;');
$mif = max_in_flight($reqs);
cmp_ok($mif, '<=', 3, "max_concurrency 3: at most 3 in flight (most: $mif)");
cmp_ok($mif, '>', 1, 'max_concurrency 3: requests overlap');
$emu->clear_faults;

# ------------------------------------------------------------------------
# Pacing: requests_per_second = 50, 100 people
# ------------------------------------------------------------------------
# Starts paced evenly are >= 20 ms apart, so a window [t, t + 1000 ms) holds
# at most 50 of them.  The log stamps arrival at the emulator in whole ms:
# truncation, or a request delayed on loopback while the one 50 places
# later is not, can bring one more start into a window, never two unless
# that delay exceeds 19 ms: at most 51.
($res, $reqs, $secs) = run_big(100, 'SET comms_resolve.requests_per_second = 50;');
is(scalar @$reqs, 100, 'requests_per_second 50: 100 requests');
my @starts = sort { $a <=> $b } map { $_->{startedAt} } @$reqs;
my $most = 0;
for my $i (0 .. $#starts)
{
	my $k = grep { $_ >= $starts[$i] && $_ < $starts[$i] + 1000 } @starts;
	$most = $k if $k > $most;
}
cmp_ok($most, '<=', 51, "requests_per_second 50: at most 50 (+1) starts in any 1 s window (most: $most)");
my $first_last = ($starts[-1] - $starts[0]) / 1000;
cmp_ok($first_last, '>=', 1.9, sprintf('requests_per_second 50: 99 gaps of 20 ms: %.2f s from first to last start', $first_last));
cmp_ok($secs, '>=', 1.9, sprintf('requests_per_second 50: the statement took %.2f s', $secs));
my @gaps = sort { $a <=> $b } map { $starts[$_] - $starts[ $_ - 1 ] } 1 .. $#starts;
cmp_ok($gaps[ int(@gaps / 2) ], '>=', 19, "requests_per_second 50: the median gap between starts is $gaps[int(@gaps / 2)] ms");
diag("requests_per_second 50: smallest gaps between starts (ms): @gaps[0 .. 4]");

# ------------------------------------------------------------------------
# 429 and 503 with Retry-After 0: retried per request
# ------------------------------------------------------------------------
my $batch0_sql = "SELECT $cols FROM batch, comms_resolve.resolve_many(batch.pool, batch.people, batch.ch, 'remote') WHERE batch.b = 0";
for my $status (429, 503)
{
	$emu->clear_log;
	$emu->faults({ path => '/v1/Senders/Resolve', status => $status, retryAfter => 0, times => 5 });
	$node->safe_psql('postgres', "SET comms_resolve.retries = 5; CREATE TABLE mr_$status AS $batch0_sql");
	$reqs = resolve_requests();
	is(scalar @$reqs, 105, "$status x 5: 100 people + 5 retried attempts = 105 requests");
	is(scalar(grep { ($_->{status} // 0) == $status } @$reqs), 5, "$status x 5: five answered $status");
	is($differ->("mr_$status", 'll_0'), 0, "$status x 5: every person still gets its rows");
	$emu->clear_faults;
}

# ------------------------------------------------------------------------
# A 500 for one person: one error, no rows
# ------------------------------------------------------------------------
$emu->clear_log;
$emu->faults({ path => '/v1/Senders/Resolve', status => 500, skip => 37, times => 1 });
($state, $out, $err) = try_sql("SET comms_resolve.max_concurrency = 1;\n$batch0_sql");
is($state, '58000', 'a 500 for the 38th request: 58000');
like($err, qr/CONTEXT:.*\bperson 37 of resolve_many/s, 'one at a time, the 38th request is person 37: CONTEXT names it');
is($out, '', 'a 500: no rows at all');
is(scalar @{ resolve_requests() }, 38, 'one at a time: no request after the failed one');
is(scalar(() = $err =~ /ERROR:/g), 1, 'a 500: one error');

$emu->clear_faults;
$emu->clear_log;
$emu->faults({ path => '/v1/Senders/Resolve', status => 500, skip => 37, times => 1 });
($state, $out, $err) = try_sql($batch0_sql);
is($state, '58000', 'max_concurrency 8, a 500 for the 38th request: 58000');
like($err, qr/CONTEXT:.*\bperson \d+ of resolve_many/s, 'max_concurrency 8: CONTEXT names the person');
is($out, '', 'max_concurrency 8: no rows at all');
usleep(200_000);
my $n = scalar @{ resolve_requests() };
cmp_ok($n, '<', 100, "max_concurrency 8: the call stops early: $n requests for 100 people");

# through a cursor: the first FETCH fails, no row comes out before the error
$emu->clear_faults;
$emu->faults({ path => '/v1/Senders/Resolve', status => 500, skip => 37, times => 1 });
($state, $out, $err) = try_sql("BEGIN;\nDECLARE c CURSOR FOR $batch0_sql;\nFETCH 1 FROM c;\nCOMMIT;");
is($state, '58000', 'a cursor over the failing call: 58000');
unlike($out, qr/\|/, 'a cursor over the failing call: FETCH 1 returns no row');
$emu->clear_faults;

# ------------------------------------------------------------------------
# One backend: a failure, then the next calls work; cancel and timeouts
# ------------------------------------------------------------------------
my $session = $node->background_psql('postgres', on_error_stop => 0);
my $pid = $session->query_safe('SELECT pg_backend_pid()');
chomp $pid;
my $count_sql = "SELECT count(*) || '/' || coalesce(sum(priority), 0) FROM big, comms_resolve.resolve_many('$pools[0]', big.people, NULL, 'remote') r";
is($session->query_safe($count_sql), $big_local, 'a session: resolve_many works');
$emu->faults({ path => '/v1/Senders/Resolve', status => 500, skip => 10, times => 1 });
$session->query("\\set VERBOSITY verbose\n$count_sql");
like($session->{stderr}, qr/58000/, 'a session: a 500 fails the call');
$session->{stderr} = '';
$emu->clear_faults;
is($session->query_safe($count_sql), $big_local, 'the same backend: the next call works and gives every row');

# statement_timeout during the pacing wait: 1 request per second, 20 people
my $twenty = "SELECT count(*) FROM big, comms_resolve.resolve_many('$pools[0]',
    (SELECT jsonb_agg(e) FROM jsonb_path_query(big.people, '\$[0 to 19]') e), NULL, 'remote') r";
$session->query_safe('SET comms_resolve.requests_per_second = 1');
$session->query_safe('SET statement_timeout = 1500');
my $t0 = time;
$session->query("\\set VERBOSITY verbose\n$twenty");
my $took = time - $t0;
like($session->{stderr}, qr/57014/, 'statement_timeout while pacing at 1 request/s: 57014');
cmp_ok($took, '<', 2.5, sprintf('the pacing wait was interrupted after %.2f s', $took));
$session->{stderr} = '';
$session->query_safe('RESET statement_timeout');
$session->query_safe('RESET comms_resolve.requests_per_second');

# statement_timeout during a Retry-After wait
$emu->faults({ path => '/v1/Senders/Resolve', status => 429, retryAfter => 30, times => -1 });
$session->query_safe('SET statement_timeout = 1500');
$t0 = time;
$session->query("\\set VERBOSITY verbose\n$twenty");
$took = time - $t0;
like($session->{stderr}, qr/57014/, 'statement_timeout during a Retry-After wait: 57014');
cmp_ok($took, '<', 2.5, sprintf('the retry wait was interrupted after %.2f s', $took));
$session->{stderr} = '';
$session->query_safe('RESET statement_timeout');
$emu->clear_faults;

# 30 s per request from here on (requests cut short are logged when their
# delay ends, so no log is counted after this)
$emu->faults({ path => '/v1/Senders/Resolve', delayMs => 30000, times => -1 });

# statement_timeout
$session->query_safe('SET statement_timeout = 1000');
$t0 = time;
$session->query("\\set VERBOSITY verbose\n$twenty");
$took = time - $t0;
like($session->{stderr}, qr/57014/, 'statement_timeout during 30 s requests: 57014');
like($session->{stderr}, qr/statement timeout/, 'statement_timeout: the real timeout message');
cmp_ok($took, '<', 2.0, sprintf('statement_timeout of 1 s acted in %.2f s', $took));
$session->{stderr} = '';
$session->query_safe('RESET statement_timeout');

# pg_cancel_backend from another session
$session->query_until(qr/sent/, "\\echo sent\n\\set VERBOSITY verbose\n$twenty;\n\\echo done\n");
usleep(500_000);
my $cancelled_at = time;
$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
$session->query_until(qr/done/, '');
$took = time - $cancelled_at;
like($session->{stderr}, qr/57014/, 'pg_cancel_backend during 30 s requests: 57014');
like($session->{stderr}, qr/canceling statement due to user request/, 'cancel: the real cancel message');
cmp_ok($took, '<', 1.0, sprintf('cancel acted in %.2f s', $took));
$session->{stderr} = '';

# the same backend goes on working
$emu->clear_faults;
is($session->query_safe('SELECT pg_backend_pid()'), $pid, 'the same backend is still there');
is($session->query_safe($count_sql), $big_local, 'and its next resolve_many gives every row');

$session->quit;
$emu->stop;
$node->stop;
done_testing();
