# GET requests/{id}.pdf: a request as a PDF, for its household only, in
# the six states where the citizen no longer changes it (409 in the three
# others), drawn on the thread pool of portal_pdf_thread_pool.  Its text
# (pdftotext: the town of the portal_town_* directives, the procedure's
# accents, the reference, the state and what it means, the answers, the
# documents), its title and pages (pdfinfo), its fonts embedded
# (pdffonts); page 1 as a PNG beside the browser run's screenshots
# (PORTAL_SCREENSHOT_DIR, default t/servroot/browser/); the headers;
# another household's request, a request made without an account and an
# unknown one (404), no session (401); a client that goes away while its
# PDF is drawn; a full queue (503 busy, Retry-After) while a login still
# goes through; no town configured, none printed; and, without a
# sanitizer, a worker's memory after 200 PDFs.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Requests;
use Test::Portal::Pdf;

use Encode ();
use File::Basename qw(dirname);
use File::Path qw(make_path);
use JSON::PP ();

my $URL = 'https://mairie.example/';
my $NOT_FOUND = 'Cette demande est introuvable.';

# the town of the directives, in the configuration as UTF-8 bytes
my $TOWN = Encode::encode('UTF-8', <<'CONF');
portal_town_name     "Mairie de Val-d’Essai";
portal_town_service  "Pôle des démarches en ligne";
portal_town_address  "2 place de l’Église" "99999 Val-d’Essai";
CONF

# PDFs on a pool of their own, as conf/ has it
my $POOLS = 'thread_pool portal_pdf threads=2 max_queue=64;';

# the same API, its connections logging at debug level: to see a PDF go
# to the thread pool
my $CONFIG = "$API\n"
    . 'location /slow/api/ { portal_api citizen;'
    . ' error_log logs/pdf-debug.log debug; }';

my %DATA = (
    date_souhaitee => '2026-06-15',
    volume         => 2.5,
    objets         => 'Un réfrigérateur, deux chaises et une étagère.',
    emplacement    => 'trottoir',
);

# each state, reached by the transitions that lead to it
my %PATH = (
    brouillon     => [],
    en_attente    => [qw(en_attente)],
    en_traitement => [qw(en_attente en_traitement)],
    incomplet     => [qw(en_attente en_traitement incomplet)],
    rectifie      => [qw(en_attente en_traitement incomplet rectifie)],
    complet       => [qw(en_attente en_traitement complet)],
    rejete        => [qw(en_attente en_traitement rejete)],
    annule        => [qw(en_attente en_traitement annule)],
    valide        => [qw(en_attente en_traitement complet valide)],
);
my %CITIZEN_MOVE = (en_attente => 1, rectifie => 1);

my %LABEL = (
    en_traitement => 'en traitement', rectifie => 'rectifié',
    complet => 'complet', rejete => 'rejeté', annule => 'annulé',
    valide => 'validé',
);

sub sq { sql_quote($_[0]) }

# SQL as the superuser, UTF-8 out
sub su { psql_query(Encode::encode('UTF-8', $_[0])) }

