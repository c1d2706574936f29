#!/usr/bin/perl
# test/bench/sync/gen_inventory.pl: the inventory of the sync benchmark
# (sync.sh), in the emulator's fixture format (test/emulator/README.md).
#
#   gen_inventory.pl SENDERS POOLS MEMBERSHIPS > inventory.json
#
# Deterministic (the same arguments give the same bytes).  Senders:
#   - ids: "comms_sender_" + [0-7] + 25 characters of 0-9a-hjkmnp-tv-z,
#     unique (a time-ordered prefix from the sender's index, then
#     pseudo-random characters);
#   - channels SMS 35%, WHATSAPP 25%, EMAIL 20%, RCS 10%, PUSH 10%;
#     (channel, address) unique: E.164 numbers in five countries for SMS
#     and WHATSAPP, e-mail addresses, RCS agent ids, PUSH app ids;
#   - 1 in 20 DEACTIVATED; 1 in 3 with tags (1 to 3 pairs); 1 in 7 without
#     a displayName;
#   - createdAt/updatedAt RFC 3339, UTC ("Z", some with milliseconds) or
#     with an offset ("+02:00"), updatedAt >= createdAt.
# Pools: POOLS pools, MEMBERSHIPS memberships spread evenly over them (no
# sender twice in one pool; a pool holds at most SENDERS members), every
# other pool tagged.
use strict;
use warnings;
use POSIX qw(strftime);

@ARGV == 3 && !grep { !/^\d+$/ } @ARGV
    or die "usage: $0 SENDERS POOLS MEMBERSHIPS\n";
my ($nsend, $npool, $nmemb) = @ARGV;
$nsend >= 1 or die "$0: need at least one sender\n";
$nsend < 10_000_000 or die "$0: at most 9,999,999 senders\n";
$npool >= 1 || $nmemb == 0 or die "$0: memberships need a pool\n";

my @b32 = split //, '0123456789abcdefghjkmnpqrstvwxyz';
my $seed = 20240301;
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return $seed; }

# prefix: 1 char [0-7] + 9 chars, from an integer (keeps ids in index order)
sub typeid {
    my ($prefix, $i) = @_;
    my $v = $i + 1_000_000;
    my @c;
    for (1 .. 9) { unshift @c, $b32[$v % 32]; $v = int($v / 32); }
    my $s = '0' . join('', @c);
    $s .= $b32[int(rnd() / 65536) % 32] for 1 .. 16;
    return "${prefix}_$s";
}

my $t0 = 1672531200;    # 2023-01-01T00:00:00Z
sub ts {
    my ($t, $style) = @_;
    return strftime('%Y-%m-%dT%H:%M:%SZ', gmtime $t) if $style == 0;
    return strftime('%Y-%m-%dT%H:%M:%S', gmtime $t) . sprintf('.%03dZ', $t % 1000) if $style == 1;
    return strftime('%Y-%m-%dT%H:%M:%S+02:00', gmtime($t + 7200));
}
sub jstr { my $s = shift; $s =~ s/(["\\])/\\$1/g; return "\"$s\""; }

my @countries = (['+1415', 7], ['+447700', 6], ['+4915', 8], ['+336', 8], ['+919', 9]);
my @domains = ('example.com', 'mail.example.org', 'notify.example.net');
my @teams = ('support', 'billing', 'marketing', 'ops', 'sales');
my @regions = ('us-east', 'eu-west', 'ap-south');

my @ids;
my %k;    # per-channel counter: (channel, address) is unique
print "{\n  \"senders\": [\n";
for my $i (0 .. $nsend - 1) {
    my $id = typeid('comms_sender', $i);
    push @ids, $id;
    my $r = $i % 20;
    my $ch = $r < 7 ? 'SMS' : $r < 12 ? 'WHATSAPP' : $r < 16 ? 'EMAIL' : $r < 18 ? 'RCS' : 'PUSH';
    my $n = $k{$ch}++;
    my $addr;
    if ($ch eq 'SMS' || $ch eq 'WHATSAPP') {
        my ($cc, $w) = @{ $countries[$n % @countries] };
        $addr = $cc . sprintf("%0${w}d", $n);
    } elsif ($ch eq 'EMAIL') {
        $addr = "sender$n\@" . $domains[$n % @domains];
    } elsif ($ch eq 'RCS') {
        $addr = "brand_agent_$n";
    } else {
        $addr = "com.example.app$n";
    }
    my $status = ($i % 20 == 13) ? 'DEACTIVATED' : 'ACTIVATED';
    my $dn = ($i % 7 == 3) ? 'null' : jstr(($i % 2 ? 'Customer ' : 'Notifications ') . ucfirst(lc $ch) . " $n");
    my @tags;
    if ($i % 3 == 0) {
        push @tags, '"team": ' . jstr($teams[$i % @teams]);
        push @tags, '"region": ' . jstr($regions[$i % @regions]) if $i % 2 == 0;
        push @tags, '"cost-center": ' . jstr('cc-' . ($i % 97)) if $i % 9 == 0;
    }
    my $created = $t0 + $i * 37;
    my $updated = ($i % 4 == 0) ? $created : $created + 86400 + $i % 5000;
    my $style = $i % 3;
    printf "    {\"id\": \"%s\", \"displayName\": %s, \"address\": %s, \"channel\": \"%s\", "
         . "\"status\": \"%s\", \"tags\": {%s}, \"createdAt\": \"%s\", \"updatedAt\": \"%s\"}%s\n",
         $id, $dn, jstr($addr), $ch, $status, join(', ', @tags), ts($created, $style),
         ts($updated, $style), $i < $nsend - 1 ? ',' : '';
}
print "  ],\n  \"senderPools\": [\n";

# members of pool j: indexes (offset_j + t * step) mod N, t < size_j,
# distinct since step is prime to N
my $step = 37;
$step += 2 while gcd($step, $nsend) != 1;
sub gcd { my ($a, $b) = @_; ($a, $b) = ($b, $a % $b) while $b; return $a; }
for my $j (0 .. $npool - 1) {
    my $size = int($nmemb / $npool) + ($j < $nmemb % $npool ? 1 : 0);
    $size = $nsend if $size > $nsend;
    my $off = ($j * 7919) % $nsend;
    my @m = map { '"' . $ids[($off + $_ * $step) % $nsend] . '"' } 0 .. $size - 1;
    my $tags = $j % 2 ? '{}' : '{"team": ' . jstr($teams[$j % @teams]) . '}';
    my $created = $t0 + $j * 3600;
    printf "    {\"id\": \"%s\", \"name\": \"Bench pool %d\", \"tags\": %s, \"createdAt\": \"%s\", "
         . "\"updatedAt\": \"%s\",\n     \"senders\": [%s]}%s\n",
         typeid('comms_senderpool', $j), $j + 1, $tags, ts($created, 0), ts($created + 60, 0),
         join(', ', @m), $j < $npool - 1 ? ',' : '';
}
print "  ]\n}\n";
