# Telling accounts apart from outside.  POST password/question gives, for a
# login that does not exist, a decoy question of the list, always the same,
# derived from a keyed MAC with the server's secret: nobody can compute it
# without the key (hashtext() of the login would be public), and another
# secret gives other decoys.  password/question is limited per address
# (60 in 15 minutes, then 429 too_many_requests with Retry-After).  Every
# login path costs the same: a wrong password for an account with a
# pending temporary password takes about as long as for one without.
#
# Each phase plays its own client address (X-Forwarded-For through realip).

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Attack;

my $WRONG = 'Pas le bon mot de passe du tout';
my @UNKNOWN = map { "personne.inconnue$_" } 1 .. 40;

sub question {
    my ($c, $login) = @_;
    my $res = $c->call(POST => 'password/question', { login => $login });
    diag "password/question for $login: " . body_text($res)
        unless $res->{status} == 200;
    return ($res->{json} // {})->{question} // '';
}

# what today's decoy would be: public, computable by anyone
sub hashtext_questions {
    my @logins = @_;
    my $values = join ', ', map { "($_, '$logins[$_]')" } 0 .. $#logins;
    my @rows = psql_query(<<"SQL");
SELECT (SELECT label FROM portal.security_questions ORDER BY id
        OFFSET abs(hashtext('portal question ' || lower(l.login)))
               % (SELECT count(*) FROM portal.security_questions)
        LIMIT 1)
  FROM (VALUES $values) AS l (n, login) ORDER BY l.n
SQL
    return map { Encode::decode('UTF-8', $_->[0]) } @rows;
}

use Encode ();

maildir_setup();
plan tests => 19;

my @A = map { "a$_.attente" } 1 .. 8;     # a temporary password pending
my @B = map { "b$_.rien" } 1 .. 8;        # none
account_sql($_) for 'jean.dupont', @A, @B;

my $HTTP = citizen_http_config();
ok(start_nginx(http_config => $HTTP, config => attack_api()), 'nginx starts');


# ------------------------------------------------------------ the decoys

my $c = client_from('10.42.1.1');
my %labels = map { $_->{label} => 1 }
             @{ $c->call(GET => 'security-questions')->{json} || [] };
ok(keys %labels >= 6, 'GET security-questions: the list');

my @first = map { question($c, $_) } @UNKNOWN;
ok(!grep({ !$labels{$_} } @first),
   '40 unknown logins: each gets a question of the list')
    or diag explain [grep { !$labels{$_} } @first];
my @again = map { question($c, $_) } @UNKNOWN[0 .. 4];
my @upper = map { question($c, uc $_) } @UNKNOWN[0 .. 4];
is_deeply(\@again, [@first[0 .. 4]], '... the same one every time');
is_deeply(\@upper, [@first[0 .. 4]], '... whatever the case of the login');

my @public = hashtext_questions(@UNKNOWN);
my $differ = grep { $first[$_] ne $public[$_] } 0 .. $#UNKNOWN;
ok($differ >= 20, 'the decoys are not what hashtext() of the login gives'
                  . ' (at least 20 of 40 differ)')
    or diag "$differ of 40 differ from hashtext()";


# ------------------------------------------------ another secret, other decoys

my $key = random_key(servroot() . '/other-secret.key');
ok(start_nginx(http_config => "$HTTP\nportal_secret_file $key;\n",
               config => attack_api()),
   'nginx restarts with another portal_secret_file');
$c = client_from('10.42.2.1');
my @second = map { question($c, $_) } @UNKNOWN;
ok(!grep({ !$labels{$_} } @second), '... the decoys are still of the list');
my $changed = grep { $first[$_] ne $second[$_] } 0 .. $#UNKNOWN;
ok($changed >= 20, '... and at least 20 of the 40 changed')
    or diag "$changed of 40 changed";
is(question($c, 'jean.dupont'), question(client_from('10.42.2.2'),
                                         'JEAN.DUPONT'),
   'a real account keeps its own question');


# ---------------------------------------- 60 questions per address, then 429

$c = client_from('10.42.3.1');
my @codes = map { $c->call(POST => 'password/question',
                           { login => "curieux.numero$_" })->{status} }
            1 .. 60;
is(scalar(grep { $_ == 200 } @codes), 60, '60 questions from one address: 200')
    or diag "@codes";
my $res = $c->call(POST => 'password/question', { login => 'curieux.encore' });
is($res->{status}, 429, 'the 61st: 429') or diag body_text($res);
is(error_code($res), 'too_many_requests', '... code too_many_requests');
like($res->{headers}{'retry-after'} // '', qr/\A[1-9]\d*\z/,
     '... with Retry-After in seconds');
$res = $c->call(POST => 'password/question', { login => 'jean.dupont' });
is($res->{status}, 429, '... for a real account too');
is(question(client_from('10.42.3.2'), 'jean.dupont'),
   question(client_from('10.42.3.3'), 'jean.dupont'),
   '... while other addresses still get answers');


# ----------------------------------------- the same cost for every login

SKIP: {
    skip 'elapsed times mean nothing under valgrind', 2
        if sanitizer() eq 'valgrind';

    # the temporary passwords, all at once (one right answer each)
    my $r = client_from('10.42.4.1');
    my @res = burst(map { [$r, POST => 'password/reset',
                           { login => $_, answer => 'Médor' },
                           timeout => 30] } @A);
    my $pending = psql_query("SELECT count(*) FROM portal.accounts"
                             . " WHERE login LIKE 'a_.attente'"
                             . " AND temp_password_hash IS NOT NULL");
    is($pending, scalar @A, '8 accounts with a temporary password pending')
        or diag status_summary(@res);

    # one wrong password for each account, A, B, A, B...: no login reaches
    # its limit; a first one warms the thread pool up
    my $t = client_from('10.42.5.1');
    $t->call(POST => 'session', { login => 'jean.dupont', password => $WRONG });
    my (@ta, @tb, @st);
    for my $i (0 .. $#A) {
        for my $p ([$A[$i], \@ta], [$B[$i], \@tb]) {
            my $x = $t->call(POST => 'session',
                             { login => $p->[0], password => $WRONG });
            push @st, $x->{status};
            push @{ $p->[1] }, $x->{elapsed};
        }
    }
    my ($ma, $mb) = (median(@ta), median(@tb));
    my $ratio = $mb ? $ma / $mb : 99;
    note sprintf "median with a temporary password %.3f s, without %.3f s",
                 $ma, $mb;
    ok($ratio < 1.4 && !grep({ $_ != 401 } @st),
       'a wrong password costs the same with a pending temporary password'
       . ' (ratio of medians below 1.4)')
        or diag sprintf "ratio %.2f, statuses %s", $ratio, "@st";
}

check_error_log(0, 'no alert, crit or emerg in the whole log');
