
# Copyright: comms_resolve authors
#
# 002_dump_restore.pl: the local inventory (sql.md 2) is user data that
# pg_dump dumps (pg_extension_config_dump).  A database with a varied
# inventory is dumped in custom format (restored with pg_restore) and as
# plain SQL (restored with psql) into fresh databases; the three tables must
# come back identical, resolution must give identical results, and the
# restored tables must keep working (default ids, constraints, triggers).

use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->start;

my $tmp = PostgreSQL::Test::Utils::tempdir;
my @conn = ('-h', $node->host, '-p', $node->port);

# run a client program of the cluster; returns (success, stdout, stderr)
sub run_prog
{
	my ($prog, @args) = @_;
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run([ $node->installed_command($prog), @conn, @args ],
		'<', \undef, '>', \$out, '2>', \$err);
	return ($ok ? 1 : 0, $out, $err);
}

$node->safe_psql('postgres', 'CREATE DATABASE src');

########################################################################
# The inventory: 5 pools (one with a default id, one empty), 205 senders
# over all channels and both statuses (5 with default ids), display names
# with NULLs and awkward characters, tags, fixed timestamps, memberships
# in one or several pools.
########################################################################

$node->safe_psql(
	'src', q{
CREATE EXTENSION comms_resolve;

INSERT INTO comms_resolve.sender_pools (id, name, tags, created_at, updated_at)
SELECT 'comms_senderpool_01h9krwprkeee8fzqspvwy' || lpad(p::text, 4, '0'),
       CASE p WHEN 3 THEN E'Pool "three" \\\\ O''Brien\ttab' ELSE 'Pool ' || p END,
       CASE WHEN p % 2 = 0 THEN jsonb_build_object('env', 'prod', 'team', 'team-' || p)
            ELSE '{}' END,
       timestamptz '2024-01-01 00:00:00+00' + p * interval '1 day',
       timestamptz '2024-02-01 00:00:00+00' + p * interval '1 day 1 second'
  FROM generate_series(1, 4) p;
-- a pool with a default id and default timestamps; and an empty pool
INSERT INTO comms_resolve.sender_pools (name, tags)
VALUES ('Pool default', '{"kind": "default-id"}');
INSERT INTO comms_resolve.sender_pools (id, name)
VALUES ('comms_senderpool_01h9krwprkeee8fzqspvwy0099', 'Empty pool');

INSERT INTO comms_resolve.senders
       (id, display_name, address, channel, status, tags, created_at, updated_at)
SELECT 'comms_sender_01h9krwprkeee8fzqspvwy' || lpad(i::text, 4, '0'),
       CASE WHEN i % 4 = 0 THEN NULL
            WHEN i % 9 = 1 THEN E'Acme "Sales" \\\\ d\u00e9p\u00f4t \u65e5\u672c ' || i
            WHEN i % 9 = 2 THEN E'O''Brien\ttab\nline ' || i
            WHEN i % 9 = 3 THEN ''
            ELSE 'Sender ' || i END,
       CASE c
         WHEN 'SMS' THEN (ARRAY['+1415555', '+1212555', '+4420712', '+3314268', '+8190123'])[1 + i % 5]
                         || lpad(i::text, 4, '0')
         WHEN 'RCS' THEN '+1650555' || lpad(i::text, 4, '0')
         WHEN 'WHATSAPP' THEN (ARRAY['+1415777', '+4420777', '+3361777', '+4915177'])[1 + i % 4]
                              || lpad(i::text, 4, '0')
         WHEN 'EMAIL' THEN 'sender' || i || '@mail' || (i % 3) || '.example.com'
         ELSE 'push-app-' || md5(i::text)
       END,
       c,
       CASE WHEN i % 7 = 0 THEN 'DEACTIVATED' ELSE 'ACTIVATED' END,
       CASE i % 3 WHEN 0 THEN '{}'
                  WHEN 1 THEN jsonb_build_object('team', 'team-' || (i % 5))
                  ELSE jsonb_build_object('team', 'team-' || (i % 5), 'cost.center', 'cc~' || i,
                                          'region', 'eu-west-1') END,
       timestamptz '2023-06-01 12:00:00+00' + i * interval '1 hour 1 minute 1.5 seconds',
       timestamptz '2023-06-01 12:00:00+00' + i * interval '2 hours'
  FROM generate_series(1, 200) i,
       LATERAL (SELECT (ARRAY['SMS', 'RCS', 'EMAIL', 'WHATSAPP', 'PUSH'])[1 + (i * 7 / 3) % 5] AS c) ch;

-- senders with default ids, status, tags and timestamps
INSERT INTO comms_resolve.senders (address, channel, display_name)
VALUES ('+14155559901', 'SMS', 'Default one'),
       ('+14155559902', 'RCS', NULL),
       ('default@mail0.example.com', 'EMAIL', 'Default mail'),
       ('+14155559904', 'WHATSAPP', NULL),
       ('push-default', 'PUSH', 'Default push');

-- memberships: every numbered sender in one of pools 1-4, every tenth
-- also in pool 1, every thirteenth and every default-id sender in the
-- default-id pool
INSERT INTO comms_resolve.sender_pool_senders
SELECT 'comms_senderpool_01h9krwprkeee8fzqspvwy' || lpad((1 + i % 4)::text, 4, '0'),
       'comms_sender_01h9krwprkeee8fzqspvwy' || lpad(i::text, 4, '0')
  FROM generate_series(1, 200) i;
INSERT INTO comms_resolve.sender_pool_senders
SELECT 'comms_senderpool_01h9krwprkeee8fzqspvwy0001',
       'comms_sender_01h9krwprkeee8fzqspvwy' || lpad(i::text, 4, '0')
  FROM generate_series(10, 200, 10) i
 WHERE 1 + i % 4 <> 1;
INSERT INTO comms_resolve.sender_pool_senders
SELECT p.id, s.id
  FROM comms_resolve.sender_pools p, comms_resolve.senders s
 WHERE p.name = 'Pool default'
   AND (s.id NOT LIKE 'comms_sender_01h9krwprkeee8fzqspvwy%'
        OR right(s.id, 4)::int % 13 = 0);

-- an update through the trigger, so updated_at differs from the default
UPDATE comms_resolve.senders SET display_name = 'Renamed'
 WHERE address = '+14155559901';
});

