# The agents' API over HTTP, what agents send: messages on a request
# (an information, scheduled or not, a decision; 201), a scheduled one
# cancelled (409 once gone), letters to print and printed, calls to make
# and made, the outbox's failed mail listed and retried (admins only),
# and the audit log (admins only) with each action and its address.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use POSIX qw(strftime);
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Requests;
use Test::Portal::Agents;

maildir_setup();
plan tests => 57;

my $CONF = "$API $ADMIN_API";

sub fields { (($_[0]{json} // {})->{error} // {})->{fields} // {} }
sub code { (($_[0]{json} // {})->{error} // {})->{code} // '' }
sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime(time + $_[0])) }

my $alice = agent_sql('alice', 'admin');
my $ines = agent_sql('ines', 'instructeur', themes => ['etat-civil']);
my $V = account_sql('anne.valide', validated => 1);
my $P = account_sql('marie.poste', validated => 1);
my $T = account_sql('paul.appel', validated => 1, phone => '0611223344');
my $R = submitted_request($V, 'signalement-voirie');
my $PR = submitted_request($P, 'signalement-voirie', contact => 'post');
my $TR = submitted_request($T, 'signalement-voirie', contact => 'phone');

ok(start_nginx(http_config => citizen_http_config(), config => $CONF),
   'nginx starts');

my $admin = agent_login('alice');
my $inst = agent_login('ines');


# -------------------------------------------------------------- messages

my $res = $admin->call(POST => "requests/$R/messages",
                       { kind => 'information',
                         body => 'Le trou sera comblé lundi.' });
is($res->{status}, 201, 'POST requests/{id}/messages: 201')
    or diag $res->{body};
is(($res->{json} // {})->{kind}, 'information', '... the message');
ok(!($res->{json} // {})->{cancellable}, '... gone at once: not cancellable');
my $now = $res->{json}{id};

$res = $admin->call(POST => "requests/$R/messages",
                    { kind => 'information', body => 'Rappel.',
                      send_at => iso(86400) });
is($res->{status}, 201, 'a message for tomorrow: 201') or diag $res->{body};
ok(($res->{json} // {})->{cancellable}, '... cancellable');
my $later = $res->{json}{id};

$res = $admin->call(POST => "requests/$R/messages",
                    { kind => 'information', body => 'x',
                      send_at => '2026-13-01T00:00:00Z' });
is($res->{status}, 422, 'send_at not ISO 8601: 422');
ok(exists fields($res)->{send_at}, '... the field send_at');
$res = $admin->call(POST => "requests/$R/messages",
                    { kind => 'information', body => 'x',
                      send_at => 'demain' });
is($res->{status}, 422, 'send_at "demain": 422');
$res = $admin->call(POST => "requests/$R/messages",
                    { kind => 'information', body => 'x',
                      send_at => '2027-02-30T09:00:00+01:00' });
is($res->{status}, 422, 'send_at on February 30th: 422');
ok(exists fields($res)->{send_at}, '... the field send_at');
$res = $admin->call(POST => "requests/$R/messages",
                    { kind => 'decision', body => 'x',
                      send_at => iso(86400) });
is($res->{status}, 422, 'a decision scheduled: 422');
ok(exists fields($res)->{send_at}, '... the field send_at');
$res = $admin->call(POST => "requests/$R/messages",
                    { kind => 'rumeur', body => 'x' });
is($res->{status}, 422, 'a kind of no message: 422');
ok(exists fields($res)->{kind}, '... the field kind');
$res = $admin->call(POST => "requests/$R/messages", { kind => 'decision' });
is($res->{status}, 422, 'no body: 422');
ok(exists fields($res)->{body}, '... the field body');
$res = $admin->call(POST => "requests/$R/messages",
                    { kind => 'information', body => 'x' x 5001 });
is($res->{status}, 422, 'a body of 5001 characters: 422');
$res = $inst->call(POST => "requests/$R/messages",
                   { kind => 'information', body => 'x' });
is($res->{status}, 404, 'another theme\'s request: 404');

$res = $inst->call(DELETE => "messages/$later");
is($res->{status}, 404, 'another theme\'s message cancelled: 404');
$res = $admin->call(DELETE => "messages/$later");
is($res->{status}, 200, 'DELETE messages/{id}: 200') or diag $res->{body};
ok(($res->{json} // {})->{cancelled_at}, '... cancelled');
$res = $admin->call(DELETE => "messages/$later");
is($res->{status}, 409, '... again: 409');
$res = $admin->call(DELETE => "messages/$now");
is($res->{status}, 409, 'a message gone already: 409');
$res = $admin->call(DELETE => 'messages/00000000-0000-4000-8000-000000000000');
is($res->{status}, 404, 'an unknown message: 404');


# --------------------------------------------------------------- letters

$res = $admin->call(POST => "requests/$PR/messages",
                    { kind => 'information', body => 'Par courrier.' });
is($res->{status}, 201, 'a message by post: 201');
my $letter = (($res->{json} // {})->{letter} // {})->{id} // '';
$res = $admin->call(GET => 'letters?printed=false');
is($res->{status}, 200, 'GET letters?printed=false: 200');
ok(grep({ $_->{id} eq $letter } @{ $res->{json} // [] }), '... the letter');
$res = $admin->call(GET => "letters/$letter");
is($res->{status}, 200, 'GET letters/{id}: 200');
ok(($res->{json} // {})->{date_text}, '... with what a page needs');
$res = $admin->call(GET => 'letters?printed=peut-etre');
is($res->{status}, 422, 'printed=peut-etre: 422');
$res = $admin->call(POST => "letters/$letter/printed");
is($res->{status}, 200, 'POST letters/{id}/printed: 200')
    or diag $res->{body};
$res = $admin->call(POST => "letters/$letter/printed");
is($res->{status}, 409, '... again: 409');
$res = $admin->call(GET => 'letters?printed=true');
ok(grep({ $_->{id} eq $letter } @{ $res->{json} // [] }),
   '... among those printed');


# ----------------------------------------------------------------- calls

$res = $admin->call(POST => "requests/$TR/messages",
                    { kind => 'information', body => 'Par téléphone.' });
my $call = (($res->{json} // {})->{call} // {})->{id} // '';
$res = $admin->call(GET => 'calls?done=false');
ok($res->{status} == 200 && grep({ $_->{id} eq $call } @{ $res->{json} }),
   'GET calls?done=false: the call to make');
$res = $admin->call(POST => "calls/$call/done", { note => 'x' x 501 });
is($res->{status}, 422, 'a note of 501 characters: 422');
$res = $admin->call(POST => "calls/$call/done",
                    { note => 'Répondeur.' });
is($res->{status}, 200, 'POST calls/{id}/done: 200') or diag $res->{body};
is(($res->{json} // {})->{note}, 'Répondeur.', '... with its note');
$res = $admin->call(POST => "calls/$call/done", {});
is($res->{status}, 409, '... again: 409');


# ---------------------------------------------------------------- outbox

my $mid = q1("INSERT INTO portal.outbox (recipient, subject, body, state,"
             . " attempts, last_error) VALUES ('nulle\@part.invalid',"
             . " 'Essai', 'Corps', 'failed', 8, '550 no such user')"
             . " RETURNING id");
$res = $admin->call(GET => 'outbox?state=failed');
is($res->{status}, 200, 'GET outbox?state=failed: 200') or diag $res->{body};
ok(grep({ $_->{id} == $mid } @{ $res->{json} // [] }), '... the mail');
$res = $inst->call(GET => 'outbox?state=failed');
is($res->{status}, 403, 'an instructeur: 403');
$res = $admin->call(GET => 'outbox?state=perdu');
is($res->{status}, 422, 'state=perdu: 422');
$res = $inst->call(POST => "outbox/$mid/retry");
is($res->{status}, 403, 'an instructeur retries: 403');
$res = $admin->call(POST => "outbox/$mid/retry");
is($res->{status}, 200, 'POST outbox/{id}/retry: 200') or diag $res->{body};
$res = $admin->call(POST => "outbox/$mid/retry");
is($res->{status}, 409, '... pending now: 409');
$res = $admin->call(POST => 'outbox/abc/retry');
is($res->{status}, 404, 'an id that is no number: 404');
$res = $admin->call(POST => 'outbox/99999999999999999999/retry');
is($res->{status}, 404, 'a number too large: 404');


# ----------------------------------------------------------------- audit

$res = $inst->call(GET => 'audit');
is($res->{status}, 403, 'GET audit as an instructeur: 403');
$res = $admin->call(GET => "audit?request=$R");
is($res->{status}, 200, 'GET audit?request=: 200') or diag $res->{body};
is_deeply([map { [$_->{action}, $_->{client_addr}] } @{ $res->{json} }],
          [['message_cancel', '127.0.0.1'], ['message_send', '127.0.0.1'],
           ['message_send', '127.0.0.1']],
          '... newest first, with the address');
$res = $admin->call(GET => "audit?agent=$alice&limit=2");
is(scalar @{ $res->{json} // [] }, 2, '?agent= and limit=2: 2 rows');
my $next = $admin->call(GET => "audit?agent=$alice&limit=2&page="
                        . $res->{json}[-1]{cursor});
ok($next->{status} == 200 && @{ $next->{json} }
   && $next->{json}[0]{id} < $res->{json}[-1]{id},
   '... the next page from the cursor');
is_deeply([map { $_->{action} } @{ $admin->call(GET => "audit?request=$PR")
                                             ->{json} }],
          ['letter_printed', 'letter_read', 'message_send'],
          'a letter read and printed are audited');
$res = $admin->call(GET => 'audit?agent=pas-un-uuid');
is($res->{status}, 422, 'agent=pas-un-uuid: 422');
$res = $admin->call(GET => 'audit?page=x');
is($res->{status}, 400, 'a page it did not give: 400');

check_error_log(0);
