# Agents moving requests along the state machine, in PostgreSQL, as the
# module will call it: every move from every state allowed or refused as
# portal.request_transitions says (409), a rejection without a motive
# refused (422), the history row (who, when, from, to, motive), and the
# citizen told on the request's contact mode by the same transaction (an
# e-mail queued, a letter to print, a call to make), in words that give
# the FAQ's meaning of the new state and say that no reply is needed.
# Two agents acting on one request at once: exactly one wins.  One request
# read whole (history, documents, applicant, contact mode) under an audit
# row, its documents, and an instructeur's themes.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen qw(account_sql);
use Test::Portal::Requests;
use Test::Portal::Agents;

plan tests => 64;

my @STATES = qw(brouillon en_attente en_traitement incomplet rectifie
                complet rejete annule valide);

my $admin = agent_sql('alice', 'admin', name => 'Alice Martin');
my $cadre = agent_sql('yann', 'instructeur', themes => ['cadre-de-vie']);
my $civil = agent_sql('ines', 'instructeur', themes => ['etat-civil']);

my $A = account_sql('jean.dupont', phone => '0601020304');
q1("UPDATE portal.accounts SET civility = 'Mme', first_name = 'Jeanne'"
   . " WHERE id = '$A'");

sub move {
    my ($agent, $id, $to, %o) = @_;
    return agent_call('agent_request_transition', $agent, $id, $to,
                      $o{from}, $o{motive}, $o{message}, $URL);
}

sub state_of {
    scalar q1("SELECT state FROM portal.requests WHERE id = '$_[0]'");
}

sub count_of { scalar q1("SELECT count(*) FROM $_[0]") }

# a request of the account in a state, put there by hand
sub in_state {
    my ($state, %o) = @_;
    my $id = submitted_request($A, 'signalement-voirie', %o);
    q1("UPDATE portal.requests SET state = '$state' WHERE id = '$id'");
    return $id;
}


# ------------------------------------------------- the state machine

{
    my %allowed = map { ("$_->[0] $_->[1]" => $_->[2]) } q1(
        "SELECT from_state, to_state, motive_required"
        . " FROM portal.request_transitions WHERE actor = 'agent'");
    my @bad;
    my $model = submitted_request($A, 'signalement-voirie');
    my $n = 0;
    for my $from (@STATES) {
        # nine copies of a request, in the state, made at once
        my @ids = map { $_->[0] } q1(
            "INSERT INTO portal.requests (reference, procedure_id,"
            . " account_id, data, state, contact_mode, submitted_at)"
            . " SELECT '1999-' || lpad((i + $n)::text, 6, '0'),"
            . " procedure_id, account_id, data, '$from', contact_mode,"
            . " now() FROM portal.requests, generate_series(1, 9) i"
            . " WHERE id = '$model' ORDER BY i RETURNING id");
        $n += 9;
        my %req = map { $STATES[$_] => $ids[$_] } 0 .. $#STATES;
        my @res = as_portal_parallel([map {
            sprintf("SELECT portal.agent_request_transition('%s', '%s',"
                    . " '%s', NULL, %s, NULL, '%s') ->> 'state'",
                    $admin, $req{$_}, $_,
                    $_ eq 'rejete' ? "'Pièce manquante.'" : 'NULL', $URL)
        } @STATES]);
        for my $i (0 .. $#STATES) {
            my $to = $STATES[$i];
            my $want = $from eq 'brouillon' ? 'NULL'
                     : exists $allowed{"$from $to"} ? $to
                     : 'P0001 request_transition';
            my $got = $res[$i]{ok}
                    ? (length $res[$i]{rows}[0][0] ? $res[$i]{rows}[0][0]
                                                   : 'NULL')
                    : refusal($res[$i]);
            push @bad, "$from -> $to: $got, not $want" if $got ne $want;
            my $now = state_of($req{$to});
            push @bad, "$from -> $to left it $now"
                if $now ne ($want eq $to ? $to : $from);
        }
    }
    ok(!@bad, 'each of the 81 moves is made when request_transitions lets'
              . ' an agent make it, refused (409) otherwise; a draft is no'
              . ' agent\'s (404)') or diag join "\n", @bad;
    is(count_of("portal.request_events WHERE actor = 'agent'"),
       scalar(grep { !/^brouillon / } keys %allowed),
       '... each move made has its history row, a refused one none');
}


# ------------------------------------------------------------ one move

