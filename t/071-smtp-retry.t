# portal_smtp when the relay misbehaves: down for a while (mail stays
# queued, each attempt recorded with its error, then every mail arrives
# exactly once), a 4xx (tried again), a 5xx to RCPT or to the message
# (failed at once, nothing stored), a relay that never answers the
# message's end (the timeout: not sent, tried again, then arrives once),
# and an nginx reload while mail is pending and while a delivery is under
# way (nothing lost, nothing twice).
#
# The back-off between attempts is the outbox's (30 s, doubling): rather
# than wait for it, the tests make the mail due at once, as time would.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Smtp;

plan tests => 43;

my $port = smtp_start();
my $HTTP = citizen_http_config(smtp => $port,
                               extra => "portal_smtp_timeout 3s;\n");

ok(start_nginx(http_config => $HTTP, config => $API), 'nginx starts');

# a row of the outbox, as the functions of sql/functions queue it
sub queue {
    my ($to) = @_;
    return scalar psql_query(
        "INSERT INTO portal.outbox (recipient, subject, body)"
      . " VALUES ('$to', 'Essai', 'Texte') RETURNING id");
}

sub row {
    my ($id) = @_;
    my @r = psql_query("SELECT state, attempts, coalesce(last_error, ''),"
                     . " lease_until IS NOT NULL"
                     . " FROM portal.outbox WHERE id = $id");
    return { state => $r[0][0], attempts => $r[0][1], error => $r[0][2],
             leased => $r[0][3] eq 't' };
}

# until the row has had $n attempts and is settled (no lease)
sub attempted {
    my ($id, $n) = @_;
    my $r;
    wait_until(sub { $r = row($id); $r->{attempts} >= $n && !$r->{leased} },
               15, "mail $id tried $n time(s)");
    return $r;
}

sub settled {
    my ($id) = @_;
    my $r;
    wait_until(sub { $r = row($id); $r->{state} ne 'pending' }, 15,
               "mail $id settled");
    return $r;
}

# what time would do: the back-off is over
sub due { psql_query("UPDATE portal.outbox SET next_attempt_at = now()"
                   . " WHERE state = 'pending'") }

# messages at the relay for an address
sub to { my ($a) = @_; smtp_messages(sub { $_[0]{to}[0] eq $a }) }


# --------------------------------------------------- the relay is down

smtp_stop();

my @ids = map { queue("panne$_\@example.org") } 1 .. 3;
my @r = map { attempted($_, 1) } @ids;
is_deeply([map { $_->{state} } @r], [('pending') x 3],
          'relay down: the mails stay pending');
like($r[0]{error}, qr/connect/i,
     '... last_error says the relay was not reached')
    or diag $r[0]{error};
due();
@r = map { attempted($_, 2) } @ids;
is_deeply([map { $_->{attempts} } @r], [2, 2, 2],
          '... every attempt is counted');
is_deeply([map { $_->{state} } @r], [('pending') x 3], '... still pending');

smtp_start();
due();
@r = map { settled($_) } @ids;
is_deeply([map { $_->{state} } @r], [('sent') x 3],
          'relay up again: every mail is sent');
is_deeply([map { $_->{error} } @r], ['', '', ''], '... last_error cleared');
is_deeply([map { scalar to("panne$_\@example.org") } 1 .. 3], [1, 1, 1],
          '... and arrives exactly once');
my %seen;
$seen{ $_->{headers}{'message-id'} }++ for smtp_messages();
is(scalar(grep { $_ > 1 } values %seen), 0, '... no Message-ID twice');


# --------------------------------------------------------- 4xx, then ok

smtp_mode('rcpt 451');
my $id = queue('plus-tard@example.org');
my $r = attempted($id, 1);
is($r->{state}, 'pending', 'RCPT answered 451: pending, tried later');
like($r->{error}, qr/\ARCPT TO: 451 /, '... last_error gives the reply');
is(scalar to('plus-tard@example.org'), 0, '... nothing stored');

