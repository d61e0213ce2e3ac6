# GET /admin/api/letters/{id}.pdf: a letter to a citizen who chose the
# post, as a PDF to print.  An agent writes on a request whose contact
# mode is post; the letter is listed (GET letters) and its PDF's text
# (pdftotext) has the town of the portal_town_* directives, the recipient
# (in the envelope's window), the date, the subject, the body with its
# accents, the sentence that no reply is needed once; the headers and the
# title.  Each read writes the audit row letter_read, with the agent, the
# request, the account and the client's address.  Another theme's letter,
# one not due yet, an unknown one: 404, and no audit row; no session, or a
# citizen's cookie: 401.  A printed letter prints again.  A full queue of
# the PDFs' pool: 503 busy with Retry-After.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Agents;
use Test::Portal::Pdf;

use Encode ();
use POSIX qw(strftime);

maildir_setup();
plan tests => 30;

my $TOWN = Encode::encode('UTF-8', <<'CONF');
portal_town_name     "Mairie de Val-d’Essai";
portal_town_service  "Pôle des démarches en ligne";
portal_town_address  "2 place de l’Église" "99999 Val-d’Essai";
CONF

# the agents' API again, its connections logging at debug level: to see a
# PDF go to the thread pool
my $CONF = "$API\n$ADMIN_API\n"
    . 'location /slow/admin/api/ { portal_api agent;'
    . ' error_log logs/letter-debug.log debug; }';

sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime(time + $_[0])) }

# the audit rows of letter reads, oldest first: [agent login, letter,
# request, account, client address]
sub letter_reads {
    return [q1("SELECT g.login, l.detail->>'letter', l.request_id,"
               . " l.account_id, coalesce(host(l.client_addr), '')"
               . " FROM portal.audit_log l JOIN portal.agents g"
               . " ON g.id = l.agent_id WHERE l.action = 'letter_read'"
               . " ORDER BY l.id")];
}

sub pdf_title {
    my ($f) = @_;
    my $i = Encode::decode('UTF-8', scalar `pdfinfo '$f' 2>&1`);
    return $i =~ /^Title:\s*(.*?)\s*$/m ? $1 : '';
}

my $alice = agent_sql('alice', 'admin');
my $ines = agent_sql('ines', 'instructeur', themes => ['etat-civil']);
my $P = account_sql('helene.poste', first_name => 'Hélène',
                    last_name => 'Lefèvre-Müller', validated => 1);
my $PR = submitted_request($P, 'signalement-voirie', contact => 'post');

ok(start_nginx(main_config => 'thread_pool portal_pdf threads=2'
                              . ' max_queue=64;',
               http_config => citizen_http_config(extra => $TOWN
                                                  . $PDF_POOL),
               config => $CONF),
   'nginx starts, with a town and a pool for PDFs');

my $admin = agent_login('alice');
my $inst = agent_login('ines');

my $BODY = "L’enlèvement aura lieu le 3 avril ; l’équipe passera entre 8 h"
         . ' et 12 h, merci de dégager l’accès à la chaussée.';
my $res = $admin->call(POST => "requests/$PR/messages",
                       { kind => 'decision', body => $BODY });
is($res->{status}, 201, 'a decision on a request answered by post: 201')
    or diag $res->{body};
