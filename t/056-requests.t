# Requests with an account: POST requests makes a draft, pre-filled from
# the member and the holder; its data is checked against the procedure's
# form, field by field; GET, PUT, DELETE and submit follow the states'
# rules (PUT in brouillon, en_attente, incomplet; submit from brouillon
# and incomplet; DELETE of a draft), each submission and change writes its
# history and mails an acknowledgement; an Idempotency-Key makes a retry
# answer the first result; another household's request is a 404.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use POSIX qw(strftime);
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Attack;

maildir_setup();
plan tests => 128;

sub member_sql {
    my ($account, $kind, $first, $birth) = @_;
    my $sql = "INSERT INTO portal.members (account_id, kind, first_name,"
            . " last_name, birth_date, address_line, postcode, city)"
            . " VALUES ('$account', '$kind', '$first', 'Dupont', '$birth',"
            . " '1 place de la Mairie', '44000', 'Nantes') RETURNING id";
    utf8::encode($sql);
    return scalar psql_query($sql);
}

sub day { strftime('%Y-%m-%d', gmtime(time + 86400 * $_[0])) }
sub dmy { strftime('%d/%m/%Y', gmtime(time + 86400 * $_[0])) }

sub field_errors {
    my ($res) = @_;
    return (($res->{json} // {})->{error} // {})->{fields} // {};
}

sub state_of {
    my ($id) = @_;
    return scalar psql_query("SELECT state FROM portal.requests"
                             . " WHERE id = '$id'");
}

my $jean = account_sql('jean.dupont', phone => '06 12 34 56 78');
my $lea = member_sql($jean, 'child', 'Léa', '2016-09-01');
my $paul = member_sql($jean, 'adult', 'Paul', '1982-01-01');
my $anne = account_sql('anne.martin');
my $tom = member_sql($anne, 'child', 'Tom', '2015-05-05');
account_sql('sans.telephone');

# a form whose member is required (none of the seed's is)
psql_query(q{INSERT INTO portal.procedures (slug, theme_id, title,
    requires_account, requires_captcha, fields)
  VALUES ('garde-essai', (SELECT min(id) FROM portal.themes), 'Garde',
    true, false, '[{"name": "enfant", "label": "Enfant", "type": "member",
                    "required": true, "member_kind": "child"}]')});

ok(start_nginx(http_config => citizen_http_config(), config => attack_api()),
   'nginx starts');

my $c = client_from('10.56.0.1');
is($c->login('jean.dupont', $PASSWORD)->{status}, 200,
   'jean.dupont logs in (his account is not validated yet)');

my %school = (procedure => 'inscription-scolaire', member_id => $lea,
              data => { niveau => 'cp', date_entree => day(30) });


# ----------------------------------------------------------- a draft

my $res = $c->call(POST => 'requests', \%school);
is($res->{status}, 201, 'POST requests, a school form for Léa: 201')
    or diag $res->{body};
my $r = $res->{json} // {};
my $id = $r->{id} // '';
is($r->{state}, 'brouillon', '... a draft');
like($r->{reference} // '', qr/\A\d{4}-\d{6}\z/, '... a readable reference');
is(($r->{member} // {})->{id}, $lea, '... for Léa');
is($r->{data}{prenoms}, 'Léa', '... her first name, from her file');
is($r->{data}{date_naissance}, '2016-09-01', '... her birth date');
is($r->{data}{telephone}, '06 12 34 56 78', '... the holder\'s phone');
is($r->{data}{niveau}, 'cp', '... and what was typed');
is($r->{contact_mode}, 'email', '... the account\'s contact mode');
is(scalar @{ $r->{history} // [] }, 1, '... one row of history');

$res = $c->call(GET => "requests/$id");
is($res->{status}, 200, 'GET requests/{id}: 200');
is(($res->{json} // {})->{reference}, $r->{reference}, '... the same one');


# --------------------------------------------- checked against the form

$res = $c->call(POST => 'requests', {
    procedure => 'inscription-scolaire', member_id => $lea,
    data => { niveau => 'doctorat', date_entree => day(500),
              observations => 'x' x 1001, inconnu => 'ignoré' } });
is($res->{status}, 422, 'wrong values: 422');
my $f = field_errors($res);
is(join(' ', sort keys %$f), 'data.date_entree data.niveau data.observations',
   '... on each wrong field, the unknown one left aside');
is($f->{'data.niveau'}, 'Choisissez une réponse dans la liste.',
   '... a value not among the options');
is($f->{'data.date_entree'},
   'Choisissez une date entre le ' . dmy(0) . ' et le ' . dmy(400) . '.',
   '... a date out of its bounds, the bounds in the message');
like($f->{'data.observations'}, qr/1000 caractères au plus/,
     '... a text too long, its limit in the message');


# a control character gets its own message; a textarea takes tabs and
# line breaks
$res = $c->call(POST => 'requests', {
    procedure => 'inscription-scolaire', member_id => $lea,
    data => { niveau => 'cp', date_entree => day(30),
              nom => "Dupont\nMartin",
              observations => "Allergie\x{7}" } });
$f = field_errors($res);
is(join(' ', sort keys %$f), 'data.nom data.observations',
   'a line break in a text field, a bell in a textarea: 422 on both');
is($f->{'data.observations'}, 'Ce champ contient un caractère invisible non'
   . ' autorisé : effacez-le, ou saisissez à nouveau le texte.',
   '... said as a character not allowed, not as a length');
is($f->{'data.nom'}, $f->{'data.observations'}, '... the same for both');
$res = $c->call(POST => 'requests', {
    procedure => 'inscription-scolaire', member_id => $lea,
    data => { niveau => 'cp', date_entree => day(30),
              observations => "Allergies :\n\t- arachides\r\n" } });
is($res->{status}, 201, '... a textarea of lines and tabs: 201')
    or diag $res->{body};
$c->call(DELETE => 'requests/' . (($res->{json} // {})->{id} // ''));

# ------------------------------------------------ a draft left incomplete

# in brouillon, required fields may wait for the submission; what is given
# is checked all the same

$res = $c->call(POST => 'requests', { procedure => 'inscription-scolaire',
                                      member_id => $lea, data => {} });
is($res->{status}, 201, 'a draft without its required fields: 201')
    or diag $res->{body};
my $partial = ($res->{json} // {})->{id} // '';
is(($res->{json} // {})->{data}{prenoms}, 'Léa', '... still pre-filled');
ok(!exists((($res->{json} // {})->{data} // {})->{niveau}),
   '... the field left out is not there');

$res = $c->call(PUT => "requests/$partial", {
    member_id => $lea, data => { niveau => '', observations => 'Aucune',
                                 date_entree => day(500) } });
is($res->{status}, 422, 'PUT a draft with a date out of its bounds: 422');
is(join(' ', sort keys %{ field_errors($res) }), 'data.date_entree',
   '... on that field only, the empty one waits');

$res = $c->call(PUT => "requests/$partial", {
    member_id => $lea, data => { niveau => '', observations => 'Aucune' } });
is($res->{status}, 200, 'PUT a draft, still incomplete: 200')
    or diag $res->{body};
is(($res->{json} // {})->{data}{observations}, 'Aucune', '... kept');

$res = $c->call(POST => "requests/$partial/submit");
is($res->{status}, 422, 'its submission: 422');
$f = field_errors($res);
is(join(' ', sort keys %$f), 'data.date_entree data.niveau',
   '... each missing field named');
is($f->{'data.niveau'}, 'Choisissez une réponse dans la liste.',
   '... with the message the form gives a select left empty');
is($f->{'data.date_entree'}, 'Saisissez une date.',
   '... and a date left empty');
is(state_of($partial), 'brouillon', '... and the draft stays a draft');

# en_attente and incomplet: in the town's hands, the request stays whole
for my $state (qw(en_attente incomplet)) {
    psql_query("UPDATE portal.requests SET state = '$state'"
               . " WHERE id = '$partial'");
    $res = $c->call(PUT => "requests/$partial", {
        member_id => $lea, data => { observations => 'Rien' } });
    is($res->{status} . ' ' . join(' ', sort keys %{ field_errors($res) }),
       '422 data.date_entree data.niveau',
       "PUT $state without the required fields: 422, each named");
}
is(scalar psql_query("SELECT data->>'observations' FROM portal.requests"
                     . " WHERE id = '$partial'"), 'Aucune',
   '... and nothing changed');
psql_query("UPDATE portal.requests SET state = 'brouillon'"
           . " WHERE id = '$partial'");
$c->call(DELETE => "requests/$partial");

# a member required, and a box to tick, may wait too
$res = $c->call(POST => 'requests', { procedure => 'garde-essai',
                                      data => {} });
is($res->{status}, 201, 'a draft without its required member: 201');
my $nobody = ($res->{json} // {})->{id} // '';
$res = $c->call(POST => "requests/$nobody/submit");
is(join(' ', %{ field_errors($res) }),
   'member_id Choisissez la personne concernée par la démarche.',
   '... its submission names member_id, as the form does');
$c->call(DELETE => "requests/$nobody");

# a draft whose member left the household (member_id set to NULL), on a
# form whose member is required: its submission names the member picker
# as the body does, member_id
my $gone = member_sql($jean, 'child', 'Noé', '2017-03-03');
$res = $c->call(POST => 'requests', { procedure => 'garde-essai',
                                      member_id => $gone, data => {} });
is($res->{status}, 201, 'a draft about Noé: 201') or diag $res->{body};
my $noe_draft = ($res->{json} // {})->{id} // '';
psql_query("DELETE FROM portal.members WHERE id = '$gone'");
$res = $c->call(POST => "requests/$noe_draft/submit");
is($res->{status}, 422, 'Noé left the household: its submission is a 422');
is(join(' ', %{ field_errors($res) }),
   'member_id Choisissez la personne concernée par la démarche.',
   '... on member_id, as POST and PUT name it');
is(state_of($noe_draft), 'brouillon', '... and the draft stays a draft');
$c->call(DELETE => "requests/$noe_draft");

$res = $c->call(POST => 'requests', {
    procedure => 'restauration-scolaire', member_id => $lea,
    data => { menu => 'standard', date_debut => day(1),
              reglement => JSON::PP::false } });
is($res->{status}, 201, 'a draft, its box to tick not ticked: 201');
my $unticked = ($res->{json} // {})->{id} // '';
$res = $c->call(POST => "requests/$unticked/submit");
is(field_errors($res)->{'data.reglement'},
   'Cochez cette case pour continuer.', '... its submission: 422 on it');
psql_query("UPDATE portal.requests SET state = 'en_attente'"
           . " WHERE id = '$unticked'");
$res = $c->call(PUT => "requests/$unticked", {
    member_id => $lea, data => { menu => 'standard', date_debut => day(1),
                                 reglement => JSON::PP::false } });
is(field_errors($res)->{'data.reglement'},
   'Cochez cette case pour continuer.', '... PUT en_attente: 422 on it');
psql_query("DELETE FROM portal.requests WHERE id = '$unticked'");

$res = $c->call(POST => 'requests', {
    procedure => 'encombrants',
    data => { date_souhaitee => day(10), volume => '', objets => '' } });
is($res->{status}, 201, 'a draft, a number and a text left empty: 201')
    or diag $res->{body};
psql_query("DELETE FROM portal.requests WHERE id = '"
           . (($res->{json} // {})->{id} // '') . "'");

$res = $c->call(POST => 'requests', {
    procedure => 'encombrants',
    data => { date_souhaitee => day(10), volume => '12,5',
              objets => 'Un canapé', emplacement => 'trottoir' } });
is(field_errors($res)->{'data.volume'}, 'Saisissez un nombre entre 0,5 et 5.',
   'a number out of its bounds: 422, as typed with a comma');

$res = $c->call(POST => 'requests', { procedure => 'pas-une-demarche',
                                      data => {} });
is(join(' ', keys %{ field_errors($res) }), 'procedure',
   'an unknown procedure: 422 on procedure');
$res = $c->call(POST => 'requests', { procedure => 'inscription-scolaire',
                                      member_id => $lea, data => 'texte' });
is(join(' ', keys %{ field_errors($res) }), 'data', 'data not an object: 422');

$res = $c->call(POST => 'requests', { %school, member_id => $tom });
is(join(' ', keys %{ field_errors($res) }), 'member_id',
   'a child of another household: 422 on member_id');
$res = $c->call(POST => 'requests', { %school, member_id => $paul });
is(join(' ', keys %{ field_errors($res) }), 'member_id',
   'an adult where a child is asked: 422 on member_id');
$res = $c->call(POST => 'requests', {
    procedure => 'encombrants', member_id => $lea,
    data => { date_souhaitee => day(10), volume => 2, objets => 'Un canapé',
              emplacement => 'trottoir' } });
is(join(' ', keys %{ field_errors($res) }), 'member_id',
   'a member for a form that has none: 422');

my $t = client_from('10.56.0.2');
$t->login('sans.telephone', $PASSWORD);
$res = $t->call(POST => 'requests', {
    procedure => 'encombrants',
    data => { date_souhaitee => day(10), volume => 2, objets => 'Un canapé',
              emplacement => 'trottoir' } });
is($res->{status}, 201, 'a field to pre-fill that the account lacks: a'
                        . ' draft all the same');
my $nophone = ($res->{json} // {})->{id} // '';
$res = $t->call(POST => "requests/$nophone/submit");
is(join(' ', %{ field_errors($res) }),
   'data.telephone Saisissez un numéro de téléphone.',
   '... its submission: 422 on that field, with the form\'s message');
psql_query("UPDATE portal.requests SET state = 'en_attente'"
           . " WHERE id = '$nophone'");
$res = $t->call(PUT => "requests/$nophone", {
    data => { date_souhaitee => day(10), volume => 2, objets => 'Une armoire',
              emplacement => 'trottoir' } });
is(join(' ', %{ field_errors($res) }),
   'data.telephone Remplissez ce champ : votre compte ne le donne pas.',
   '... PUT en_attente: 422, the account lacking it');
is(scalar psql_query("SELECT count(*) FROM portal.requests r"
                     . " JOIN portal.accounts a ON a.id = r.account_id"
                     . " WHERE a.login = 'sans.telephone'"
                     . " AND r.state = 'en_attente'"
                     . " AND r.data->>'objets' = 'Une armoire'"), 0,
   '... and nothing stored');


# ---------------------------------------------------- change, submit

$res = $c->call(PUT => "requests/$id", {
    member_id => $lea, data => { niveau => 'ce1', date_entree => day(40),
                                 observations => "Allergie aux arachides." } });
is($res->{status}, 200, 'PUT a draft: 200') or diag $res->{body};
is(($res->{json} // {})->{data}{niveau}, 'ce1', '... changed');
is(($res->{json} // {})->{data}{prenoms}, 'Léa', '... pre-filled again');

my $mails = scalar mail_files();
$res = $c->call(POST => "requests/$id/submit");
is($res->{status}, 200, 'submit: 200') or diag $res->{body};
is(($res->{json} // {})->{state}, 'en_attente', '... en attente');
is(scalar @{ ($res->{json} // {})->{history} // [] }, 2,
   '... its move in the history');
my @ack = wait_mails($mails + 1);
like(join("\n", map { ($_->{body} // '') } @ack), qr/\Q$r->{reference}\E/,
     '... an acknowledgement mail names the reference');

$res = $c->call(PUT => "requests/$id", {
    member_id => $lea, data => { niveau => 'ce2', date_entree => day(40) } });
is($res->{status}, 200, 'PUT en attente: 200 (still editable)');
$res = $c->call(POST => "requests/$id/submit");
is($res->{status}, 409, 'submit again en attente: 409');
is(error_code($res), 'state_conflict', '... state_conflict');
$res = $c->call(DELETE => "requests/$id");
is($res->{status}, 409, 'DELETE a request en attente: 409');


# ---------------------------------------- each state, what it allows

my %put = (brouillon => 200, en_attente => 200, en_traitement => 409,
           incomplet => 200, rectifie => 409, complet => 409, rejete => 409,
           annule => 409, valide => 409);
my %submit = (brouillon => 'en_attente', incomplet => 'rectifie');
for my $state (sort keys %put) {
    psql_query("UPDATE portal.requests SET state = '$state'"
               . " WHERE id = '$id'");
    $res = $c->call(PUT => "requests/$id", {
        member_id => $lea, data => { niveau => 'cm1',
                                     date_entree => day(50) } });
    my $s = $c->call(POST => "requests/$id/submit");
    is("$res->{status} " . ($s->{status} == 200
                            ? ($s->{json} // {})->{state} : $s->{status}),
       "$put{$state} " . ($submit{$state} // 409),
       "in $state: PUT $put{$state}, submit "
       . ($submit{$state} // 409));
}


# ------------------------------------------ other people's, unknown ids

my $a = client_from('10.56.0.3');
$a->login('anne.martin', $PASSWORD);
for my $call ([GET => "requests/$id"], [PUT => "requests/$id", {}],
              [DELETE => "requests/$id"], [POST => "requests/$id/submit"])
{
    $res = $a->call(@$call);
    is($res->{status}, 404, "another household's request, $call->[0]"
                            . " $call->[1]: 404");
}
is(state_of($id), 'valide', '... and nothing changed');
$res = $c->call(GET => 'requests/00000000-0000-4000-8000-000000000000');
is($res->{status}, 404, 'an unknown request: 404');
is(error_code($res), 'not_found', '... not_found');
$res = $c->call(GET => 'requests/pas-un-uuid');
is($res->{status}, 404, 'an id that is no UUID: 404');
$res = client_from('10.56.0.4')->call(GET => "requests/$id");
is($res->{status}, 401, 'without a session: 401');


# ----------------------------------------------------- a draft deleted

$res = $c->call(POST => 'requests', \%school);
my $draft = ($res->{json} // {})->{id} // '';
$res = $c->call(DELETE => "requests/$draft");
is($res->{status}, 204, 'DELETE a draft: 204');
is($c->call(GET => "requests/$draft")->{status}, 404, '... gone');
is($c->call(DELETE => "requests/$draft")->{status}, 404,
   '... DELETE again: 404');


# -------------------------------------------------- Idempotency-Key

my %key = (headers => ['Idempotency-Key' => 'cle-56-1']);
my $first = $c->call(POST => 'requests', \%school, %key);
my $again = $c->call(POST => 'requests', \%school, %key);
is($first->{status}, 201, 'POST with an Idempotency-Key: 201');
is($again->{status}, 201, '... the same again: 201');
is(($again->{json} // {})->{id}, ($first->{json} // {})->{id},
   '... the same request');
is(scalar psql_query("SELECT count(*) FROM portal.requests"
                     . " WHERE account_id = '$jean'"
                     . " AND state = 'brouillon'"), 1, '... made once');
$res = $c->call(POST => 'requests', { %school, data => { niveau => 'ps',
                                      date_entree => day(30) } }, %key);
is($res->{status}, 422, 'the key with another body: 422');
is(error_code($res), 'idempotency_mismatch', '... idempotency_mismatch');
$res = $c->call(POST => 'requests', \%school,
                headers => ['Idempotency-Key' => "a\tb"]);
is($res->{status}, 400, 'a key with a control character: 400');
is(error_code($res), 'bad_idempotency_key', '... bad_idempotency_key');

my $fresh = ($first->{json} // {})->{id};
my @h = map { $c->start(POST => "requests/$fresh/submit", undef,
                        headers => ['Idempotency-Key' => 'envoi-56']) } 1 .. 4;
my @st = sort map { $_->{status} // 0 } http_collect(@h);
ok(!grep({ $_ != 200 && $_ != 409 } @st) && grep({ $_ == 200 } @st),
   "4 submits at once with one key: 200 or 409 each (@st)");
is(scalar psql_query("SELECT count(*) FROM portal.request_events"
                     . " WHERE request_id = '$fresh'"
                     . " AND to_state = 'en_attente'"), 1,
   '... one move only');
$res = $c->call(POST => "requests/$fresh/submit", undef,
                headers => ['Idempotency-Key' => 'envoi-56']);
is($res->{status}, 200, '... a retry afterwards: 200, the first answer');


# ---------------------------------------------- lists: requests, messages

$res = $c->call(GET => 'me/requests');
is($res->{status}, 200, 'GET me/requests: 200');
my @list = @{ $res->{json} // [] };
is(scalar @list, 2, '... his 2 requests');
ok(($list[0]{created_at} // '') ge ($list[1]{created_at} // ''),
   '... newest first');
ok(!grep({ !$_->{reference} || !$_->{state} || !$_->{procedure}{title} }
         @list), '... each with reference, state and procedure');
$res = $c->call(GET => 'me/requests?limit=1');
is(scalar @{ $res->{json} // [] }, 1, '?limit=1: one');
$res = $c->call(GET => 'me/requests?limit=0');
is($res->{status}, 422, '?limit=0: 422');
is($a->call(GET => 'me/requests')->{body} =~ /\Q$id\E/ ? 1 : 0, 0,
   'another household\'s list has none of his');

$res = $c->call(GET => 'me/messages');
is($res->{status}, 200, 'GET me/messages: 200');
ok((grep { ($_->{kind} // '') eq 'acknowledgement' } @{ $res->{json} // [] })
   >= 2, '... the acknowledgements he was sent');


# ------------------------------------------ a session over, on the list

# GET me/requests checks the session in its own statement (one round
# trip): a session that a log-out or a password change ended gets the
# answer of every other route, the cookie removed, and none of the rows.
sub session_lines { join "\n", sort grep { /portal_session=/ }
                                    set_cookie_lines($_[0]) }

my $kept = $c->clone;
is($c->call(DELETE => 'session')->{status}, 200, 'jean.dupont logs out');
$res = $kept->call(GET => 'me/requests', undef, keep => 1);
is($res->{status}, 401,
   'GET me/requests with a copy of the cookie from before: 401');
is(error_code($res), 'unauthenticated', '... unauthenticated');
ok($res->{body} !~ /\Q$id\E|\Q$fresh\E|reference|brouillon/,
   '... and nothing of his requests') or diag $res->{body};
like(session_lines($res), qr/\Aportal_session=;.*Max-Age=0/i,
     '... the cookie removed');
my $me = $kept->call(GET => 'me', undef, keep => 1);
is("$res->{status} $res->{body}", "$me->{status} $me->{body}",
   '... the answer of GET me with that cookie');
is(session_lines($res), session_lines($me), '... and its Set-Cookie');
$res = $kept->call(GET => 'me/requests?limit=0', undef, keep => 1);
is($res->{status} . ' ' . error_code($res), '401 unauthenticated',
   '... ?limit=0 too: the session first, then the limit');
$res = $kept->call(HEAD => 'me/requests', undef, keep => 1);
is($res->{status}, 401, '... HEAD too');

is($c->login('jean.dupont', $PASSWORD)->{status}, 200, 'he logs in again');
is(scalar @{ $c->call(GET => 'me/requests')->{json} // [] }, 2,
   '... and sees his 2 requests');
$res = $c->call(GET => 'me/requests?limit=0');
is($res->{status}, 422, '... ?limit=0 with a live session: 422');
my $elsewhere = $c->clone;
my $NEW = 'Un tout nouveau mot de passe';
$res = $c->call(POST => 'password', { current => $PASSWORD, new => $NEW,
                                      new_confirm => $NEW });
is($res->{status}, 200, 'he changes his password') or diag $res->{body};
is(scalar @{ $c->call(GET => 'me/requests')->{json} // [] }, 2,
   '... his new cookie lists his 2 requests');
$res = $elsewhere->call(GET => 'me/requests');
is($res->{status}, 401, 'the cookie of before the change: 401');
ok($res->{body} !~ /\Q$id\E|reference/, '... nothing of his requests')
    or diag $res->{body};
ok(!defined $elsewhere->cookie('portal_session'), '... and the cookie goes');

check_error_log(0, 'no alert, crit or emerg');
