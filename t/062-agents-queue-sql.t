# The agents' work queue in PostgreSQL, as the module will call it:
# requests newest submission first, drafts never; filtered by state,
# procedure, theme, and a reference or a part of the applicant's name
# (case and accents ignored, without account too); read page after page
# by key; an instructeur limited to themes sees only theirs; what it
# refuses; and, on the bench's seed, pages read along the queue's indexes
# rather than sorted from the whole table.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen qw(account_sql);
use Test::Portal::Requests;
use Test::Portal::Agents;

plan tests => 46;

my $admin = agent_sql('alice', 'admin');
my $civil = agent_sql('ines', 'instructeur', themes => ['etat-civil']);
my $cadre = agent_sql('yann', 'instructeur', themes => ['cadre-de-vie']);

sub queue {
    my ($agent, %o) = @_;
    return agent_json('agent_requests', $agent, $o{state}, $o{procedure},
                      $o{theme}, $o{q}, $o{page},
                      defined $o{limit} ? \"$o{limit}" : undef);
}

sub refs { join ' ', map { $_->{reference} } @{ $_[0] // [] } }

# every page of a queue, by its cursor
sub all_pages {
    my ($agent, %o) = @_;
    my (@all, $page, $n);
    do {
        $page = queue($agent, %o, limit => 2);
        push @all, @$page;
        $o{page} = @$page ? $page->[-1]{cursor} : undef;
    } while (@$page && ++$n < 50);
    return \@all;
}

# The reference of each request (by a name of the test's), and the order
# the queue must follow: newest submission first.
my %ref;
sub expected {
    my ($where) = @_;
    return join ' ', map { $_->[0] } q1(
        "SELECT reference FROM portal.requests WHERE state <> 'brouillon'"
        . ($where ? " AND $where" : '')
        . " ORDER BY coalesce(submitted_at, created_at) DESC, id DESC");
}


# --------------------------------------------------------- the requests

my $helene = account_sql('helene.leveque', first_name => 'Hélène',
                         last_name => 'Lévêque');
my $jp = account_sql('jean-pierre.lhote', first_name => 'Jean-Pierre',
                     last_name => "L''Hôte");    # (SQL, quoted)
my %id;
$id{voirie1} = submitted_request($helene, 'signalement-voirie');
$id{voirie2} = submitted_request($jp, 'signalement-voirie');
$id{tombe} = submitted_request($jp, 'concession-funeraire', data => {
    cimetiere => 'ancien', famille => 'Lhote', duree => '30',
    lien => 'fils' });
$id{anonyme} = anonymous_request({
    civility => 'Mme', first_name => 'Zoé', last_name => 'Anonyme',
    birth_date => '1990-01-01', email => 'zoe@example.org',
    address => { line => '2 rue Neuve', postcode => '44000',
                 city => 'Nantes' } });
my $brouillon = decoded(as_portal_sql(sprintf(
    'SELECT portal.request_create(%s, %s, NULL, %s, NULL, NULL, NULL, %s)',
    sql_quote($helene), "'signalement-voirie'", json_literal(\%VOIRIE),
    sql_quote($URL))))->{id};

# a day apart, the anonymous one newest; two at the very same time
my $i = 0;
for my $k (qw(anonyme tombe voirie2 voirie1)) {
    q1("UPDATE portal.requests SET submitted_at = now() - interval"
       . " '$i days' WHERE id = '$id{$k}'");
    $i++ unless $k eq 'tombe';
}
q1("UPDATE portal.requests SET state = 'en_traitement'"
   . " WHERE id IN ('$id{voirie2}', '$id{tombe}')");
%ref = map { $_ => scalar q1("SELECT reference FROM portal.requests"
                             . " WHERE id = '$id{$_}'") } keys %id;


# ------------------------------------------------------------ the queue

my $all = queue($admin);
is(refs($all), expected(), 'agent_requests: every request but drafts,'
                           . ' newest submission first');
ok(!grep({ $_->{id} eq $brouillon } @$all), '... never a brouillon');
my ($anon) = grep { $_->{id} eq $id{anonyme} } @$all;
ok($anon && $anon->{applicant}{name} eq 'Zoé Anonyme'
   && !defined $anon->{applicant}{login}
   && $anon->{procedure}{slug} eq 'signalement-voirie'
   && $anon->{theme}{slug} eq 'cadre-de-vie'
   && $anon->{state} eq 'en_attente' && $anon->{state_label} eq 'en attente'
   && $anon->{contact_mode} eq 'email'
   && $anon->{submitted_at} =~ /\A\d{4}-\d\d-\d\dT/ && $anon->{cursor},
   '... each with its reference, procedure, theme, state, applicant,'
   . ' contact mode, submission and cursor') or diag explain $anon;
my ($v1) = grep { $_->{id} eq $id{voirie1} } @$all;
is_deeply($v1->{applicant}, { name => 'Hélène Lévêque',
                              login => 'helene.leveque' },
          '... the applicant of an account is its holder, with the login');
# the procedures' and themes' objects are made once a page: each item
# has its own, a page holding two themes
my %pt = map { $_->[0] => join('|', @$_[1 .. 4]) } q1(
    "SELECT r.id, p.slug, p.title, t.slug, t.title FROM portal.requests r"
    . " JOIN portal.procedures p ON p.id = r.procedure_id"
    . " JOIN portal.themes t ON t.id = p.theme_id");
my @pt = map { join('|', $_->{procedure}{slug}, $_->{procedure}{title},
                    $_->{theme}{slug}, $_->{theme}{title}) } @$all;
ok(@pt == 4 && (grep { $_ =~ /\|cadre-de-vie\|/ } @pt) == 3
   && join("\n", @pt) eq join("\n", map { $pt{$_->{id}} } @$all),
   '... each with its own procedure and theme, of two themes on a page')
    or diag explain \@pt;

is(refs(all_pages($admin)), expected(),
   'page after page by the cursor: each request once, in order');
is(refs(queue($admin, limit => 2)), join(' ', (split / /, expected())[0, 1]),
   '... a page of the size asked');
is(scalar @{ queue($admin, limit => 0) }, 1, '... a page has one item at'
                                             . ' least');
is(refs(all_pages($admin, state => 'en_traitement')),
   expected("state = 'en_traitement'"),
   '... and through a filter as well');

is(refs(queue($admin, state => 'en_attente')),
   expected("state = 'en_attente'"), 'filtered by state');
is(refs(queue($admin, procedure => 'concession-funeraire')), $ref{tombe},
   'filtered by procedure');
is(refs(queue($admin, theme => 'cadre-de-vie')),
   expected("procedure_id IN (SELECT p.id FROM portal.procedures p"
            . " JOIN portal.themes t ON t.id = p.theme_id"
            . " WHERE t.slug = 'cadre-de-vie')"), 'filtered by theme');
is(refs(queue($admin, theme => 'cadre-de-vie', state => 'en_traitement')),
   $ref{voirie2}, '... filters add up');
is(refs(queue($admin, theme => 'etat-civil',
              procedure => 'signalement-voirie')), '',
   '... a procedure out of the theme: nothing');


# --------------------------------------------------------------- search

is(refs(queue($admin, q => $ref{tombe})), $ref{tombe},
   'a reference finds its request');
(my $short = $ref{tombe}) =~ s/-0+/-/;
is(refs(queue($admin, q => $short)), $ref{tombe},
   '... written without its zeros too');
is(refs(queue($admin, q => 'leveque')), $ref{voirie1},
   'a part of a name finds the holder\'s requests, without accents');
is(refs(queue($admin, q => 'HÉLÈNE LÉVÊ')), $ref{voirie1},
   '... whatever the case, accents given or not');
is(refs(queue($admin, q => 'pierre l hôte')),
   expected("account_id = '$jp'"),
   '... a hyphen and an apostrophe as spaces');
is(refs(queue($admin, q => 'zoe')), $ref{anonyme},
   '... and an applicant without an account');
is(refs(queue($admin, q => 'lhote', state => 'en_traitement',
              procedure => 'signalement-voirie')), '',
   '... "lhote" is not "l hote": a part of the name as it is written');
is(refs(queue($admin, q => 'hote', state => 'en_traitement',
              procedure => 'signalement-voirie')), $ref{voirie2},
   '... and with the filters');
is(refs(queue($admin, q => '%%')), '', 'the search\'s % is a character,'
                                       . ' not a wildcard');
is(refs(queue($admin, q => '__')), '', '... and so is _');
is(refs(queue($admin, q => 'Brouillon')), '', 'a name nobody has: nothing');
ok(as_portal_sql("SELECT portal.me_update('$helene',"
                 . " '{\"holder\": {\"last_name\": \"Martin-Lévêque\"}}')")
       ->{ok}, 'a holder changes her name');
is(refs(queue($admin, q => 'martin leveque')), $ref{voirie1},
   '... her requests are found by the new one');
is(refs(queue($admin, q => 'helene leveque')), '', '... not by the old');


# --------------------------------------------------------------- themes

is(refs(queue($cadre)), expected("procedure_id IN (SELECT p.id FROM"
                                 . " portal.procedures p JOIN portal.themes t"
                                 . " ON t.id = p.theme_id"
                                 . " WHERE t.slug = 'cadre-de-vie')"),
   'an instructeur limited to a theme sees only its requests');
is(refs(queue($civil)), '', '... another, none of these');
is(refs(queue($cadre, theme => 'cimetieres')), '',
   '... asking for another theme shows nothing of it');
is(refs(queue($cadre, procedure => 'concession-funeraire')), '',
   '... nor another theme\'s procedure');
is(refs(queue($cadre, q => $ref{tombe})), '',
   '... nor its reference');
q1("DELETE FROM portal.agent_themes WHERE agent_id = '$civil'");
is(refs(queue($civil)), expected(), 'an instructeur without themes sees'
                                    . ' them all');


# -------------------------------------------------------------- refused

for my $bad (
    ['a draft\'s state', [state => 'brouillon'], 'agent_queue_state'],
    ['an unknown state', [state => 'perdu'], 'agent_queue_state'],
    ['an unknown procedure', [procedure => 'nulle-part'],
     'agent_queue_procedure'],
    ['an unknown theme', [theme => 'nulle-part'], 'agent_queue_theme'],
    ['a search of one character', [q => 'a'], 'agent_queue_q'],
    ['a search of 101 characters', [q => 'a' x 101], 'agent_queue_q'],
    ['a cursor it did not give', [page => "1.$admin'"], 'agent_page'])
{
    my ($what, $o, $want) = @$bad;
    my %o = @$o;
    is(refusal(agent_call('agent_requests', $admin, $o{state},
                          $o{procedure}, $o{theme}, $o{q}, $o{page},
                          undef)),
       "P0001 $want", "refused: $what ($want)");
}


# --------------------------------------- at scale, along the indexes

{
    q1("SET ROLE portal_owner; SELECT portal.bench_seed(400, 1600,"
       . " 'helene.leveque')");
    q1("VACUUM ANALYZE portal.requests");
    my $plan = sub {
        my ($args) = @_;
        my ($rc, $out, $err) = Test::Portal::run_cmd(
            ['psql', '-X', '-q', '-tA', '-h', pg_host(), '-U', 'postgres',
             '-d', test_db(), '-c',
             "LOAD 'auto_explain';"
             . " SET auto_explain.log_min_duration = 0;"
             . " SET auto_explain.log_nested_statements = on;"
             . " SET auto_explain.log_level = warning;"
             . " SET ROLE portal;"
             . " SELECT json_array_length(portal.agent_requests('$admin',"
             . " $args, NULL, 20))"],
            env => { PGOPTIONS => '-c client_min_messages=warning' });
        my ($page) = $err =~ /(Query\ Text:\ SELECT\ array_agg\(id\).*?)
                              (?=\nWARNING|\z)/xs;
        return ($out, $page // $err);
    };
    for my $case (
        ['the whole queue', 'NULL, NULL, NULL, NULL', qr/requests_queue\b/],
        ['a state', "'en_attente', NULL, NULL, NULL",
         qr/requests_queue_state\b/],
        ['a theme', "NULL, NULL, 'cadre-de-vie', NULL",
         qr/requests_queue(?:_procedure)?\b/],
        ['a common name', "NULL, NULL, NULL, 'martin'",
         qr/requests_queue\b/])
    {
        my ($what, $args, $index) = @$case;
        my ($out, $page) = $plan->($args);
        ok($out =~ /^20$/m && $page =~ /Index Only Scan[^\n]*$index/
           && $page !~ /Seq Scan on requests|Sort/,
           "at scale, a page of $what is read in the order of an index,"
           . " from the index alone") or diag "$out$page";
    }
    my ($out, $page) = $plan->("NULL, NULL, NULL, 'leveque'");
    ok($out =~ /^1$/m
       && $page =~ /Bitmap Index Scan on requests_name_search/
       && $page !~ /Seq Scan on requests/,
       'at scale, a rare name is found by trigrams') or diag "$out$page";
}
