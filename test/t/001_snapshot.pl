
# Copyright: comms_resolve authors
#
# 001_snapshot.pl: sql.md 4.5 -- resolution results reflect the inventory
# exactly as the calling statement sees it (MVCC), even though the extension
# caches a pool's senders per call site (fn_extra) keyed by the active
# snapshot.  Several concurrent sessions check: other sessions' committed and
# uncommitted changes, the caller's own uncommitted changes, REPEATABLE READ,
# one statement resolving many rows, plpgsql loops that modify the inventory
# between resolutions, cursors, and snapshots that differ only in their
# in-progress transaction list or in an aborted subtransaction.
#
# Every assertion compares exact rank-ordered rows: "<id suffix> <sender
# channel> <from address> p<priority>", joined with ", ".

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('snapshot');
$node->init;
# no background activity that could assign transaction ids
$node->append_conf('postgresql.conf', "autovacuum = off\n");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE snap');

sub sid { return 'comms_sender_01h9krwprkeee8fzqspvwy7' . $_[0]; }
my $P1 = 'comms_senderpool_01h9krwprkeee8fzqspvwy7001';
my $P2 = 'comms_senderpool_01h9krwprkeee8fzqspvwy7002';
my $PHONE = '["+14155551234"]';

# The base inventory (t.reset() restores it):
#   101 RCS +14155550001, 102 SMS +14155550002 (same area code as the
#   recipient), 103 SMS +12125550003 (same country), 104 SMS +442071230004
#   (other country), 105 WHATSAPP, 106 EMAIL (neither reaches a phone).
#   P1 = {101, 102, 103, 105, 106}, P2 = {103, 104}.
# Senders added by the tests: 107 SMS +442071230007, 108 SMS +33142680008
# (other country; never both in a pool queried at the same time).  104, 107
# and 108 tie on everything but the sticky score; where two of them meet (the
# whole inventory) the order is by sticky score for recipient +14155551234,
# computed independently: 108 (11848403195361898475) > 107
# (6100927206592753573) > 104 (594855780032462713).
my %S = (
	101 => '101 RCS +14155550001',
	102 => '102 SMS +14155550002',
	103 => '103 SMS +12125550003',
	104 => '104 SMS +442071230004',
	107 => '107 SMS +442071230007',
	108 => '108 SMS +33142680008');

# expected result: list of [sender, priority]
sub exp_rows
{
	return join(', ', map { "$S{$_->[0]} p$_->[1]" } @_) || '-';
}

my $P1_BASE = exp_rows([ 101, 0 ], [ 102, 1 ], [ 103, 1 ]);
my $P2_BASE = exp_rows([ 103, 0 ], [ 104, 0 ]);
my $ALL_BASE = exp_rows([ 101, 0 ], [ 102, 1 ], [ 103, 1 ], [ 104, 1 ]);

