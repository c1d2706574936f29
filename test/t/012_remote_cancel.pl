# Cancel and statement_timeout during a 30-second emulator delay end the
# statement with 57014 within a second, and the same backend goes on
# working.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use CommsEmulator;
use CommsTest qw(new_node random_inventory load_local point_server);
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

srand(12);
my $node = new_node('cancel');
my $inv = random_inventory(senders => 10, pools => 1);
my $emu = CommsEmulator->new(inventory => $inv, credentials => ['AC1:emulator-secret']);
load_local($node, $inv);
point_server($node, $emu, server => { request_timeout_ms => '60000' });

my $call = q{SELECT count(*) FROM comms_resolve.resolve(NULL, '["+14155552671"]', NULL, 'remote')};
my $session = $node->background_psql('postgres', on_error_stop => 0);
my $pid = $session->query_safe('SELECT pg_backend_pid()');
chomp $pid;
is($session->query_safe($call) =~ /^\d+$/ ? 'ok' : 'bad', 'ok', 'a first remote call works');

# --- statement_timeout
$emu->faults({ path => '/v1/Senders/Resolve', delayMs => 30000, times => -1 });
$session->query_safe('SET statement_timeout = 1000');
my $t0 = time;
my $res = $session->query("\\set VERBOSITY verbose\n$call");
my $took = time - $t0;
like($session->{stderr}, qr/57014/, 'statement_timeout during a 30 s delay: 57014');
like($session->{stderr}, qr/statement timeout/, 'statement_timeout: the real timeout message');
cmp_ok($took, '<', 2.0, sprintf('statement_timeout of 1 s acted in %.2f s', $took));
$session->{stderr} = '';
$session->query_safe('RESET statement_timeout');

# --- pg_cancel_backend from another session
$t0 = time;
$session->query_until(qr/sent/, "\\echo sent\n\\set VERBOSITY verbose\n$call;\n\\echo done\n");
usleep(500_000);
my $cancelled_at = time;
$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
$session->query_until(qr/done/, '');
$took = time - $cancelled_at;
like($session->{stderr}, qr/57014/, 'pg_cancel_backend during a 30 s delay: 57014');
like($session->{stderr}, qr/canceling statement due to user request/, 'cancel: the real cancel message');
cmp_ok($took, '<', 1.0, sprintf('cancel acted in %.2f s', $took));
$session->{stderr} = '';

# --- the same backend goes on working
$emu->clear_faults;
is($session->query_safe('SELECT pg_backend_pid()'), $pid, 'the same backend is still there');
is($session->query_safe($call) =~ /^\d+$/ ? 'ok' : 'bad', 'ok', 'and its next remote call works');

# --- interruptible retry sleep: a long Retry-After is cut by cancel too
$node->safe_psql('postgres', "ALTER SERVER comms_api OPTIONS (ADD retry_ceiling_ms '30000', ADD retries '3')");
$emu->faults({ path => '/v1/Senders/Resolve', status => 503, retryAfter => 30, times => -1 });
$session->query_safe('SET statement_timeout = 1500');
$t0 = time;
$session->query("\\set VERBOSITY verbose\n$call");
$took = time - $t0;
like($session->{stderr}, qr/57014/, 'statement_timeout during a Retry-After wait: 57014');
cmp_ok($took, '<', 2.5, sprintf('the retry wait was interrupted after %.2f s', $took));
$session->{stderr} = '';
$session->query_safe('RESET statement_timeout');
$emu->clear_faults;
is($session->query_safe($call) =~ /^\d+$/ ? 'ok' : 'bad', 'ok', 'the backend works after an interrupted retry wait');

$session->quit;
$emu->stop;
$node->stop;
done_testing();
