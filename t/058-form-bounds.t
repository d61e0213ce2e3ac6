# The bounds of a procedure's date fields, through POST requests.  A date
# bounded in days from today has a max that is a day, never a length: a
# max under ten days (or before today) once had every date of its field
# refused as too long ("Saisissez une date."), so that the seed's
# recensement citoyen, bounded -9300 to -5840 days, took no birth date
# typed.  And bounds that PostgreSQL's constraint takes (5.0 days, a date
# before 1900, a max_length of 3.0) once left their procedure out of the
# catalog.
#
# The server's day may turn while a test runs: each date sent is chosen so
# that it is in or out of bounds on either day, and a message is expected
# of the day before the call or of the day after it.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use POSIX qw(strftime);
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Attack;

plan tests => 21;

sub today { int(time / 86400) }
sub ymd   { strftime('%Y-%m-%d', gmtime(86400 * $_[0])) }
sub dmy   { strftime('%d/%m/%Y', gmtime(86400 * $_[0])) }

sub field_errors {
    my ($res) = @_;
    return (($res->{json} // {})->{error} // {})->{fields} // {};
}

sub requests { scalar psql_query("SELECT count(*) FROM portal.requests") }

# POST requests with data made from the test's day; the answer and the
# days around the call (the server's is one of them)
sub post {
    my ($c, $procedure, $data) = @_;
    my $before = today();
    my $res = $c->call(POST => 'requests', { procedure => $procedure,
                                             data => $data->($before) });
    return ($res, $before, today());
}

# the message of the server's day, whichever of the two it was
sub message_is {
    my ($got, $days, $make, $name) = @_;
    my @want = map { $make->($_) } @$days;
    ok(grep({ $_ eq ($got // '') } @want), $name)
        or diag 'got ' . ($got // 'none') . ", expected $want[0]";
}

sub procedure_sql {
    my ($slug, $fields) = @_;
    my $sql = "INSERT INTO portal.procedures (slug, theme_id, title,"
            . " requires_account, requires_captcha, fields)"
            . " VALUES ('$slug', (SELECT id FROM portal.themes"
            . " WHERE slug = 'cadre-de-vie'), 'Essai $slug', true, false,"
            . " '$fields')";
    utf8::encode($sql);
    psql_query($sql);
}

# read by nginx when it starts
procedure_sql('essai-bornes', '[
    {"name": "jour", "label": "Jour", "type": "date", "required": true,
     "min": 0, "max": 5},
    {"name": "veille", "label": "Veille", "type": "date", "required": false,
     "max": -1}]');
procedure_sql('essai-bornes-larges', '[
    {"name": "jour", "label": "Jour", "type": "date", "required": true,
     "min": "1800-01-01", "max": 5.0},
    {"name": "code", "label": "Code", "type": "text", "required": false,
     "max_length": 3.0}]');
account_sql('jean.dupont');

ok(start_nginx(http_config => citizen_http_config(), config => attack_api()),
   'nginx starts');

my $c = client_from('10.58.0.1');
is($c->login('jean.dupont', $PASSWORD)->{status}, 200, 'jean.dupont logs in');


# ---------------------------------------------- a max of a few days

my ($res, @days) = post($c, 'essai-bornes', sub {
    +{ jour => ymd($_[0] + 5), veille => ymd($_[0] - 1) } });
is($res->{status}, 201, 'a date at its max of 5 days, another at -1: 201')
    or diag $res->{body};
is(($res->{json} // {})->{data}{jour}, ymd($days[0] + 5), '... the first kept');
is(($res->{json} // {})->{data}{veille}, ymd($days[0] - 1),
   '... the second too');

my $n = requests();
($res, @days) = post($c, 'essai-bornes', sub {
    +{ jour => ymd($_[0] + 7), veille => ymd($_[0] + 1) } });
is($res->{status}, 422, 'each a day or two past its max: 422');
my $f = field_errors($res);
is(join(' ', sort keys %$f), 'data.jour data.veille', '... on both fields');
message_is($f->{'data.jour'}, \@days,
           sub { 'Choisissez une date entre le ' . dmy($_[0]) . ' et le '
                 . dmy($_[0] + 5) . '.' },
           '... the first says its bounds');
message_is($f->{'data.veille'}, \@days,
           sub { 'Choisissez une date jusqu’au ' . dmy($_[0] - 1) . '.' },
           '... the second its last day');
is(requests(), $n, '... and nothing is stored');

($res) = post($c, 'essai-bornes', sub { +{ jour => '2026-02-30' } });
is(field_errors($res)->{'data.jour'}, 'Cette date n’existe pas.',
   'a day that does not exist: 422, said so');


# ------------------------ the seed's recensement: -9300 to -5840 days

my %young = (nom => 'Dupont', prenoms => 'Léa',
             lieu_naissance => 'Nantes (France)',
             nationalite => 'naissance', situation => 'scolaire');

($res, @days) = post($c, 'recensement-citoyen', sub {
    +{ %young, date_naissance => ymd($_[0] - 6000) } });
is($res->{status}, 201, 'recensement citoyen, born 6000 days ago: 201')
    or diag $res->{body};
is(($res->{json} // {})->{data}{date_naissance}, ymd($days[0] - 6000),
   '... the birth date kept');

($res, @days) = post($c, 'recensement-citoyen', sub {
    +{ %young, date_naissance => ymd($_[0] - 5000) } });
is($res->{status}, 422, '... born 5000 days ago, too young: 422');
message_is(field_errors($res)->{'data.date_naissance'}, \@days,
           sub { 'Choisissez une date entre le ' . dmy($_[0] - 9300)
                 . ' et le ' . dmy($_[0] - 5840) . '.' },
           '... the message says the dates allowed');


# ------------------- bounds as PostgreSQL's constraint writes them

$res = $c->call(GET => 'procedures/essai-bornes-larges');
is($res->{status}, 200, 'max 5.0 days, min 1800-01-01, max_length 3.0:'
                        . ' the procedure is in the catalog');

($res, @days) = post($c, 'essai-bornes-larges', sub {
    +{ jour => ymd($_[0] + 5), code => 'abc' } });
is($res->{status}, 201, '... a date at its max and 3 characters: 201')
    or diag $res->{body};

($res, @days) = post($c, 'essai-bornes-larges', sub {
    +{ jour => ymd($_[0] + 7), code => 'abcd' } });
is($res->{status}, 422, '... past its max, 4 characters: 422');
$f = field_errors($res);
message_is($f->{'data.jour'}, \@days,
           sub { 'Choisissez une date entre le 01/01/1800 et le '
                 . dmy($_[0] + 5) . '.' },
           '... the date\'s bounds, the first before 1900');
is($f->{'data.code'}, 'Remplissez ce champ (3 caractères au plus).',
   '... the text\'s limit');

check_error_log(0, 'no alert, crit or emerg');
