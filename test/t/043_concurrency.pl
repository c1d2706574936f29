# Concurrency: pgbench with 16 clients mixing local resolves and
# resolve_many, remote resolves against the emulator, inventory writes
# (senders and memberships of pool A, one row per statement), syncs of
# pool B from the emulator (whose inventory changes every 2 s meanwhile),
# and consistency checks that raise an error when a resolution is not
# that of the snapshot it ran in:
#   check_rr.sql  in one REPEATABLE READ transaction, resolve(),
#                 resolve_request() and the pure-SQL reference
#                 (test/reference/reference.sql) give the same ranked
#                 rows; every sender is an ACTIVATED member of the pool;
#                 the row count is min(max_results, candidates)
#   check_rc.sql  in one READ COMMITTED statement, the same membership
#                 and count checks against that statement's snapshot
# pgbench (PG 15) aborts a client on any error, so zero aborted clients
# and zero failed transactions mean zero errors and zero inconsistencies.
#
# COMMS_RESOLVE_PGBENCH_SECONDS sets the duration (default 20; 60 for the
# full run), COMMS_RESOLVE_PGBENCH_CLIENTS the clients (default 16).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use lib "$FindBin::RealBin/../reliability";
use CommsEmulator;
use CommsTest qw(new_node point_server);
use IPC::Run;
use PostgreSQL::Test::Utils;
use RelTest qw(env_int);
use Test::More;
use Time::HiRes qw(time usleep);

my $secs = env_int('COMMS_RESOLVE_PGBENCH_SECONDS', 20);
my $clients = env_int('COMMS_RESOLVE_PGBENCH_CLIENTS', 16);
my $dir = "$FindBin::RealBin/../reliability/pgbench";
my $POOL_A = 'comms_senderpool_01h9krwprkeee8fzqspvwy6aaa';
my $POOL_B = 'comms_senderpool_01h9krwprkeee8fzqspvwy6bbb';

my $node = new_node('concurrency', log_statement => 'none', max_connections => 64,
	log_min_messages => 'warning');

# the SQL reference model of the resolution rules
{
	my ($ret, $out, $err) = $node->psql('postgres',
		"\\set calling_codes_file '$FindBin::RealBin/../../data/calling-codes.tsv'\n"
		  . "\\i $FindBin::RealBin/../reference/reference.sql\n", on_error_stop => 1);
	is($ret, 0, 'the SQL reference model is loaded') or diag($err);
}

# pool A: 40 stable senders, churned by writes.sql
srand(43);
sub sid { my ($p, $i) = @_; return sprintf('comms_sender_01h9krwprkeee8fzqspvwy%s%03d', $p, $i) }
my @stable;
for my $i (1 .. 40)
{
	my ($ch, $addr) =
	    $i <= 10 ? ('SMS', sprintf('+1415777%04d', $i))
	  : $i <= 18 ? ('WHATSAPP', sprintf('+4477009%05d', $i))
	  : $i <= 24 ? ('RCS', "agent_$i")
	  : $i <= 34 ? ('EMAIL', "desk$i\@company.com")
	  : ('PUSH', "app-$i");
	push @stable, [ sid('a', $i), $ch, $addr ];
}
$node->safe_psql('postgres', join("\n",
	"INSERT INTO comms_resolve.sender_pools (id, name) VALUES ('$POOL_A', 'A');",
	(map { "INSERT INTO comms_resolve.senders (id, display_name, address, channel) VALUES ('$_->[0]', 'Stable', '$_->[2]', '$_->[1]');" } @stable),
	"INSERT INTO comms_resolve.sender_pool_senders SELECT '$POOL_A', id FROM comms_resolve.senders;",
	"CREATE TABLE rel_cfg (k text PRIMARY KEY, v text NOT NULL);",
	"INSERT INTO rel_cfg VALUES ('pool_a', '$POOL_A'), ('pool_b', '$POOL_B');",
	"CREATE TABLE rel_stable (n int PRIMARY KEY, id text NOT NULL);",
	"INSERT INTO rel_stable SELECT row_number() OVER (ORDER BY id), id FROM comms_resolve.senders;"));

