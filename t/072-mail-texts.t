# Every mail the portal sends, enumerated: each is in French and says that
# no reply is needed.
#
# First from the source: every place of sql/functions that queues a mail
# (portal.queue_mail, portal.request_notify, portal.agent_notify) is in
# the list below with the kind of mail it sends, and the outbox is written
# by those three alone, each of which wraps the text in portal.mail_text
# (greeting, and "merci de ne pas y répondre"): a new mail that is not
# listed here, or a new way into the outbox, fails this test.
#
# Then for real: the citizens' and the agents' own functions are called
# as the module calls them, and every row they leave in the outbox is
# read: a French subject, "Bonjour Madame|Monsieur ...", the no-reply
# sentence, and no English.  Every kind of the list but one (a document
# added, which takes the upload's chunks: t/051) is made here.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen qw(account_sql %HASH $PASSWORD);
use Test::Portal::Requests;
use Test::Portal::Agents;

use Encode ();

# function that queues => [the kind of mail, its subject, made below; if
# not (t/051 makes it, with an upload), its subject's format in the source]
my %KINDS = (
    account_create => [
        'sign-up: the login',
        qr/\AVotre identifiant Mon Compte Citoyen\z/, 1],
    me_update => [
        'address change (to the old address)',
        qr/\AVotre adresse électronique a été changée\z/, 1],
    validate_account => [
        'account validated',
        qr/\AVotre compte citoyen est validé\z/, 1],
    agent_account_validate => [
        'account validated by an agent',
        qr/\AVotre compte citoyen est validé\z/, 1],
    reset_grant => [
        'temporary password',
        qr/\AVotre mot de passe temporaire\z/, 1],
    password_set => [
        'password changed',
        qr/\AVotre mot de passe a été changé\z/, 1],
    request_create => [
        'request started',
        qr/\ADemande \S+ commencée\z/, 1],
    request_create_anonymous => [
        'request without an account received',
        qr/\ADemande \S+ reçue\z/, 1],
    request_update => [
        'request changed',
        qr/\ADemande \S+ modifiée\z/, 1],
    request_submit => [
        'request submitted or completed',
        qr/\ADemande \S+ (?:soumise|complétée)\z/, 1],
    request_document_finish => [
        'document added',
        qr/\APièce reçue pour la demande \S+\z/, 0,
        'Pièce reçue pour la demande %s'],
    request_document_remove => [
        'document removed outside a draft',
        qr/\APièce retirée de la demande \S+\z/, 0,
        'Pièce retirée de la demande %s'],
    agent_request_transition => [
        'state changed by an agent (the meaning, the motive)',
        qr/\ADemande \S+ (?:validée|rejetée|annulée|: .+)\z/, 1],
    agent_message_send => [
        'information, or decision with its motive',
        qr/\A(?:Information|Décision) sur votre demande \S+\z/, 1],
);

my $NO_REPLY = join '\\s+', 'Ce message est envoyé automatiquement :',
                 'merci de ne pas y répondre\\.';
$NO_REPLY = qr/$NO_REPLY/;

plan tests => 11 + keys(%KINDS);


# ------------------------------------------------------------ the source

