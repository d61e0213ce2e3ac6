# What a citizen types never becomes something else.  A login with line
# breaks or escape codes cannot forge error log lines: control characters
# are logged as \xHH.  An e-mail address is a plain address (no display
# name, quoted or non-ASCII local part, dots out of place, header
# injection); an internationalised domain is accepted and mailed to in
# punycode, and every header of every mail is ASCII.  A document's name
# follows its content: its extension is the one of what it is.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Attack;

use Encode ();

# a log shown in a diagnostic: its control characters made visible
sub visible {
    my ($s) = @_;
    $s =~ s/([\x00-\x09\x0b-\x1f\x7f])/sprintf '<%02X>', ord $1/ge;
    return $s;
}

maildir_setup();
plan tests => 28;

account_sql('jean.dupont');

# The module's request logs go to a log of their own: the forged line must
# not reach logs/error.log, whose [alert] lines fail a test file.
my $LOG = servroot() . '/logs/api.log';
ok(start_nginx(http_config => citizen_http_config(),
               config => attack_api('error_log logs/api.log info;')),
   'nginx starts');


# ------------------------------------------------------------ forged logs

my $FORGED = "2026/11/30 12:00:00 [alert] 1#1: forged";
my $login = "jean\n$FORGED\rx\x1b[31m";
my $c = client_from('10.44.1.1');
my $off = -s $LOG // 0;
my $res = $c->call(POST => 'session', { login => $login,
                                        password => 'Pas le bon du tout' });
is($res->{status}, 401, 'POST session with a login full of control'
                        . ' characters: 401') or diag body_text($res);
my $log = '';
wait_until(sub { $log = read_file($LOG, $off); $log =~ /jean/ }, 5,
           'the login in the log');
my @forged = grep { /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[alert\] 1#1: forged/ }
             split /\n/, $log;
ok(!@forged, 'no log line starts as the forged one')
    or diag visible(join "\n", @forged);
ok($log !~ /[\r\x1b]/, 'no carriage return or escape reaches the log');
ok($log =~ /jean\\x0A\Q$FORGED\E\\x0Dx\\x1B\[31m/,
   'the login is logged with \xHH for its control characters')
    or diag visible($log);


# --------------------------------------------------------- e-mail addresses

sub signup_email {
    my ($email, %o) = @_;
    my $cl = client_from('10.44.2.1');
    # (not jean.dupont: his account was made without the login counter)
    return signup($cl, first_name => 'Paul', last_name => 'Martin',
                  email => $email, %o);
}

for my $bad ('Undisclosed:evil@x.y', '"jean dupont"@example.org',
             'jéan@example.org', 'jean..dupont@example.org',
             '.jean@example.org', "jean\@example.org\r\nBcc: x\@y.z")
{
    (my $shown = $bad) =~ s/\r\n/\\r\\n/g;
    $res = signup_email($bad);
    ok($res->{status} == 422 && error_fields($res) eq 'holder.email',
       "holder.email $shown: 422 on holder.email")
        or diag body_text($res);
}

$res = signup_email('jean@exämple.org', first_name => 'Éloïse',
                    last_name => 'Lefèvre');
is($res->{status}, 201, 'holder.email jean@exämple.org (a domain with an'
                        . ' accent): 201') or diag body_text($res);
my $new = ($res->{json} // {})->{login} // 'eloise.lefevre';
my ($mail) = wait_mails(1, sub { $_[0]{body} =~ /\Q$new\E/ });
ok($mail, 'the mail giving the login is written');
like(($mail // { headers => {} })->{headers}{to} // '',
     qr/\bjean\@xn--exmple-cua\.org\b/,
     '... To: the domain in punycode (xn--exmple-cua.org)')
    or diag(Encode::decode('UTF-8', ($mail // {})->{head} // ''));

my @mails = mails();
my @bad = grep { $_->{head} =~ /[^\x00-\x7f]/ } @mails;
ok(@mails && !@bad, 'every header line of every mail is pure ASCII'
                    . ' (display names, if any, as RFC 2047 encoded-words)')
    or diag join "\n---\n", map { Encode::decode('UTF-8', $_->{head}) } @bad;


# -------------------------------------------- a file's name follows its content

$c = client_from('10.44.3.1');
is($c->login('jean.dupont', $PASSWORD)->{status}, 200, 'jean.dupont logs in');

for my $case (['x.html', $PDF, 'x.pdf', 'a PDF named x.html'],
              ['photo.jpg', $PNG, 'photo.png', 'a PNG named photo.jpg'],
              ['scan.PDF', $PDF, 'scan.PDF', 'a PDF named scan.PDF'],
              ['scan', $PDF, 'scan.pdf', 'a PDF named scan'],
              ['a.jpeg', $JPEG, 'a.jpeg', 'a JPEG named a.jpeg'])
{
    my ($name, $data, $want, $what) = @$case;
    $res = upload_doc($c, $name, $data);
    is($res->{status}, 201, "$what: 201") or diag body_text($res);
    is(($res->{json} // {})->{filename}, $want, "... stored as $want");
}
my @stored = map { $_->[0] } psql_query("SELECT filename FROM portal.documents"
                                        . " ORDER BY created_at, filename");
ok(!grep({ /\Ax\.html\z|\Aphoto\.jpg\z/ } @stored),
   'no stored name keeps an extension its content does not have')
    or diag "@stored";

check_error_log(0, 'no alert, crit or emerg in logs/error.log');