my $letter = (($res->{json} // {})->{letter} // {})->{id} // '';
my $reference = (($res->{json} // {})->{request} // {})->{reference} // '';

$res = $admin->call(GET => 'letters');
ok($res->{status} == 200
   && grep({ $_->{id} eq $letter } @{ $res->{json} // [] }),
   'GET letters: the letter to print');
my $date = ($admin->call(GET => "letters/$letter")->{json} // {})
           ->{date_text} // 'no date_text';


# ------------------------------------------------------------- the PDF

$res = $admin->call(GET => "letters/$letter.pdf");
is($res->{status}, 200, 'GET letters/{id}.pdf: 200') or diag $res->{body};
is($res->{headers}{'content-type'} // '', 'application/pdf',
   '... application/pdf');
is($res->{headers}{'content-disposition'} // '',
   "inline; filename=\"courrier-$reference.pdf\"",
   '... shown inline, saved under the reference');
like($res->{body} // '', qr/\A%PDF-/, '... a PDF');

my $reads = letter_reads();
is_deeply($reads->[-1], ['alice', $letter, $PR, $P, '127.0.0.1'],
          '... its read audited: the agent, the letter, the request, the'
          . ' account, the address') or diag explain $reads;
my $nreads = @$reads;

my $f = pdf_file('letter', $res->{body} // '');
my $text = pdf_text($f);

ok(index($text, 'Mairie de Val-d’Essai') >= 0
   && index($text, 'Pôle des démarches en ligne') >= 0
   && index($text, '2 place de l’Église') >= 0,
   '... the town of the directives') or diag $text;
ok(index($text, "Val-d’Essai, le $date") >= 0,
   "... the place and date: \"Val-d’Essai, le $date\"") or diag $text;
ok(index($text, "Référence : $reference") >= 0
   && index($text, "Objet : Décision sur votre demande $reference") >= 0,
   '... the reference and the subject') or diag $text;
# the body's lines joined: it is wrapped, and justified
(my $flat = $text) =~ s/\s+/ /g;
ok(index($flat, $BODY) >= 0,
   '... the body, its accents and apostrophes') or diag $text;
is(scalar(() = $text =~ /ne demande aucune réponse de votre part/g), 1,
   '... that no reply is needed, once');
is(pdf_title($f), "Courrier — Décision sur votre demande $reference",
   '... its title');

# where the right-hand window of the envelope shows the sheet, 95 to 190
# mm from the left, 50 to 84 mm from the top
my $window = pdf_text($f, 269, 142, 269, 96);
ok($window =~ /^Monsieur Hélène Lefèvre-Müller\n1 place de la Mairie\n44000 Nantes\n/,
   '... the recipient in the envelope\'s window') or diag $window;
ok(index($window, 'Val-d’Essai') < 0 && index($window, 'Objet') < 0,
   '... and nothing else there') or diag $window;


# --------------------------------------------------- whom it is refused

$res = $inst->call(GET => "letters/$letter.pdf");
is(join(' ', $res->{status}, ($res->{json} // {})->{error}{code} // ''),
   '404 not_found', 'an instructeur of another theme: 404');
$res = $admin->call(GET => 'letters/00000000-0000-4000-8000-000000000000.pdf');
is($res->{status}, 404, 'an unknown letter: 404');
$res = $admin->call(GET => 'letters/pas-un-uuid.pdf');
is($res->{status}, 404, 'an id that is no uuid: 404');
is(scalar @{ letter_reads() }, $nreads,
   '... none of those reads audited');

$res = $admin->call(POST => "requests/$PR/messages",
                    { kind => 'information', body => 'Plus tard.',
                      send_at => iso(86400) });
my $later = (($res->{json} // {})->{letter} // {})->{id} // '';
$res = $admin->call(GET => "letters/$later.pdf");
is($res->{status}, 404, 'a letter whose day has not come: 404');

$res = agent_client()->call(GET => "letters/$letter.pdf");
is($res->{status}, 401, 'no session: 401');

my $c = citizen();
is($c->login('helene.poste', $PASSWORD)->{status}, 200,
   'the citizen logs in');
$c->{prefix} = '/admin/api/';
$res = $c->call(GET => "letters/$letter.pdf");
is($res->{status}, 401, '... her cookie on the agents\' API: 401');

is($admin->call(POST => "letters/$letter/printed")->{status}, 200,
   'the letter marked printed');
$res = $admin->call(GET => "letters/$letter.pdf");
ok($res->{status} == 200 && ($res->{body} // '') =~ /\A%PDF-/,
   '... prints again');


# ------------------------------------------------------- a full queue

# one thread for PDFs and room for one in its queue: two long letters
# (64 KiB of body, some 16 pages) drawn and waiting, the next is refused
my $long = $admin->call(POST => "requests/$PR/messages",
                        { kind => 'information', body => 'Long.' });
my $big = (($long->{json} // {})->{letter} // {})->{id} // '';
psql_query(Encode::encode('UTF-8',
    'UPDATE portal.messages SET body = repeat(\'Un paragraphe de lettre,'
    . ' assez long pour être justifié sur la ligne. \', 1300)'
    . " WHERE id = '" . (($long->{json} // {})->{id} // '') . "'"));

ok(start_nginx(main_config => "thread_pool portal threads=1 max_queue=8;\n"
                              . 'thread_pool portal_pdf threads=1'
                              . ' max_queue=1;',
               http_config => citizen_http_config(extra => $TOWN
                                                  . $PDF_POOL),
               config => $CONF),
   'nginx starts again, one thread for PDFs and a queue of one');

my $dbg = servroot() . '/logs/letter-debug.log';
my $dbg_off = -s $dbg // 0;
my @long = pdf_pool_fill("/slow/admin/api/letters/$big.pdf",
                         $admin->cookie_header, $dbg, $dbg_off, 'letter',
                         $big);

$res = $admin->call(GET => "letters/$letter.pdf");
is(busy_answer($res), '503 busy 2',
   'a letter drawn, another waiting: the next gets 503 busy,'
   . ' Retry-After: 2') or diag "$res->{status} $res->{body}";

my @made = http_collect(@long);
is(join(' ', map { $_->{status} // 'none' } @made), '200 200',
   '... and the two long ones are made');

check_error_log(0);
