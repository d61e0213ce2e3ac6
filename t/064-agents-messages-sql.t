# Agents writing to citizens, in PostgreSQL, as the module will call it:
# an information or a decision with its motive on a request, sent on its
# contact mode and seen in GET me/messages; an information scheduled for
# later (queued now, sent then, cancellable until it goes: against the
# outbox's lease, exactly one of the two happens); letters to print and
# mark printed, calls to make; the mail that failed, listed and tried
# again; and the whole list of what portal may call.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen qw(account_sql);
use Test::Portal::Requests;
use Test::Portal::Agents;

use FindBin ();

plan tests => 69;

my $admin = agent_sql('alice', 'admin', name => 'Alice Martin');
my $cadre = agent_sql('yann', 'instructeur', themes => ['cadre-de-vie']);
my $civil = agent_sql('ines', 'instructeur', themes => ['etat-civil']);

my $A = account_sql('jean.dupont', phone => '0601020304');
my $req = submitted_request($A, 'signalement-voirie');

sub send_message {
    my ($agent, $id, $kind, $body, %o) = @_;
    return agent_call('agent_message_send', $agent, $id, $kind, $body,
                      $o{motive},
                      defined $o{in} ? \"now() + interval '$o{in}'"
                                     : undef, $URL);
}

sub count_of { scalar q1("SELECT count(*) FROM $_[0]") }

# went through, answering NULL (the route's 404)
sub is_null { $_[0]{ok} && !defined value($_[0]) }

