# Hostile input, generated: malformed jsonb at every position of every
# resolution function (wrong types, a 1 MB string in every string slot, a
# 1 MB key and 100,000 keys in every object, 10,000-level nesting at every
# position, 100,000-element arrays in every array slot, 1,000,000 people),
# invalid E.164 and email forms, odd but valid Unicode, duplicate keys,
# odd numbers; hostile text arguments (pool ids, resolvers, sync's pool,
# the listing functions' arguments).  For each: the documented SQLSTATE,
# the same backend answers afterwards, the inventory is unchanged
# (checksum over every row with its xmin and ctid), and input rejected
# locally never reaches the API (the emulator's request log).
#
# Then malformed answers of the API (emulator fault rules and, for bytes
# that are not UTF-8 or broken HTTP, a raw server): truncated, garbage,
# 50 MB, wrong types, missing fields, NULs, a drip past the timeout, page
# token cycles: each 08P01 / 54000 / 08000 as the README says, the
# backend survives, and sync leaves the inventory as it was.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use lib "$FindBin::RealBin/../reliability";
use B;
use CommsEmulator;
use CommsTest qw(new_node load_local sql_quote point_server);
use JSON::PP;
use PostgreSQL::Test::Utils;
use RelTest qw(install_checksum checksum sqlstate_of raw_server fixed_inventory);
use Test::More;
use Time::HiRes qw(time);

our $TODO;
my $J = JSON::PP->new->canonical->ascii->allow_nonref;
my $POOL = 'comms_senderpool_01h9krwprkeee8fzqspvwy6nq8';
my $MB = 1048576;

my $node = new_node('hostile');
is($node->safe_psql('postgres', 'SHOW server_encoding'), 'UTF8', 'the test database is UTF8');
my $inv = fixed_inventory();
load_local($node, $inv);
install_checksum($node);
my $emu = CommsEmulator->new(inventory => $inv, credentials => ['AC1:emulator-secret']);
END { local $?; $emu->stop if $emu }
point_server($node, $emu,
	server => { retries => '0', request_timeout_ms => '5000', connect_timeout_ms => '1000' });
my $sum0 = checksum($node);

# ---------------------------------------------------------------------
# Part 1: hostile SQL input, generated
# ---------------------------------------------------------------------

my @cases;
my %seen_label;

# $sql yields one text value: 'RES|<id>|' || value is printed on success.
sub add_case
{
	my (%c) = @_;
	$c{label} .= ' #' . (1 + $seen_label{ $c{label} }++) if $seen_label{ $c{label} };
	$c{id} = scalar @cases;
	push @cases, \%c;
}

sub lit { my ($v) = @_; return sql_quote(ref $v || !defined $v ? $J->encode($v) : $v) . '::jsonb' }

# rows of a set-returning call as "count:md5" in rank order
sub digest_srf
{
	my ($call) = @_;
	return "(SELECT count(*) || ':' || md5(coalesce(string_agg(r::text, ';' ORDER BY r.ordinality), ''))"
	  . " FROM $call WITH ORDINALITY AS r)";
}

sub digest_scalar { my ($call) = @_; return "md5(($call)::text)" }

my $R = [ '+14155552671', 'whatsapp:+14155552671', { address => 'jane@example.com', channel => 'EMAIL' },
	{ address => 'device-1', channel => 'PUSH' } ];
my $C = { filterIn => [qw(SMS EMAIL WHATSAPP PUSH RCS)],
	priority => [ { channel => 'EMAIL', priority => 0 }, { channel => 'SMS', priority => 1 } ] };
my $S_SMS = { address => '+15035551234', channel => 'SMS' };
my $S_EMAIL = { address => 'support@company.com', name => 'Support' };
my $QA = { senderPoolId => $POOL, channels => $C,
	recipientAddresses => [ { address => '+14155552671', channel => 'PHONE' }, 'jane@example.com' ] };
my $QB = { senderAddresses => $S_SMS, recipientAddresses => [ { address => '+14155552671', channel => 'PHONE' } ] };
my $P = [ $R, ['jane@example.com'], [ { address => '+447911123456', channel => 'PHONE' } ] ];

# Each target puts a jsonb SQL expression into one argument slot.
# nullable: paths (joined with '.') where JSON null is documented as valid;
# optional: keys that may be left out; free: string paths with no format.
my @targets = (
	{ name => 'resolve.recipients', tmpl => $R, remote => 1,
	  call => sub { my ($x, $rv) = @_; "comms_resolve.resolve('$POOL', $x, NULL, '$rv')" } },
	{ name => 'resolve.channels', tmpl => $C, remote => 1, nullable => [''], optional => [qw(filterIn priority)],
	  call => sub { my ($x, $rv) = @_; "comms_resolve.resolve('$POOL', @{[ lit($R) ]}, $x, '$rv')" } },
	# form B: any text is an SMS sender's address to look up (42704 when
	# there is none); the remote resolver sends it and the API says 404
	{ name => 'resolve_from_sender.sender(SMS)', tmpl => $S_SMS, remote => 1, lax => ['address'],
	  call => sub { my ($x, $rv) = @_; "comms_resolve.resolve_from_sender($x, @{[ lit($R) ]}, NULL, '$rv')" } },
	{ name => 'resolve_from_sender.sender(EMAIL)', tmpl => $S_EMAIL, remote => 1, free => ['name'],
	  call => sub { my ($x, $rv) = @_; "comms_resolve.resolve_from_sender($x, @{[ lit($R) ]}, NULL, '$rv')" } },
	{ name => 'resolve_from_sender.recipients', tmpl => $R, remote => 1,
	  call => sub { my ($x, $rv) = @_; "comms_resolve.resolve_from_sender(@{[ lit($S_SMS) ]}, $x, NULL, '$rv')" } },
	{ name => 'resolve_from_sender.channels', tmpl => $C, remote => 1, nullable => [''],
	  optional => [qw(filterIn priority)],
	  call => sub { my ($x, $rv) = @_; "comms_resolve.resolve_from_sender(@{[ lit($S_SMS) ]}, @{[ lit($R) ]}, $x, '$rv')" } },
	{ name => 'resolve_request(form A)', tmpl => $QA, remote => 1, scalar => 1,
	  nullable => [ 'senderPoolId', 'channels' ], optional => [qw(senderPoolId channels channels.filterIn channels.priority)],
	  call => sub { my ($x, $rv) = @_; "comms_resolve.resolve_request($x, '$rv')" } },
	# (a null senderAddresses reads as absent, like a null senderPoolId)
	{ name => 'resolve_request(form B)', tmpl => $QB, remote => 1, scalar => 1, optional => ['senderAddresses'],
	  nullable => ['senderAddresses'], lax => ['senderAddresses.address'],
	  call => sub { my ($x, $rv) = @_; "comms_resolve.resolve_request($x, '$rv')" } },
	{ name => 'resolve_many.people', tmpl => $P, remote => 1, big_ok => [''],
	  call => sub { my ($x, $rv) = @_; "comms_resolve.resolve_many('$POOL', $x, NULL, '$rv')" } },
	{ name => 'resolve_many.channels', tmpl => $C, remote => 1, nullable => [''], optional => [qw(filterIn priority)],
	  call => sub { my ($x, $rv) = @_; "comms_resolve.resolve_many('$POOL', @{[ lit($P) ]}, $x, '$rv')" } },
);

sub is_number
{
	my ($v) = @_;
	return 0 if !defined $v || ref $v;
	my $f = B::svref_2object(\$v)->FLAGS;
	return ($f & (B::SVp_IOK | B::SVp_NOK)) && !($f & B::SVp_POK);
}

sub jtype
{
	my ($v) = @_;
	return ref $v eq 'HASH' ? 'object' : ref $v eq 'ARRAY' ? 'array' : !defined $v ? 'null'
	  : JSON::PP::is_bool($v) ? 'bool' : is_number($v) ? 'number' : 'string';
}