is( $node->safe_psql(
		'src', q{
SELECT (SELECT count(*) FROM comms_resolve.sender_pools) || ' ' ||
       (SELECT count(*) FROM comms_resolve.senders) || ' ' ||
       (SELECT string_agg(channel || ':' || status || ':' || n, ' ' ORDER BY channel, status)
          FROM (SELECT channel, status, count(*) n FROM comms_resolve.senders GROUP BY 1, 2) x) || ' ' ||
       (SELECT count(*) FROM comms_resolve.senders WHERE display_name IS NULL) || ' ' ||
       (SELECT count(*) FROM comms_resolve.sender_pool_senders)}),
	'6 205 EMAIL:ACTIVATED:36 EMAIL:DEACTIVATED:6 PUSH:ACTIVATED:36 PUSH:DEACTIVATED:6 '
	  . 'RCS:ACTIVATED:35 RCS:DEACTIVATED:6 SMS:ACTIVATED:35 SMS:DEACTIVATED:5 '
	  . 'WHATSAPP:ACTIVATED:35 WHATSAPP:DEACTIVATED:5 52 230',
	'source inventory as designed');

########################################################################
# What is compared
########################################################################

# full ordered exports of the three tables
my $tables_sql = q{
COPY (SELECT * FROM comms_resolve.sender_pools ORDER BY id) TO STDOUT;
\echo ----
COPY (SELECT * FROM comms_resolve.senders ORDER BY id) TO STDOUT;
\echo ----
COPY (SELECT * FROM comms_resolve.sender_pool_senders ORDER BY sender_pool_id, sender_id) TO STDOUT;
};