sub citizen_sees {
    my ($account) = @_;
    return [map { $_->{id} }
            @{ agent_json('me_messages', $account) // [] }];
}

# the outbox as the module's timer takes it: the ids leased
sub outbox_take {
    my $r = as_portal_sql("SELECT id FROM portal.outbox_take(100)");
    die "outbox_take: $r->{err}\n" unless $r->{ok};
    return [map { $_->[0] } @{ $r->{rows} }];
}


# ---------------------------------------------------------- now

my $m = decoded(send_message($admin, $req, 'information',
                             " Vos encombrants seront enlevés le 3 mars.\n"));
ok($m && $m->{kind} eq 'information' && $m->{channel} eq 'email'
   && $m->{recipient} eq 'jean.dupont@example.org'
   && !defined $m->{send_at} && $m->{sent_at} && !$m->{cancellable}
   && $m->{agent}{login} eq 'alice' && $m->{request}{id} eq $req,
   'agent_message_send: an information, by e-mail, gone at once')
    or diag explain $m;
like($m->{subject}, qr/\AInformation sur votre demande \d{4}-\d{6}\z/,
     '... "Information sur votre demande <référence>"');
is(q1("SELECT o.body ~ 'vous communique l''information suivante :\\s+"
      . "Vos encombrants seront enlevés le 3 mars\\.\\s'"
      . " AND o.body ~ 'ne demande aucune réponse de votre part'"
      . " AND o.next_attempt_at <= now() AND o.xmin = g.xmin"
      . " FROM portal.messages g JOIN portal.outbox o ON o.id = g.outbox_id"
      . " WHERE g.id = '$m->{id}'"), 't',
   '... its mail queued by the same transaction, due now, saying that no'
   . ' reply is needed');
ok(grep({ $_ eq $m->{id} } @{ citizen_sees($A) }),
   '... and the citizen sees it in GET me/messages');

my $d = decoded(send_message($cadre, $req, 'decision',
                             'Votre demande est acceptée.',
                             motive => 'Le trou est sur la voie publique.'));
ok($d && $d->{kind} eq 'decision'
   && $d->{subject} =~ /\ADécision sur votre demande \S+\z/,
   'a decision, "Décision sur votre demande <référence>"')
    or diag explain $d;
is(q1("SELECT body ~ 'la décision suivante :\\s+Votre demande est"
      . " acceptée\\.\\s+Motif : Le trou est sur la voie publique\\.'"
      . " AND body ~ 'aucune réponse' FROM portal.messages"
      . " WHERE id = '$d->{id}'"), 't', '... with its motive');
my ($seen) = grep { $_->{id} eq $d->{id} }
             @{ agent_json('me_messages', $A) };
ok($seen && $seen->{kind} eq 'decision' && $seen->{channel} eq 'email'
   && $seen->{request}{id} eq $req,
   '... which me_messages shows the citizen as it shows acknowledgements')
    or diag explain $seen;

my $outbox0 = count_of('portal.outbox');
my $messages0 = count_of('portal.messages');
for my $bad (
    ['a kind of message that does not exist', ['reminder', 'Texte'],
     'message_kind'],
    ['an acknowledgement, the portal\'s own', ['acknowledgement', 'Texte'],
     'message_kind'],
    ['an empty body', ['information', ''], 'message_body'],
    ['a blank body', ['information', " \n\t "], 'message_body'],
    ['a body of 5001 characters', ['information', 'x' x 5001],
     'message_body'],
    ['a decision scheduled', ['decision', 'Texte', in => '1 day'],
     'message_send_at'],
    ['an information more than a year ahead',
     ['information', 'Texte', in => '13 months'], 'message_send_at'])
{
    my ($what, $args, $want) = @$bad;
    is(refusal(send_message($admin, $req, @$args)), "P0001 $want",
       "refused: $what ($want, 422)");
}
is(count_of('portal.outbox') . ' ' . count_of('portal.messages'),
   "$outbox0 $messages0", '... leaving no message and no mail');
ok(is_null(send_message($civil, $req, 'information', 'Texte')),
   'a request of another theme: NULL (404)');
ok(is_null(send_message($admin, '00000000-0000-4000-8000-000000000000',
                        'information', 'Texte')),
   'an unknown request: NULL (404)');
my $past = decoded(send_message($admin, $req, 'information', 'Déjà.',
                                in => '-1 hour'));
ok($past && !defined $past->{send_at} && !$past->{cancellable},
   'a time already past: sent now') or diag explain $past;


# -------------------------------------------------------- scheduled

my $s = decoded(send_message($admin, $req, 'information',
                             'Sortez vos encombrants la veille au soir.',
                             in => '2 days'));
ok($s && $s->{send_at} && $s->{sent_at} eq $s->{send_at}
   && $s->{cancellable},
   'an information scheduled in two days: it goes then, cancellable until'
   . ' then') or diag explain $s;
is(q1("SELECT o.next_attempt_at = g.send_at AND o.attempts = 0"
      . " FROM portal.messages g JOIN portal.outbox o ON o.id = g.outbox_id"
      . " WHERE g.id = '$s->{id}'"), 't',
   '... its mail is queued now, due then');
ok(!grep({ $_ eq $s->{id} } @{ citizen_sees($A) }),
   '... the citizen does not see it yet');
my $taken = outbox_take();
ok(!grep({ $_ eq q1("SELECT outbox_id FROM portal.messages"
                    . " WHERE id = '$s->{id}'") } @$taken),
   '... nor does the outbox take it');
my ($listed) = grep { $_->{id} eq $s->{id} }
               @{ agent_json('agent_request', $admin, $req)->{messages} };
ok($listed && $listed->{cancellable}, 'agents see it in the request,'
                                      . ' cancellable');

my $c = decoded(agent_call('agent_message_cancel', $cadre, $s->{id}));
ok($c && $c->{cancelled_at} && !$c->{cancellable},
   'agent_message_cancel: cancelled') or diag explain $c;
is(q1("SELECT outbox_id IS NULL FROM portal.messages"
      . " WHERE id = '$s->{id}'"), 't', '... its mail goes with it');
is(refusal(agent_call('agent_message_cancel', $admin, $s->{id})),
   'P0001 message_sent', 'cancelled again: 409');
q1("UPDATE portal.messages SET send_at = now() - interval '1 minute',"
   . " sent_at = now() - interval '1 minute' WHERE id = '$s->{id}'");
ok(!grep({ $_ eq $s->{id} } @{ citizen_sees($A) }),
   'a cancelled message is never shown, even once its time has come');
is(refusal(agent_call('agent_message_cancel', $admin, $m->{id})),
   'P0001 message_sent', 'a message sent at once cannot be cancelled');
ok(is_null(agent_call('agent_message_cancel', $civil, $m->{id})),
   '... and another theme\'s is not found (404)');

# its time comes
my $later = decoded(send_message($admin, $req, 'information',
                                 'Rappel : demain matin.', in => '1 day'));
q1("UPDATE portal.messages SET send_at = now() - interval '1 second',"
   . " sent_at = now() - interval '1 second' WHERE id = '$later->{id}';"
   . " UPDATE portal.outbox SET next_attempt_at = now() - interval"
   . " '1 second' WHERE id = (SELECT outbox_id FROM portal.messages"
   . " WHERE id = '$later->{id}')");
ok(grep({ $_ eq $later->{id} } @{ citizen_sees($A) }),
   'once its time has come, the citizen sees a scheduled message');
my $oid = q1("SELECT outbox_id FROM portal.messages"
             . " WHERE id = '$later->{id}'");
ok(grep({ $_ eq $oid } @{ outbox_take() }), '... the outbox takes its mail');
is(refusal(agent_call('agent_message_cancel', $admin, $later->{id})),
   'P0001 message_sent', '... and it can no longer be cancelled (409)');

# the outbox's lease and a cancellation at once: exactly one happens
{
    my $x = decoded(send_message($admin, $req, 'information', 'Un.',
                                 in => '1 hour'));
    my $xo = q1("SELECT outbox_id FROM portal.messages"
                . " WHERE id = '$x->{id}'");
    # due for the outbox already (its clock a little ahead)
    q1("UPDATE portal.outbox SET next_attempt_at = now() - interval"
       . " '1 second' WHERE id = $xo");
    my $lease = pg_session();
    $lease->query('SET ROLE portal');
    $lease->query('BEGIN');
    my @leased = map { $_->[0] }
                 $lease->query('SELECT id FROM portal.outbox_take(100)');
    my $waited;
    my ($cancel) = as_portal_parallel([
        "SELECT portal.agent_message_cancel('$admin', '$x->{id}')"],
        started => sub {
            $waited = wait_until(sub { backends_waiting_on_lock() >= 1 },
                                 30, 'the cancellation waiting');
            $lease->query('COMMIT');
        });
    $lease->close;
    ok((grep { $_ eq $xo } @leased) && $waited,
       'a cancellation while the outbox holds the mail\'s lease waits');
    is(refusal($cancel), 'P0001 message_sent',
       '... then is refused (409): the mail has gone');
    is(q1("SELECT cancelled_at IS NULL FROM portal.messages"
          . " WHERE id = '$x->{id}'"), 't', '... the message stands');

    my $y = decoded(send_message($admin, $req, 'information', 'Deux.',
                                 in => '1 hour'));
    my $yo = q1("SELECT outbox_id FROM portal.messages"
                . " WHERE id = '$y->{id}'");
    q1("UPDATE portal.outbox SET next_attempt_at = now() - interval"
       . " '1 second' WHERE id = $yo");
    my $cs = pg_session();
    $cs->query('SET ROLE portal');
    $cs->query('BEGIN');
    my $cj = $cs->query("SELECT portal.agent_message_cancel('$admin',"
                        . " '$y->{id}') IS NOT NULL");
    my $took = outbox_take();
    $cs->query('COMMIT');
    $cs->close;
    ok($cj eq 't' && !grep({ $_ eq $yo } @$took),
       'a cancellation first: the outbox, at the same moment, passes the'
       . ' mail by');
    is(q1("SELECT count(*) FROM portal.outbox WHERE id = $yo"), 0,
       '... which is gone for good');
}


# -------------------------------------------------------- letters

my $P = account_sql('marie.poste');
q1("UPDATE portal.accounts SET civility = 'Mme' WHERE id = '$P'");
my $preq = submitted_request($P, 'signalement-voirie', contact => 'post');
my $outbox1 = count_of('portal.outbox');
my $lm = decoded(send_message($admin, $preq, 'information',
                              'Le trou sera comblé lundi.'));
ok($lm && $lm->{channel} eq 'post' && $lm->{letter}{id}
   && !defined $lm->{letter}{printed_at},
   'a message on a request answered by post is a letter to print')
    or diag explain $lm;
is(count_of('portal.outbox'), $outbox1, '... not a mail');
my $ls = decoded(send_message($admin, $preq, 'information',
                              'Rappel pour lundi.', in => '3 days'));

my $letters = agent_json('agent_letters', $admin, undef, undef, undef);
is_deeply([map { $_->{id} } @$letters], [$lm->{letter}{id}],
          'agent_letters: the letters due, not those scheduled');
my $l = $letters->[0];
ok($l->{recipient} eq "Madame Marie Poste\n1 place de la Mairie\n44000 Nantes"
   && $l->{subject} =~ /\AInformation sur votre demande/
   && $l->{body} =~ /\AMadame,\n\n.*Le trou sera comblé lundi\./s
   && $l->{body} =~ /Ce courrier ne demande aucune réponse de votre part\./
   && $l->{body} =~ /salutations distinguées/
   && $l->{request}{id} eq $preq,
   '... each with its address, subject and text: a letter saying that no'
   . ' reply is needed') or diag explain $l;
is_deeply(agent_json('agent_letters', $cadre, undef, undef, undef)
              ->[0]{id}, $l->{id},
          '... an instructeur of the request\'s theme sees it');
is(scalar @{ agent_json('agent_letters', $civil, undef, undef, undef) }, 0,
   '... another does not');
my $full = agent_json('agent_letter', $admin, $l->{id});
ok($full->{date_text} =~ /\A(?:1er|\d{1,2}) \S+ \d{4}\z/
   && join('|', @{ $full->{recipient_lines} }) eq
      'Madame Marie Poste|1 place de la Mairie|44000 Nantes',
   'agent_letter: what the printed page needs') or diag explain $full;
is(agent_json('agent_letter', $admin, $ls->{letter}{id}), undef,
   '... not for a letter whose time has not come');
is_deeply([q1("SELECT action, detail->>'letter', request_id, account_id"
              . " FROM portal.audit_log WHERE agent_id = '$admin'"
              . " ORDER BY id DESC LIMIT 1")],
          [['letter_read', $l->{id}, $preq, $P]],
          '... its read audited once, with the request and the account');

# a letter that no request holds any more (an account's message): its
# read is audited all the same, with the account
my $orphan = q1("WITH m AS (INSERT INTO portal.messages (account_id, kind,"
                . " channel, recipient, subject, body) VALUES ('$P',"
                . " 'information', 'post', 'Madame Marie Poste', 'Objet',"
                . " 'Corps') RETURNING id) INSERT INTO portal.letters"
                . " (message_id) SELECT id FROM m RETURNING id");
agent_json('agent_letter', $admin, $orphan);
is_deeply([q1("SELECT action, detail->>'letter', request_id, account_id"
              . " FROM portal.audit_log WHERE agent_id = '$admin'"
              . " ORDER BY id DESC LIMIT 1")],
          [['letter_read', $orphan, '', $P]],
          '... and a letter of no request, with its account');
q1("DELETE FROM portal.letters WHERE id = '$orphan'");
my $pr = agent_json('agent_letter_printed', $cadre, $l->{id});
ok($pr->{printed_at} && $pr->{printed_by}{login} eq 'yann',
   'agent_letter_printed: printed, and by whom') or diag explain $pr;
is(refusal(agent_call('agent_letter_printed', $admin, $l->{id})),
   'P0001 letter_printed', '... printed again: 409');
is(scalar @{ agent_json('agent_letters', $admin, undef, undef, undef) }, 0,
   '... it leaves the letters to print');
is_deeply([map { $_->{id} } @{ agent_json('agent_letters', $admin, \'true',
                                          undef, undef) }],
          [$l->{id}], '... for those printed');
ok(agent_call('agent_message_cancel', $admin, $ls->{id})->{ok}
   && count_of("portal.letters WHERE message_id = '$ls->{id}'") == 0,
   'a scheduled letter cancelled is never to print');


# ----------------------------------------------------------- calls

my $T = account_sql('paul.appel', phone => '0611223344');
my $treq = submitted_request($T, 'signalement-voirie', contact => 'phone');
my $cm = decoded(send_message($admin, $treq, 'information',
                              'Un agent passera jeudi.'));
ok($cm && $cm->{channel} eq 'phone' && $cm->{call}{id}
   && $cm->{recipient} eq '0611223344',
   'a message on a request answered by phone is a call to make')
    or diag explain $cm;
my $calls = agent_json('agent_calls', $admin, undef, undef, undef);
my ($call) = grep { $_->{id} eq $cm->{call}{id} } @$calls;
ok($call && $call->{phone} eq '0611223344'
   && $call->{name} eq 'Paul Appel'
   && $call->{body} =~ /la Mairie vous appelle.*Un agent passera jeudi\./s
   && $call->{body} =~ /Cet appel ne demande aucune réponse/,
   'agent_calls: whom to call, at which number, and what to say')
    or diag explain $call;
is(refusal(agent_call('agent_call_done', $admin, $call->{id}, 'x' x 501)),
   '23514 calls_note_check', 'a note of 501 characters: 422');
my $done = agent_json('agent_call_done', $admin, $call->{id},
                      ' Message laissé sur le répondeur. ');
ok($done->{done_at} && $done->{done_by}{login} eq 'alice'
   && $done->{note} eq 'Message laissé sur le répondeur.',
   'agent_call_done: made, by whom, with a note') or diag explain $done;
is(refusal(agent_call('agent_call_done', $admin, $call->{id}, undef)),
   'P0001 call_done', '... made again: 409');
ok(!grep({ $_->{id} eq $call->{id} }
         @{ agent_json('agent_calls', $admin, undef, undef, undef) })
   && grep({ $_->{id} eq $call->{id} }
           @{ agent_json('agent_calls', $admin, \'true', undef, undef) }),
   '... it moves from the calls to make to those made');
is(agent_json('agent_call_done', $civil, $call->{id}, undef), undef,
   '... another theme\'s call is not found (404)');


# ---------------------------------------------------------- outbox

{
    # a mail that fails 8 times
    my $mid = q1("INSERT INTO portal.outbox (recipient, subject, body)"
                 . " VALUES ('nulle\@part.invalid', 'Essai', 'Corps secret')"
                 . " RETURNING id");
    q1("UPDATE portal.outbox SET attempts = 7 WHERE id = $mid");
    q1("UPDATE portal.outbox SET next_attempt_at = now() + interval"
       . " '1 day' WHERE state = 'pending' AND id <> $mid");
    ok(grep({ $_ eq $mid } @{ outbox_take() })
       && as_portal_sql("SELECT portal.outbox_settle($mid,"
                        . " '550 no such user')")->{ok},
       'a mail fails for the 8th time');
    my $failed = agent_json('agent_outbox', $admin, 'failed', undef,
                            undef);
    ok(@$failed == 1 && $failed->[0]{id} == $mid
       && $failed->[0]{state} eq 'failed' && $failed->[0]{attempts} == 8
       && $failed->[0]{last_error} eq '550 no such user'
       && !exists $failed->[0]{body},
       'agent_outbox: the mail that failed for good, with its error,'
       . ' never its body') or diag explain $failed;
    is(refusal(agent_call('agent_outbox', $cadre, 'failed', undef, undef)),
       'P0001 agent_role', '... an admin\'s list (403)');
    is(refusal(agent_call('agent_outbox', $admin, 'lost', undef, undef)),
       'P0001 agent_filter', '... of failed, pending or sent mail (422)');
    my $pend = agent_json('agent_outbox', $admin, 'pending', undef, \'2');
    my $next = agent_json('agent_outbox', $admin, 'pending',
                          $pend->[-1]{cursor}, \'2');
    ok(@$pend == 2 && @$next && $next->[0]{id} < $pend->[-1]{id},
       '... newest first, page after page');
    my $re = agent_json('agent_outbox_retry', $admin, \$mid);
    ok($re->{state} eq 'pending' && $re->{attempts} == 0,
       'agent_outbox_retry: the mail is tried again, from 0 attempts')
        or diag explain $re;
    ok(grep({ $_ eq $mid } @{ outbox_take() }), '... at once');
    is(refusal(agent_call('agent_outbox_retry', $admin, \$mid)),
       'P0001 outbox_state', '... a mail that has not failed: 409');
    is(agent_json('agent_outbox_retry', $admin, \'-1'), undef,
       '... an unknown one: 404');
}


# ----------------------------------------------------------- grants

{
    my (%defined, %expected);
    for my $file (glob "$FindBin::Bin/../sql/functions/1[0-9][0-9]_*.sql") {
        open my $fh, '<:encoding(UTF-8)', $file or die "$file: $!\n";
        local $/;
        my $text = <$fh>;
        $defined{$1} = 1 while $text =~ /^CREATE FUNCTION portal\.(\w+)/mg;
    }
    $expected{$_} = 1 for qw(
        agent_credentials_begin agent_login_succeeded agent_session_check
        agent_session_end agent_me
        agent_accounts agent_account agent_account_validate
        agent_account_document
        agent_requests agent_request agent_request_transition
        agent_request_document
        agent_message_send agent_message_cancel agent_letters agent_letter
        agent_letter_printed agent_calls agent_call_done agent_outbox
        agent_outbox_retry agent_at agent_audit);
    my %granted = map { $_->[0] => 1 } q1(
        "SELECT p.proname FROM pg_proc p WHERE p.pronamespace ="
        . " 'portal'::regnamespace AND has_function_privilege('portal',"
        . " p.oid, 'EXECUTE')");
    is(join(' ', sort grep { $granted{$_} } keys %defined),
       join(' ', sort keys %expected),
       'portal may call exactly the back-office\'s functions the module'
       . ' calls, not their helpers nor make agent');
}