# every (path, value) of a JSON value, the root first
sub paths
{
	my ($v, $p) = @_;
	$p //= [];
	my @out = ([ $p, $v ]);
	if (ref $v eq 'HASH') { push @out, paths($v->{$_}, [ @$p, $_ ]) for sort keys %$v }
	elsif (ref $v eq 'ARRAY') { push @out, paths($v->[$_], [ @$p, $_ ]) for 0 .. $#$v }
	return @out;
}

sub clone { return $J->decode($J->encode($_[0])) }

sub set_at
{
	my ($v, $p, $new) = @_;
	return $new unless @$p;
	my $c = clone($v);
	my $ref = \$c;
	$ref = ref $$ref eq 'HASH' ? \$$ref->{$_} : \$$ref->[$_] for @$p;
	$$ref = $new;
	return $c;
}

sub delete_at
{
	my ($v, $p) = @_;
	my $c = clone($v);
	my @parent = @$p[ 0 .. $#$p - 1 ];
	my $ref = \$c;
	$ref = ref $$ref eq 'HASH' ? \$$ref->{$_} : \$$ref->[$_] for @parent;
	delete $$ref->{ $p->[-1] };
	return $c;
}

# the JSON text of $v with the value at $p replaced by raw JSON text
sub with_raw
{
	my ($v, $p, $raw) = @_;
	my $text = $J->encode(set_at($v, $p, '__HOSTILE__'));
	$text =~ s/"__HOSTILE__"/$raw/ or die "no placeholder";
	return $text;
}

# JSON text with a duplicate key in the object at $p: the bad value
# first (jsonb keeps the last: valid) or last (invalid)
sub with_dup
{
	my ($v, $p, $key, $bad_raw, $bad_first, $here) = @_;
	$here //= [];
	if (ref $v eq 'HASH')
	{
		my $at = join("\x01", @$here) eq join("\x01", @$p);
		my @parts;
		for my $k (sort keys %$v)
		{
			my $good = $J->encode($k) . ': ' . with_dup($v->{$k}, $p, $key, $bad_raw, $bad_first, [ @$here, $k ]);
			my $bad = $J->encode($k) . ": $bad_raw";
			push @parts, ($at && $k eq $key) ? ($bad_first ? ($bad, $good) : ($good, $bad)) : $good;
		}
		return '{' . join(', ', @parts) . '}';
	}
	if (ref $v eq 'ARRAY')
	{
		return '[' . join(', ', map { with_dup($v->[$_], $p, $key, $bad_raw, $bad_first, [ @$here, $_ ]) } 0 .. $#$v) . ']';
	}
	return $J->encode($v);
}

sub pgpath { my ($p) = @_; return "'{" . join(',', @$p) . "}'" }
sub pathname { my ($p) = @_; return '$' . join('', map { /^\d+$/ ? "[$_]" : ".$_" } @$p) }

# Add a case at a target: the jsonb SQL expression $x, the expected
# states; with $same, the result must equal the template's.
sub target_case
{
	my ($t, $label, $x, $expect, %o) = @_;
	my $digest = $t->{scalar} ? \&digest_scalar : \&digest_srf;
	my $ok = grep { $_ eq '00000' } @$expect;
	my $pj = $o{pj} // '';
	if (in_list($pj, $t->{lax}) && $expect->[0] eq '22023')
	{
		$expect = [ '22023', '42704' ];
		$o{may_send} = 1;
	}
	my $sql;
	if ($o{same} && $ok)
	{
		$sql = "SELECT 'RES|%d|' || (" . $digest->($t->{call}->($x, 'local')) . ' = '
		  . $digest->($t->{call}->(lit($t->{tmpl}), 'local')) . ')::text';
		add_case(label => "$t->{name}: $label", sql => $sql, expect => $expect, res => 'true');
	}
	else
	{
		add_case(label => "$t->{name}: $label",
			sql => "SELECT 'RES|%d|' || " . $digest->($t->{call}->($x, 'local')), expect => $expect);
	}
	# rejected input must be rejected the same way with the remote
	# resolver, before anything is sent
	if ($t->{remote} && !$ok && !$o{local_only})
	{
		add_case(label => "$t->{name} (remote): $label",
			sql => "SELECT 'RES|%d|' || " . $digest->($t->{call}->($x, 'remote')), expect => $expect,
			may_send => $o{may_send}, sends => $o{sends});
	}
}

sub in_list { my ($x, $l) = @_; return scalar grep { $_ eq $x } @{ $l // [] } }

my @wrong = ('null', 'true', 'false', '0', '-0', '1.5', '1e400', '-1', '"str"', '[]', '{}', '[1]', '{"k": 1}', '[[[]]]');
my %type_of = (null => 'null', true => 'bool', false => 'bool', '"str"' => 'string');

for my $t (@targets)
{
	for my $pv (paths($t->{tmpl}))
	{
		my ($p, $v) = @$pv;
		my $pn = pathname($p);
		my $pj = join('.', @$p);
		my $type = jtype($v);
		my $key = @$p ? $p->[-1] : '';

		# wrong types at every position
		for my $w (@wrong)
		{
			my $wt = $type_of{$w} // ($w =~ /^\[/ ? 'array' : $w =~ /^\{/ ? 'object' : 'number');
			next if $wt eq $type;
			my $exp = ($w eq 'null' && in_list($pj, $t->{nullable})) ? '00000' : '22023';
			target_case($t, "$w at $pn", sql_quote(with_raw($t->{tmpl}, $p, $w)) . '::jsonb', [$exp], pj => $pj);
		}
		# a 1 MB string, a 1 MB E.164-like and a 1 MB email-like string
		# in every string slot
		if ($type eq 'string')
		{
			my $exp = in_list($pj, $t->{free}) ? '00000' : '22023';
			for my $big ("repeat('x', $MB)", "'+' || repeat('1', $MB)", "repeat('a', $MB) || '\@example.com'",
				"'whatsapp:+' || repeat('1', $MB)")
			{
				my $x = @$p ? "jsonb_set(@{[ lit($t->{tmpl}) ]}, @{[ pgpath($p) ]}, to_jsonb($big))" : "to_jsonb($big)";
				target_case($t, "1 MB string $big at $pn", $x, [$exp], pj => $pj);
			}
			# look-alike enum values
			if ($key eq 'channel' || (@$p >= 2 && $p->[-2] eq 'filterIn'))
			{
				for my $odd ("\x{feff}$v", "$v\x{200f}", lc $v, "$v ", join('', map { chr(ord($_) + 0xFEE0) } split //, $v))
				{
					target_case($t, "look-alike " . $J->encode($odd) . " at $pn",
						sql_quote(with_raw($t->{tmpl}, $p, $J->encode($odd))) . '::jsonb', ['22023']);
				}
			}
		}
		if ($type eq 'object')
		{
			# every key left out
			for my $k (sort keys %$v)
			{
				my $exp = in_list(join('.', @$p, $k), $t->{optional}) ? '00000' : '22023';
				target_case($t, "without $k at $pn", lit(delete_at($t->{tmpl}, [ @$p, $k ])), [$exp]);
			}
			# unknown keys: plain, empty, a BOM before a real key, another case
			my ($first) = sort keys %$v;
			for my $k ('extra', '', "\x{feff}$first", ucfirst $first, $first . "\x{0}")
			{
				next if $k =~ /\x{0}/;
				target_case($t, "unknown key " . $J->encode($k) . " at $pn",
					lit(set_at($t->{tmpl}, [ @$p ], { %$v, $k => 1 })), ['22023']);
			}
			# a 1 MB key; 100,000 keys
			my $obj = @$p ? "(@{[ lit($t->{tmpl}) ]} #> @{[ pgpath($p) ]})" : lit($t->{tmpl});
			for my $extra ("jsonb_build_object(repeat('k', $MB), 1)",
				"(SELECT jsonb_object_agg('k' || g, g) FROM generate_series(1, 100000) g)")
			{
				my $x = @$p ? "jsonb_set(@{[ lit($t->{tmpl}) ]}, @{[ pgpath($p) ]}, $obj || $extra)" : "$obj || $extra";
				target_case($t, "huge keys ($extra) at $pn", $x, ['22023']);
			}
			# duplicate keys: jsonb keeps the last
			for my $k (sort keys %$v)
			{
				target_case($t, "duplicate $k (bad first) at $pn",
					sql_quote(with_dup($t->{tmpl}, $p, $k, '{"bogus": 1}', 1)) . '::jsonb', ['00000'], same => 1);
				target_case($t, "duplicate $k (bad last) at $pn",
					sql_quote(with_dup($t->{tmpl}, $p, $k, '{"bogus": 1}', 0)) . '::jsonb', ['22023']);
			}
			target_case($t, "{} at $pn", lit(set_at($t->{tmpl}, $p, {})),
				[ ($p->[-1] // '') eq 'channels' || $t->{name} =~ /channels/ && !@$p ? '00000' : '22023' ]);
		}
		if ($type eq 'array')
		{
			# 100,000 elements: copies of the first
			my $el = "(@{[ lit($t->{tmpl}) ]} #> '{@{[ join(',', @$p, 0) ]}}')";
			my $big = "(SELECT jsonb_agg($el) FROM generate_series(1, 100000))";
			my $x = @$p ? "jsonb_set(@{[ lit($t->{tmpl}) ]}, @{[ pgpath($p) ]}, $big)" : $big;
			target_case($t, "100,000 elements at $pn", $x, [ in_list($pj, $t->{big_ok}) ? '00000' : '22023' ]);
			my $empty_ok = $key eq 'filterIn' || $key eq 'priority' || in_list($pj, $t->{big_ok});
			target_case($t, "[] at $pn", lit(set_at($t->{tmpl}, $p, [])), [ $empty_ok ? '00000' : '22023' ]);
		}
		# 10,000 levels of nesting at every position
		for my $deep ("(repeat('[', 10000) || repeat(']', 10000))::jsonb",
			"(repeat('{\"a\": ', 10000) || '1' || repeat('}', 10000))::jsonb",
			"(repeat('[', 10000) || '\"+14155552671\"' || repeat(']', 10000))::jsonb")
		{
			my $x = @$p ? "jsonb_set(@{[ lit($t->{tmpl}) ]}, @{[ pgpath($p) ]}, $deep)" : $deep;
			target_case($t, "10,000 levels ($deep) at $pn", $x, ['22023']);
		}
	}
}

# numbers in priority slots: -0, 1e400, 0.0000001 and friends
{
	my ($t) = grep { $_->{name} eq 'resolve.channels' } @targets;
	for my $n ('-0', '0.0', '-0.0', '0e0', '0E+5', '-0e-5', '0.000')
	{
		target_case($t, "priority $n (= 0)", sql_quote(with_raw($C, [ 'priority', 0, 'priority' ], $n)) . '::jsonb',
			['00000'], same => 1);
	}
	for my $n ('1.0', '1e0', '10e-1', '0.1e1', '1.00000000000000000000', '100E-2')
	{
		target_case($t, "priority $n (= 1)", sql_quote(with_raw($C, [ 'priority', 1, 'priority' ], $n)) . '::jsonb',
			['00000'], same => 1);
	}
	# the largest priority, when no unlisted channel needs one after it
	my $C2 = { %$C, filterIn => [qw(SMS EMAIL)] };
	for my $n ('2147483647', '2147483647.0', '2.147483647e9', '214748364.7e1')
	{
		target_case($t, "priority $n", sql_quote(with_raw($C2, [ 'priority', 1, 'priority' ], $n)) . '::jsonb', ['00000']);
		# which channels occur depends on the candidates: the remote
		# resolver cannot know, so it sends and the API answers 400
		target_case($t, "priority $n, unlisted channels after it",
			sql_quote(with_raw($C, [ 'priority', 1, 'priority' ], $n)) . '::jsonb', ['22023'], sends => 1);
	}
	for my $n ('1e400', '-1e400', '0.0000001', '1e-400', '-1e-400', '-1', '2147483648', '2147483647.5', '1e10',
		'99999999999999999999999999999999', '1.5', '-0.5', '-2147483648', '4294967296', '18446744073709551616')
	{
		target_case($t, "priority $n", sql_quote(with_raw($C, [ 'priority', 1, 'priority' ], $n)) . '::jsonb', ['22023']);
	}
}

# invalid E.164 and email forms, bare and as objects, with both resolvers
my @bad_phone = ('+', '+1', '+0', '+01234567', '+1234567890123456', '++14155552671', '+1 4155552671',
	'+1-415-555-2671', '+1415555267a', '14155552671', "+\x{661}\x{664}\x{661}\x{665}\x{665}\x{665}\x{665}",
	"\x{ff0b}14155552671", "+\x{ff11}\x{ff14}\x{ff11}\x{ff15}", "+14155552671\n", ' +14155552671', '+14155552671 ',
	"+1415555\x{200b}2671", "+14155552671\x{2028}", "\x{feff}+14155552671", '+1e10', '+14155552671.0', 'tel:+14155552671');
my @bad_wa = ('whatsapp:', 'whatsapp:+', 'whatsapp: +14155552671', 'whatsapp:+14155552671:x', 'WHATSAPP:+14155552671',
	'whatsapp:whatsapp:+14155552671', 'whatsapp:14155552671', "whatsapp\x{ff1a}+14155552671", 'whatsapp:+0123');
my @bad_email = ('@', 'a@', '@b.co', 'a@b', 'a@b.', 'a@.b', 'a@b..co', 'a@@b.co', 'a@b@c.co', 'a b@c.co', "a\t\@b.co",
	"a\n\@b.co", 'a@b c.co', "a\x{a0}\@b.co", "a\x{2028}\@b.co", "a\x{2029}\@b.co", "a\x{3000}\@b.co", "a\x{85}\@b.co",
	"a\x{200a}\@b.co", "a\x{1680}\@b.co", "a\x{7f}\@b.co", "a\x{1}\@b.co", "a\x{9f}\@b.co", "a\x{202f}\@b.co",
	"a\x{205f}\@b.co", ('l' x 65) . '@b.co', ("\x{1F600}" x 17) . '@b.co', 'a@' . ('d' x 250) . '.com', "a@\x{2028}.co");
my @bad_push = ('', ("\x{1F600}" x 257), ("e\x{301}" x 129), ('x' x 257));
{
	my ($t) = grep { $_->{name} eq 'resolve.recipients' } @targets;
	my ($tq) = grep { $_->{name} eq 'resolve_request(form A)' } @targets;
	for my $a (@bad_phone, @bad_wa, @bad_email)
	{
		target_case($t, "bare " . $J->encode($a), lit([$a]), ['22023']);
	}
	for my $a (@bad_phone)
	{
		target_case($t, "PHONE " . $J->encode($a), lit([ { address => $a, channel => 'PHONE' } ]), ['22023']);
		target_case($t, "WHATSAPP " . $J->encode($a), lit([ { address => $a, channel => 'WHATSAPP' } ]), ['22023']);
		target_case($tq, "PHONE " . $J->encode($a), lit(set_at($QA, [ 'recipientAddresses', 0, 'address' ], $a)), ['22023']);
	}
	for my $a (@bad_email)
	{
		target_case($t, "EMAIL " . $J->encode($a), lit([ { address => $a, channel => 'EMAIL' } ]), ['22023']);
		target_case($tq, "EMAIL " . $J->encode($a), lit(set_at($QA, [ 'recipientAddresses', 1 ], $a)), ['22023']);
	}
	for my $a (@bad_push)
	{
		target_case($t, "PUSH of " . length($a) . " characters", lit([ { address => $a, channel => 'PUSH' } ]), ['22023']);
	}
	# form B senders with bad addresses: rejected, or not found
	my ($ts) = grep { $_->{name} eq 'resolve_from_sender.sender(SMS)' } @targets;
	for my $a (@bad_phone[ 0 .. 9 ])
	{
		target_case($ts, "SMS sender " . $J->encode($a), lit({ address => $a, channel => 'SMS' }), [ '22023', '42704' ],
			local_only => 1);
	}
}

# odd but valid Unicode: accepted, the address comes back byte for byte,
# and local and remote resolution agree
my @odd_email = ("a\x{301}\@exa\x{301}mple.com", "a\x{200f}\@example.com", "\x{feff}a\@example.com",
	"\x{1F600}\@example.com", "a\@\x{1F600}.example", ("\x{1F600}" x 16) . '@example.com', "a\x{200b}\@example.com",
	"a\x{180e}\@example.com", "a\x{2060}\@example.com", "\x{5d0}\x{5d1}\@example.com", "a\x{202e}b\@example.com",
	"\x{10FFFF}\@example.com", "a\x{FFFD}\@example.com");
my @odd_push = ("\x{2028}", "\x{2029}", ("\x{1F600}" x 256), ("e\x{301}" x 128), "\x{feff}", "\x{200f}push",
	"\x{1}\x{7f}", " ", "line\nbreak", "\"quoted\\\"", "\x{10FFFF}");
my $remote_ok_calls = 0;
for my $r ((map { [ 'EMAIL', $_ ] } @odd_email), (map { [ 'PUSH', $_ ] } @odd_push))
{
	my ($ch, $a) = @$r;
	my $rec = lit([ { address => $a, channel => $ch } ]);
	my $al = "($rec -> 0 ->> 'address')";
	my $rows = sub {
		my ($rv) = @_;
		return "(SELECT string_agg(concat_ws('|', priority, sender_id, from_address, to_address, channel, display_name, to_channel), ';'"
		  . " ORDER BY priority, sender_id) FROM comms_resolve.resolve('$POOL', $rec, NULL, '$rv'))";
	};
	add_case(label => "odd valid $ch " . $J->encode($a),
		sql => "SELECT 'RES|%d|' || (SELECT (count(*) > 0 AND bool_and(to_address = $al))::text"
		  . " FROM comms_resolve.resolve('$POOL', $rec))", expect => ['00000'], res => 'true');
	add_case(label => "odd valid $ch " . $J->encode($a) . ": local = remote",
		sql => "SELECT 'RES|%d|' || (" . $rows->('local') . ' = ' . $rows->('remote') . ')::text',
		expect => ['00000'], res => 'true');
	$remote_ok_calls++;
	if ($ch eq 'EMAIL')
	{
		add_case(label => "odd valid bare " . $J->encode($a),
			sql => "SELECT 'RES|%d|' || (SELECT (count(*) > 0 AND bool_and(to_address = $al))::text"
			  . " FROM comms_resolve.resolve('$POOL', @{[ lit([$a]) ]}))", expect => ['00000'], res => 'true');
	}
}

# huge arrays: 100,000 recipients; 1,000,000 people
{
	my $people_ok = "(SELECT jsonb_agg(jsonb_build_array('+1415555' || lpad((g % 10000)::text, 4, '0'))) FROM generate_series(1, 1000000) g)";
	add_case(label => '1,000,000 valid people (3 rows each)',
		sql => "SELECT 'RES|%d|' || count(*) || '/' || max(person) FROM comms_resolve.resolve_many('$POOL', $people_ok)",
		expect => ['00000'], res => '3000000/999999');
	my $people_last_bad = "(SELECT jsonb_agg(CASE WHEN g = 1000000 THEN '[]'::jsonb ELSE jsonb_build_array('+1415555' || lpad((g % 10000)::text, 4, '0')) END) FROM generate_series(1, 1000000) g)";
	for my $rv ('local', 'remote')
	{
		add_case(label => "1,000,000 people, the last empty ($rv)",
			sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.resolve_many('$POOL', $people_last_bad, NULL, '$rv')",
			expect => ['22023'], no_request => 1, err_like => qr/person 999999 of resolve_many/);
	}
	add_case(label => '1,000,000 people, the first a number',
		sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.resolve_many('$POOL', (SELECT '[5]'::jsonb || jsonb_agg('[\"a\@b.co\"]'::jsonb) FROM generate_series(1, 999999)))",
		expect => ['22023']);
	add_case(label => 'one person of 1,000,000 addresses',
		sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.resolve_many('$POOL', jsonb_build_array((SELECT jsonb_agg('a' || g || '\@b.co') FROM generate_series(1, 1000000) g)))",
		expect => ['22023']);
	for my $rv ('local', 'remote')
	{
		add_case(label => "100,000 distinct recipients ($rv)",
			sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.resolve('$POOL', (SELECT jsonb_agg('a' || g || '\@b.co') FROM generate_series(1, 100000) g), NULL, '$rv')",
			expect => ['22023'], no_request => 1);
	}
	add_case(label => 'filterIn of 1,000,000 strings',
		sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.resolve('$POOL', '[\"a\@b.co\"]', jsonb_build_object('filterIn', (SELECT jsonb_agg('C' || g) FROM generate_series(1, 1000000) g)))",
		expect => ['22023']);
	add_case(label => 'a request of 1,000,000 recipients',
		sql => "SELECT 'RES|%d|' || md5(comms_resolve.resolve_request(jsonb_build_object('recipientAddresses', (SELECT jsonb_agg('a' || g || '\@b.co') FROM generate_series(1, 1000000) g)))::text)",
		expect => ['22023']);
}

# hostile text arguments: pool ids, resolver names, sync, listings
{
	my @bad_pool = ("''", "' '", "'pool-1'", "upper('$POOL')", "'$POOL' || E'\\n'", "'$POOL' || chr(8203)",
		"chr(65279) || '$POOL'", "repeat('x', $MB)", "'comms_senderpool_' || repeat('0', $MB)",
		"'comms_sender_01h9krwprkeee8fzqspvwy6s01'", "'comms_senderpool_01h9krwprkeee8fzqspvwy6nq'",
		"'comms_senderpool_81h9krwprkeee8fzqspvwy6nq8'", "'comms_senderpool_01h9krwprkeee8fzqspvwy6nqu'",
		"'$POOL/../x'", "'$POOL?x=1'", "'comms_senderpool_01h9krwprkeee8fzqspvwy6nq8' || repeat('0', 10)");
	for my $p (@bad_pool)
	{
		for my $rv ('local', 'remote')
		{
			add_case(label => "resolve pool $p ($rv)",
				sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.resolve($p, '[\"a\@b.co\"]', NULL, '$rv')",
				expect => ['22023'], no_request => 1);
			add_case(label => "resolve_many pool $p ($rv)",
				sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.resolve_many($p, '[[\"a\@b.co\"]]', NULL, '$rv')",
				expect => ['22023'], no_request => 1);
		}
		add_case(label => "sync($p)", sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.sync($p)",
			expect => ['22023']);
		add_case(label => "remote_sender_pool($p)",
			sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.remote_sender_pool($p)", expect => ['22023']);
		add_case(label => "remote_pool_members($p)",
			sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.remote_pool_members($p)", expect => ['22023']);
	}
	add_case(label => 'resolve of an unknown well-formed pool',
		sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.resolve('comms_senderpool_01h9krwprkeee8fzqspvwy6zzz', '[\"a\@b.co\"]')",
		expect => ['42704']);
	add_case(label => 'sync of a pool the API does not have (writes nothing)',
		sql => "SELECT 'RES|%d|' || string_agg(inserted || '/' || updated || '/' || deleted, ',') FROM comms_resolve.sync('comms_senderpool_01h9krwprkeee8fzqspvwy6zzz')",
		expect => ['00000'], res => '0/0/0,0/0/0,0/0/0');
	for my $r ("'LOCAL'", "'remote '", "''", "repeat('x', $MB)", "chr(65279) || 'local'", "'local' || chr(8232)", "'lo'")
	{
		add_case(label => "resolver $r",
			sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.resolve('$POOL', '[\"a\@b.co\"]', NULL, $r)",
			expect => ['22023']);
		add_case(label => "resolve_request resolver $r",
			sql => "SELECT 'RES|%d|' || md5(comms_resolve.resolve_request('{\"recipientAddresses\": [\"a\@b.co\"]}', $r)::text)",
			expect => ['22023']);
	}
	my @bad_channel = ("'sms'", "''", "'SMS '", "'PHONE'", "chr(65279) || 'SMS'", "repeat('S', $MB)", "'SMS' || chr(8232)");
	my @bad_status = ("'activated'", "''", "'ACTIVATED '", "repeat('A', $MB)", "'ACTIVE'");
	my @bad_sender = ("''", "'../SenderPools'", "'comms_sender_..%2f..'", "repeat('x', $MB)",
		"'comms_sender_01h9krwprkeee8fzqspvwy6s01?x=1'", "'comms_sender_01h9krwprkeee8fzqspvwy6s01/../../x'",
		"'comms_sender_01h9krwprkeee8fzqspvwy6s01#'", "NULL", "'$POOL'");
	for my $c (@bad_channel)
	{
		add_case(label => "remote_senders(channel $c)",
			sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.remote_senders($c)", expect => ['22023']);
		add_case(label => "remote_pool_members(channel $c)",
			sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.remote_pool_members('$POOL', $c)", expect => ['22023']);
		add_case(label => "remote_search_senders(channel $c)",
			sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.remote_search_senders('+15035551234', $c)",
			expect => ['22023']);
	}
	for my $s (@bad_status)
	{
		add_case(label => "remote_senders(status $s)",
			sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.remote_senders(NULL, $s)", expect => ['22023']);
		add_case(label => "remote_pool_members(status $s)",
			sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.remote_pool_members('$POOL', NULL, $s)",
			expect => ['22023']);
	}
	for my $s (@bad_sender)
	{
		add_case(label => "remote_sender($s)",
			sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.remote_sender($s)", expect => ['22023']);
	}
	add_case(label => 'remote_search_senders(NULL address)',
		sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.remote_search_senders(NULL, 'SMS')", expect => ['22023']);
	add_case(label => 'remote_search_senders(NULL channel)',
		sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.remote_search_senders('+15035551234', NULL)",
		expect => ['22023']);
	# addresses are free text for a search: sent, found nothing
	for my $a ("repeat('+1', $MB / 2)", "'\"}]' || E'\\\\' || chr(8232) || chr(128512)", "E'\\u0001\\u001f'",
		"'+15035551234' || chr(65279)")
	{
		add_case(label => "remote_search_senders(address $a)",
			sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.remote_search_senders($a, 'SMS')",
			expect => ['00000'], res => '0');
	}
	add_case(label => 'remote_search_senders finds the real one',
		sql => "SELECT 'RES|%d|' || count(*) FROM comms_resolve.remote_search_senders('+15035551234', 'SMS')",
		expect => ['00000'], res => '1');
}

# Run every case in one session: after each, the SQLSTATE, the backend's
# pid and the inventory checksum.
my $script = "\\set VERBOSITY verbose\nSELECT 'PID|' || pg_backend_pid();\n";
for my $c (@cases)
{
	(my $sql = $c->{sql}) =~ s/%d/$c->{id}/;
	$script .= "\\echo BEGIN $c->{id}\n\\warn BEGIN $c->{id}\n$sql;\n"
	  . "SELECT 'CASE|$c->{id}|' || :'SQLSTATE' || '|' || pg_backend_pid() || '|' || public.rel_inventory_checksum();\n";
}
$emu->clear_log;
my $t0 = time;
my ($ret, $out, $err) = $node->psql('postgres', $script, on_error_stop => 0, timeout => 1200);
my $secs = time - $t0;
my @resolve_requests = @{ $emu->requests(qr{/Senders/Resolve$}) };

my ($pid0) = $out =~ /^PID\|(\d+)$/m;
my (%state, %pid, %sum, %res, %errtext);
for my $line (split /\n/, $out)
{
	if ($line =~ /^CASE\|(\d+)\|(\w{5})\|(\d+)\|(\w+)$/) { ($state{$1}, $pid{$1}, $sum{$1}) = ($2, $3, $4) }
	elsif ($line =~ /^RES\|(\d+)\|(.*)$/) { $res{$1} = $2 }
}
my $cur;
for my $line (split /\n/, $err)
{
	if ($line =~ /^BEGIN (\d+)$/) { $cur = $1; next }
	$errtext{$cur} .= "$line\n" if defined $cur;
}

my (@bad, $n_ok, $n_err);
for my $c (@cases)
{
	my $id = $c->{id};
	my $why;
	if (!defined $state{$id}) { $why = 'no result: the session ended' }
	elsif (!grep { $_ eq $state{$id} } @{ $c->{expect} }) { $why = "SQLSTATE $state{$id}, expected @{ $c->{expect} }" }
	elsif ($pid{$id} ne $pid0) { $why = "backend changed: $pid{$id} after $pid0" }
	elsif ($sum{$id} ne $sum0) { $why = 'the inventory changed' }
	elsif ($state{$id} eq '00000' && defined $c->{res} && ($res{$id} // '') ne $c->{res})
	{
		$why = "result " . ($res{$id} // 'none') . ", expected $c->{res}";
	}
	elsif ($c->{err_like} && ($errtext{$id} // '') !~ $c->{err_like}) { $why = "error text does not match $c->{err_like}" }
	if ($why)
	{
		my $e = substr($errtext{$id} // '', 0, 600);
		push @bad, "case $id [$c->{label}]: $why\n  $e";
	}
	$state{$id} && $state{$id} eq '00000' ? $n_ok++ : $n_err++;
}
my $n_sql = scalar @cases;
{
	my @cats = ([ 'wrong JSON types', qr/: (?:null|true|false|0|-0|1\.5|1e400|-1|"str"|\[\]|\{\}|\[1\]|\{"k": 1\}|\[\[\[\]\]\]) at / ],
		[ '1 MB strings', qr/1 MB string/ ], [ '1 MB / 100,000 keys', qr/huge keys/ ], [ '10,000 levels', qr/10,000 levels/ ],
		[ 'huge arrays', qr/100,000 elements|1,000,000|100,000 distinct/ ], [ 'duplicate keys', qr/duplicate/ ],
		[ 'odd valid Unicode', qr/odd valid/ ], [ 'look-alike enums', qr/look-alike/ ], [ 'numbers', qr/: priority / ],
		[ 'E.164, email, push forms', qr/: (?:bare|PHONE|WHATSAPP|EMAIL|PUSH of|SMS sender) / ],
		[ 'missing, unknown, empty members', qr/without |unknown key|: \{\} at|: \[\] at/ ]);
	my %n;
	CASE: for my $c (@cases)
	{
		for my $cat (@cats) { if ($c->{label} =~ $cat->[1]) { $n{ $cat->[0] }++; next CASE } }
		$n{'text arguments (pool ids, resolvers, sync, listings)'}++;
	}
	diag('hostile SQL inputs by kind: ' . join(', ', map { "$_ $n{$_}" } sort keys %n));
}
diag(sprintf('hostile SQL inputs tried: %d (%d accepted, %d rejected) in %.1f s, one backend', $n_sql, $n_ok // 0,
	$n_err // 0, $secs));
is(scalar(@bad), 0, "every hostile SQL input gives its documented outcome ($n_sql cases)")
  or diag(join("\n", @bad[ 0 .. ($#bad < 300 ? $#bad : 300) ]));
my $sent_42704 = grep { $_->{may_send} && ($state{ $_->{id} } // '') eq '42704' } @cases;
my $sent_anyway = grep { $_->{sends} } @cases;
diag("remote calls sent although invalid: $sent_42704 form B lookups of an unknown sender address (42704),"
	  . " $sent_anyway with a priority that leaves no room for the channels that occur (the API's 400)");
is(scalar(@resolve_requests), $remote_ok_calls + $sent_42704 + $sent_anyway,
	'input rejected locally never reached the API: only the valid remote calls were sent');
my $longest = 0;
for (split /\n/, $err) { $longest = length $_ if length $_ > $longest }
cmp_ok($longest, '<', 1000, "no error line quotes a megabyte (longest: $longest bytes)");
is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_stat_activity WHERE backend_type = \'client backend\''), 1,
	'no backend left over');

# ---------------------------------------------------------------------
# Part 2: malformed answers of the API
# ---------------------------------------------------------------------

point_server($node, $emu,
	server => { retries => '0', request_timeout_ms => '2000', connect_timeout_ms => '1000' });
my $session = $node->background_psql('postgres', on_error_stop => 0, timeout => 300);
my $spid = $session->query_safe('SELECT pg_backend_pid()');
my $n_answers = 0;
my $RESOLVE = "SELECT count(*) FROM comms_resolve.resolve('$POOL', '[\"+14155552671\", \"jane\@example.com\"]', NULL, 'remote')";
my $REQUEST = "SELECT md5(comms_resolve.resolve_request('{\"senderPoolId\": \"$POOL\", \"recipientAddresses\": [\"+14155552671\"]}', 'remote')::text)";
my $MANY = "SELECT count(*) FROM comms_resolve.resolve_many('$POOL', '[[\"+14155552671\"], [\"a\@b.co\"], [\"c\@d.co\"]]', NULL, 'remote')";

# Run $sql in the session; return (sqlstate, stderr, seconds, stdout).
sub in_session
{
	my ($sql) = @_;
	$session->{stderr} = '';
	my $t = time;
	my $o = $session->query("\\set VERBOSITY verbose\n$sql");
	my $s = time - $t;
	my $e = $session->{stderr};
	$session->{stderr} = '';
	return (sqlstate_of($e), $e, $s, $o);
}

# One malformed answer: the rules, the call, the accepted SQLSTATEs.
sub answer_case
{
	my (%c) = @_;
	$emu->clear_faults;
	$emu->faults(@{ $c{rules} }) if $c{rules};
	my ($state, $e, $s, $o) = in_session($c{sql} // $RESOLVE);
	$emu->clear_faults;
	$n_answers++;
	my $ok = grep { $_ eq $state } @{ $c{expect} };
	{
		local $TODO = $c{todo};
		ok($ok, sprintf('%s: %s (%.2f s)', $c{label}, $state, $s)) or diag($e);
	}
	if ($c{max_secs}) { cmp_ok($s, '<', $c{max_secs}, "$c{label}: within ${\ $c{max_secs}} s") }
	if ($c{out_like} && $state eq '00000') { like($o, $c{out_like}, "$c{label}: the result") }
	if ($c{err_like}) { like($e, $c{err_like}, "$c{label}: the message") }
	return ($state, $e, $s);
}

sub item
{
	my $it = {
		from => { senderId => 'comms_sender_01h9krwprkeee8fzqspvwy6s01', displayName => 'D', channel => 'SMS',
			address => '+15035551234' },
		to => { address => '+14155552671', channel => 'PHONE' },
		priority => 0,
	};
	return $it;
}

sub body_with
{
	my ($p, $raw) = @_;    # raw JSON at path in {"results": [item]}; undef raw: key removed
	my $doc = { results => [ item() ] };
	return defined $raw ? with_raw($doc, $p, $raw) : $J->encode(delete_at($doc, $p));
}

my $rule = sub { my ($body, %o) = @_; return { path => '/v1/Senders/Resolve', status => 200, body => $body, times => -1, %o } };

for my $b ('truncated', 'garbage', 'empty', 'null', '[]', '{}', '"results"', '1', 'true', '{"results": null}',
	'{"results": {}}', '{"results": "x"}', '{"results": [1]}', '{"results": [null]}', '{"results": [[]]}',
	'{"results": []} trailing', '{"results": []}{"results": []}', '{"Results": []}', "\xef\xbb\xbf{\"results\": []}",
	'{"results": [' . ('[' x 10000) . (']' x 10000) . ']}', '{"results": [], "x": ' . ('[' x 100) . (']' x 100) . '}')
{
	# a BOM before the document and nesting past the parser's depth in an
	# ignored member may be read or refused, never anything else
	my @exp = $b =~ /^\xef|"x"/ ? ('08P01', '00000') : ('08P01');
	answer_case(label => 'Resolve body ' . substr($J->encode($b), 0, 40), rules => [ $rule->($b) ], expect => \@exp);
}
for my $m (
	[ ['from'], undef ], [ ['to'], undef ], [ ['priority'], undef ],
	[ ['from'], '[]' ], [ ['from'], '"x"' ], [ ['from'], 'null' ], [ ['to'], '[]' ], [ ['to'], 'null' ],
	(map { [ ['priority'], $_ ] } ('"0"', '1.5', '-1', '2147483648', '1e400', '99999999999999999999', 'null', 'true', '-0.0')),
	(map { [ [ 'from', 'senderId' ], $_ ] } ('5', '""', 'null', '"a\u0000b"', '[]')),
	(map { [ [ 'from', 'displayName' ], $_ ] } ('5', '[]', '{}', '"\u0000"', 'true')),
	(map { [ [ 'from', 'channel' ], $_ ] } ('"sms"', '"PHONE"', '5', '"SMS\u0000"', 'null', '""')),
	(map { [ [ 'from', 'address' ], $_ ] } ('5', '[]', '"\u0000"')),
	(map { [ [ 'to', 'address' ], $_ ] } ('5', 'null', '"\u0000"', '{}')),
	(map { [ [ 'to', 'channel' ], $_ ] } ('"SMS"', '"phone"', '5', 'null')),
	[ [ 'from', 'senderId' ], undef ], [ [ 'from', 'displayName' ], undef ], [ [ 'from', 'channel' ], undef ],
	[ [ 'to', 'address' ], undef ], [ [ 'to', 'channel' ], undef ])
{
	my ($p, $raw) = @$m;
	my $full = [ 'results', 0, @$p ];
	my $b = body_with($full, $raw);
	answer_case(label => 'Resolve result ' . pathname($full) . ' ' . ($raw // 'missing'),
		rules => [ $rule->($b) ], expect => ['08P01']);
}
# valid oddities: equal keys (the last counts), a lone surrogate, astral
# and line-separator characters, a null displayName, no from.address
for my $m ([ [ 'from', 'displayName' ], '"\ud800"' ], [ [ 'from', 'displayName' ], '"\ud83d\ude00\u2028"' ],
	[ [ 'from', 'displayName' ], 'null' ], [ [ 'from', 'address' ], undef ], [ ['priority'], '2147483647' ],
	[ ['priority'], '1.0' ])
{
	my ($p, $raw) = @$m;
	my $full = [ 'results', 0, @$p ];
	answer_case(label => 'Resolve result ' . pathname($full) . ' ' . ($raw // 'missing') . ' (valid)',
		rules => [ $rule->(body_with($full, $raw)) ], expect => [ '00000', '08P01' ]);
}
answer_case(label => 'a result with equal keys, the last valid',
	rules => [ $rule->('{"results": [{"priority": "x", "priority": 0, "from": {"senderId": "s", "displayName": null, "channel": "SMS", "address": "+1"}, "to": {"address": "+14155552671", "channel": "PHONE"}}]}') ],
	expect => ['00000'], out_like => qr/^1$/);
{
	my $size = length($J->encode(item())) + 1;
	answer_case(label => sprintf('20,000 valid results (%.1f MB)', 20000 * $size / $MB),
		rules => [ $rule->({ results => [ map { item() } 1 .. 20000 ] }) ], expect => ['00000'], out_like => qr/^10$/);
	answer_case(label => sprintf('70,000 valid results (%.1f MB, over the 10 MB cap)', 70000 * $size / $MB),
		rules => [ $rule->({ results => [ map { item() } 1 .. 70000 ] }) ], expect => ['54000']);
}
answer_case(label => 'a 50 MB body', rules => [ $rule->('oversize') ], expect => ['54000'], max_secs => 10,
	err_like => qr/exceeds 10485760 bytes/);
answer_case(label => 'a body dripping past request_timeout_ms (2 s)',
	rules => [ $rule->('drip', intervalMs => 200) ], expect => ['08000'], max_secs => 3.5);
answer_case(label => 'an answer delayed past request_timeout_ms (2 s)',
	rules => [ { path => '/v1/Senders/Resolve', delayMs => 20000, times => -1 } ], expect => ['08000'], max_secs => 3.5);
answer_case(label => 'a 204 with no body', rules => [ $rule->('empty', status => 204) ], expect => ['08P01']);
answer_case(label => 'a 400 with garbage', rules => [ $rule->('garbage', status => 400) ], expect => ['22023']);
answer_case(label => 'a 500, truncated', rules => [ $rule->('truncated', status => 500) ], expect => [ '58000', '08P01' ]);
answer_case(label => 'a 418', rules => [ $rule->('{}', status => 418) ], expect => ['08P01']);
answer_case(label => 'a 599', rules => [ $rule->('{}', status => 599) ], expect => ['08P01']);
answer_case(label => 'a 429 with Retry-After of a year and no retries',
	rules => [ { path => '/v1/Senders/Resolve', status => 429, retryAfter => 31536000, times => -1 } ],
	expect => ['53400'], max_secs => 2);
answer_case(label => 'a 400 error with a megabyte message',
	rules => [ $rule->({ errors => [ { code => 20400, message => 'm' x $MB, infoUrl => 'x', context => 'c' x $MB } ] },
		status => 400) ], expect => ['22023']);

# resolve_request returns the API's body as jsonb: members it ignores
# must not turn a valid answer into an undocumented error
answer_case(label => 'resolve_request, answer {"results": [], "n": 1e400}', sql => $REQUEST,
	rules => [ $rule->('{"results": [], "n": 1e400}') ], expect => [ '00000', '08P01' ]);
for my $b ('{"results": [], "extra": "\u0000"}', '{"results": [], "n": 1e200000}', '{"results": [], "s": "\ud800"}')
{
	answer_case(label => 'resolve_request, answer ' . $b, sql => $REQUEST, rules => [ $rule->($b) ],
		expect => [ '00000', '08P01' ]);
}
# resolve_many: one bad answer among three
answer_case(label => 'resolve_many, the 2nd answer garbage', sql => $MANY,
	rules => [ $rule->('garbage', skip => 1, times => 1) ], expect => ['08P01']);
answer_case(label => 'resolve_many, every answer 50 MB', sql => $MANY, rules => [ $rule->('oversize') ],
	expect => ['54000'], max_secs => 15);

# listing pages and sync
my $SENDER = { id => 'comms_sender_01h9krwprkeee8fzqspvwy7a01', displayName => 'X', address => '+15035557777',
	channel => 'SMS', status => 'ACTIVATED', tags => {}, createdAt => '2024-01-01T00:00:00Z',
	updatedAt => '2024-01-01T00:00:00Z' };
sub page_with
{
	my ($p, $raw) = @_;
	my $doc = { senders => [$SENDER], pagination => { next => undef, self => 'x' } };
	return defined $raw ? with_raw($doc, $p, $raw) : $J->encode(delete_at($doc, $p));
}
my $LIST = 'SELECT count(*) FROM comms_resolve.remote_senders()';
my $lrule = sub { my ($body, %o) = @_; return { method => 'GET', path => '/v1/Senders', status => 200, body => $body, times => -1, %o } };
for my $m ([ [], '{}' ], [ ['senders'], '{}' ], [ ['senders'], 'null' ], [ ['pagination'], undef ],
	[ ['pagination'], '[]' ], [ [ 'pagination', 'next' ], undef ], [ [ 'pagination', 'next' ], '5' ],
	[ [ 'pagination', 'next' ], '""' ], [ [ 'pagination', 'next' ], $J->encode('t' x 5000) ],
	[ [ 'senders', 0 ], '5' ], [ [ 'senders', 0, 'id' ], undef ], [ [ 'senders', 0, 'id' ], '"comms_sender_x"' ],
	[ [ 'senders', 0, 'id' ], '"comms_senderpool_01h9krwprkeee8fzqspvwy6nq8"' ], [ [ 'senders', 0, 'tags' ], '[]' ],
	[ [ 'senders', 0, 'tags' ], undef ], [ [ 'senders', 0, 'tags' ], '{"a": ' . ('[' x 100) . (']' x 100) . '}' ],
	[ [ 'senders', 0, 'createdAt' ], '"yesterday"' ], [ [ 'senders', 0, 'createdAt' ], undef ],
	[ [ 'senders', 0, 'updatedAt' ], '"2024-01-01"' ], [ [ 'senders', 0, 'displayName' ], undef ],
	[ [ 'senders', 0, 'displayName' ], '7' ], [ [ 'senders', 0, 'address' ], '""' ],
	[ [ 'senders', 0, 'address' ], '"+1\u0000"' ], [ [ 'senders', 0, 'channel' ], '"FAX"' ],
	[ [ 'senders', 0, 'status' ], '"ACTIVE"' ])
{
	my ($p, $raw) = @$m;
	answer_case(label => 'Senders page ' . pathname($p) . ' ' . substr($raw // 'missing', 0, 30),
		sql => $LIST, rules => [ $lrule->(page_with($p, $raw)) ], expect => ['08P01']);
}
# well-shaped text that is not a time or not jsonb: still the API's fault
for my $m ([ [ 'senders', 0, 'createdAt' ], '"2024-13-45T25:61:61Z"' ], [ [ 'senders', 0, 'createdAt' ], '"2024-02-30T00:00:00Z"' ],
	[ [ 'senders', 0, 'updatedAt' ], '"0000-01-01T00:00:00Z"' ], [ [ 'senders', 0, 'tags' ], '{"k": "\u0000"}' ])
{
	my ($p, $raw) = @$m;
	answer_case(label => 'Senders page ' . pathname($p) . ' ' . $raw, sql => $LIST,
		rules => [ $lrule->(page_with($p, $raw)) ], expect => ['08P01']);
}
answer_case(label => 'Senders page repeating its page token', sql => $LIST,
	rules => [ $lrule->(page_with([ 'pagination', 'next' ], '"abc"')) ], expect => ['08P01'], max_secs => 5);
answer_case(label => 'remote_sender: a body that is a page', sql => "SELECT count(*) FROM comms_resolve.remote_sender('comms_sender_01h9krwprkeee8fzqspvwy6s01')",
	rules => [ { method => 'GET', path => '/v1/Senders/comms_sender_01h9krwprkeee8fzqspvwy6s01', body => page_with([], '{}'), times => -1 } ],
	expect => ['08P01']);
answer_case(label => 'remote_sender_pools: name 5', sql => 'SELECT count(*) FROM comms_resolve.remote_sender_pools()',
	rules => [ { method => 'GET', path => '/v1/SenderPools', times => -1,
		body => '{"senderPools": [{"id": "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8", "name": 5, "tags": {}, "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z"}], "pagination": {"next": null}}' } ],
	expect => ['08P01']);

# sync over malformed pages: an error, and the inventory as it was
for my $m ([ 'garbage on page 2', { method => 'GET', path => '/v1/Senders', body => 'garbage', skip => 1, times => 1 } ],
	[ 'a page of a 50 MB body', { method => 'GET', path => '/v1/SenderPools', body => 'oversize', times => -1 } ],
	[ 'a truncated members page', { method => 'GET', path => '/v1/SenderPools/*', body => 'truncated', times => -1 } ])
{
	$session->query_safe('SET comms_resolve.page_size = 2');
	my ($state) = answer_case(label => "sync(), $m->[0]", sql => 'SELECT count(*) FROM comms_resolve.sync()',
		rules => [ $m->[1] ], expect => [ '08P01', '54000' ]);
	is(checksum($node), $sum0, "sync(), $m->[0]: the inventory is unchanged");
}
$session->query_safe('RESET comms_resolve.page_size');

# bytes that are not UTF-8, and broken HTTP: a raw server.  (The
# emulator cannot send them: its fault rules are parsed as JSON with a
# UTF-8 check, so a literal body is always valid UTF-8; only its fixed
# "garbage" body holds invalid bytes, outside any JSON document.)
my $ITEM = '{"from": {"senderId": "comms_sender_01h9krwprkeee8fzqspvwy6s01", "displayName": "DN", "channel": "SMS", "address": "+15035551234"}, "to": {"address": "+14155552671", "channel": "PHONE"}, "priority": 0}';
sub raw_case
{
	my (%c) = @_;
	my $srv = raw_server($c{mode} // 'body', $c{bytes});
	$node->safe_psql('postgres', "ALTER SERVER comms_api OPTIONS (SET base_url '@{[ $srv->url ]}')");
	my @r = answer_case(%c);
	$srv->stop;
	return @r;
}
# Each call also re-reads what it returned as UTF-8 (convert_from checks
# the bytes), so bytes that slip through show up as 22021.
my $VRESOLVE = "SELECT count(*) FROM comms_resolve.resolve('$POOL', '[\"+14155552671\"]', NULL, 'remote') r"
  . " WHERE convert_from(convert_to(concat(r.display_name, r.to_address, r.from_address, r.sender_id), 'UTF8'), 'UTF8') IS NOT NULL";
my $VLIST = "SELECT count(*) FROM comms_resolve.remote_senders() r"
  . " WHERE convert_from(convert_to(concat(r.display_name, r.address), 'UTF8'), 'UTF8') IS NOT NULL";
my $VREQUEST = "SELECT convert_from(convert_to(comms_resolve.resolve_request('{\"senderPoolId\": \"$POOL\", \"recipientAddresses\": [\"+14155552671\"]}', 'remote')::text, 'UTF8'), 'UTF8') IS NOT NULL";
for my $bad ("\xff", "\xc3\x28", "\xe2\x82", "\xf8\x88\x80\x80\x80", "a\x00b", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "\xe0\x80\xaf")
{
	my $hex = join(' ', map { sprintf '%02x', ord } split //, $bad);
	# (json-c's own UTF-8 check lets surrogates, code points past
	# U+10FFFF and overlong forms through; the client checks itself)
	(my $b = $ITEM) =~ s/"DN"/"$bad"/;
	raw_case(label => "displayName with bytes $hex", sql => $VRESOLVE, bytes => "{\"results\": [$b]}", expect => ['08P01']);
	($b = $ITEM) =~ s/"\+14155552671"/"+1415555$bad"/;
	raw_case(label => "to.address with bytes $hex", sql => $VRESOLVE, bytes => "{\"results\": [$b]}", expect => ['08P01']);
	raw_case(label => "a Senders page with bytes $hex", sql => $VLIST,
		bytes => page_with([ 'senders', 0, 'displayName' ], "\"x$bad\""), expect => ['08P01']);
	raw_case(label => "resolve_request, an ignored member with bytes $hex", sql => $VREQUEST,
		bytes => "{\"results\": [], \"x\": \"$bad\"}", expect => ['08P01']);
}
{
	my $eb = qq({"errors": [{"code": 20400, "message": "bad \xff\xfe", "context": "\xc0"}]});
	raw_case(label => 'a 400 whose message is not UTF-8', mode => 'response',
		bytes => "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: "
		  . length($eb) . "\r\nConnection: close\r\n\r\n$eb", expect => ['22023']);
}
for my $r (
	[ 'a body shorter than its Content-Length', "HTTP/1.1 200 OK\r\nContent-Length: 500\r\nConnection: close\r\n\r\n{\"res", ['08P01'] ],
	[ 'a broken chunked body', "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZZ\r\nxx\r\n", [ '08P01', '08006' ] ],
	[ 'not HTTP at all', "SSH-2.0-OpenSSH_9.2\r\n\r\n", [ '08P01', '08006' ] ],
	[ 'a gzip body not asked for', "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789", ['08P01'] ],
	[ 'a Content-Length of 2^64', "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\nConnection: close\r\n\r\n{}", [ '08P01', '08006', '54000' ] ],
	[ 'a 200 kB header', "HTTP/1.1 200 OK\r\nX-Big: " . ('a' x 200000) . "\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", [ '08P01', '08006', '54000' ] ],
	[ 'a 503 with Retry-After 10^20 (1 retry, ceiling 500 ms)', "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 99999999999999999999\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", ['57P03'], 3 ],
	[ 'a 101 Switching Protocols', "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n", [ '08P01', '08006', '08000' ], 3.5 ],
	[ 'an HTTP/0.9-style bare body', "{\"results\": []}", [ '08P01', '08006' ] ])
{
	my ($label, $bytes, $exp, $max) = @$r;
	$node->safe_psql('postgres', q{ALTER SERVER comms_api OPTIONS (SET retries '1'); ALTER SERVER comms_api OPTIONS (ADD retry_ceiling_ms '500')})
	  if $label =~ /^a 503/;
	raw_case(label => $label, mode => 'response', bytes => $bytes, expect => $exp, max_secs => $max // 3.5);
	$node->safe_psql('postgres', q{ALTER SERVER comms_api OPTIONS (SET retries '0'); ALTER SERVER comms_api OPTIONS (DROP retry_ceiling_ms)})
	  if $label =~ /^a 503/;
}

# page tokens that cycle A, B, A, B...: listing must not page forever
{
	my $a = page_with([ 'pagination', 'next' ], '"A"');
	my $b = page_with([ 'pagination', 'next' ], '"B"');
	$session->query_safe('SET statement_timeout = 3000');
	$session->query_safe('SET client_min_messages = warning');
	my $srv = raw_server('cycle', "$a\n--8<--\n$b");
	$node->safe_psql('postgres', "ALTER SERVER comms_api OPTIONS (SET base_url '@{[ $srv->url ]}')");
	answer_case(label => 'Senders pages whose tokens cycle A, B, A, B', sql => $LIST, expect => ['08P01']);
	diag('pages fetched in 3 s (statement_timeout) from a server whose page tokens cycle A, B, A...: ' . $srv->requests);
	$srv->stop;
	$session->query_safe('RESET statement_timeout');
	$session->query_safe('RESET client_min_messages');
}

point_server($node, $emu, server => { request_timeout_ms => '2000' });
my ($st, undef, undef, $o) = in_session($RESOLVE);
is($st, '00000', 'after every malformed answer the next call works');
is($session->query_safe('SELECT pg_backend_pid()'), $spid, 'and the same backend answered all of them');
is(checksum($node), $sum0, 'the inventory is unchanged after all of it');
$session->quit;

ok(!$node->log_contains(qr/terminated by signal|server process .* was terminated|PANIC/),
	'no backend crashed (server log)');
diag(sprintf('hostile inputs tried: %d SQL inputs + %d malformed answers = %d', $n_sql, $n_answers, $n_sql + $n_answers));

$emu->stop;
$node->stop;
done_testing();