my $r = in_state('en_attente');
my $t = decoded(move($admin, $r, 'en_traitement'));
is($t->{state}, 'en_traitement', 'a move answers the request in its new'
                                  . ' state');
my $h = $t->{history}[-1];
ok($h->{from} eq 'en_attente' && $h->{to} eq 'en_traitement'
   && $h->{actor} eq 'agent' && $h->{agent}{login} eq 'alice'
   && $h->{agent}{name} eq 'Alice Martin' && !defined $h->{motive}
   && $h->{at} =~ /\A\d{4}-\d\d-\d\dT/,
   '... its history says who made it, when, from and to what')
    or diag explain $h;
is_deeply([map { $_->{to} } @{ $t->{transitions} }],
          [qw(incomplet complet rejete annule valide)],
          '... and what an agent may do next');
is_deeply([map { $_->{to} } grep { $_->{motive_required} }
           @{ $t->{transitions} }], ['rejete'],
          '... a rejection needing a motive');

my ($mail) = q1("SELECT m.kind, m.channel, m.recipient, o.recipient,"
                . " o.subject, m.subject, m.agent_id,"
                . " o.xmin = e.xmin AND e.xmin = r.xmin,"
                . " o.body ~ 'passée à l''état « en traitement » : un agent"
                . " a pris en charge votre demande',"
                . " o.body ~ 'ne demande aucune réponse de votre part',"
                . " o.body ~ '^Bonjour Madame Jeanne Dupont,',"
                . " o.body ~ 'onglet « Demandes »',"
                . " o.next_attempt_at <= now(), m.sent_at <= now()"
                . " FROM portal.messages m"
                . " JOIN portal.outbox o ON o.id = m.outbox_id"
                . " JOIN portal.requests r ON r.id = m.request_id"
                . " JOIN portal.request_events e ON e.request_id = r.id"
                . " AND e.to_state = 'en_traitement'"
                . " WHERE m.request_id = '$r' AND m.agent_id IS NOT NULL");
ok($mail && $mail->[0] eq 'information' && $mail->[1] eq 'email'
   && $mail->[2] eq 'jean.dupont@example.org' && $mail->[3] eq $mail->[2]
   && $mail->[4] eq $mail->[5] && $mail->[6] eq $admin,
   'the citizen is told by e-mail (the request\'s contact mode), an'
   . ' information written by the agent') or diag explain $mail;
like($mail->[4] // '', qr/\ADemande \d{4}-\d{6} : en traitement\z/,
     '... "Demande <référence> : en traitement"');
is($mail->[7], 't', '... queued by the transaction of the move and its'
                    . ' history row');
is(join(' ', @{$mail}[8 .. 13]), 't t t t t t',
   '... giving the FAQ\'s meaning of the state, saying that no reply is'
   . ' needed, greeting her, pointing to the tab « Demandes », due now');

# rejection: a motive, a decision
my $outbox0 = count_of('portal.outbox');
for my $motive (undef, '', "  \n ") {
    is(refusal(move($admin, $r, 'rejete', motive => $motive)),
       'P0001 request_motive', 'a rejection without a motive is refused'
       . ' (422)' . (defined $motive ? ' (blank)' : ''));
}
is(refusal(move($admin, $r, 'rejete', motive => 'x' x 2001)),
   '23514 request_events_motive_check', '... so is a motive of more than'
   . ' 2000 characters (422)');
ok(state_of($r) eq 'en_traitement' && count_of('portal.outbox') == $outbox0
   && count_of("portal.request_events WHERE request_id = '$r'") == 3,
   '... leaving the request, its history and the outbox as they were');
$t = decoded(move($admin, $r, 'rejete',
                  motive => ' Le lieu signalé est une voie privée. ',
                  message => 'Adressez-vous au syndic.'));
is($t->{history}[-1]{motive}, 'Le lieu signalé est une voie privée.',
   'a rejection with its motive: the motive in the history');
($mail) = q1("SELECT m.kind, o.subject,"
             . " o.body ~ 'passée à l''état « rejeté » : l''agent"
             . " instructeur a rejeté votre demande',"
             . " o.body ~ 'Motif : Le lieu signalé est une voie privée\\.',"
             . " o.body ~ 'Message du service instructeur :\\s+Adressez-vous"
             . " au syndic\\.',"
             . " o.body ~ 'ne demande aucune réponse de votre part'"
             . " FROM portal.messages m"
             . " JOIN portal.outbox o ON o.id = m.outbox_id"
             . " WHERE m.request_id = '$r' ORDER BY m.created_at DESC,"
             . " o.id DESC LIMIT 1");
