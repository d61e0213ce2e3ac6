# The agents' API over HTTP: citizens' accounts (the list waiting for
# validation, one account, its documents downloaded, the validation), the
# work queue and a request (its documents, its moves along the state
# machine, two agents at once), and the audit log of each read and action
# with the client's address; what an instructeur limited to a theme does
# not see; malformed ids, bodies and query strings.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Requests;
use Test::Portal::Agents;

maildir_setup();
plan tests => 75;

my $CONF = "$API $ADMIN_API";

sub fields { (($_[0]{json} // {})->{error} // {})->{fields} // {} }
sub code { (($_[0]{json} // {})->{error} // {})->{code} // '' }

# the audit rows of an account or a request, oldest first:
# [agent login, action, client address]
sub audit_of {
    my ($column, $id) = @_;
    return [q1("SELECT g.login, l.action, coalesce(host(l.client_addr), '')"
               . " FROM portal.audit_log l JOIN portal.agents g"
               . " ON g.id = l.agent_id WHERE l.$column = '$id'"
               . " ORDER BY l.id")];
}

my $alice = agent_sql('alice', 'admin', name => 'Alice Admin');
agent_sql('ines', 'instructeur', themes => ['etat-civil']);
agent_sql('yann', 'instructeur', themes => ['cadre-de-vie']);
my $A = account_sql('jean.attente');
my $V = account_sql('anne.valide', validated => 1);

my $doc = account_document($A);

ok(start_nginx(http_config => citizen_http_config(), config => $CONF),
   'nginx starts');

my $admin = agent_login('alice');
my $inst = agent_login('ines');
my $yann = agent_login('yann');


# ------------------------------------------------------------- accounts

my $res = $admin->call(GET => 'accounts?validated=false');
is($res->{status}, 200, 'GET accounts?validated=false: 200')
    or diag $res->{body};
is_deeply([map { $_->{login} } @{ $res->{json} // [] }], ['jean.attente'],
          '... the accounts waiting for validation');
ok(length(($res->{json}[0] // {})->{cursor} // ''), '... each with a cursor');
$res = $admin->call(GET => 'accounts');
is($res->{status}, 422, 'GET accounts without validated=false: 422')
    or diag $res->{body};
$res = $admin->call(GET => 'accounts?validated=true');
is($res->{status}, 422, 'validated=true: 422') or diag $res->{body};
ok(exists fields($res)->{validated}, '... the field validated');
$res = $admin->call(GET => 'accounts?validated=oui');
is($res->{status}, 422, 'validated=oui: 422');
$res = $admin->call(GET => 'accounts?sort=login');
is($res->{status}, 422, 'an unknown parameter: 422');
ok(exists fields($res)->{sort}, '... named as the field');
$res = $admin->call(GET => 'accounts?limit=1&limit=2');
is($res->{status}, 422, 'a parameter twice: 422');
$res = $admin->call(GET => 'accounts?limit=0');
is($res->{status}, 422, 'limit=0: 422');
$res = $admin->call(GET => 'accounts?limit=201');
is($res->{status}, 422, 'limit=201: 422');
$res = $admin->call(GET => 'accounts?page=nimporte');
is($res->{status}, 400, 'a page this API did not give: 400');
is(code($res), 'bad_page', '... bad_page');
$res = $admin->call(GET => 'accounts?page=%ff%fe');
is($res->{status}, 422, 'a page that is no UTF-8: 422');

$res = $admin->call(GET => "accounts/$A");
is($res->{status}, 200, 'GET accounts/{id}: 200') or diag $res->{body};
is_deeply([map { $_->{id} } @{ ($res->{json} // {})->{documents} // [] }],
          [$doc], '... with its documents');
is(ref((($res->{json} // {})->{requests})), 'ARRAY',
   '... and its requests, a list') or diag $res->{body};
is_deeply(audit_of('account_id', $A)->[-1],
          ['alice', 'account_read', '127.0.0.1'],
          '... the read audited, with the client\'s address');
$res = $admin->call(GET => 'accounts/' . uc $A);
is($res->{status}, 200, '... its id in capitals too');
$res = $admin->call(GET => 'accounts/00000000-0000-4000-8000-000000000000');
is($res->{status}, 404, 'an unknown account: 404');
$res = $admin->call(GET => 'accounts/pas-un-uuid');
is($res->{status}, 404, 'an id that is no UUID: 404');
$res = $admin->call(GET => "accounts/$A?x=1");
is($res->{status}, 422, 'a query string where none is taken: 422');

$res = $admin->call(GET => "accounts/$A/documents/$doc");
is($res->{status}, 200, 'a document downloaded: 200');
is($res->{body}, '%PDF-1.4 x', '... its bytes');
like($res->{headers}{'content-disposition'} // '', qr/\Aattachment;/,
     '... as an attachment');
is($res->{headers}{'x-content-type-options'}, 'nosniff', '... nosniff');
is_deeply(audit_of('account_id', $A)->[-1],
          ['alice', 'account_document_read', '127.0.0.1'],
          '... audited, with the address');
$res = $admin->call(GET => "accounts/$V/documents/$doc");
is($res->{status}, 404, 'another account\'s document: 404');

$res = $inst->call(POST => "accounts/$A/validate");
is($res->{status}, 200, 'POST accounts/{id}/validate: 200')
    or diag $res->{body};
ok(($res->{json} // {})->{validated}, '... validated');
is(scalar psql_query("SELECT validated FROM portal.accounts"
                     . " WHERE id = '$A'"), 't', '... in the table');
is_deeply(audit_of('account_id', $A)->[-1],
          ['ines', 'account_validate', '127.0.0.1'],
          '... audited, with the address');
$res = $admin->call(POST => "accounts/$A/validate");
is($res->{status}, 409, 'validated again: 409');
$res = $admin->call(POST => 'accounts/00000000-0000-4000-8000-000000000000'
                    . '/validate');
is($res->{status}, 404, 'an unknown account to validate: 404');
is(scalar @{ $admin->call(GET => 'accounts?validated=false')->{json}
            // [1] }, 0,
   'no account waits any more');


# -------------------------------------------------------------- requests

my $R = submitted_request($V, 'signalement-voirie');
my $rdoc = value(as_portal_sql("SELECT portal.request_document_begin('$V',"
                               . " '$R', 'photo', 'trou.jpg')"));

$res = $admin->call(GET => 'requests');
is($res->{status}, 200, 'GET requests: 200') or diag $res->{body};
ok(grep({ $_->{id} eq $R } @{ $res->{json} // [] }), '... the request');
$res = $yann->call(GET => 'requests?theme=cadre-de-vie&state=en_attente');
ok($res->{status} == 200 && grep({ $_->{id} eq $R } @{ $res->{json} }),
   'filtered by theme and state: there');
$res = $inst->call(GET => 'requests');
ok($res->{status} == 200 && !grep({ $_->{id} eq $R } @{ $res->{json} }),
   'an instructeur of another theme does not see it in the queue');
$res = $inst->call(GET => "requests/$R");
is($res->{status}, 404, '... and gets a 404 for it');
$res = $inst->call(POST => "requests/$R/transition",
                   { to => 'en_traitement' });
is($res->{status}, 404, '... nor may move it: 404');
$res = $admin->call(GET => 'requests?state=volatilise');
is($res->{status}, 422, 'an unknown state: 422');
ok(exists fields($res)->{state}, '... the field state');
$res = $admin->call(GET => 'requests?q=x');
is($res->{status}, 422, 'q of one character: 422');
ok(exists fields($res)->{q}, '... the field q');
$res = $admin->call(GET => 'requests?q=' . ('%C3%A9' x 101));
is($res->{status}, 422, 'q of 101 characters: 422');
$res = $admin->call(GET => 'requests?q=Valide&limit=1');
ok($res->{status} == 200 && @{ $res->{json} } == 1,
   'q by name, limit=1: one item');
my $page = $res->{json}[0]{cursor};
$res = $admin->call(GET => "requests?limit=1&page=$page");
is($res->{status}, 200, '... the next page from its cursor: 200');

$res = $yann->call(GET => "requests/$R");
is($res->{status}, 200, 'GET requests/{id}: 200') or diag $res->{body};
is(($res->{json} // {})->{state}, 'en_attente', '... en_attente');
is_deeply(audit_of('request_id', $R)->[-1],
          ['yann', 'request_read', '127.0.0.1'],
          '... the read audited, with the address');
$res = $yann->call(GET => "requests/$R/documents/$rdoc");
is($res->{status}, 404, 'a document still coming: 404');

$res = $yann->call(POST => "requests/$R/transition", {});
is($res->{status}, 422, 'a move without "to": 422');
ok(exists fields($res)->{to}, '... the field to');
$res = $yann->call(POST => "requests/$R/transition", { to => 'nulle-part' });
is($res->{status}, 422, 'a move to no state: 422');
ok(exists fields($res)->{to}, '... the field to');
$res = $yann->call(POST => "requests/$R/transition", { to => 'valide',
                                                        from => 'brouillon' });
is($res->{status}, 409, 'from a state it is not in: 409');
$res = $yann->call(POST => "requests/$R/transition", { to => 'brouillon' });
is($res->{status}, 409, 'a move the state machine forbids: 409');
$res = $yann->call(POST => "requests/$R/transition", undef,
                   raw => '{"to": ');
is($res->{status}, 400, 'a broken body: 400');
$res = $yann->call(POST => "requests/$R/transition", { to => ['valide'] });
is($res->{status}, 422, '"to" not a string: 422');
is(scalar psql_query("SELECT state FROM portal.requests WHERE id = '$R'"),
   'en_attente', '... and none of these changed anything');

# two agents at once, from what they both saw: exactly one moves it
my @h = map { $_->start(POST => "requests/$R/transition",
                        { to => 'en_traitement', from => 'en_attente' }) }
        $admin, $yann;
my @st = sort map { $_->{status} } http_collect(@h);
is("@st", '200 409', 'two agents at once: one 200, one 409');
is(scalar psql_query("SELECT count(*) FROM portal.request_events"
                     . " WHERE request_id = '$R' AND to_state"
                     . " = 'en_traitement'"), 1, '... one history row');

$res = $yann->call(POST => "requests/$R/transition",
                   { to => 'rejete' });
is($res->{status}, 422, 'a rejection without a motive: 422');
ok(exists fields($res)->{motive}, '... the field motive');
$res = $yann->call(POST => "requests/$R/transition",
                   { to => 'rejete', motive => 'x' x 2001 });
is($res->{status}, 422, 'a motive of 2001 characters: 422');
$res = $yann->call(POST => "requests/$R/transition",
                   { to => 'rejete', motive => 'Hors de la commune.',
                     from => 'en_traitement' });
is($res->{status}, 200, 'a rejection with its motive: 200')
    or diag $res->{body};
is(($res->{json} // {})->{state}, 'rejete', '... rejete');
ok(grep({ $_->[1] eq 'request_transition' && $_->[2] eq '127.0.0.1' }
        @{ audit_of('request_id', $R) }),
   '... the move audited, with the address');

$res = $admin->call(GET => "requests/$R/documents/"
                    . '00000000-0000-4000-8000-000000000000');
is($res->{status}, 404, 'an unknown document of a request: 404');
$res = $admin->call(GET => 'requests/00000000-0000-4000-8000-000000000000');
is($res->{status}, 404, 'an unknown request: 404');
$res = $admin->call(PUT => "requests/$R");
is($res->{status}, 405, 'PUT requests/{id}: 405');

check_error_log(0);