smtp_mode('ok');
due();
is(settled($id)->{state}, 'sent', 'then 250: sent');
is(scalar to('plus-tard@example.org'), 1, '... once');


# ------------------------------------------------------ 5xx: for good

smtp_mode('rcpt 550');
$id = queue('inconnu@example.org');
$r = settled($id);
is($r->{state}, 'failed', 'RCPT answered 550: failed');
is($r->{attempts}, 1, '... at once, not after the bound of attempts');
like($r->{error}, qr/\ARCPT TO: 550 /, '... last_error gives the reply');
is(psql_query("SELECT count(*) FROM portal.outbox"
            . " WHERE state = 'failed' AND id = $id"), 1,
   '... listed among the failed mails (for agents: state failed)');

smtp_mode('data 554');
$id = queue('refuse@example.org');
$r = settled($id);
is($r->{state}, 'failed', 'the message answered 554: failed');
like($r->{error}, qr/\Athe message: 554 /, '... last_error gives the reply');
is(scalar(to('inconnu@example.org') + to('refuse@example.org')), 0,
   '... nothing stored');

smtp_mode('data 452');
$id = queue('plein@example.org');
$r = attempted($id, 1);
is($r->{state}, 'pending', 'the message answered 452: tried later');
smtp_mode('ok');
due();
is(settled($id)->{state}, 'sent', '... then sent');
is(scalar to('plein@example.org'), 1, '... once');


# ------------------------------------- a relay that never says 250

smtp_mode('silent');
$id = queue('muet@example.org');
$r = attempted($id, 1);
is($r->{state}, 'pending', 'no answer to the message: not sent');
like($r->{error}, qr/no reply in time/, '... last_error: the timeout');
is(scalar to('muet@example.org'), 0, '... the relay stored nothing');

smtp_mode('ok');
due();
is(settled($id)->{state}, 'sent', 'the relay answers again: sent');
is(scalar to('muet@example.org'), 1, '... once');


# -------------------------------------- the bound still holds for 4xx

smtp_mode('rcpt 421');
$id = queue('toujours@example.org');
attempted($id, 1);
psql_query("UPDATE portal.outbox SET attempts = 7 WHERE id = $id");
due();
$r = settled($id);
is($r->{state}, 'failed', 'a 4xx at the 8th attempt: failed, the bound');
is($r->{attempts}, 8, '... after 8 attempts');
smtp_mode('ok');


# --------------------------------------------- a reload with mail pending

smtp_stop();
@ids = map { queue("recharge$_\@example.org") } 1 .. 2;
attempted($_, 1) for @ids;
my @before = worker_pids();
ok(reload_nginx(), 'nginx reloads (HUP) with mail pending');
isnt(join(',', worker_pids()), join(',', @before), '... new workers');
smtp_start();
due();
is_deeply([map { settled($_)->{state} } @ids], ['sent', 'sent'],
          '... the new workers send it');
is_deeply([map { scalar to("recharge$_\@example.org") } 1 .. 2], [1, 1],
          '... each mail once');


# ------------------------------- a reload while a delivery is under way

smtp_mode('silent');
$id = queue('en-cours@example.org');
ok(wait_until(sub { read_file(smtp_dir() . '/held') =~ /en-cours/ }, 10),
   'a delivery is under way: the relay holds the end of the message');
ok(reload_nginx(), 'nginx reloads (HUP) meanwhile');
$r = attempted($id, 1);
is($r->{state}, 'pending', '... the mail without its 250 stays pending');
like($r->{error}, qr/no reply in time/, '... the old worker settled it');
smtp_mode('ok');
due();
is(settled($id)->{state}, 'sent', '... the new workers send it');
is(scalar to('en-cours@example.org'), 1, '... once');

# all the while, every worker stayed on its event loop: health answered
my $res = http_request(GET => '/api/health');
is($res->{status}, 200, 'health answers');

ok(!grep({ /\[(?:alert|crit|emerg)\]/ } split /\n/, error_log_since(0)),
   'no alert in the error log');
stop_nginx();