ok($mail->[0] eq 'decision' && $mail->[1] =~ /\ADemande \S+ rejetée\z/,
   '... told as a decision, "Demande <référence> rejetée"')
    or diag explain $mail;
is(join(' ', @{$mail}[2 .. 5]), 't t t t', '... with the meaning, the'
   . ' motive, the agent\'s message and that no reply is needed');

is(refusal(move($admin, $r, 'perdu')), 'P0001 request_transition_to',
   'a state that does not exist: 422');
is(refusal(move($admin, $r, undef)), 'P0001 request_transition_to',
   '... nor does none');
is(refusal(move($admin, $r, 'valide')), 'P0001 request_transition',
   'from a final state, nothing more (409)');

# every state reached says what it means
{
    my @bad;
    for my $case (['en_attente', 'en_traitement'],
                  ['en_traitement', 'incomplet'],
                  ['en_traitement', 'complet'], ['complet', 'valide'],
                  ['en_attente', 'annule'], ['rectifie', 'en_traitement']) {
        my ($from, $to) = @$case;
        my $id = in_state($from);
        my $res = move($admin, $id, $to);
        my ($ok) = q1("SELECT position(s.meaning IN o.body) > 0"
                      . " AND o.body ~ 'aucune réponse'"
                      . " AND m.kind = CASE WHEN s.final THEN 'decision'"
                      . " ELSE 'information' END"
                      . " FROM portal.messages m"
                      . " JOIN portal.outbox o ON o.id = m.outbox_id"
                      . " JOIN portal.request_states s ON s.state = '$to'"
                      . " WHERE m.request_id = '$id'"
                      . " AND m.agent_id IS NOT NULL");
        push @bad, "$from -> $to: " . ($res->{ok} ? 'mail' : $res->{err})
            unless $ok && $ok->[0] eq 't';
    }
    ok(!@bad, 'each move\'s mail gives the FAQ\'s meaning of the state it'
              . ' reaches, a decision for a final one, an information'
              . ' otherwise') or diag join "\n", @bad;
}


# ---------------------------------------------------- contact modes

{
    my $p = in_state('en_attente', contact => 'post');
    my $outbox = count_of('portal.outbox');
    ok(move($admin, $p, 'en_traitement')->{ok},
       'a request to be answered by post moves');
    is(count_of('portal.outbox'), $outbox, '... no mail is queued');
    is(q1("SELECT count(*) FROM portal.letters l"
          . " JOIN portal.messages m ON m.id = l.message_id"
          . " WHERE m.request_id = '$p' AND m.channel = 'post'"), 1,
       '... a letter is to print');
    is(q1("SELECT replace(recipient, E'\\n', ' | ') FROM portal.messages"
          . " WHERE request_id = '$p' AND channel = 'post'"),
       'Madame Jeanne Dupont | 1 place de la Mairie | 44000 Nantes',
       '... name, street, postcode and town, one a line');
    is(q1("SELECT l.due_at <= now() AND l.printed_at IS NULL"
          . " AND m.body ~ '^Madame,'"
          . " AND m.body ~ 'Ce courrier ne demande aucune réponse'"
          . " AND l.xmin = r.xmin FROM portal.letters l"
          . " JOIN portal.messages m ON m.id = l.message_id"
          . " JOIN portal.requests r ON r.id = m.request_id"
          . " WHERE m.request_id = '$p'"), 't',
       '... due now, not printed, a letter saying no reply is needed');

    my $ph = in_state('en_attente', contact => 'phone');
    $outbox = count_of('portal.outbox');
    ok(move($admin, $ph, 'en_traitement')->{ok},
       'a request to be answered by phone moves');
    is(q1("SELECT m.channel || ' ' || m.recipient FROM portal.calls c"
          . " JOIN portal.messages m ON m.id = c.message_id"
          . " WHERE m.request_id = '$ph' AND c.done_at IS NULL"
          . " AND c.due_at <= now()"), 'phone 0601020304',
       '... a call is to make, to the holder\'s number');
    is(count_of('portal.outbox'), $outbox, '... and no mail is queued');

    q1("UPDATE portal.accounts SET phone = NULL WHERE id = '$A'");
    ok(move($admin, $ph, 'complet')->{ok}
       && q1("SELECT channel || ' ' || recipient FROM portal.messages"
             . " WHERE request_id = '$ph' ORDER BY created_at DESC"
             . " LIMIT 1") eq 'email jean.dupont@example.org',
       'a phone contact whose number is gone is told by e-mail');
    q1("UPDATE portal.accounts SET phone = '0601020304' WHERE id = '$A'");

    my $anon = anonymous_request({
        civility => 'M', first_name => 'Zoé', last_name => 'Anonyme',
        birth_date => '1990-01-01', email => 'zoe@example.org',
        address => { line => '2 rue Neuve', postcode => '44000',
                     city => 'Nantes' } });
    ok(move($admin, $anon, 'en_traitement')->{ok}
       && move($admin, $anon, 'incomplet',
               message => 'Envoyez une photo à voirie@mairie.example.')
              ->{ok},
       'a request made without an account moves');
    is(q1("SELECT o.recipient = 'zoe\@example.org'"
          . " AND o.body ~ '^Bonjour Monsieur Zoé Anonyme,'"
          . " AND o.body ~ 'ce qui manque'"
          . " AND o.body ~ 'voirie\@mairie\\.example'"
          . " AND o.body !~ 'onglet' FROM portal.messages m"
          . " JOIN portal.outbox o ON o.id = m.outbox_id"
          . " WHERE m.request_id = '$anon' AND m.agent_id IS NOT NULL"
          . " ORDER BY o.id DESC LIMIT 1"), 't',
       '... its applicant is told, without a word of a tab they do not'
       . ' have');
}


