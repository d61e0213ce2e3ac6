# portal_smtp: mail goes to a relay over SMTP, from the workers' event
# loop, and arrives as the Maildir writer would have written it (one
# builder): a citizen's sign-up mail with its envelope, its headers in
# ASCII (an accented subject as RFC 2047 encoded-words), a Message-ID made
# of the outbox id, a quoted-printable UTF-8 body; a body line that begins
# with a dot arrives as it was (dot-stuffing on the wire); a CR or an LF in
# an address never reaches the wire (the mail fails for good, nothing is
# sent), nor in a subject.  nginx -t refuses what cannot work.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Smtp;

use Encode qw(encode_utf8);

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value(config => $API) unless defined $block->config;
});

plan tests => count_tests() + 44;

run_tests();

my $port = smtp_start();
my $HTTP = citizen_http_config(smtp => $port,
                               extra => "portal_smtp_timeout 5s;\n");

ok(start_nginx(http_config => $HTTP, config => $API), 'nginx starts');

sub sql { psql_query(encode_utf8($_[0])) }

# a row of the outbox, as the functions of sql/functions queue it
sub queue {
    my (%o) = @_;
    my $q = sub { my $v = shift; $v =~ s/'/''/g; "E'$v'" };
    return sql("INSERT INTO portal.outbox (recipient, subject, body)"
             . " VALUES (" . join(', ', map { $q->($o{$_}) }
                                        qw(recipient subject body))
             . ") RETURNING id");
}

sub row {
    my ($id) = @_;
    my @r = psql_query("SELECT state, attempts, coalesce(last_error, '')"
                     . " FROM portal.outbox WHERE id = $id");
    return { state => $r[0][0], attempts => $r[0][1], error => $r[0][2] };
}

sub settled {
    my ($id) = @_;
    my $r;
    wait_until(sub { $r = row($id); $r->{state} ne 'pending' }, 10,
               "mail $id settled");
    return $r;
}


# ---------------------------------------------------------------- sign-up

my $c = citizen();
my $login = signup_ok($c);
is($login, 'jean.dupont', 'a citizen signs up');

my ($m) = wait_smtp(1, sub { $_[0]{to}[0] eq 'jean.dupont@example.org' });
ok($m, 'the sign-up mail reaches the relay');
$m //= { headers => {}, to => [], body => '', head => '', raw => '' };

is($m->{from}, 'ne-pas-repondre@localhost',
   'MAIL FROM: the address of portal_mail_from');
is_deeply($m->{to}, ['jean.dupont@example.org'], 'RCPT TO: the holder alone');
is(mail_subject($m), 'Votre identifiant Mon Compte Citoyen', 'its subject');
is($m->{headers}{from},
   'Mairie - Mon Compte Citoyen <ne-pas-repondre@localhost>',
   'From: portal_mail_from');
is($m->{headers}{to}, 'jean.dupont@example.org', 'To: the address');

my $id = sql("SELECT id FROM portal.outbox"
           . " WHERE recipient = 'jean.dupont\@example.org'");
is($m->{headers}{'message-id'}, "<portal.outbox.$id\@localhost>",
   'Message-ID: the outbox id, so that a mail sent twice shows as one');
is($m->{headers}{'x-portal-outbox-id'}, $id, 'X-Portal-Outbox-Id too');
like($m->{headers}{'content-type'} // '',
     qr{\Atext/plain; charset=UTF-8\z}, 'Content-Type: text/plain, UTF-8');
is($m->{headers}{'content-transfer-encoding'}, 'quoted-printable',
   'the body quoted-printable: 7 bits, short lines, for any relay');
like($m->{headers}{date} // '',
     qr/\A\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000\z/, 'Date');
ok($m->{head} !~ /[^\t\r\n\x20-\x7e]/, 'headers in ASCII only');
ok(!grep({ length > 78 } split /\r\n/, $m->{raw}),
   'no line longer than 78 characters');
ok($m->{raw} !~ /(?<!\r)\n/, 'CRLF line ends on the wire');
ok(!defined $m->{body_error}, 'the body decodes as UTF-8');
like($m->{body}, qr/\ABonjour Monsieur Jean Dupont,\n/, 'the body greets');
like($m->{body}, qr/Votre identifiant : jean\.dupont\n/, '... gives the login');
like($m->{body}, qr/merci de ne pas\s+y répondre/, '... needs no reply');

my $r = settled($id);
is($r->{state}, 'sent', 'the outbox row is sent');
is($r->{attempts}, 1, '... at the first attempt');
is($r->{error}, '', '... without an error');


# ------------------------------------------------- an accented subject

my $subject = 'Votre demande « Acte de naissance » a été reçue et sera'
            . ' traitée très prochainement par nos équipes';
$id = queue(recipient => 'marie.leroy@example.org', subject => $subject,
            body => "Texte\n");
($m) = wait_smtp(1, sub { $_[0]{to}[0] eq 'marie.leroy@example.org' });
$m //= { headers => {}, raw => '' };
is(mail_subject($m), $subject, 'a long accented subject arrives whole');
like($m->{raw}, qr/^Subject: =\?UTF-8\?B\?[A-Za-z0-9+\/=]+\?=\r\n /m,
     '... as encoded-words on folded lines');
ok(!grep({ /=\?/ && length > 76 } split /\r\n/, $m->{raw}),
   '... none over 76 characters');
is(settled($id)->{state}, 'sent', '... and is sent');


# ---------------------------------------------------------- dot-stuffing

my $body = "Première ligne\n.Une ligne qui commence par un point\n.\n"
         . "..deux points\nUne ligne longue : " . ('é' x 60) . "\nFin\n";
$id = queue(recipient => 'point@example.org', subject => 'Points',
            body => $body);
($m) = wait_smtp(1, sub { $_[0]{to}[0] eq 'point@example.org' });
$m //= { body => '' };
is($m->{body}, $body,
   'lines that begin with a dot (a dot alone too) arrive as they were');
is(settled($id)->{state}, 'sent', '... and the mail is sent');


# ---------------------------------------------- CR and LF never go out

smtp_clear();

$id = queue(recipient
              => "victime\@example.org\r\nRCPT TO:<intrus\@example.org>",
            subject => 'Injection', body => "Texte\n");
$r = settled($id);
is($r->{state}, 'failed', 'a CR LF in the recipient: failed at once');
is($r->{attempts}, 1, '... after one attempt');
like($r->{error}, qr/invalid recipient address/, '... saying why');

$id = queue(recipient => "victime\@example.org\nBcc: intrus\@example.org",
            subject => 'Injection', body => "Texte\n");
is(settled($id)->{state}, 'failed', 'an LF alone: failed too');

$id = queue(recipient => "Victime\r\n <victime\@example.org>",
            subject => 'Injection', body => "Texte\n");
is(settled($id)->{state}, 'failed', 'a CR LF in the name: failed too');

$id = queue(recipient => 'victime@example.org',
            subject => "Objet\r\nBcc: intrus\@example.org",
            body => "Texte\n");
($m) = wait_smtp(1);
$m //= { headers => {}, head => '', to => [] };
is_deeply($m->{to}, ['victime@example.org'],
          'a CR LF in the subject: the mail goes to its recipient alone');
is(mail_subject($m), 'Objet  Bcc: intrus@example.org',
   '... the subject on one line');
ok(!exists $m->{headers}{bcc}, '... and no header was added');
is(settled($id)->{state}, 'sent', '... sent');

is(scalar(smtp_messages()), 1, 'the relay got nothing else');
is(scalar(smtp_messages(sub { grep { /intrus/ } @{ $_[0]{to} } })), 0,
   'never a mail to the address slipped in');

# a mail that fails for good changes nothing else: the next one goes
$id = queue(recipient => 'apres@example.org', subject => 'Après',
            body => "Texte\n");
ok(wait_smtp(1, sub { $_[0]{to}[0] eq 'apres@example.org' }),
   'the next mail goes as usual');
is(settled($id)->{state}, 'sent', '... sent');

like(error_log_since(0),
     qr/mail \d+ not delivered \(for good\): invalid recipient address/,
     'the error log says which mail failed for good');
unlike(error_log_since(0), qr/intrus/,
       '... without the address that was refused');

__DATA__

=== TEST 1: portal_smtp and portal_maildir both: one way out, say which
--- http_config
portal_smtp 127.0.0.1:25;
portal_maildir /tmp;
--- must_die: portal_smtp 127.0.0.1:25;
--- error_log
"portal_smtp" and "portal_maildir" are both set



=== TEST 2: portal_smtp on a name that does not resolve
--- http_config
portal_smtp relay.invalid:25;
--- must_die: relay.invalid
--- error_log
host not found in "portal_smtp" "relay.invalid:25"



=== TEST 3: portal_smtp with a port that is not one
--- http_config
portal_smtp 127.0.0.1:smtp;
--- must_die: 127.0.0.1:smtp
--- error_log
invalid port in "portal_smtp"



=== TEST 4: portal_smtp twice
--- http_config
portal_smtp 127.0.0.1:25;
portal_smtp 127.0.0.1:2525;
--- must_die: 2525
--- error_log
"portal_smtp" directive is duplicate



=== TEST 5: portal_smtp_timeout 0 would wait for nothing
--- http_config
portal_smtp 127.0.0.1:25;
portal_smtp_timeout 0;
--- must_die: portal_smtp_timeout 0;
--- error_log
portal_smtp_timeout



=== TEST 6: a sender whose address holds a space cannot go out
--- http_config
portal_smtp 127.0.0.1:25;
portal_mail_from "Mairie <ne pas@mairie.example>";
--- must_die: portal_mail_from
--- error_log
"portal_mail_from" "Mairie <ne pas@mairie.example>" is not



=== TEST 7: portal_smtp with a port and a timeout: nginx starts
--- http_config
portal_smtp 127.0.0.1:2525;
portal_smtp_timeout 10s;
--- request
GET /api/health
--- no_error_log
[error]
[emerg]
