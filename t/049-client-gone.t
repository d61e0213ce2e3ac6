# A client that goes away while its request waits: a JSON body read in
# full, then the client's end of the connection closes while PostgreSQL
# holds the request's query.  The worker notices it (499 in the access
# log), drops the request, and lives on.  The read handler of the body
# stayed in place once the body was read, so the client's FIN read a body
# that was gone and the worker died (signal 11) on any route that takes
# JSON.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Socket qw(SHUT_WR);
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Attack;

plan tests => 11;

account_sql('jean.dupont');

ok(start_nginx(http_config => citizen_http_config(), config => attack_api()),
   'nginx starts');
my @workers = worker_pids();

# One request of each kind: a login, and a change of the account.
my $owner = client_from('10.49.0.9');
is($owner->login('jean.dupont', $PASSWORD)->{status}, 200,
   'jean.dupont is logged in');

my @cases = (
    [ 'POST session', client_from('10.49.0.1'), POST => 'session',
      { login => 'jean.dupont', password => 'Pas le bon mot de passe' } ],
    [ 'POST password/question', client_from('10.49.0.2'),
      POST => 'password/question', { login => 'jean.dupont' } ],
    [ 'PATCH me', $owner, PATCH => 'me',
      { holder => { email => 'autre@example.org' },
        current_password => $PASSWORD } ],
);

for my $case (@cases) {
    my ($name, $c, $method, $path, $body) = @$case;

    # Every statement that counts attempts or reads the account waits for
    # this lock while the session holds it.
    my $s = pg_session();
    $s->query('BEGIN');
    $s->query('LOCK TABLE portal.auth_failures, portal.accounts'
              . ' IN ACCESS EXCLUSIVE MODE');

    my $off = error_log_offset();
    my $aoff = length access_log_since(0);
    my $h = http_start($method => "/api/$path",
                       headers => [ Cookie => $c->cookie_header,
                                    'X-CSRF-Token' => $c->token,
                                    'Content-Type' => 'application/json' ],
                       body => json_text($body));

    ok(wait_until(sub { backends_waiting_on_lock() > 0 }, 10,
                  "the query of $name to wait"),
       "$name: its query waits in PostgreSQL");

    # the client's end closes: the worker's read event
    shutdown $h->{sock}, SHUT_WR;
    ok(wait_until(sub {
           access_log_since($aoff) =~ /"\Q$method \/api\/$path\E[^"]*" 499/
           || worker_pids_changed(\@workers)
       }, 10, "$name: the worker to notice"),
       "$name: the worker notices the client is gone (499)")
        or diag error_log_since($off);

    $s->query('COMMIT');
    $s->close;
}

ok(!worker_pids_changed(\@workers), 'the same workers: none died');
unlike(error_log_since(0), qr/exited on signal/, 'no worker exited on a signal');
is(http_request(GET => '/api/health')->{status}, 200,
   'the server answers on');

sub worker_pids_changed {
    my ($before) = @_;
    return join(' ', sort(worker_pids())) ne join(' ', sort @$before);
}