# ------------------------------------------- the citizen's turn between

{
    my $id = in_state('en_traitement');
    ok(move($admin, $id, 'incomplet',
            message => 'Il manque une photo.')->{ok},
       'an agent finds the request incomplete');
    is(q1("SELECT o.body ~ 'Vous pouvez la compléter' FROM portal.outbox o"
          . " JOIN portal.messages m ON m.outbox_id = o.id"
          . " WHERE m.request_id = '$id' AND m.agent_id IS NOT NULL"), 't',
       '... the citizen is told they may complete it');
    my $s = as_portal_sql("SELECT portal.request_submit('$A', '$id', NULL,"
                          . " NULL, '$URL') ->> 'state'");
    is($s->{rows}[0][0], 'rectifie', '... which they do (rectifie)');
    is(decoded(move($admin, $id, 'en_traitement',
                    from => 'rectifie'))->{state}, 'en_traitement',
       '... and the agent takes it again');
}


# --------------------------------------------------- two agents at once

{
    # the first agent's move holds the row; the second waits for it, then
    # finds the state moved on
    my $id = in_state('en_traitement');
    my $s = pg_session();
    $s->query('SET ROLE portal');
    $s->query('BEGIN');
    my $first = $s->query("SELECT portal.agent_request_transition("
                          . "'$admin', '$id', 'complet', 'en_traitement',"
                          . " NULL, NULL, '$URL') ->> 'state'");
    my $waited;
    my ($second) = as_portal_parallel([
        "SELECT portal.agent_request_transition('$cadre', '$id', 'valide',"
        . " 'en_traitement', NULL, NULL, '$URL') ->> 'state'"],
        started => sub {
            $waited = wait_until(sub { backends_waiting_on_lock() >= 1 },
                                 30, 'the second move waiting');
            $s->query('COMMIT');
        });
    $s->close;
    is($first, 'complet', 'two agents act on one request at once: the'
                          . ' first moves it');
    ok($waited, '... the second waits for the first\'s row lock');
    is(refusal($second), 'P0001 request_state',
       '... then is refused (409): the request is no longer in the state'
       . ' it saw');
    is(state_of($id), 'complet', '... the first\'s move stands');
    is(count_of("portal.request_events WHERE request_id = '$id'"
                . " AND actor = 'agent'"), 1,
       '... with one history row');
    is(count_of("portal.messages WHERE request_id = '$id'"
                . " AND agent_id IS NOT NULL"), 1,
       '... and one notification');

    # the same move twice, without "from": the state machine refuses the
    # second
    my $id2 = in_state('en_attente');
    my @res = as_portal_parallel([map {
        "SELECT portal.agent_request_transition('$_', '$id2',"
        . " 'en_traitement', NULL, NULL, NULL, '$URL') ->> 'state'"
    } $admin, $cadre]);
    is(join(' ', sort map { $_->{ok} ? 'ok' : refusal($_) } @res),
       'P0001 request_transition ok',
       'two agents taking one request at once: one takes it, the other is'
       . ' refused (409)');
    is(count_of("portal.request_events WHERE request_id = '$id2'"
                . " AND actor = 'agent'"), 1, '... one history row');
    is(refusal(move($admin, $id2, 'complet', from => 'en_attente')),
       'P0001 request_state', 'a move from a state the request left: 409');
}