my (%calls, %src, @inserts);
for my $file (glob 'sql/functions/*.sql') {
    open my $fh, '<:encoding(UTF-8)', $file or die "$file: $!\n";
    my $fn = '';
    while (my $l = <$fh>) {
        $fn = $1 if $l =~ /^CREATE FUNCTION portal\.(\w+)/;
        next if $l =~ /^\s*--/;
        $src{$fn} .= $l;
        push @inserts, "$fn ($file)" if $l =~ /INSERT INTO portal\.outbox\b/;
        if ($l =~ /portal\.(queue_mail|request_notify|agent_notify)\(/
            && $l !~ /^CREATE FUNCTION/)
        {
            $calls{$fn}++;
        }
    }
}
is_deeply([sort @inserts],
          [sort map { "$_->[0] ($_->[1])" }
                ['agent_notify', 'sql/functions/105_agent_mail.sql'],
                ['queue_mail', 'sql/functions/010_common.sql'],
                ['request_notify', 'sql/functions/090_requests.sql']],
          'the outbox is written by queue_mail, request_notify and'
          . ' agent_notify alone');
is_deeply([sort keys %calls], [sort keys %KINDS],
          'every function that queues a mail is in the list of kinds')
    or diag explain { unlisted => [grep { !$KINDS{$_} } keys %calls],
                      gone => [grep { !$calls{$_} } keys %KINDS] };

# psql gives a row a line: a text's line ends come back escaped
sub lines { my ($s) = @_; $s =~ s/\\n/\n/g if defined $s; $s }

my %def = map { $_->[0] => lines($_->[1]) } q1(
    "SELECT p.proname, replace(pg_get_functiondef(p.oid), E'\\n', '\\n')"
  . " FROM pg_proc p"
  . " WHERE p.pronamespace = 'portal'::regnamespace"
  . " AND p.proname IN ('queue_mail', 'request_notify', 'agent_notify')");
ok(($def{queue_mail} // '') =~ /portal\.mail_text\(/
   && ($def{request_notify} // '') =~ /portal\.mail_text\(/,
   'queue_mail and request_notify wrap every text in mail_text');
ok(($def{agent_notify} // '') =~ /ELSE portal\.mail_text\(/
   && ($def{agent_notify} // '')
      =~ /IF c\.channel = 'email' THEN\s+INSERT INTO portal\.outbox/,
   'agent_notify: what goes to the outbox is an e-mail, in mail_text');



# ------------------------------------------------------- the mails, made

my $admin = agent_sql('alice', 'admin', name => 'Alice Martin');

my $holder = json_literal({ civility => 'Mme', first_name => 'Éloïse',
    last_name => 'Lefèvre', birth_date => '1985-02-03',
    email => 'eloise@example.org',
    address => { line => '2 rue Haute', postcode => '44000',
                 city => 'Nantes' } });
my $r = as_portal_sql("SELECT login FROM portal.account_create($holder,"
    . " 'eloise.lefevre', " . sql_quote($HASH{$PASSWORD}) . ", 1::smallint,"
    . sql_quote($HASH{medor}) . ", 'email', NULL, '$URL')");
ok($r->{ok}, 'account_create') or diag $r->{err};
my $E = q1("SELECT id FROM portal.accounts WHERE login = 'eloise.lefevre'");

my $A = account_sql('jean.dupont');
my $B = account_sql('paul.martin');

# validate_account() is the operators' (psql as the owner), no longer the
# runtime role's: agents validate through agent_account_validate()
my @failed;
eval { q1("SELECT portal.validate_account('$A', '$URL')"); 1 }
    or push @failed, "validate_account: $@";

my @steps = (
    "SELECT portal.agent_account_validate('$admin', '$B', '$URL')",
    "SELECT portal.reset_grant('$A', " . sql_quote($HASH{$PASSWORD})
        . ", 'Tmp-1234-abcd', '$URL')",
    "SELECT portal.password_set('$A', " . sql_quote($HASH{$PASSWORD})
        . ", '$URL')",
    "SELECT portal.me_update('$E', '{\"holder\": {\"email\":"
        . " \"eloise.nouvelle\@example.org\"}}', '$URL')",
);
for my $s (@steps) {
    my $o = as_portal_sql($s);
    push @failed, "$s: $o->{err}" unless $o->{ok};
}

# requests: started and submitted, changed once submitted, without an
# account, then moved by an agent through every state, and messages
my $req = submitted_request($A, 'signalement-voirie');
my $o = as_portal_sql(sprintf(
    'SELECT portal.request_update(%s, %s, NULL, %s, NULL, %s)',
    sql_quote($A), sql_quote($req),
    json_literal({ %VOIRIE, lieu => '14 rue des Lilas' }), sql_quote($URL)));
push @failed, "request_update: $o->{err}" unless $o->{ok};
anonymous_request({ civility => 'M', first_name => 'Luc',
                    last_name => 'Bernard', email => 'luc@example.org' });

# an incomplete request that its citizen completes: "complétée"
my %moved;
my @path = ([$req, 'en_traitement'],
            [$req, 'incomplet', 'Il manque le lieu exact.'],
            [$req, 'submit'], [$req, 'en_traitement'], [$req, 'complet'],
            [$req, 'valide']);
my $req2 = submitted_request($B, 'signalement-voirie');
push @path, [$req2, 'en_traitement'],
             [$req2, 'rejete', 'Hors du territoire de la commune.'];
my $req3 = submitted_request($B, 'signalement-voirie');
push @path, [$req3, 'annule', 'Demande faite deux fois.'];
for my $p (@path) {
    my ($id, $to, $motive) = @$p;
    if ($to eq 'submit') {
        $o = as_portal_sql(sprintf(
            'SELECT portal.request_submit(%s, %s, NULL, NULL, %s)',
            sql_quote($A), sql_quote($id), sql_quote($URL)));
        push @failed, "submit again: $o->{err}" unless $o->{ok};
        next;
    }
    $o = agent_call('agent_request_transition', $admin, $id, $to, undef,
                    $motive, undef, $URL);
    push @failed, "transition to $to: $o->{err}" unless $o->{ok};
    $moved{$to}++ if $o->{ok};
}
for my $k (['information', undef], ['decision', 'Le dossier est complet.']) {
    $o = agent_call('agent_message_send', $admin, $req, $k->[0],
                    "Un message du service ($k->[0]).", $k->[1], undef, $URL);
    push @failed, "message $k->[0]: $o->{err}" unless $o->{ok};
}
ok(!@failed, 'every operation that mails went through')
    or diag join "\n", @failed;


# ------------------------------------------------------- the mails, read

my @rows = map { [@$_[0 .. 2], lines($_->[3])] }
           q1("SELECT id, recipient, subject, replace(body, E'\\n', '\\n')"
            . " FROM portal.outbox ORDER BY id");
cmp_ok(scalar @rows, '>=', 20, scalar(@rows) . ' mails queued');

my (%made, @bad);
for my $row (@rows) {
    my ($id, $to, $subject, $body) = @$row;
    my ($kind) = grep { $subject =~ $KINDS{$_}[1] } sort keys %KINDS;
    unless ($kind) {
        push @bad, "mail $id: a subject of no kind: $subject";
        next;
    }
    $made{ $KINDS{$kind}[1] }++;
    push @bad, "mail $id ($subject): no greeting"
        unless $body =~ /\ABonjour (?:Madame|Monsieur) \S/;
    push @bad, "mail $id ($subject): does not say that no reply is needed"
        unless $body =~ $NO_REPLY;
    push @bad, "mail $id ($subject): English words"
        if "$subject $body"
           =~ /\b(?:the|your|please|request|account|password|dear)\b/i;
    push @bad, "mail $id ($subject): not one French word"
        unless $body =~ /\b(?:votre|vous|demande|compte|Mairie)\b/;
}
ok(!@bad, 'every mail: a greeting, the no-reply sentence, in French')
    or diag join "\n", @bad;

for my $fn (sort keys %KINDS) {
    my ($what, $re, $here, $format) = @{ $KINDS{$fn} };
    if ($here) {
        ok($made{$re}, "$what ($fn): made and read") or diag "none for $re";
    } else {
        like($src{$fn} // '',
             qr/portal\.request_notify\(r,.*\n\s*
                format\('\Q$format\E'/x,
             "$what ($fn): made by t/051; here its French subject, through"
             . " request_notify");
    }
}

# the FAQ's meaning of each state an agent moved the request to
my %meaning = map { $_->[0] => $_->[1] }
              q1("SELECT state, meaning FROM portal.request_states");
my @missing;
for my $to (sort keys %moved) {
    my $label = q1("SELECT label FROM portal.request_states"
                 . " WHERE state = '$to'");
    push @missing, $to
        unless grep { $_->[3] =~ /« \Q$label\E » : \Q$meaning{$to}\E/ } @rows;
}
ok(!@missing && keys %moved == 6, 'each state change gives the meaning of'
   . ' its state: ' . join(', ', sort keys %moved))
    or diag "without its meaning: @missing";

my ($rejet) = grep { $_->[2] =~ /rejetée/ } @rows;
like($rejet ? $rejet->[3] : '', qr/Motif : Hors du territoire/,
     'a rejection gives its motive');
my ($decision) = grep { $_->[2] =~ /\ADécision/ } @rows;
like($decision ? $decision->[3] : '', qr/Motif : Le dossier est complet\./,
     'a decision gives its motive');