# the definitions the tables come back with (constraints, defaults,
# triggers, indexes)
my $defs_sql = q{
SELECT c.relname || ' ' || con.conname || ' ' || pg_get_constraintdef(con.oid)
  FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
 WHERE c.relnamespace = 'comms_resolve'::regnamespace
UNION ALL
SELECT c.relname || ' ' || a.attname || ' default ' || pg_get_expr(d.adbin, d.adrelid)
  FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid
  JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
 WHERE c.relnamespace = 'comms_resolve'::regnamespace
UNION ALL
SELECT pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'comms_resolve'::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT indexdef FROM pg_indexes WHERE schemaname = 'comms_resolve'
UNION ALL
SELECT 'config ' || array_to_string(extconfig::regclass[]::text[], ',') || ' ' ||
       array_to_string(extcondition, ',')
  FROM pg_extension WHERE extname = 'comms_resolve'
ORDER BY 1};

# ~50 requests: pools x recipient sets, channel controls cycling, plus the
# mixed recipient set under every channel control
my @pools = (
	"'comms_senderpool_01h9krwprkeee8fzqspvwy0001'",
	"'comms_senderpool_01h9krwprkeee8fzqspvwy0002'",
	"'comms_senderpool_01h9krwprkeee8fzqspvwy0003'",
	"'comms_senderpool_01h9krwprkeee8fzqspvwy0004'",
	"'comms_senderpool_01h9krwprkeee8fzqspvwy0099'",
	"(SELECT id FROM comms_resolve.sender_pools WHERE name = 'Pool default')",
	'NULL');
my @recipients = (
	'["+14155551234"]',
	'["+442071234567", "whatsapp:+442071234567"]',
	'["someone@example.org"]',
	'[{"address": "device-token-1", "channel": "PUSH"}]',
	'["+819012345678", "+12125550000", "whatsapp:+14155550000"]',
	'["+14155551234", "whatsapp:+33612345678", "a@b.co", {"address": "tok", "channel": "PUSH"}, "+14155551234"]'
);
my @channels = (
	'NULL',
	q{'{"filterIn": ["SMS", "WHATSAPP"]}'},
	q{'{"priority": [{"channel": "EMAIL", "priority": 0}, {"channel": "SMS", "priority": 3}]}'},
	q{'{"filterIn": ["PUSH", "EMAIL", "RCS", "SMS"], "priority": [{"channel": "RCS", "priority": 5}]}'},
	q{'{"filterIn": []}'});