# ------------------------------------------------------ one request

{
    my $id = in_state('en_attente');
    my $doc = value(agent_call('request_document_begin', $A, $id, 'photo',
                               'trou.jpg'));
    as_portal_sql("SELECT portal.request_document_chunk('$A', '$doc', 0,"
                  . " '\\xffd8ffe0aabb'::bytea)");
    my $fin = as_portal_sql("SELECT portal.request_document_finish('$A',"
                            . " '$doc', 'image/jpeg',"
                            . " sha256('\\xffd8ffe0aabb'::bytea), 6,"
                            . " '$URL')");
    ok($fin->{ok}, 'a request with a document') or diag outcome_text($fin);

    my $j = agent_json('agent_request', $cadre, $id);
    ok($j && $j->{id} eq $id && $j->{state} eq 'en_attente',
       'agent_request: the request') or diag explain $j;
    ok($j->{account}{login} eq 'jean.dupont'
       && $j->{account}{email} eq 'jean.dupont@example.org'
       && $j->{account}{phone} eq '0601020304'
       && $j->{account}{address}{city} eq 'Nantes',
       '... its applicant (the holder of the account)')
        or diag explain $j->{account};
    is_deeply($j->{contact}, { mode => 'email', label => 'courriel',
                               channel => 'email',
                               recipient => 'jean.dupont@example.org' },
              '... its contact mode, and whom it reaches');
    is_deeply([map { [$_->{from}, $_->{to}, $_->{actor}] }
               @{ $j->{history} }],
              [[undef, 'brouillon', 'citizen'],
               ['brouillon', 'en_attente', 'citizen']],
              '... its history');
    is_deeply([map { [$_->{filename}, $_->{size}] } @{ $j->{documents} }],
              [['trou.jpg', 6]], '... its documents');
    ok(grep({ $_->{label} eq 'Lieu' || $_->{name} eq 'lieu' }
            @{ $j->{answers} }),
       '... its answers as people read them') or diag explain $j->{answers};
    ok(@{ $j->{messages} } >= 2
       && !grep({ $_->{cancellable} } @{ $j->{messages} }),
       '... the messages the citizen was sent');
    is(q1("SELECT a.login || ' ' || l.action FROM portal.audit_log l"
          . " JOIN portal.agents a ON a.id = l.agent_id"
          . " WHERE l.request_id = '$id' AND l.account_id = '$A'"),
       'yann request_read', '... read under an audit row');

    my $c = as_portal_sql("SELECT n, encode(data, 'hex'), content_type,"
                          . " filename FROM portal.agent_request_document("
                          . "'$admin', '$id', '$doc')");
    is_deeply($c->{rows}, [['0', 'ffd8ffe0aabb', 'image/jpeg', 'trou.jpg']],
              'agent_request_document: the document\'s chunks')
        or diag outcome_text($c);
    is(count_of("portal.audit_log WHERE request_id = '$id'"
                . " AND action = 'request_document_read'"), 1,
       '... read under an audit row');
    is(as_portal_sql("SELECT n FROM portal.agent_request_document("
                     . "'$civil', '$id', '$doc')")->{out}, '',
       '... none for an instructeur of another theme');
    my $other = in_state('en_attente');
    is(as_portal_sql("SELECT n FROM portal.agent_request_document("
                     . "'$admin', '$other', '$doc')")->{out}, '',
       '... nor through another request');

    is(agent_json('agent_request', $civil, $id), undef,
       'an instructeur of another theme: NULL (404)');
    is(refusal(move($civil, $id, 'en_traitement')), '',
       '... and moves nothing...');
    is(state_of($id), 'en_attente', '... at all');
    my $draft = in_state('brouillon');
    is(agent_json('agent_request', $admin, $draft), undef,
       'a draft: NULL (404)');
    is(agent_json('agent_request', $admin,
                  '00000000-0000-4000-8000-000000000000'), undef,
       'an unknown request: NULL (404)');
}