$node->safe_psql('postgres', q{
CREATE FUNCTION rel_fail(msg text) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'INCONSISTENT: %', msg;
END $$;

CREATE FUNCTION rel_recipients(n int) RETURNS jsonb LANGUAGE sql IMMUTABLE
RETURN jsonb_build_array('+1415555' || lpad(n::text, 4, '0'), 'whatsapp:+4479' || lpad(n::text, 8, '0'),
                         'u' || n || '@example.org');

-- in the caller's REPEATABLE READ snapshot: resolve() = resolve_request()
-- = the SQL reference, only ACTIVATED members, min(max_results, candidates)
CREATE FUNCTION rel_check(which int, n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    p text := (SELECT v FROM rel_cfg WHERE k = CASE which WHEN 0 THEN 'pool_a' ELSE 'pool_b' END);
    rec jsonb := rel_recipients(n);
    got text; ref text; req text;
    nrows int; outside int; cand int;
    mx int := coalesce(current_setting('comms_resolve.max_results', true), '10')::int;
BEGIN
    IF current_setting('transaction_isolation') <> 'repeatable read' THEN
        RAISE EXCEPTION 'rel_check needs REPEATABLE READ';
    END IF;
    SELECT string_agg(concat_ws('|', r.sender_id, r.to_address, r.to_channel, r.channel, r.priority), ';' ORDER BY r.ord),
           count(*),
           count(*) FILTER (WHERE NOT EXISTS (
               SELECT 1 FROM comms_resolve.sender_pool_senders m JOIN comms_resolve.senders s ON s.id = m.sender_id
                WHERE m.sender_pool_id = p AND s.id = r.sender_id AND s.status = 'ACTIVATED' AND s.channel = r.channel))
      INTO got, nrows, outside
      FROM comms_resolve.resolve(p, rec) WITH ORDINALITY
           AS r(sender_id, from_address, to_address, channel, priority, display_name, to_channel, ord);
    SELECT string_agg(concat_ws('|', f.sender_id, f.to_address, f.to_channel, f.channel, f.priority), ';' ORDER BY f.ordinal)
      INTO ref FROM comms_ref.resolve(p, rec) f;
    SELECT string_agg(concat_ws('|', x -> 'from' ->> 'senderId', x -> 'to' ->> 'address', x -> 'to' ->> 'channel',
                                x -> 'from' ->> 'channel', x ->> 'priority'), ';' ORDER BY o)
      INTO req
      FROM jsonb_array_elements(comms_resolve.resolve_request(
               jsonb_build_object('senderPoolId', p, 'recipientAddresses', rec)) -> 'results') WITH ORDINALITY e(x, o);
    SELECT count(*) INTO cand
      FROM comms_resolve.sender_pool_senders m JOIN comms_resolve.senders s ON s.id = m.sender_id
     WHERE m.sender_pool_id = p AND s.status = 'ACTIVATED' AND s.channel IN ('SMS', 'RCS', 'WHATSAPP', 'EMAIL');
    IF outside > 0 OR nrows <> least(mx, cand) OR got IS DISTINCT FROM ref OR got IS DISTINCT FROM req THEN
        PERFORM rel_fail(format('pool %s n %s: %s rows (%s not activated members), %s candidates; resolve [%s] reference [%s] request [%s]',
                                p, n, nrows, outside, cand, got, ref, req));
    END IF;
    RETURN nrows;
END $$;

-- in one READ COMMITTED statement (a STABLE SQL function runs in its
-- caller's snapshot): only ACTIVATED members, min(max_results, candidates)
CREATE FUNCTION rel_check_statement(which int, n int) RETURNS int LANGUAGE sql STABLE AS $$
WITH p AS (SELECT v AS id FROM rel_cfg WHERE k = CASE which WHEN 0 THEN 'pool_a' ELSE 'pool_b' END),
     m AS (SELECT s.id, s.channel FROM p, comms_resolve.sender_pool_senders ps
             JOIN comms_resolve.senders s ON s.id = ps.sender_id
            WHERE ps.sender_pool_id = p.id AND s.status = 'ACTIVATED'),
     r AS (SELECT r.* FROM p, comms_resolve.resolve(p.id, rel_recipients(n)) r),
     c AS (SELECT (SELECT count(*) FROM r) AS nrows,
                  (SELECT count(*) FROM r WHERE NOT EXISTS (SELECT 1 FROM m WHERE m.id = r.sender_id AND m.channel = r.channel)) AS outside,
                  (SELECT count(*) FROM m WHERE channel IN ('SMS', 'RCS', 'WHATSAPP', 'EMAIL')) AS cand)
SELECT CASE WHEN outside > 0 OR nrows <> least(coalesce(current_setting('comms_resolve.max_results', true), '10')::int, cand)
            THEN rel_fail(format('statement check, pool %s n %s: %s rows, %s not activated members, %s candidates',
                                 (SELECT id FROM p), n, nrows, outside, cand))
            ELSE nrows::int END
  FROM c
$$;
});

# pool B: served by the emulator, mirrored by sync
my @b_senders;
for my $i (1 .. 120)
{
	my ($ch, $addr) =
	    $i <= 30 ? ('SMS', sprintf('+1646888%04d', $i))
	  : $i <= 60 ? ('WHATSAPP', sprintf('+3361234%04d', $i))
	  : $i <= 80 ? ('RCS', "b_agent_$i")
	  : $i <= 110 ? ('EMAIL', "b$i\@company.net")
	  : ('PUSH', "b-app-$i");
	push @b_senders, { id => sid('b', $i), displayName => "B $i", address => $addr, channel => $ch,
		status => 'ACTIVATED', tags => {}, createdAt => '2024-01-01T00:00:00Z', updatedAt => '2024-01-01T00:00:00Z' };
}
my $b_members = { map { $_->{id} => 1 } @b_senders[ 0 .. 99 ] };
sub b_inventory
{
	return { senders => \@b_senders, senderPools => [ { id => $POOL_B, name => 'B', tags => {},
		createdAt => '2024-01-01T00:00:00Z', updatedAt => '2024-01-01T00:00:00Z',
		senders => [ sort grep { $b_members->{$_} } keys %$b_members ] } ] };
}
my $emu = CommsEmulator->new(inventory => b_inventory(), credentials => ['AC1:emulator-secret']);
END { local $?; $emu->stop if $emu }
point_server($node, $emu, server => { request_timeout_ms => '10000' });
$node->safe_psql('postgres', "ALTER DATABASE postgres SET client_min_messages = warning");
$node->safe_psql('postgres', "SELECT * FROM comms_resolve.sync('$POOL_B')");
is($node->safe_psql('postgres', "SELECT count(*) FROM comms_resolve.sender_pool_senders WHERE sender_pool_id = '$POOL_B'"),
	100, 'pool B synced before the run');
for my $w (0, 1)
{
	is($node->safe_psql('postgres', "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT rel_check($w, 1); COMMIT;") =~ /^\d+$/
		? 'ok' : 'bad', 'ok', "the consistency check passes before the run (pool " . ($w ? 'B' : 'A') . ')');
}

# --- pgbench
my @scripts = ([ 'resolve.sql', 4 ], [ 'resolve_many.sql', 1 ], [ 'remote.sql', 1 ], [ 'writes.sql', 4 ],
	[ 'sync.sql', 1 ], [ 'check_rr.sql', 3 ], [ 'check_rc.sql', 3 ]);
my @cmd = ('pgbench', '-n', '-c', $clients, '-j', 2, '-T', $secs, '-h', $node->host, '-p', $node->port,
	(map { ('-f', "$dir/$_->[0]\@$_->[1]") } @scripts), 'postgres');
my ($out, $err) = ('', '');
my $t0 = time;
my $h = IPC::Run::start(\@cmd, '<', \undef, '>', \$out, '2>', \$err);
# meanwhile the API's inventory changes: statuses flip, members come and go
my $changes = 0;
while ($h->pumpable && time - $t0 < $secs + 30)
{
	usleep(2_000_000);
	last unless $h->pumpable;
	for (1 .. 10)
	{
		my $s = $b_senders[ int(rand(@b_senders)) ];
		$s->{status} = $s->{status} eq 'ACTIVATED' ? 'DEACTIVATED' : 'ACTIVATED';
		$s->{updatedAt} = sprintf('2025-01-01T00:00:%02dZ', $changes % 60);
	}
	for (1 .. 5)
	{
		my $id = $b_senders[ int(rand(@b_senders)) ]{id};
		$b_members->{$id} = !$b_members->{$id};
	}
	eval { $emu->set_inventory(b_inventory()); $changes++; };
	$h->pump_nb;
}
$h->finish;
my $rc = $? >> 8;
my $elapsed = time - $t0;

note("pgbench output:\n$out\n$err");
is($rc, 0, 'pgbench exited 0 (no client aborted)') or diag($err);
unlike($err, qr/aborted|ERROR|INCONSISTENT/, 'no client aborted, no error, no inconsistency') or diag($err);
my ($total) = $out =~ /number of transactions actually processed: (\d+)/;
my ($failed) = $out =~ /number of failed transactions: (\d+)/;
my ($tps) = $out =~ /tps = ([\d.]+) \(without initial connection time\)/;
ok(defined $total && $total > 0, 'transactions were processed');
is($failed // 0, 0, 'zero failed transactions');

# per script: transactions and failures
my @per;
while ($out =~ /SQL script \d+: (\S+)\n - weight: \d+[^\n]*\n - (\d+) transactions \(([\d.]+)% of total, tps = ([\d.]+)\)(?:\n - number of failed transactions: (\d+))?/g)
{
	my ($file, $n, $pct, $stps, $f) = ($1, $2, $3, $4, $5 // 0);
	$file =~ s{.*/}{};
	push @per, sprintf('  %-17s %7d transactions, %8.1f tps, %d failed', $file, $n, $stps, $f);
	is($f, 0, "$file: no failed transaction");
	cmp_ok($n, '>', 0, "$file: ran");
}
is(scalar @per, scalar @scripts, 'a line for every script');
diag(sprintf("pgbench: %d clients, %d s: %d transactions, %.1f tps, %d failed, %d API inventory changes\n%s",
	$clients, $secs, $total // 0, $tps // 0, $failed // 0, $changes, join("\n", @per)));

# after the run: consistent on both pools, and sync converges
$node->safe_psql('postgres', "SELECT * FROM comms_resolve.sync('$POOL_B')");
for my $w (0, 1)
{
	my ($r, $o, $e) = $node->psql('postgres',
		"BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT sum(rel_check($w, n)) FROM generate_series(1, 200) n; COMMIT;");
	is($r, 0, 'after the run, 200 more checks pass on pool ' . ($w ? 'B' : 'A')) or diag($e);
}
is($node->safe_psql('postgres', "SELECT count(*) FROM comms_resolve.sender_pool_senders WHERE sender_pool_id = '$POOL_B'"),
	scalar(grep { $b_members->{$_} } keys %$b_members), 'pool B mirrors the API after a last sync');
ok(!$node->log_contains(qr/terminated by signal|server process .* was terminated|PANIC/), 'no backend crashed');

$emu->stop;
$node->stop;
done_testing();