$node->safe_psql(
	'snap', qq{
CREATE EXTENSION comms_resolve;
CREATE SCHEMA t;

CREATE FUNCTION t.sid(n int) RETURNS text LANGUAGE sql IMMUTABLE
RETURN 'comms_sender_01h9krwprkeee8fzqspvwy7' || n;

-- one result row, compactly (touches no table)
CREATE FUNCTION t.fmt(sender_id text, channel text, from_address text, priority int)
RETURNS text LANGUAGE sql IMMUTABLE
RETURN right(sender_id, 3) || ' ' || channel || ' ' || from_address || ' p' || priority;

-- a resolve_request() response, compactly (touches no table)
CREATE FUNCTION t.fmt_response(v jsonb) RETURNS text LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
  SELECT coalesce(string_agg(t.fmt(x->'from'->>'senderId', x->'from'->>'channel',
                                   x->'from'->>'address', (x->>'priority')::int),
                             ', ' ORDER BY o), '-')
    FROM jsonb_array_elements(v->'results') WITH ORDINALITY AS e(x, o);
END;

-- the SQLSTATE a statement raises, or 'ok'
CREATE FUNCTION t.sqlstate(q text) RETURNS text LANGUAGE plpgsql AS \$\$
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END \$\$;

CREATE FUNCTION t.reset() RETURNS void LANGUAGE plpgsql AS \$\$
BEGIN
  DELETE FROM comms_resolve.sender_pool_senders;
  DELETE FROM comms_resolve.senders;
  DELETE FROM comms_resolve.sender_pools;
  INSERT INTO comms_resolve.sender_pools (id, name) VALUES
    ('$P1', 'P1'), ('$P2', 'P2');
  INSERT INTO comms_resolve.senders (id, address, channel, display_name) VALUES
    (t.sid(101), '+14155550001', 'RCS', 'Rich'),
    (t.sid(102), '+14155550002', 'SMS', NULL),
    (t.sid(103), '+12125550003', 'SMS', 'Manhattan'),
    (t.sid(104), '+442071230004', 'SMS', NULL),
    (t.sid(105), '+14155550005', 'WHATSAPP', NULL),
    (t.sid(106), 'news\@example.com', 'EMAIL', 'News');
  INSERT INTO comms_resolve.sender_pool_senders VALUES
    ('$P1', t.sid(101)), ('$P1', t.sid(102)), ('$P1', t.sid(103)),
    ('$P1', t.sid(105)), ('$P1', t.sid(106)),
    ('$P2', t.sid(103)), ('$P2', t.sid(104));
END \$\$;

-- add sender n (107 or 108) to pool p
CREATE FUNCTION t.add(n int, p text) RETURNS void LANGUAGE sql AS \$\$
  INSERT INTO comms_resolve.senders (id, address, channel)
  VALUES (t.sid(n), CASE n WHEN 107 THEN '+442071230007' ELSE '+33142680008' END, 'SMS');
  INSERT INTO comms_resolve.sender_pool_senders VALUES (p, t.sid(n));
\$\$;

-- returns g; when g = at, first waits for advisory lock k (and releases it)
CREATE FUNCTION t.wait_at(g int, at int, k int) RETURNS int LANGUAGE plpgsql AS \$\$
BEGIN
  IF g = at THEN
    PERFORM pg_advisory_lock(k);
    PERFORM pg_advisory_unlock(k);
  END IF;
  RETURN g;
END \$\$;

-- returns g; when g = at, adds sender 108 to pool p (a later command of
-- the calling statement's own transaction)
CREATE FUNCTION t.add_at(g int, at int, p text) RETURNS int LANGUAGE plpgsql AS \$\$
BEGIN
  IF g = at THEN
    PERFORM t.add(108, p);
  END IF;
  RETURN g;
END \$\$;

-- resolve through both entry points in a loop, changing the inventory
-- between iterations: i=1 adds 108, i=2 deactivates 101, i=3 removes 102
-- from the pool.  resolve() runs as an SPI query, resolve_request() as a
-- plpgsql simple expression (whose call state lives for the transaction).
CREATE FUNCTION t.loop_modify(pool text) RETURNS text[] LANGUAGE plpgsql AS \$\$
DECLARE
  out text[] := '{}';
  a text;
  v jsonb;
BEGIN
  FOR i IN 1..4 LOOP
    SELECT coalesce(string_agg(t.fmt(r.sender_id, r.channel, r.from_address, r.priority),
                               ', ' ORDER BY r.o), '-')
      INTO a
      FROM comms_resolve.resolve(pool, '$PHONE') WITH ORDINALITY
           AS r(sender_id, from_address, to_address, channel, priority,
                display_name, to_channel, o);
    v := comms_resolve.resolve_request(jsonb_build_object(
           'senderPoolId', pool, 'recipientAddresses', '$PHONE'::jsonb));
    out := out || a || t.fmt_response(v);
    IF i = 1 THEN
      PERFORM t.add(108, pool);
    ELSIF i = 2 THEN
      UPDATE comms_resolve.senders SET status = 'DEACTIVATED' WHERE id = t.sid(101);
    ELSIF i = 3 THEN
      DELETE FROM comms_resolve.sender_pool_senders
       WHERE sender_pool_id = pool AND sender_id = t.sid(102);
    END IF;
  END LOOP;
  RETURN out;
END \$\$;

-- resolve_request() twice from the same call site (a plpgsql simple
-- expression) with a wait on advisory lock k in between, touching nothing
-- else: the two statements take two snapshots.
CREATE FUNCTION t.two_reads(pool text, k int) RETURNS text LANGUAGE plpgsql AS \$\$
DECLARE
  out text := '';
  v jsonb;
BEGIN
  FOR i IN 1..2 LOOP
    v := comms_resolve.resolve_request(jsonb_build_object(
           'senderPoolId', pool, 'recipientAddresses', '$PHONE'::jsonb));
    out := out || t.fmt_response(v) || ' / ';
    IF i = 1 THEN
      PERFORM pg_advisory_lock(k);
      PERFORM pg_advisory_unlock(k);
    END IF;
  END LOOP;
  RETURN out || (SELECT count(*) FROM comms_resolve.senders);
END \$\$;

-- resolve_request() from the same call site inside and after an
-- exception block whose subtransaction added sender 108 and is rolled back.
-- When k is given, waits for advisory lock k after adding the sender.
CREATE FUNCTION t.subxact_reads(pool text, k int) RETURNS text LANGUAGE plpgsql AS \$\$
DECLARE
  out text := '';
  v jsonb;
BEGIN
  FOR i IN 1..2 LOOP
    BEGIN
      IF i = 1 THEN
        PERFORM t.add(108, pool);
        IF k IS NOT NULL THEN
          PERFORM pg_advisory_lock(k);
          PERFORM pg_advisory_unlock(k);
        END IF;
      END IF;
      v := comms_resolve.resolve_request(jsonb_build_object(
             'senderPoolId', pool, 'recipientAddresses', '$PHONE'::jsonb));
      out := out || t.fmt_response(v) || ' / ';
      IF i = 1 THEN
        RAISE EXCEPTION 'undo';
      END IF;
    EXCEPTION WHEN raise_exception THEN
      NULL;
    END;
  END LOOP;
  RETURN out || (SELECT count(*) FROM comms_resolve.senders);
END \$\$;

SELECT t.reset();
});

# SQL for one resolve() call, formatted as one line ('-' for no rows)
sub res_sql
{
	my ($pool, $recipients) = @_;
	$recipients //= $PHONE;
	my $p = defined $pool ? "'$pool'" : 'NULL';
	return
	  "SELECT coalesce(string_agg(t.fmt(sender_id, channel, from_address, priority), ', ' ORDER BY o), '-') "
	  . "FROM comms_resolve.resolve($p, '$recipients') WITH ORDINALITY "
	  . "AS r(sender_id, from_address, to_address, channel, priority, display_name, to_channel, o)";
}

# SQL for one resolve_request() call, formatted the same way
sub req_sql
{
	my ($pool) = @_;
	my $p = defined $pool ? qq{"senderPoolId": "$pool", } : '';
	return
	  qq{SELECT t.fmt_response(comms_resolve.resolve_request('{$p"recipientAddresses": $PHONE}'))};
}

# SQL for one resolve_from_sender() call of SMS sender address $addr
sub from_sql
{
	my ($addr) = @_;
	return
	  "SELECT coalesce(string_agg(t.fmt(sender_id, channel, from_address, priority), ', ' ORDER BY o), '-') "
	  . qq{FROM comms_resolve.resolve_from_sender('{"address": "$addr", "channel": "SMS"}', '$PHONE') WITH ORDINALITY }
	  . "AS r(sender_id, from_address, to_address, channel, priority, display_name, to_channel, o)";
}

sub sqlstate_sql
{
	my ($sql) = @_;
	$sql =~ s/'/''/g;
	return "SELECT t.sqlstate('$sql')";
}

sub reset_inventory { $node->safe_psql('snap', 'SELECT t.reset()'); }

# start a statement in session $s without waiting for its result
sub start_async
{
	my ($s, $sql) = @_;
	$s->query_until(qr/async started/, "\\echo async started\n$sql;\n");
}

# the output of the statement started by start_async
sub finish_async
{
	my ($s) = @_;
	return $s->query_safe('');
}

# wait until some session waits for an advisory lock
sub wait_for_lock_waiter
{
	$node->poll_query_until('snap',
		"SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted)"
	) or die "timed out waiting for an advisory lock waiter";
}

my $sa = $node->background_psql('snap');
my $sb = $node->background_psql('snap');
my $sc = $node->background_psql('snap');

########################################################################
# 1. READ COMMITTED: another session's changes are seen by the caller's
#    next statement once committed, and not before.
########################################################################

is($sa->query_safe(res_sql($P1)), $P1_BASE, 'RC: baseline, pool P1');
is($sa->query_safe(res_sql($P2)), $P2_BASE, 'RC: baseline, pool P2');
is($sa->query_safe(res_sql(undef)), $ALL_BASE, 'RC: baseline, whole inventory');
is($sa->query_safe(req_sql($P1)), $P1_BASE, 'RC: baseline, resolve_request');

# insert a sender into a pool
$sb->query_safe("BEGIN; SELECT t.add(107, '$P1')");
is($sa->query_safe(res_sql($P1)), $P1_BASE, 'RC: uncommitted insert by another session not seen');
is($sa->query_safe(req_sql($P1)), $P1_BASE, 'RC: uncommitted insert not seen by resolve_request');
is($sa->query_safe(res_sql(undef)), $ALL_BASE, 'RC: uncommitted insert not seen, whole inventory');
is($sa->query_safe(sqlstate_sql(from_sql('+442071230007'))),
	'42704', 'RC: uncommitted sender unknown to resolve_from_sender');
$sb->query_safe('COMMIT');

my $p1_107 = exp_rows([ 101, 0 ], [ 102, 1 ], [ 103, 1 ], [ 107, 1 ]);
is($sa->query_safe(res_sql($P1)), $p1_107, 'RC: committed insert seen by the next statement');
is($sa->query_safe(req_sql($P1)), $p1_107, 'RC: committed insert seen by resolve_request');
is( $sa->query_safe(res_sql(undef)),
	exp_rows([ 101, 0 ], [ 102, 1 ], [ 103, 1 ], [ 107, 1 ], [ 104, 1 ]),
	'RC: committed insert seen, whole inventory');
is($sa->query_safe(from_sql('+442071230007')),
	exp_rows([ 107, 0 ]), 'RC: committed sender found by resolve_from_sender');

# deactivate a sender
$sb->query_safe(
	"BEGIN; UPDATE comms_resolve.senders SET status = 'DEACTIVATED' WHERE id = '"
	  . sid(102) . "'");
is($sa->query_safe(res_sql($P1)), $p1_107, 'RC: uncommitted deactivation not seen');
is($sa->query_safe(from_sql('+14155550002')),
	exp_rows([ 102, 0 ]), 'RC: uncommitted deactivation not seen by resolve_from_sender');
$sb->query_safe('COMMIT');
my $p1_d102 = exp_rows([ 101, 0 ], [ 103, 1 ], [ 107, 1 ]);
is($sa->query_safe(res_sql($P1)), $p1_d102, 'RC: committed deactivation seen');
is($sa->query_safe(req_sql($P1)), $p1_d102, 'RC: committed deactivation seen by resolve_request');
is($sa->query_safe(sqlstate_sql(from_sql('+14155550002'))),
	'42704', 'RC: deactivated sender unknown to resolve_from_sender');

# delete a membership
$sb->query_safe(
	"BEGIN; DELETE FROM comms_resolve.sender_pool_senders WHERE sender_pool_id = '$P1' AND sender_id = '"
	  . sid(101) . "'");
is($sa->query_safe(res_sql($P1)), $p1_d102, 'RC: uncommitted membership deletion not seen');
$sb->query_safe('COMMIT');
my $p1_m101 = exp_rows([ 103, 0 ], [ 107, 0 ]);
is($sa->query_safe(res_sql($P1)), $p1_m101, 'RC: committed membership deletion seen');
is($sa->query_safe(req_sql($P1)), $p1_m101, 'RC: committed membership deletion seen by resolve_request');

# delete a pool
$sb->query_safe("BEGIN; DELETE FROM comms_resolve.sender_pools WHERE id = '$P2'");
is($sa->query_safe(res_sql($P2)), $P2_BASE, 'RC: uncommitted pool deletion not seen');
$sb->query_safe('COMMIT');
is($sa->query_safe(sqlstate_sql(res_sql($P2))), '42704', 'RC: committed pool deletion seen (42704)');

# statements of one READ COMMITTED transaction block each take a snapshot
reset_inventory();
$sa->query_safe('BEGIN');
is($sa->query_safe(res_sql($P1)), $P1_BASE, 'RC block: first statement');
$sb->query_safe("SELECT t.add(107, '$P1')");
is($sa->query_safe(res_sql($P1)), exp_rows([ 101, 0 ], [ 102, 1 ], [ 103, 1 ], [ 107, 1 ]),
	'RC block: a later statement sees a change committed in between');
$sa->query_safe('COMMIT');

########################################################################
# 2. The caller's own uncommitted changes are seen; nobody else's.
########################################################################

reset_inventory();
$sa->query_safe(
	"BEGIN; SELECT t.add(108, '$P1'); UPDATE comms_resolve.senders SET status = 'DEACTIVATED' WHERE id = '"
	  . sid(103) . "'");
my $p1_own = exp_rows([ 101, 0 ], [ 102, 1 ], [ 108, 1 ]);
is($sa->query_safe(res_sql($P1)), $p1_own, 'own: uncommitted insert and deactivation seen');
is($sa->query_safe(req_sql($P1)), $p1_own, 'own: seen by resolve_request');
is( $sa->query_safe(res_sql(undef)),
	exp_rows([ 101, 0 ], [ 102, 1 ], [ 108, 1 ], [ 104, 1 ]),
	'own: seen, whole inventory');
is($sa->query_safe(from_sql('+33142680008')), exp_rows([ 108, 0 ]),
	'own: uncommitted sender found by resolve_from_sender');
is($sb->query_safe(res_sql($P1)), $P1_BASE, 'own: not seen by another session');
is($sb->query_safe(sqlstate_sql(from_sql('+33142680008'))),
	'42704', 'own: uncommitted sender unknown to another session');
$sa->query_safe('ROLLBACK');
is($sa->query_safe(res_sql($P1)), $P1_BASE, 'own: gone after ROLLBACK');
is($sa->query_safe(req_sql($P1)), $P1_BASE, 'own: gone after ROLLBACK, resolve_request');
is($sa->query_safe(sqlstate_sql(from_sql('+33142680008'))),
	'42704', 'own: sender unknown after ROLLBACK');

# savepoints
$sa->query_safe('BEGIN');
is($sa->query_safe(res_sql($P1)), $P1_BASE, 'savepoint: before');
$sa->query_safe("SAVEPOINT s1; SELECT t.add(108, '$P1')");
is($sa->query_safe(res_sql($P1)), exp_rows([ 101, 0 ], [ 102, 1 ], [ 103, 1 ], [ 108, 1 ]),
	'savepoint: change inside the savepoint seen');
$sa->query_safe('ROLLBACK TO SAVEPOINT s1');
is($sa->query_safe(res_sql($P1)), $P1_BASE, 'savepoint: change gone after ROLLBACK TO');
is($sa->query_safe(req_sql($P1)), $P1_BASE, 'savepoint: change gone after ROLLBACK TO, resolve_request');
$sa->query_safe('COMMIT');

########################################################################
# 3. REPEATABLE READ: one snapshot for the whole transaction.
########################################################################

reset_inventory();
$sa->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
is($sa->query_safe(res_sql($P1)), $P1_BASE, 'RR: first statement');
$sb->query_safe("SELECT t.add(107, '$P1')");
$sb->query_safe(
	"UPDATE comms_resolve.senders SET status = 'DEACTIVATED' WHERE id = '" . sid(102) . "'");
$sb->query_safe("DELETE FROM comms_resolve.sender_pools WHERE id = '$P2'");
is($sa->query_safe(res_sql($P1)), $P1_BASE, 'RR: changes committed since not seen');
is($sa->query_safe(req_sql($P1)), $P1_BASE, 'RR: not seen by resolve_request');
is($sa->query_safe(res_sql(undef)), $ALL_BASE, 'RR: not seen, whole inventory');
is($sa->query_safe(res_sql($P2)), $P2_BASE, 'RR: deleted pool still resolves');
is($sa->query_safe(from_sql('+14155550002')), exp_rows([ 102, 0 ]),
	'RR: deactivated sender still found by resolve_from_sender');
# own change inside the RR transaction, on top of its snapshot
$sa->query_safe(
	"DELETE FROM comms_resolve.sender_pool_senders WHERE sender_pool_id = '$P1' AND sender_id = '"
	  . sid(103) . "'");
is($sa->query_safe(res_sql($P1)), exp_rows([ 101, 0 ], [ 102, 1 ]),
	'RR: own change seen on top of the transaction snapshot');
is($sa->query_safe(req_sql($P1)), exp_rows([ 101, 0 ], [ 102, 1 ]),
	'RR: own change seen by resolve_request');
$sa->query_safe('COMMIT');
is($sa->query_safe(res_sql($P1)), exp_rows([ 101, 0 ], [ 107, 1 ]),
	'RR: the next transaction sees everything committed');
is($sa->query_safe(sqlstate_sql(res_sql($P2))), '42704', 'RR: the next transaction sees the pool gone');

# a REPEATABLE READ transaction that started before the change, read after it
reset_inventory();
$sa->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
is($sa->query_safe(req_sql($P1)), $P1_BASE, 'RR 2: first statement');
$sb->query_safe("SELECT t.add(107, '$P1')");
is($sa->query_safe(req_sql($P1)), $P1_BASE, 'RR 2: second statement, same snapshot');
$sa->query_safe('COMMIT');
$sa->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
is($sa->query_safe(req_sql($P1)), exp_rows([ 101, 0 ], [ 102, 1 ], [ 103, 1 ], [ 107, 1 ]),
	'RR 2: a new transaction sees the change');
$sa->query_safe('COMMIT');

########################################################################
# 4. One statement resolving many rows: all rows see the statement's
#    snapshot, whatever commits or runs meanwhile.
########################################################################

reset_inventory();

# per row: g and the two results (resolve, resolve_request); grouped
sub many_rows_sql
{
	my ($gexpr) = @_;
	return qq{
SELECT pool, x.res, y.req, count(*)
  FROM generate_series(1, 1000) g0
 CROSS JOIN LATERAL (SELECT $gexpr AS g) w
 CROSS JOIN LATERAL (SELECT CASE WHEN w.g % 2 = 0 THEN '$P1' ELSE '$P2' END AS pool) p
 CROSS JOIN LATERAL (
       SELECT coalesce(string_agg(t.fmt(sender_id, channel, from_address, priority), ', ' ORDER BY o), '-') AS res
         FROM comms_resolve.resolve(p.pool, jsonb_build_array('+1415555' || lpad(w.g::text, 4, '0')))
              WITH ORDINALITY AS r(sender_id, from_address, to_address, channel, priority, display_name, to_channel, o)) x
 CROSS JOIN LATERAL (
       SELECT t.fmt_response(comms_resolve.resolve_request(jsonb_build_object(
                'senderPoolId', p.pool,
                'recipientAddresses', jsonb_build_array('+1415555' || lpad(w.g::text, 4, '0'))))) AS req) y
 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3};
}

my $many_base = "$P1|$P1_BASE|$P1_BASE|500\n$P2|$P2_BASE|$P2_BASE|500";

is($sa->query_safe(many_rows_sql('g0')), $many_base, 'one statement: 1000 rows over two pools, consistent');

is( $sa->query_safe(qq{
SELECT x.res, count(*)
  FROM generate_series(1, 1000) g
 CROSS JOIN LATERAL (
       SELECT coalesce(string_agg(t.fmt(sender_id, channel, from_address, priority), ', ' ORDER BY o), '-') AS res
         FROM comms_resolve.resolve('$P1', '$PHONE')
              WITH ORDINALITY AS r(sender_id, from_address, to_address, channel, priority, display_name, to_channel, o)
        WHERE g > 0) x
 GROUP BY 1}),
	"$P1_BASE|1000",
	'one statement: 1000 rows over one pool, consistent');

# another session commits while the statement is half-way through
$sb->query_safe('SELECT pg_advisory_lock(101)');
start_async($sa, many_rows_sql('t.wait_at(g0, 500, 101)'));
wait_for_lock_waiter();
$sb->query_safe(
	"BEGIN; SELECT t.add(107, '$P1'); UPDATE comms_resolve.senders SET status = 'DEACTIVATED' WHERE id = '"
	  . sid(104) . "'; COMMIT");
$sb->query_safe('SELECT pg_advisory_unlock(101)');
is(finish_async($sa), $many_base,
	'one statement: a change committed mid-statement is seen by no row');
is( $sa->query_safe(many_rows_sql('g0')),
	"$P1|"
	  . exp_rows([ 101, 0 ], [ 102, 1 ], [ 103, 1 ], [ 107, 1 ]) . '|'
	  . exp_rows([ 101, 0 ], [ 102, 1 ], [ 103, 1 ], [ 107, 1 ])
	  . "|500\n$P2|"
	  . exp_rows([ 103, 0 ]) . '|'
	  . exp_rows([ 103, 0 ]) . '|500',
	'one statement: the next statement sees that change in every row');

# the statement's own later command (a volatile function) changes the
# inventory half-way: the statement's snapshot does not include it
reset_inventory();
$sa->query_safe('BEGIN');
is($sa->query_safe(many_rows_sql("t.add_at(g0, 500, '$P1')")),
	$many_base, 'one statement: its own mid-statement change is seen by no row');
is($sa->query_safe(res_sql($P1)), exp_rows([ 101, 0 ], [ 102, 1 ], [ 103, 1 ], [ 108, 1 ]),
	'one statement: the next statement sees its own change');
$sa->query_safe('ROLLBACK');

########################################################################
# 5. plpgsql: the inventory changes between two resolutions of one
#    function (new command ids); the later call sees the change.
########################################################################

my @loop_expect = (
	$P1_BASE,
	exp_rows([ 101, 0 ], [ 102, 1 ], [ 103, 1 ], [ 108, 1 ]),
	exp_rows([ 102, 0 ], [ 103, 0 ], [ 108, 0 ]),
	exp_rows([ 103, 0 ], [ 108, 0 ]));
my $loop_expect = join("\n", map { ($_, $_) } @loop_expect);

sub loop_sql { return "SELECT unnest(t.loop_modify('$P1'))"; }

reset_inventory();
is($sa->query_safe(loop_sql()), $loop_expect, 'plpgsql loop, autocommit: each call sees the previous change');
is($sa->query_safe(res_sql($P1)), $loop_expect[3], 'plpgsql loop, autocommit: changes committed');

reset_inventory();
$sa->query_safe('BEGIN');
is($sa->query_safe(res_sql($P1)), $P1_BASE, 'plpgsql loop, RC block: before');
is($sa->query_safe(loop_sql()), $loop_expect, 'plpgsql loop, RC block: each call sees the previous change');
is($sa->query_safe(res_sql($P1)), $loop_expect[3], 'plpgsql loop, RC block: next statement');
is($sb->query_safe(res_sql($P1)), $P1_BASE, 'plpgsql loop, RC block: other session sees nothing');
$sa->query_safe('ROLLBACK');
is($sa->query_safe(res_sql($P1)), $P1_BASE, 'plpgsql loop, RC block: rolled back');

$sa->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
is($sa->query_safe(res_sql($P1)), $P1_BASE, 'plpgsql loop, RR: before');
is($sa->query_safe(loop_sql()), $loop_expect, 'plpgsql loop, RR: each call sees the previous change');
$sa->query_safe('ROLLBACK');

# twice in one transaction: the simple-expression call state of
# resolve_request() survives between the two calls
$sa->query_safe('BEGIN');
is($sa->query_safe(loop_sql()), $loop_expect, 'plpgsql loop twice in a transaction: first');
$sa->query_safe('SELECT t.reset()');
is($sa->query_safe(loop_sql()), $loop_expect, 'plpgsql loop twice in a transaction: second, after a reset');
$sa->query_safe('ROLLBACK');

########################################################################
# 6. Cursors keep the snapshot they were declared with.
########################################################################

reset_inventory();

sub cursor_sql
{
	my ($name) = @_;
	return qq{DECLARE $name CURSOR FOR
SELECT g, t.fmt(r.sender_id, r.channel, r.from_address, r.priority)
  FROM generate_series(1, 4) g
 CROSS JOIN LATERAL comms_resolve.resolve(CASE WHEN g % 2 = 0 THEN '$P1' ELSE '$P2' END, '$PHONE') r};
}

sub cursor_rows
{
	my ($p1, $p2) = @_;
	my @rows;
	for my $g (1 .. 4)
	{
		push @rows, map { "$g|$_" } split /, /, ($g % 2 == 0 ? $p1 : $p2);
	}
	return @rows;
}

my @cursor_base = cursor_rows($P1_BASE, $P2_BASE);
my $p1_after = exp_rows([ 101, 0 ], [ 102, 1 ], [ 103, 1 ], [ 107, 1 ]);
my $p2_after = exp_rows([ 103, 0 ]);

$sa->query_safe('BEGIN');
$sa->query_safe(cursor_sql('c1'));
$sa->query_safe(cursor_sql('c2'));
$sb->query_safe(
	"BEGIN; SELECT t.add(107, '$P1'); UPDATE comms_resolve.senders SET status = 'DEACTIVATED' WHERE id = '"
	  . sid(104) . "'; COMMIT");
is($sa->query_safe('FETCH 3 FROM c1'), join("\n", @cursor_base[ 0 .. 2 ]),
	'cursor: first FETCH after a commit shows the snapshot of DECLARE');
is($sa->query_safe(res_sql($P1)), $p1_after, 'cursor: a plain statement meanwhile sees the commit');
is($sa->query_safe(res_sql($P2)), $p2_after, 'cursor: a plain statement meanwhile sees the commit (P2)');
$sa->query_safe(cursor_sql('c3'));
is($sa->query_safe('FETCH ALL FROM c1'), join("\n", @cursor_base[ 3 .. $#cursor_base ]),
	'cursor: later FETCH still shows the snapshot of DECLARE');
is($sa->query_safe('FETCH ALL FROM c3'), join("\n", cursor_rows($p1_after, $p2_after)),
	'cursor: a cursor declared after the commit sees it');
is($sa->query_safe('FETCH ALL FROM c2'), join("\n", @cursor_base),
	'cursor: a cursor first fetched last still shows the snapshot of DECLARE');
$sa->query_safe('COMMIT');

########################################################################
# 7. Snapshots that a cache keyed on (xmin, xmax, command id) cannot tell
#    apart.
########################################################################

# 7a. Two READ COMMITTED statements (plpgsql simple expressions from one
# call site) whose snapshots differ only in their list of in-progress
# transactions: C holds an older transaction id (same xmin), B's
# transaction id is below a later committed one (same xmax), and B commits
# between the two statements.
reset_inventory();
$sb->query_safe('SELECT pg_advisory_lock(201)');
$sc->query_safe('BEGIN; SELECT txid_current() IS NOT NULL');
$sb->query_safe("BEGIN; SELECT t.add(107, '$P1')");
$sa->query_safe('SELECT txid_current() IS NOT NULL');    # commits a later id
start_async($sa, "SELECT t.two_reads('$P1', 201)");
wait_for_lock_waiter();
$sb->query_safe('COMMIT');
$sb->query_safe('SELECT pg_advisory_unlock(201)');
is( finish_async($sa),
	"$P1_BASE / " . exp_rows([ 101, 0 ], [ 102, 1 ], [ 103, 1 ], [ 107, 1 ]) . ' / 7',
	'same xmin and xmax: a later statement sees a transaction that committed in between');
$sc->query_safe('ROLLBACK');

# 7b. A subtransaction that added a sender is rolled back; the next call
# from the same call site, with the same command id, must not see it.
# Another session commits a later transaction id meanwhile, so the
# READ COMMITTED snapshots have the same xmax.
reset_inventory();
my $p1_108 = exp_rows([ 101, 0 ], [ 102, 1 ], [ 103, 1 ], [ 108, 1 ]);
$sb->query_safe('SELECT pg_advisory_lock(202)');
start_async($sa, "SELECT t.subxact_reads('$P1', 202)");
wait_for_lock_waiter();
$sb->query_safe('SELECT txid_current() IS NOT NULL');
$sb->query_safe('SELECT pg_advisory_unlock(202)');
is(finish_async($sa), "$p1_108 / $P1_BASE / 6",
	'RC: a rolled-back subtransaction\'s sender is not seen afterwards');

# 7c. The same in REPEATABLE READ, where the snapshot never changes.
$sa->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
is($sa->query_safe("SELECT t.subxact_reads('$P1', NULL)"),
	"$p1_108 / $P1_BASE / 6",
	'RR: a rolled-back subtransaction\'s sender is not seen afterwards');
$sa->query_safe('COMMIT');
is($sa->query_safe(res_sql($P1)), $P1_BASE, 'after the subtransaction tests: base inventory');

$sa->quit;
$sb->quit;
$sc->quit;
$node->stop;

done_testing();
