# A lost password: POST password/question gives the account's question (a
# plausible one, always the same, for a login that does not exist); POST
# password/reset answers 202 whatever the answer, and mails a temporary
# password when it is right (case, accents and spaces do not matter).  The
# temporary password is single use, expires, and its session can only set
# a new password (403 password_change_required elsewhere); its mail's body
# is blanked in the outbox once delivered.  Past 5 wrong answers an answer
# needs a captcha (429 captcha_required).
# POST password changes a password: the current one is checked, the new
# one must be strong, a mail tells the citizen, other sessions end.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;

use Encode ();

maildir_setup();
my $HTTP = citizen_http_config();

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value(config => $API) unless defined $block->config;
    $block->set_value(http_config => $HTTP)
        unless defined $block->http_config;
});

my $TEMP_RE = qr/\A[a-z2-9]{4}(?:-[a-z2-9]{4}){3}\z/;
my $BLANK = '(message distribué, contenu effacé)';
my %secrets = ($PASSWORD => 1);     # none may reach the error log

sub error_code { (($_[0]{json} // {})->{error} // {})->{code} // '' }

sub error_fields {
    join ' ', sort keys %{ ((($_[0]{json} // {})->{error} // {})->{fields})
                           || {} };
}

sub outbox_count {
    my ($login, $subject) = @_;
    my $sql = "SELECT count(*) FROM portal.outbox o JOIN portal.accounts a"
            . " ON a.id = o.account_id WHERE a.login = '$login'"
            . " AND o.subject = '$subject'";
    utf8::encode($sql);
    return psql_query($sql);
}

# the mails of a login with this subject, waited for
sub mails_to {
    my ($login, $subject, $n) = @_;
    return wait_mails($n // 1, sub {
        ($_[0]{headers}{to} // '') eq "$login\@example.org"
        && (mail_subject($_[0]) // '') eq $subject });
}

# the temporary password of the newest such mail
sub temp_password {
    my ($login, $n) = @_;
    my @m = mails_to($login, 'Votre mot de passe temporaire', $n);
    my ($newest) = sort { ($b->{headers}{'x-portal-outbox-id'} // 0)
                          <=> ($a->{headers}{'x-portal-outbox-id'} // 0) } @m;
    my ($temp) = ($newest // { body => '' })->{body}
                 =~ /Mot de passe temporaire : (\S+)/;
    $secrets{$temp} = 1 if defined $temp;
    return $temp;
}

sub reset_pw {
    my ($c, $login, $answer) = @_;
    return $c->call(POST => 'password/reset',
                    { login => $login, answer => $answer });
}

plan tests => count_tests() + 98;

account_sql('jean.dupont', answer_hash => $HASH{'le grand medor'});
account_sql('anne.martin');
account_sql('paul.durand');
account_sql('lea.petit', question => 5);
account_sql('jean-christophe.martin');

ok(start_nginx(http_config => $HTTP, config => $API), 'nginx starts');
my $c = citizen();
$ENV{TEST_PORTAL_CSRF} = $c->token;
$ENV{TEST_PORTAL_CSRF_COOKIE} = 'portal_csrf=' . ($c->cookie('portal_csrf') // '');

run_tests();


# ------------------------------------------------------------ the question

my %labels = map { $_->{id} => $_->{label} }
             @{ $c->call(GET => 'security-questions')->{json} || [] };
my $res = $c->call(POST => 'password/question', { login => 'jean.dupont' });
is($res->{status}, 200, 'POST password/question: 200');
is_deeply($res->{json}, { question => $labels{1} }, '... his question');
is_deeply($c->call(POST => 'password/question', { login => 'lea.petit' })
          ->{json}, { question => $labels{5} }, "... and hers, another one");
is_deeply($c->call(POST => 'password/question', { login => 'Jean.Dupont' })
          ->{json}, { question => $labels{1} }, '... whatever the case');

my %known = map { $_ => 1 } values %labels;
my @unknown = map { $c->call(POST => 'password/question', { login => $_ }) }
              ('personne.inconnue', 'personne.inconnue', 'PERSONNE.Inconnue');
ok(!grep({ $_->{status} != 200 } @unknown), 'an unknown login: 200 too');
my @q = map { ($_->{json} // {})->{question} // '' } @unknown;
ok($known{$q[0]}, '... a question of the list') or diag "question: $q[0]";
is_deeply(\@q, [($q[0]) x 3], '... the same one every time');
is(join(',', sort keys %{ $unknown[0]{json} || {} }), 'question',
   '... with nothing more than for a real one');
my %spread = map { (($c->call(POST => 'password/question',
                              { login => "inconnu.$_" })->{json} // {})
                    ->{question} // '') => 1 } 1 .. 12;
ok(keys %spread > 1, 'unknown logins do not all get the same question');


# ---------------------------------------------------- a wrong answer

my $off = error_log_offset();
my $wrong = reset_pw($c, 'jean.dupont', 'Rex');
is($wrong->{status}, 202, 'a wrong answer: 202');
like(($wrong->{json} // {})->{message} // '', qr/\S/, '... with a message');
my $nobody = reset_pw($c, 'personne.inconnue', 'Rex');
is($nobody->{status}, 202, 'an unknown login: 202');
is($nobody->{body}, $wrong->{body}, '... the same answer');
is(outbox_count('jean.dupont', 'Votre mot de passe temporaire'), 0,
   'no mail for a wrong answer');
is(psql_query("SELECT temp_password_hash IS NULL FROM portal.accounts"
              . " WHERE login = 'jean.dupont'"), 't',
   '... and no temporary password');
my $log = error_log_since($off);
like($log, qr/\[warn\].*wrong security answer for "jean\.dupont" from 127\.0\.0\.1/,
     'the wrong answer is logged with the login and the address');
unlike($log, qr/Rex/, '... not the answer');

$res = $c->call(POST => 'password/reset', { login => 'jean.dupont' });
is($res->{status}, 422, 'no answer: 422');
is(error_fields($res), 'answer', '... on the answer field');


# ------------------------------------- the right answer, written otherwise

$res = reset_pw($c, 'JEAN.DUPONT', "  LE Grand   Médor ! ");
is($res->{status}, 202, 'the right answer in capitals, with extra spaces'
                        . ' and an accent: 202');
is($res->{body}, $wrong->{body}, '... the same answer as a wrong one');
is(psql_query("SELECT temp_password_hash ~ '^[0-9a-f]{64}\$' AND"
              . " temp_password_expires BETWEEN now() + interval '29 min'"
              . " AND now() + interval '31 min' FROM portal.accounts"
              . " WHERE login = 'jean.dupont'"),
   't', 'a temporary password, stored as a keyed hash, valid 30 minutes');
my $temp = temp_password('jean.dupont');
like($temp // '', $TEMP_RE, 'it is mailed: 16 letters and digits in groups');
my ($tmail) = mails_to('jean.dupont', 'Votre mot de passe temporaire');
like($tmail->{body} // '', qr/Identifiant : jean\.dupont\n/,
     '... with the login');
ok(wait_until(sub { psql_query("SELECT count(*) FROM portal.outbox"
                                . " WHERE state = 'sent' AND sensitive") >= 1 },
              5), 'the outbox marks it sent');
my $body = psql_query("SELECT body FROM portal.outbox WHERE sensitive");
$body = Encode::decode('UTF-8', $body // '');
is($body, $BLANK, '... and its body is blanked');
is(psql_query("SELECT count(*) FROM portal.outbox WHERE body LIKE '%"
              . ($temp // 'none') . "%'"), 0,
   'the temporary password is nowhere in the outbox');


# ---------------------------------------------- the temporary password

my $t = citizen();
my $keep = citizen();
$res = $t->login('jean.dupont', $temp // 'none');
is($res->{status}, 200, 'logging in with the temporary password: 200')
    or diag $res->{body};
is($keep->login('jean.dupont', $PASSWORD)->{status}, 200,
   'meanwhile, his own password still works');
is(($res->{json} // {})->{password_change_required}, JSON::PP::true,
   '... password_change_required');
is(($t->call(GET => 'session')->{json} // {})->{password_change_required},
   JSON::PP::true, 'GET session says so too');
is(citizen()->login('jean.dupont', $temp // 'none')->{status}, 401,
   'the temporary password works once only');

for my $r (['GET', 'me'], ['GET', 'me/documents'], ['GET', 'me/export'],
           ['GET', 'me/requests'],
           ['PATCH', 'me', { contact_mode => 'post' }],
           ['POST', 'me/members', { kind => 'child', first_name => 'Léo',
                                    birth_date => '2015-06-01' }])
{
    my ($m, $p, $d) = @$r;
    $res = $t->call($m, $p, $d);
    ok($res->{status} == 403 && error_code($res) eq 'password_change_required',
       "$m $p with that session: 403 password_change_required")
        or diag "$res->{status} $res->{body}";
}

$res = $t->call(POST => 'password', { new => 'motdepasse123',
                                      new_confirm => 'motdepasse123' });
is($res->{status}, 422, 'a common new password: 422');
is(error_fields($res), 'new', '... on "new" (no "current" needed)');
$res = $t->call(POST => 'password', { new => 'Jean.Dupont!!',
                                      new_confirm => 'Jean.Dupont!!' });
is(error_fields($res), 'new', 'the login as the new password: 422 on "new"');
$res = $t->call(POST => 'password', { new => 'Un nouveau départ',
                                      new_confirm => 'Un nouveau depart' });
is(error_fields($res), 'new_confirm', 'a confirmation that differs: 422');

my $NEW = 'Un nouveau départ';
$secrets{$NEW} = 1;
my $old_cookie = $t->cookie('portal_session');
$res = $t->call(POST => 'password', { new => $NEW, new_confirm => $NEW });
is($res->{status}, 200, 'the new password, without "current": 200')
    or diag $res->{body};
is(($res->{json} // {})->{password_change_required}, JSON::PP::false,
   '... the session is a normal one now');
isnt($t->cookie('portal_session'), $old_cookie, '... with a new cookie');
is($t->call(GET => 'me')->{status}, 200, 'GET me works with it');
is($keep->call(GET => 'me', undef, keep => 1)->{status}, 401,
   'the session opened with the old password is over');
my ($changed) = mails_to('jean.dupont', 'Votre mot de passe a été changé');
ok($changed, 'he is told by mail: "Votre mot de passe a été changé"');
unlike($changed->{raw} // '', qr/\Q$NEW\E/, '... which does not give it');
is(citizen()->login('jean.dupont', $NEW)->{status}, 200,
   'the new password opens a session');
is(citizen()->login('jean.dupont', $PASSWORD)->{status}, 401,
   'the old one does not');
is(citizen()->login('jean.dupont', $temp // 'none')->{status}, 401,
   'nor the temporary one');

my $export = $t->call(GET => 'me/export')->{json} // {};
my ($exported) = grep { ($_->{subject} // '') eq 'Votre mot de passe temporaire' }
                 @{ $export->{mails} || [] };
ok($exported && ($exported->{body} // '') !~ /\Q$temp\E/,
   'the export lists that mail, without its content');


# --------------------------------------------- a temporary password expires

$res = reset_pw($c, 'jean.dupont', 'le grand medor');
is($res->{status}, 202, 'another reset: 202');
my $temp2 = temp_password('jean.dupont', 2);
ok(defined $temp2 && $temp2 ne ($temp // ''), '... another temporary password');
psql_query("UPDATE portal.accounts SET temp_password_expires ="
           . " now() - interval '1 s' WHERE login = 'jean.dupont'");
is(citizen()->login('jean.dupont', $temp2 // 'none')->{status}, 401,
   'once expired, it fails');
is(citizen()->login('jean.dupont', $NEW)->{status}, 200,
   '... and the password still works');


# ------------------------------------------------- too many wrong answers

sub wrong_answers {
    my ($login, $n) = @_;
    my @h = map { $c->start(POST => 'password/reset',
                            { login => $login, answer => "Rex $_" }) } 1 .. $n;
    return join ' ', map { $_->{status} // 'none' } http_collect(@h);
}
psql_query("DELETE FROM portal.auth_failures");
is(wrong_answers('anne.martin', 4), '202 202 202 202',
   'anne.martin: 4 wrong answers, 202 each');
is(reset_pw($c, 'anne.martin', 'Médor')->{status}, 202, '... the right one');
my $atemp = temp_password('anne.martin');
ok(defined $atemp, '... is mailed a temporary password');
is(wrong_answers('anne.martin', 5), '202 202 202 202 202',
   '5 wrong answers more');
$off = error_log_offset();
$res = reset_pw($c, 'anne.martin', 'Médor');
is($res->{status}, 429, 'then the right answer: 429') or diag $res->{body};
is(error_code($res), 'captcha_required', '... captcha_required');
like(error_log_since($off), qr/a captcha is needed for "anne\.martin"/,
     '... logged');
is(outbox_count('anne.martin', 'Votre mot de passe temporaire'), 1,
   '... and no second mail so far');
is($c->call(POST => 'password/reset',
            { login => 'anne.martin', answer => 'Médor',
              captcha_id => captcha_api($c),
              captcha_answer => $CAPTCHA_ANSWER })->{status}, 202,
   '... with a captcha: 202');
ok(wait_until(sub { outbox_count('anne.martin',
                                 'Votre mot de passe temporaire') == 2 }, 5),
   '... and a second temporary password');

is(reset_pw($c, 'lea.petit', 'Rex')->{status}, 202,
   'another login from the same address: still 202');


# ------------------------------------------------------ changing it

psql_query("DELETE FROM portal.auth_failures");
my $p1 = citizen();
my $p2 = citizen();
is($p1->login('paul.durand', $PASSWORD)->{status}, 200, 'paul.durand logs in');
is($p2->login('paul.durand', $PASSWORD)->{status}, 200,
   '... twice (another computer)');

$res = $p1->call(POST => 'password', { new => 'Encore un autre mot',
                                       new_confirm => 'Encore un autre mot' });
is($res->{status}, 422, 'without "current": 422');
is(error_fields($res), 'current', '... on "current"');

$off = error_log_offset();
$res = $p1->call(POST => 'password', { current => 'Pas le bon du tout',
                                       new => 'Encore un autre mot',
                                       new_confirm => 'Encore un autre mot' });
is($res->{status}, 422, 'a wrong current password: 422');
is(error_fields($res), 'current', '... on "current"');
like(error_log_since($off),
     qr/wrong current password for "paul\.durand" from 127\.0\.0\.1/,
     '... logged');
is(psql_query("SELECT count(*) FROM portal.auth_failures WHERE scope ="
              . " 'login' AND key = 'paul.durand'"), 1,
   '... and counted as a failure');
is(citizen()->login('paul.durand', $PASSWORD)->{status}, 200,
   'the password is unchanged');

for my $p (['Court-de-11', '11 characters'],
           ['azertyuiop123', 'a common one'],
           ['Paul.Durand!!', 'the login'],
           ['Paul  Durand', 'the name'])
{
    my ($pw, $why) = @$p;
    $res = $p1->call(POST => 'password', { current => $PASSWORD, new => $pw,
                                           new_confirm => "$pw?" });
    ok($res->{status} == 422 && error_fields($res) eq 'new',
       "a new password refused ($why): 422 on \"new\"")
        or diag "$res->{status} $res->{body}";
}

my $jc = citizen();
is($jc->login('jean-christophe.martin', $PASSWORD)->{status}, 200,
   'jean-christophe.martin logs in');
for my $pw ('Jean-Christophe', 'JEAN CHRISTOPHE', 'Martin-Jean-Christophe') {
    # right after a request whose memory is full of letters
    $jc->call(POST => 'password', { current => $PASSWORD,
                                    new => 'abcdefghijklmnopqrstuvwxyz' x 2,
                                    new_confirm => 'no' });
    # (a confirmation that differs: an accepted password stays unused)
    $res = $jc->call(POST => 'password', { current => $PASSWORD, new => $pw,
                                           new_confirm => "$pw?" });
    if ($pw !~ /Martin-/) {
        ok($res->{status} == 422 && error_fields($res) eq 'new',
           "his first name as a password ($pw): 422 on \"new\"")
            or diag "$res->{status} $res->{body}";
    } else {
        ok($res->{status} == 422 && error_fields($res) eq 'new_confirm',
           "more than his name ($pw): accepted (only the confirmation"
           . " is left to say)") or diag "$res->{status} $res->{body}";
    }
}

my $P2 = 'Encore un autre mot';
$secrets{$P2} = 1;
my $before = $p1->cookie('portal_session');
$res = $p1->call(POST => 'password', { current => $PASSWORD, new => $P2,
                                       new_confirm => $P2 });
is($res->{status}, 200, 'the right current password: 200') or diag $res->{body};
is_deeply([@{ $res->{json} // {} }{qw(authenticated login)}],
          [JSON::PP::true, 'paul.durand'], '... the session as GET session');
isnt($p1->cookie('portal_session'), $before, '... a new cookie');
is($p1->call(GET => 'me')->{status}, 200, '... which works');
is($p2->call(GET => 'me', undef, keep => 1)->{status}, 401,
   'the other computer: 401');
my $stale = $p1->clone;
$stale->set_cookie(portal_session => $before);
is($stale->call(GET => 'me')->{status}, 401,
   'the cookie of before on this computer: 401');
my ($pm) = mails_to('paul.durand', 'Votre mot de passe a été changé');
ok($pm, 'a mail "Votre mot de passe a été changé"');
like($pm->{body} // '', qr/autres sessions/, '... says the other sessions end');
unlike($pm->{raw} // '', qr/\Q$P2\E|\Q$PASSWORD\E/, '... without a password');
is(citizen()->login('paul.durand', $P2)->{status}, 200,
   'logging in with the new one works');

$res = citizen()->call(POST => 'password', { current => $P2, new => $P2 . '!',
                                             new_confirm => $P2 . '!' });
is($res->{status}, 401, 'POST password without a session: 401');


# ------------------------------------------------------- no secret logged

my $all = read_file(servroot() . '/logs/error.log');
my @leaks = grep { index($all, $_) >= 0 } sort keys %secrets;
ok(!@leaks, 'no password, temporary or not, in the error log')
    or diag "found: @leaks";

__DATA__

=== TEST 1: POST password/question without a login: 422
--- request
POST /api/password/question
{"login": ""}
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF
Content-Type: application/json
--- error_code: 422
--- response_body_json
{"error": {"code": "invalid", "message": {"~": "\\S"},
           "fields": {"login": {"~": "\\S"}}}}
--- no_error_log
[error]



=== TEST 2: POST password/question without the anti-CSRF token: 403
--- request
POST /api/password/question
{"login": "jean.dupont"}
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
Content-Type: application/json
--- error_code: 403
--- response_body_like
"csrf"
--- no_error_log
[error]



=== TEST 3: POST password/reset without the anti-CSRF token: 403
--- request
POST /api/password/reset
{"login": "jean.dupont", "answer": "le grand medor"}
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
Content-Type: application/json
--- error_code: 403
--- response_body_like
"csrf"
--- no_error_log
[error]
medor



=== TEST 4: POST password/reset, not JSON: 415
--- request
POST /api/password/reset
login=jean.dupont&answer=medor
--- more_headers
Cookie: $TEST_PORTAL_CSRF_COOKIE
X-CSRF-Token: $TEST_PORTAL_CSRF
Content-Type: application/x-www-form-urlencoded
--- error_code: 415
--- response_body_like
"unsupported_media_type"
--- no_error_log
[error]