my @requests;
for my $pi (0 .. $#pools)
{
	for my $ri (0 .. $#recipients - 1)
	{
		push @requests,
		  [ $pools[$pi], "'$recipients[$ri]'", $channels[ ($pi + $ri) % 4 ] ];
	}
}
for my $pi (0 .. $#pools)
{
	push @requests, [ $pools[$pi], "'$recipients[-1]'", $channels[ $pi % 5 ] ];
}
for my $ci (0 .. $#channels)
{
	push @requests, [ $pools[0], "'$recipients[-1]'", $channels[$ci] ];
}

my $values = join(",\n",
	map { "($_, $requests[$_][0], $requests[$_][1]::jsonb, $requests[$_][2]::jsonb)" }
	  0 .. $#requests);

my $results_sql = qq{
SELECT q.i, r.ord, r.sender_id, r.from_address, r.to_address, r.channel, r.priority,
       r.display_name IS NULL, r.display_name, r.to_channel
  FROM (VALUES $values) AS q(i, pool, recipients, channels)
 CROSS JOIN LATERAL comms_resolve.resolve(q.pool, q.recipients, q.channels)
       WITH ORDINALITY AS r(sender_id, from_address, to_address, channel, priority,
                            display_name, to_channel, ord)
 ORDER BY q.i, r.ord;
\\echo ----
SELECT q.i, comms_resolve.resolve_request(
         jsonb_strip_nulls(jsonb_build_object(
           'senderPoolId', q.pool, 'recipientAddresses', q.recipients,
           'channels', q.channels)))
  FROM (VALUES $values) AS q(i, pool, recipients, channels)
 ORDER BY q.i;
\\echo ----
SELECT s.address, r.*
  FROM (SELECT address, channel FROM comms_resolve.senders
         WHERE status = 'ACTIVATED' AND channel IN ('SMS', 'WHATSAPP', 'RCS')
         ORDER BY id LIMIT 12) s
 CROSS JOIN LATERAL comms_resolve.resolve_from_sender(
         jsonb_build_object('address', s.address, 'channel', s.channel),
         '["+14155551234", "whatsapp:+4915112345678"]') WITH ORDINALITY r
 ORDER BY s.address, r.ordinality;
\\echo ----
SELECT s.address, r.*
  FROM (SELECT address FROM comms_resolve.senders
         WHERE status = 'ACTIVATED' AND channel = 'EMAIL'
         ORDER BY id LIMIT 5) s
 CROSS JOIN LATERAL comms_resolve.resolve_from_sender(
         jsonb_build_object('address', s.address, 'name', 'Someone'),
         '["x\@example.com", "+14155551234"]') WITH ORDINALITY r
 ORDER BY s.address, r.ordinality;
};

my $results_all_sql =
  $results_sql . "\nSET comms_resolve.max_results = 1000;\n\\echo ----\n" . $results_sql;

sub snapshot_of
{
	my ($db) = @_;
	return {
		tables => $node->safe_psql($db, $tables_sql),
		defs => $node->safe_psql($db, $defs_sql),
		results => $node->safe_psql($db, $results_all_sql),
	};
}

my $src = snapshot_of('src');

# the comparison is not vacuous
my @result_parts = split /^----\n/m, $src->{results};
is(scalar(@requests), 47, 'number of requests');
is(scalar(@result_parts), 8, 'result sections');
my %part_lines = map { $_ => scalar(() = $result_parts[$_] =~ /\n/g) } 0 .. 7;
cmp_ok($part_lines{0}, '>', 200, 'resolve() rows, max_results 10');
cmp_ok($part_lines{4}, '>', $part_lines{0}, 'resolve() rows, max_results 1000');
like($result_parts[1], qr/"displayName": null/, 'resolve_request() results include NULL display names');
like($src->{results}, qr/\|t\|\|/, 'resolve() results include NULL display names');
cmp_ok($part_lines{2}, '>', 12, 'resolve_from_sender() rows');
cmp_ok($part_lines{3}, '>', 5, 'resolve_from_sender() email rows');

########################################################################
# custom format, pg_restore
########################################################################

my ($ok, $out, $err) = run_prog('pg_dump', '-Fc', '-f', "$tmp/src.dump", 'src');
ok($ok, 'pg_dump -Fc');
is($err, '', 'pg_dump -Fc: no messages');

# the archive holds the extension and the inventory's data
($ok, $out, $err) = run_prog('pg_restore', '-l', "$tmp/src.dump");
like($out, qr/EXTENSION - comms_resolve/, 'archive: CREATE EXTENSION');
like($out, qr/TABLE DATA comms_resolve senders /, 'archive: senders data');
like($out, qr/TABLE DATA comms_resolve sender_pools /, 'archive: sender_pools data');
like($out, qr/TABLE DATA comms_resolve sender_pool_senders /, 'archive: sender_pool_senders data');

$node->safe_psql('postgres', 'CREATE DATABASE dst_custom');
($ok, $out, $err) = run_prog('pg_restore', '--exit-on-error', '-d', 'dst_custom', "$tmp/src.dump");
ok($ok, 'pg_restore into a fresh database');
is($err, '', 'pg_restore: no messages');

my $dst = snapshot_of('dst_custom');
is($dst->{tables}, $src->{tables}, 'pg_restore: the three tables are identical');
is($dst->{defs}, $src->{defs}, 'pg_restore: constraints, defaults, triggers, indexes, config dump');
is($dst->{results}, $src->{results}, 'pg_restore: resolution results are identical');

# a single-transaction restore too (data ordering must satisfy the FKs)
$node->safe_psql('postgres', 'CREATE DATABASE dst_single');
($ok, $out, $err) =
  run_prog('pg_restore', '--exit-on-error', '--single-transaction', '-d', 'dst_single',
	"$tmp/src.dump");
ok($ok, 'pg_restore --single-transaction');
is($err, '', 'pg_restore --single-transaction: no messages');
is($node->safe_psql('dst_single', $tables_sql), $src->{tables},
	'pg_restore --single-transaction: the three tables are identical');

# a plain dump's text without its random \restrict key
sub dump_text
{
	my $text = slurp_file($_[0]);
	$text =~ s/^(\\(?:un)?restrict) \S+$/$1 KEY/mg;
	return $text;
}

# dumping the restored database gives the same dump
($ok, $out, $err) = run_prog('pg_dump', '-Fp', '-f', "$tmp/src.sql", 'src');
ok($ok, 'pg_dump -Fp');
is($err, '', 'pg_dump -Fp: no messages');
($ok, $out, $err) = run_prog('pg_dump', '-Fp', '-f', "$tmp/dst_custom.sql", 'dst_custom');
ok($ok, 'pg_dump -Fp of the restored database');
is(dump_text("$tmp/dst_custom.sql"), dump_text("$tmp/src.sql"),
	'pg_restore: a dump of the restored database equals the original dump');

########################################################################
# plain SQL, psql
########################################################################

$node->safe_psql('postgres', 'CREATE DATABASE dst_plain');
($ok, $out, $err) = run_prog('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'dst_plain',
	'-f', "$tmp/src.sql");
ok($ok, 'plain dump restored with psql');
is($err, '', 'psql restore: no messages');

my $plain = snapshot_of('dst_plain');
is($plain->{tables}, $src->{tables}, 'psql restore: the three tables are identical');
is($plain->{defs}, $src->{defs}, 'psql restore: constraints, defaults, triggers, indexes, config dump');
is($plain->{results}, $src->{results}, 'psql restore: resolution results are identical');

########################################################################
# the restored inventory keeps working
########################################################################

for my $db ('dst_custom', 'dst_plain')
{
	is( $node->safe_psql(
			$db, q{
WITH s AS (
  INSERT INTO comms_resolve.senders (address, channel, display_name)
  VALUES ('+14155550777', 'RCS', 'After restore')
  RETURNING id, status, tags, created_at = now() AS fresh),
p AS (
  INSERT INTO comms_resolve.sender_pools (name) VALUES ('After restore')
  RETURNING id)
SELECT comms_resolve.is_valid_id('comms_sender', s.id), s.status, s.tags, s.fresh,
       comms_resolve.is_valid_id('comms_senderpool', p.id)
  FROM s, p}),
		't|ACTIVATED|{}|t|t',
		"$db: new sender and pool with default ids");

	is( $node->safe_psql(
			$db, q{
INSERT INTO comms_resolve.sender_pool_senders
SELECT p.id, s.id FROM comms_resolve.sender_pools p, comms_resolve.senders s
 WHERE p.name = 'After restore' AND s.address IN ('+14155550777', '+14155559901');
SELECT sender_id = (SELECT id FROM comms_resolve.senders WHERE address = '+14155550777'),
       from_address, channel, priority, display_name
  FROM comms_resolve.resolve((SELECT id FROM comms_resolve.sender_pools WHERE name = 'After restore'),
                             '["+14155551234"]')}),
		"t|+14155550777|RCS|0|After restore\nf|+14155559901|SMS|1|Renamed",
		"$db: the new sender resolves");

	# constraints came back: duplicates and bad values are refused
	my ($ret, $o, $e) = $node->psql($db,
		q{INSERT INTO comms_resolve.senders (address, channel) VALUES ('+14155550777', 'RCS')});
	like($e, qr/senders_channel_address_key/, "$db: (channel, address) still unique");
	($ret, $o, $e) = $node->psql($db,
		q{INSERT INTO comms_resolve.senders (id, address, channel) VALUES ('comms_sender_nope', '+1', 'SMS')});
	like($e, qr/senders_id_check/, "$db: id pattern still checked");

	# the update trigger came back
	is( $node->safe_psql(
			$db, q{
UPDATE comms_resolve.senders SET display_name = 'x'
 WHERE id = 'comms_sender_01h9krwprkeee8fzqspvwy0001'
RETURNING updated_at > timestamptz '2024-01-01'}),
		't',
		"$db: updated_at trigger");

	# deleting a pool cascades to its memberships
	is( $node->safe_psql(
			$db, q{
DELETE FROM comms_resolve.sender_pools WHERE id = 'comms_senderpool_01h9krwprkeee8fzqspvwy0002';
SELECT count(*) FROM comms_resolve.sender_pool_senders
 WHERE sender_pool_id = 'comms_senderpool_01h9krwprkeee8fzqspvwy0002'}),
		'0',
		"$db: pool deletion cascades");
}

$node->stop;

done_testing();