# A request of the account, made as the module makes one, then moved to
# $state by the transitions that lead there, each with its history row
# (and, with cycles => N, N times more from en_traitement to incomplet
# with a motive, then back); returns its id and reference.
sub request_in {
    my ($account, $state, %o) = @_;
    my $r = as_portal_sql(sprintf(
        'SELECT portal.request_create(%s, %s, NULL, %s, NULL, NULL, NULL,'
        . ' %s)', sq($account), sq('encombrants'),
        json_literal($o{data} // \%DATA), sq($URL)));
    die "request_create: $r->{err}\n" unless $r->{ok};
    my $json = Encode::encode('UTF-8', $r->{rows}[0][0]);
    my $req = JSON::PP->new->utf8->decode($json);

    my $from = 'brouillon';
    my @events;
    my @path = @{ $PATH{$state} };
    push @path, (qw(incomplet rectifie en_traitement)) x ($o{cycles} // 0);
    for my $to (@path) {
        my $actor = $CITIZEN_MOVE{$to} ? 'citizen' : 'agent';
        my $motive = $to eq 'rejete' ? sq('Adresse hors de la commune.')
                   : $to eq 'incomplet' && $o{motive} ? sq($o{motive})
                   : 'NULL';
        push @events, "('$req->{id}', '$from', '$to', '$actor', $motive)";
        $from = $to;
    }
    if (@events) {
        su("UPDATE portal.requests SET state = '$state',"
           . " submitted_at = now() WHERE id = '$req->{id}';"
           . ' INSERT INTO portal.request_events (request_id, from_state,'
           . ' to_state, actor, motive) VALUES ' . join(', ', @events));
    }
    return ($req->{id}, $req->{reference});
}

sub pdf_info {
    my ($f) = @_;
    my %i;
    for (split /\n/, Encode::decode('UTF-8', scalar `pdfinfo '$f' 2>&1`)) {
        $i{$1} = $2 if /\A([^:]+):\s*(.*?)\s*\z/;
    }
    return \%i;
}

# A request made without an account (no follow-up), moved on by an agent
# to en_traitement: its id.
sub anonymous_request {
    my $r = as_portal_sql(sprintf(
        'SELECT portal.request_create_anonymous(%s, %s, %s, NULL, NULL,'
        . ' NULL, NULL, %s)', sq('acte-naissance'),
        json_literal({ civility => 'Mme', first_name => 'Anne',
                       last_name => 'Martin', birth_date => '1975-06-30',
                       email => 'anne.martin@example.org',
                       phone => '0240000000',
                       address => { line => '3 rue Kervégan',
                                    postcode => '44000',
                                    city => 'Nantes' } }),
        json_literal({ type_acte => 'copie_integrale',
                       qualite => 'interesse', exemplaires => 1 }),
        sq($URL)));
    die "request_create_anonymous: $r->{err}\n" unless $r->{ok};
    my $req = JSON::PP->new->utf8->decode(
        Encode::encode('UTF-8', $r->{rows}[0][0]));
    die "an anonymous request in $req->{state}\n"
        unless $req->{state} eq 'en_attente';
    su("UPDATE portal.requests SET state = 'en_traitement'"
       . " WHERE id = '$req->{id}'; INSERT INTO portal.request_events"
       . ' (request_id, from_state, to_state, actor) VALUES'
       . " ('$req->{id}', 'en_attente', 'en_traitement', 'agent')");
    return $req->{id};
}

maildir_setup();
my $A = account_sql('jean.dupont', phone => '0601020304');
my $B = account_sql('paul.martin', phone => '0605060708');

ok(start_nginx(main_config => $POOLS,
               http_config => citizen_http_config(extra => $TOWN . $PDF_POOL),
               config => $CONFIG), 'nginx starts');

my $c = citizen();
is($c->login('jean.dupont', $PASSWORD)->{status}, 200,
   'jean.dupont, whose account waits for validation, is logged in');

my $off = error_log_offset();


# ------------------------------------------------ a request in en_traitement

my ($id, $ref) = request_in($A, 'en_traitement');
su("INSERT INTO portal.request_documents (request_id, kind, filename,"
   . " content_type, size, sha256, state, completed_at) VALUES ('$id',"
   . " 'photo', 'étagère.jpg', 'image/jpeg', 245760,"
   . " sha256('x'), 'complete', now())");

my $res = $c->call(GET => "requests/$id.pdf");
is($res->{status}, 200, 'en_traitement: the PDF')
    or diag $res->{body};
is($res->{headers}{'content-type'}, 'application/pdf', '... application/pdf');
is($res->{headers}{'content-disposition'},
   qq{inline; filename="demande-$ref.pdf"},
   '... shown inline, saved as demande-<reference>.pdf');
is($res->{headers}{'cache-control'}, 'no-store', '... never cached');
is($res->{headers}{'x-content-type-options'}, 'nosniff', '... nosniff');
like($res->{body}, qr/\A%PDF-1\.\d/, '... a PDF file');
is(length $res->{body}, $res->{headers}{'content-length'},
   '... of the length announced');

my $file = pdf_file('en_traitement', $res->{body});
my $text = pdf_text($file);

for my $t ("Mairie de Val-d’Essai", 'Pôle des démarches en ligne',
           '2 place de l’Église', '99999 Val-d’Essai',
           'Récapitulatif de votre demande', 'Enlèvement des encombrants',
           "Référence : $ref", 'État : « en traitement »',
           'Un agent a pris en charge votre demande.',
           'Nom : Monsieur Jean Dupont',
           'Volume estimé (en m³)', '2,5',
           'Un réfrigérateur, deux chaises et une étagère.',
           'Sur le trottoir, devant le domicile',
           'Photo des objets : étagère.jpg (240,0 Ko)',
           'Historique', 'en attente', 'Page 1 / 1')
{
    ok(index($text, $t) >= 0, "... its text has \"$t\"")
        or diag $text;
}

my $info = pdf_info($file);
is($info->{Title}, "Demande $ref — Enlèvement des encombrants",
   '... its title: the reference and the procedure');
is($info->{Author}, 'Mairie de Val-d’Essai', '... its author: the town');
is($info->{Pages}, 1, '... one page');

my @fonts = split /\n/, `pdffonts '$file' 2>&1`;
splice @fonts, 0, 2;
ok(@fonts >= 2 && !grep({ (split ' ')[-5] ne 'yes' } @fonts),
   '... every font embedded')
    or diag join "\n", @fonts;
ok((grep { /DejaVuSans-Bold/ } @fonts) && (grep { /DejaVuSans / } @fonts),
   '... DejaVu Sans and DejaVu Sans Bold');

# page 1 beside the browser run's screenshots (t/browser/lib.mjs)
my $shots = $ENV{PORTAL_SCREENSHOT_DIR} // dirname(servroot()) . '/browser';
make_path($shots);
unlink "$shots/request-pdf-page1.png";
system('pdftoppm', '-png', '-r', '72', '-f', '1', '-l', '1', '-singlefile',
       $file, "$shots/request-pdf-page1");
like(read_file("$shots/request-pdf-page1.png"), qr/\A\x89PNG\r\n/,
     "page 1 as a PNG in $shots/");

$res = $c->call(HEAD => "requests/$id.pdf");
is("$res->{status} $res->{headers}{'content-type'} " . length $res->{body},
   '200 application/pdf 0', 'HEAD: the headers only');


# ------------------------------------------------------ the other states

for my $state (qw(rectifie complet rejete annule valide)) {
    my ($sid, $sref) = request_in($A, $state);
    $res = $c->call(GET => "requests/$sid.pdf");
    is($res->{status}, 200, "$state: the PDF") or diag $res->{body};
    $text = $res->{status} == 200
            ? pdf_text(pdf_file($state, $res->{body})) : '';
    ok(index($text, "Référence : $sref") >= 0
       && index($text, "État : « $LABEL{$state} »") >= 0,
       "... with its reference and the state « $LABEL{$state} »")
        or diag $text;
    if ($state eq 'rejete') {
        ok(index($text, 'Motif : Adresse hors de la commune.') >= 0,
           '... and the motive of the rejection') or diag $text;
    }
}

for my $state (qw(brouillon en_attente incomplet)) {
    my ($sid) = request_in($A, $state);
    $res = $c->call(GET => "requests/$sid.pdf");
    is($res->{status}, 409, "$state: no PDF (409)");
    is(($res->{json} // {})->{error}{code}, 'state_conflict',
       '... state_conflict');
    like(($res->{json} // {})->{error}{message} // '',
         qr/\ALe récapitulatif PDF n’est pas encore disponible/,
         '... and a message that says what to do meanwhile');
}


# ------------------------------------------------------- not the citizen's

my ($bid) = request_in($B, 'en_traitement');
my $anon = anonymous_request();
for my $case ([$bid, "another household's request"],
              [$anon, 'a request made without an account'],
              ['0b7d3c1e-5f7a-4b58-9d8e-2a6c4f1e9b30', 'an unknown id'],
              ['pas-une-demande', 'an id that is not a UUID'])
{
    $res = $c->call(GET => "requests/$case->[0].pdf");
    is(join(' ', $res->{status}, ($res->{json} // {})->{error}{code} // '',
            ($res->{json} // {})->{error}{message} // ''),
       "404 not_found $NOT_FOUND", "$case->[1]: 404");
}

for my $case ([$id, 'its own'], [$anon, 'one made without an account']) {
    $res = http_request(GET => "/api/requests/$case->[0].pdf");
    is(join(' ', $res->{status},
            (decode_json_body($res) // {})->{error}{code} // ''),
       '401 unauthenticated', "without a session, $case->[1]: 401");
}

check_error_log($off, 'no alert, crit or emerg so far');


# --------------------------------------- a client gone while it is drawn

# a long answer and a long history: the renderer's caps (128 KiB of text,
# some 40 pages), drawn long enough (a quarter of a second, much more
# under a sanitizer) for the client to go away meanwhile, or for two of
# them to fill a thread pool of one thread and a queue of one
my $long = join "\n", map { "Ligne $_ : une armoire démontée, des cartons"
                            . " de livres, de la vaisselle ébréchée, deux"
                            . " matelas, un sommier et trois chaises de"
                            . " jardin en plastique." } 1 .. 380;
my $motive = join ' ', ('Le justificatif de domicile manque ou ne se lit'
                        . ' pas : merci de le déposer à nouveau.') x 20;
my ($big) = request_in($A, 'en_traitement', cycles => 40,
                       motive => $motive,
                       data => { %DATA, objets => $long });

my $dbg = servroot() . '/logs/pdf-debug.log';
my $dbg_off = -s $dbg // 0;
$off = error_log_offset();
my $acc_off = length access_log_since(0);
my @workers = worker_pids();

my $h = http_start(GET => "/slow/api/requests/$big.pdf",
                   headers => [ Cookie => $c->cookie_header ]);
ok(wait_until(sub { index(read_file($dbg, $dbg_off),
                          "the PDF of request $big goes to the thread pool")
                    >= 0 }, 10, 'the PDF to go to the thread pool'),
   'a long PDF goes to the thread pool');
http_abort($h);

ok(wait_until(sub { access_log_since($acc_off)
                    =~ m{"GET /slow/api/requests/\Q$big\E\.pdf[^"]*" 499} },
              10, 'the worker to notice'),
   '... its client goes away: the worker notices (499)');
ok(wait_until(sub { index(error_log_since($off), "a request's PDF was made"
                          . ' for a client that has gone') >= 0 },
              30, 'the PDF to be done with'),
   '... the PDF made is thrown away when the thread is done')
    or diag error_log_since($off);
is(join(' ', sort(worker_pids())), join(' ', sort @workers),
   '... the same worker');
unlike(error_log_since($off), qr/exited on signal/, '... none died');

$res = $c->call(GET => "requests/$big.pdf");
note "the long PDF took $res->{elapsed} s";
$info = $res->{status} == 200 ? pdf_info(pdf_file('big', $res->{body})) : {};
ok($res->{status} == 200 && ($info->{Pages} // 0) >= 10,
   "... and the same PDF is made for the next client ("
   . ($info->{Pages} // 0) . ' pages)');
check_error_log($off, 'no alert, crit or emerg meanwhile');


# ------------------------------------------------------ a full queue

# one thread for PDFs, and room for one in the queue: a long PDF drawn,
# another waiting, and a third is refused at once, while a login hashes
# its password on the other pool, as small (it would be refused too if
# PDFs were drawn there); the session lives in its cookie and in
# PostgreSQL: it holds across the restart.  And no portal_town_*: the
# PDFs name no town.
ok(start_nginx(http_config => citizen_http_config(extra => $PDF_POOL),
               config => $CONFIG,
               main_config => "thread_pool portal threads=1 max_queue=1;\n"
                              . 'thread_pool portal_pdf threads=1'
                              . ' max_queue=1;'),
   'nginx starts with no town, and two pools of one thread and a queue'
   . ' of one: for PDFs, for hashing');
$off = error_log_offset();
$dbg_off = -s $dbg // 0;

my @long = pdf_pool_fill("/slow/api/requests/$big.pdf", $c->cookie_header,
                         $dbg, $dbg_off, 'request', $big);

$res = $c->call(GET => "requests/$id.pdf");
is(busy_answer($res), '503 busy 2',
   'a PDF drawn, another waiting: the next one gets 503 busy,'
   . ' Retry-After: 2')
    or diag "$res->{status} $res->{body}";
like(error_log_since($off),
     qr/a request's PDF could not go to the thread pool "portal_pdf"/,
     '... said in the error log');

my $p = citizen();
is($p->login('paul.martin', $PASSWORD)->{status}, 200,
   '... a login meanwhile: its password is hashed on the other pool');

my @made = http_collect(@long);
is(join(' ', map { $_->{status} // 'none' } @made), '200 200',
   '... and the two long ones are made');
$text = ($made[0]{status} // 0) == 200
        ? pdf_text(pdf_file('no-town', $made[0]{body})) : '';
ok(index($text, 'Récapitulatif de votre demande') >= 0
   && index($text, 'Val-d’Essai') < 0 && index($text, 'Pôle des') < 0,
   '... without portal_town_*, no town in them') or diag $text;


# ---------------------------------------- a worker's memory, 200 PDFs on

SKIP: {
    skip 'memory is measured without a sanitizer', 4 if sanitizer();

    ok(start_nginx(main_config => $POOLS,
                   http_config => citizen_http_config(extra => $TOWN
                                                      . $PDF_POOL),
                   config => $CONFIG), 'nginx starts again');
    my ($w) = worker_pids();
    my $rss = sub {
        read_file("/proc/$w/status") =~ /^VmRSS:\s+(\d+)/m ? $1 / 1024 : 0;
    };

    my ($fails, @at) = (0);
    for my $round (1 .. 25) {
        my @h = map { $c->start(GET => "requests/$id.pdf") } 1 .. 8;
        $fails += grep { ($_->{status} // 0) != 200 } http_collect(@h);
        push @at, $rss->() if $round == 1 || $round == 13 || $round == 25;
    }
    is($fails, 0, '200 PDFs, 8 at a time');
    note(sprintf 'worker RSS after 8, 104 and 200 PDFs: %.1f, %.1f and'
         . ' %.1f MiB', @at);
    cmp_ok($at[2], '<', 32, sprintf '... the worker holds %.1f MiB after'
           . ' them, under 32', $at[2]);
    cmp_ok($at[2] - $at[1], '<', 2, sprintf '... %.1f MiB more after 200'
           . ' than after 104: nothing kept per PDF', $at[2] - $at[1]);
}

done_testing();
