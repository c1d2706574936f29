#!/usr/bin/perl
# smoke.pl: a self-contained check of the Comms API emulator, run by
# "make check" in test/emulator.  It starts ./comms_emulator (plain HTTP,
# then HTTPS with a throwaway CA) and drives it with the curl command-line
# tool: the reference Resolve example, validation errors, paging over 250
# senders, pool writes, every fault kind, the request log and keep-alive.
# Needs perl (core modules only), curl and openssl.
use strict;
use warnings;

use File::Temp qw(tempdir);
use FindBin;
use IPC::Open3;
use JSON::PP;
use Test::More;
use Time::HiRes qw(time usleep);

my $json = JSON::PP->new->canonical;
my $dir = tempdir(CLEANUP => 1);
my $bin = "$FindBin::RealBin/comms_emulator";
# EMULATOR_WRAPPER runs the emulator under a tool, e.g. valgrind (make valgrind)
my @wrapper = split ' ', ($ENV{EMULATOR_WRAPPER} // '');
my $auth = 'AC1:secret1';
my ($pid, $base, $root, @curl_tls);

sub start
{
	my ($inv_file, @args) = @_;
	unlink "$dir/port";
	$pid = open3(my $in, my $out, undef, @wrapper, $bin, '--inventory', $inv_file, '--port-file', "$dir/port",
		'--credentials', $auth, '--credentials', 'SK1:secret2', @args);
	my $line = <$out>;
	($base) = ($line // '') =~ /^listening on (\S+)$/ or die "emulator did not start: " . ($line // 'no output');
	($root = $base) =~ s{/v1$}{};
	return $base;
}

sub stop
{
	kill 'TERM', $pid;
	waitpid($pid, 0);
	return $? >> 8;
}

# curl: returns (status, body, headers, curl exit code)
sub curl
{
	my ($method, $url, $body, @extra) = @_;
	my @cmd = ('curl', '-sS', '-X', $method, '-D', "$dir/headers", '-o', "$dir/body", '-w', '%{http_code}',
		@curl_tls, @extra, $url);
	push @cmd, '-H', 'Content-Type: application/json', '--data-binary', '@' . "$dir/req" if defined $body;
	if (defined $body)
	{
		open(my $fh, '>', "$dir/req") or die;
		print $fh (ref $body ? $json->encode($body) : $body);
		close $fh;
	}
	unlink "$dir/body", "$dir/headers";
	my $status = `@{[ join ' ', map { "'$_'" } @cmd ]} 2>/dev/null`;
	my $rc = $? >> 8;
	local $/;
	my ($b, $h) = ('', '');
	if (open(my $fh, '<', "$dir/body")) { $b = <$fh> // '' }
	if (open(my $fh, '<', "$dir/headers")) { $h = <$fh> // '' }
	return ($status, $b, $h, $rc);
}

sub api { my ($method, $path, $body, @extra) = @_; return curl($method, "$base$path", $body, '-u', $auth, @extra) }
sub control { my ($method, $path, $body) = @_; my ($s, $b) = curl($method, "$root/_emulator/$path", $body); return $b ne '' ? $json->decode($b) : undef }
sub fault { control('DELETE', 'faults'); control('POST', 'faults', [@_]) }

# ---------------------------------------------------------------- Resolve
start("$FindBin::RealBin/sample-inventory.json");
my $reference = {
	senderPoolId => 'comms_senderpool_01h9krwprkeee8fzqspvwy6nq8',
	recipientAddresses => [ { address => '+14155552671', channel => 'PHONE' },
		{ address => '+14155552671', channel => 'WHATSAPP' }, { address => 'jane.doe@example.com', channel => 'EMAIL' } ],
	channels => { filterIn => [qw(SMS EMAIL WHATSAPP)],
		priority => [ { channel => 'EMAIL', priority => 0 }, { channel => 'SMS', priority => 1 }, { channel => 'WHATSAPP', priority => 2 } ] },
};
my ($st, $body, $hdr, $rc) = api('POST', '/Senders/Resolve', $reference);
is($st, 200, 'reference Resolve: 200');
my $res = $json->decode($body)->{results};
is_deeply([ map { "$_->{from}{channel} $_->{from}{address} -> $_->{to}{channel} $_->{to}{address} $_->{priority}" } sort { $a->{priority} <=> $b->{priority} } @$res ],
	[ 'EMAIL support@company.com -> EMAIL jane.doe@example.com 0', 'SMS +15035551234 -> PHONE +14155552671 1',
	  'WHATSAPP +15035551234 -> WHATSAPP +14155552671 2' ], 'reference Resolve: EMAIL 0, SMS 1, WHATSAPP 2');
is($res->[0]{from}{displayName}, 'Customer Support', 'reference Resolve: displayName');
isnt($res->[0]{priority}, 0, 'results are not in priority order (the client must sort)');

my $phone = { address => '+14155552671', channel => 'PHONE' };
($st, $body) = api('POST', '/Senders/Resolve', { recipientAddresses => [ { address => '+0415', channel => 'PHONE' } ] });
is($st, 400, 'invalid recipient: 400');
my $e = $json->decode($body)->{errors}[0];
is($e->{context}, '$.recipientAddresses[0].address', 'invalid recipient: context');
is($e->{code}, 20400, 'invalid recipient: code');
($st, $body) = api('POST', '/Senders/Resolve', { senderPoolId => 'comms_senderpool_01h9krwprkeee8fzqspvwy6zzz', recipientAddresses => [$phone] });
is($st, 404, 'unknown pool: 404');
is($json->decode($body)->{errors}[0]{code}, 20404, 'unknown pool: code 20404');
($st, $body) = api('POST', '/Senders/Resolve', { senderAddresses => { address => '+15035551234', channel => 'SMS' }, recipientAddresses => [$phone] });
is($st, 200, 'form B: 200');
is(scalar @{ $json->decode($body)->{results} }, 1, 'form B: the one sender');

($st, $body) = api('POST', '/Senders/Resolve', { recipientAddresses => [ $phone, '+14155552671' ] });
is($st, 400, 'a bare-string recipient (not in the API): 400');
is($json->decode($body)->{errors}[0]{context}, '$.recipientAddresses[1]', 'a bare-string recipient: context');

($st) = curl('GET', "$base/Senders");
is($st, 401, 'no credentials: 401');
($st) = curl('GET', "$base/Senders", undef, '-u', 'AC1:wrong');
is($st, 401, 'wrong credentials: 401');
($st) = curl('GET', "$base/Senders", undef, '-u', 'SK1:secret2');
is($st, 200, 'the second credential pair: 200');

# ---------------------------------------------------------------- pool writes
($st, $body, $hdr) = api('POST', '/SenderPools', { name => 'New', senders => [ { senderId => 'comms_sender_01h9krwprkeee8fzqspvwy6s02' } ] });
is($st, 202, 'create pool: 202');
like($hdr, qr{Location: \Q$base\E/SenderPools/Operations/comms_operation_}i, 'create pool: Location of the operation');
my $op = $json->decode($body)->{operationId};
($st, $body) = api('GET', "/SenderPools/Operations/$op");
is($json->decode($body)->{status}, 'COMPLETED', 'the operation is COMPLETED');
($st, $body) = api('GET', "/SenderPools?operationId=$op");
my $new = $json->decode($body)->{senderPools}[0]{id};
($st, $body) = api('GET', "/SenderPools/$new/Senders");
is(scalar @{ $json->decode($body)->{senders} }, 1, 'the new pool has its member');
($st) = api('DELETE', "/SenderPools/$new");
is($st, 202, 'delete pool: 202');
($st) = api('GET', "/SenderPools/$new");
is($st, 404, 'deleted pool: 404');
is(stop(), 0, 'SIGTERM: exit 0');

# ---------------------------------------------------------------- paging
my @ids;
{
	my @alpha = split //, '0123456789abcdefghjkmnpqrstvwxyz';
	my @senders;
	for my $i (0 .. 249)
	{
		my $suffix = join '', map { $alpha[ ($i >> (5 * $_)) & 31 ] } reverse 0 .. 3;
		push @senders, { id => "comms_sender_01h9krwprkeee8fzqspvwy$suffix", displayName => undef,
			address => sprintf('+1503555%04d', $i), channel => 'SMS', status => 'ACTIVATED', tags => {},
			createdAt => '2024-01-01T00:00:00Z', updatedAt => '2024-01-01T00:00:00Z' };
	}
	open(my $fh, '>', "$dir/inv250.json") or die;
	print $fh $json->encode({ senders => \@senders, senderPools => [] });
	close $fh;
}
start("$dir/inv250.json");
my ($pages, $token, @sizes) = (0, undef);
do
{
	($st, $body) = api('GET', '/Senders?pageSize=100' . (defined $token ? "&pageToken=$token" : ''));
	my $page = $json->decode($body);
	push @sizes, scalar @{ $page->{senders} };
	push @ids, map { $_->{id} } @{ $page->{senders} };
	$token = $page->{pagination}{next};
} while (defined $token && ++$pages < 10);
is_deeply(\@sizes, [ 100, 100, 50 ], '250 senders, pageSize 100: 3 pages');
is_deeply(\@ids, [ sort @ids ], 'listing order is by id');
($st, $body) = api('GET', '/Senders?pageSize=100');
$token = $json->decode($body)->{pagination}{next};
($st) = api('GET', "/Senders?pageSize=100&channel=EMAIL&pageToken=$token");
is($st, 400, 'a token used with other filters: 400');

# ---------------------------------------------------------------- faults
fault({ path => '/v1/Senders', status => 503, retryAfter => 2, times => 2 }, { path => '/v1/Senders', status => 429, retryAfter => 1 });
($st, $body, $hdr) = api('GET', '/Senders');
is($st, 503, 'fault 503');
like($hdr, qr/Retry-After: 2/i, 'fault 503: Retry-After');
is($json->decode($body)->{errors}[0]{code}, 20503, 'fault 503: code 20503');
($st) = api('GET', '/Senders');
is($st, 503, 'fault 503: twice');
($st, $body, $hdr) = api('GET', '/Senders');
is($st, 429, 'then 429');
($st) = api('GET', '/Senders');
is($st, 200, 'then through');
fault({ path => '/v1/Senders*', skip => 1, status => 500 });
is((api('GET', '/Senders'))[0], 200, 'skip 1: the first passes');
is((api('GET', '/Senders/' . $ids[0]))[0], 500, 'skip 1: the second (prefix match) faults');

fault({ drop => JSON::PP::true });
($st, $body, $hdr, $rc) = api('GET', '/Senders');
is($rc, 52, 'drop: empty reply (curl 52)');
fault({ body => 'garbage' });
($st, $body) = api('GET', '/Senders');
ok($st == 200 && !eval { $json->decode($body); 1 }, 'garbage: 200 and not JSON');
fault({ body => 'truncated' });
($st, $body, $hdr, $rc) = api('GET', '/Senders');
is($rc, 18, 'truncated: short body (curl 18)');
fault({ body => 'empty' });
($st, $body) = api('GET', '/Senders');
ok($st == 200 && $body eq '', 'empty: 200, no body');
fault({ body => 'oversize', bytes => 3_000_000 });
($st, $body) = api('GET', '/Senders');
is(length $body, 3_000_000, 'oversize: the size asked for');
fault({ body => '{"senders": 5}', status => 201 });
($st, $body) = api('GET', '/Senders');
ok($st == 201 && $body eq '{"senders": 5}', 'a literal body and status');
fault({ path => '/v1/Senders/' . $ids[0], body => 'drip', intervalMs => 5 });
my $t0 = time;
($st, $body) = api('GET', '/Senders/' . $ids[0]);
ok($st == 200 && $json->decode($body)->{id} eq $ids[0] && time - $t0 > 0.5, 'drip: the real body, slowly');

# a delay holds up its own request only
fault({ path => '/v1/Senders', delayMs => 2000 });
my $slow = fork() // die;
if (!$slow) { api('GET', '/Senders'); exit 0 }
usleep(300_000);
$t0 = time;
($st) = api('GET', '/Senders/' . $ids[1]);
ok($st == 200 && time - $t0 < 1, 'another request is answered during a delay');
waitpid($slow, 0);

# keep-alive: two URLs over one connection
control('DELETE', 'faults');
my $verbose = `curl -sv -u $auth -o /dev/null -o /dev/null '$base/Senders?pageSize=1' '$base/Senders/$ids[2]' 2>&1`;
like($verbose, qr/Re-using existing connection/, 'keep-alive: the connection is reused');

# the log
my $log = control('GET', 'log');
my @faulted = grep { defined $_->{fault} } @$log;
ok(@faulted >= 12, 'faulted requests are logged with their rule');
ok((grep { !defined $_->{status} && defined $_->{fault} } @$log) == 1, 'the dropped request has status null');
ok(!grep({ ($_->{user} // '') =~ /secret/ } @$log), 'the log has user names only');
is($log->[-1]{user}, 'AC1', 'the log names the Basic user');
control('DELETE', 'log');
is(scalar @{ control('GET', 'log') }, 0, 'the log is cleared');
control('PUT', 'config', { pageSize => 7 });
($st, $body) = api('GET', '/Senders');
is(scalar @{ $json->decode($body)->{senders} }, 7, 'config pageSize');
is(stop(), 0, 'SIGTERM: exit 0');

# ---------------------------------------------------------------- HTTPS
if (system("$FindBin::RealBin/make-test-cert.sh '$dir/tls' >/dev/null") == 0)
{
	start("$FindBin::RealBin/sample-inventory.json", '--tls-cert', "$dir/tls/server.pem", '--tls-key', "$dir/tls/server.key");
	like($base, qr{^https://127\.0\.0\.1:\d+/v1$}, 'HTTPS: the URL');
	@curl_tls = ('--cacert', "$dir/tls/ca.pem");
	($st) = api('GET', '/Senders');
	is($st, 200, 'HTTPS with the test CA');
	@curl_tls = ();
	($st, $body, $hdr, $rc) = api('GET', '/Senders');
	is($rc, 60, 'HTTPS without the CA: certificate refused');
	is(stop(), 0, 'SIGTERM: exit 0');
}
else
{
	fail('make-test-cert.sh');
}

done_testing();
