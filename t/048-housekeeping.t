# Housekeeping runs on its own, every portal_housekeeping_interval, with
# or without portal_maildir: captchas expired more than a day ago, failures
# older than a day, mail delivered more than 90 days ago and an account's
# document left pending for more than an hour (an upload that will not
# finish) go, and so do letters printed and calls made more than 90 days
# ago and audit rows older than a year; what is recent, and mail still
# pending, stays.  The tables would otherwise grow under a flood of
# captchas or guesses, and the agents' records for ever.

use strict;
use warnings;
use lib 't/lib';
use Test::Portal;

sub count { scalar psql_query("SELECT count(*) FROM $_[0]") }

plan tests => count_tests() + 13;

# no portal_maildir: mail stays in the outbox
my $HTTP = "portal_captcha_test_answer KX7P4M;\n"
         . "portal_cookie_secure off;\n"
         . "portal_housekeeping_interval 100ms;\n";

psql_query(<<'SQL');
INSERT INTO portal.captchas (answer, created_at, expires_at) VALUES
    ('OLDOLD', now() - interval '2 days 10 minutes', now() - interval '2 days'),
    ('NEWNEW', now(), now() + interval '10 minutes');
INSERT INTO portal.auth_failures (scope, key, kind, at) VALUES
    ('addr', '10.48.0.1', 'password', now() - interval '2 days'),
    ('addr', '10.48.0.2', 'password', now());
INSERT INTO portal.outbox (recipient, subject, body, state, created_at,
                           sent_at) VALUES
    ('old@example.org', 'ancien', 'x', 'sent', now() - interval '100 days',
     now() - interval '100 days'),
    ('recent@example.org', 'récent', 'x', 'sent', now() - interval '10 days',
     now() - interval '10 days');
INSERT INTO portal.outbox (recipient, subject, body)
    VALUES ('pending@example.org', 'en attente', 'x');
INSERT INTO portal.accounts (login, civility, first_name, last_name,
    birth_date, email, address_line, postcode, city, contact_mode,
    password_hash, question_id, answer_hash)
VALUES ('jean.dupont', 'M', 'Jean', 'Dupont', '1980-04-12',
    'jean@example.org', '1 place de la Mairie', '44000', 'Nantes', 'email',
    'x', 1, 'y');
WITH d AS (
    INSERT INTO portal.documents (account_id, kind, filename, size, chunks,
                                  created_at)
    SELECT id, 'identite', f, 5, 1, now() - i
      FROM portal.accounts,
           (VALUES ('abandonne.pdf', interval '2 hours'),
                   ('en-cours.pdf', interval '1 minute')) v (f, i)
    RETURNING id)
INSERT INTO portal.document_chunks (document_id, n, data)
    SELECT id, 0, '%PDF-'::bytea FROM d;
INSERT INTO portal.agents (login, name, role, password_hash)
    VALUES ('alice', 'Alice Durand', 'admin', '$argon2id$x');
WITH m AS (
    INSERT INTO portal.messages (account_id, kind, channel, recipient,
                                 subject, body)
    SELECT id, 'information', c, 'x', s, 'x'
      FROM portal.accounts,
           (VALUES ('post', 'lettre ancienne'), ('post', 'lettre récente'),
                   ('post', 'lettre à imprimer'), ('phone', 'appel ancien'),
                   ('phone', 'appel récent'), ('phone', 'appel à passer'))
           v (c, s)
    RETURNING id, channel, subject),
l AS (
    INSERT INTO portal.letters (message_id, printed_at, printed_by)
    SELECT m.id, now() - i, CASE WHEN i IS NOT NULL THEN g.id END
      FROM m CROSS JOIN portal.agents g,
           (VALUES ('lettre ancienne', interval '100 days'),
                   ('lettre récente', interval '10 days'),
                   ('lettre à imprimer', NULL)) v (s, i)
     WHERE m.subject = v.s)
INSERT INTO portal.calls (message_id, done_at, done_by)
    SELECT m.id, now() - i, CASE WHEN i IS NOT NULL THEN g.id END
      FROM m CROSS JOIN portal.agents g,
           (VALUES ('appel ancien', interval '100 days'),
                   ('appel récent', interval '10 days'),
                   ('appel à passer', NULL)) v (s, i)
     WHERE m.subject = v.s;
INSERT INTO portal.audit_log (at, agent_id, action)
    SELECT now() - i, id, a FROM portal.agents,
           (VALUES (interval '400 days', 'account_read'),
                   (interval '300 days', 'request_read')) v (i, a);
SQL

# what remains of the agents' records: subjects of letters and calls left,
# actions in the audit log
sub records {
    return scalar psql_query(
        "SELECT string_agg(x, ',' ORDER BY x COLLATE \"C\") FROM ("
        . " SELECT m.subject FROM portal.letters l"
        . "   JOIN portal.messages m ON m.id = l.message_id"
        . " UNION ALL SELECT m.subject FROM portal.calls c"
        . "   JOIN portal.messages m ON m.id = c.message_id"
        . " UNION ALL SELECT action FROM portal.audit_log) r (x)");
}

ok(start_nginx(http_config => $HTTP,
               config => 'location /api/ { portal_api citizen; }'),
   'nginx starts without portal_maildir, portal_housekeeping_interval 100ms');

ok(wait_until(sub {
       psql_query("SELECT (SELECT count(*) FROM portal.captchas"
                  . "       WHERE answer = 'OLDOLD')"
                  . " + (SELECT count(*) FROM portal.auth_failures"
                  . "       WHERE key = '10.48.0.1')"
                  . " + (SELECT count(*) FROM portal.outbox"
                  . "       WHERE recipient = 'old\@example.org')"
                  . " + (SELECT count(*) FROM portal.documents"
                  . "       WHERE filename = 'abandonne.pdf')"
                  . " + (SELECT count(*) FROM portal.audit_log"
                  . "       WHERE action = 'account_read')") == 0
   }, 5, 'the old rows to go'),
   'the old rows go');
is(psql_query("SELECT count(*) FROM portal.captchas WHERE answer = 'OLDOLD'"),
   0, '... the captcha expired two days ago');
is(psql_query("SELECT count(*) FROM portal.auth_failures"
              . " WHERE key = '10.48.0.1'"), 0,
   '... the failure of two days ago');
is(psql_query("SELECT count(*) FROM portal.outbox"
              . " WHERE recipient = 'old\@example.org'"), 0,
   '... the mail sent 100 days ago');
is(psql_query("SELECT count(*) FROM portal.documents d"
              . " JOIN portal.document_chunks c ON c.document_id = d.id"
              . " WHERE d.filename = 'abandonne.pdf'"), 0,
   '... the document left pending two hours ago, with its chunks');
is(psql_query("SELECT state FROM portal.documents"
              . " WHERE filename = 'en-cours.pdf'"), 'pending',
   'a document pending for a minute stays');
is(psql_query("SELECT count(*) FROM portal.captchas WHERE answer = 'NEWNEW'"),
   1, 'a live captcha stays');
is(psql_query("SELECT count(*) FROM portal.auth_failures"
              . " WHERE key = '10.48.0.2'"), 1, 'a recent failure stays');
is(psql_query("SELECT count(*) FROM portal.outbox"
              . " WHERE recipient = 'recent\@example.org'"), 1,
   'the mail sent 10 days ago stays');
is(psql_query("SELECT state FROM portal.outbox"
              . " WHERE recipient = 'pending\@example.org'"), 'pending',
   'the pending mail stays, pending');
is(records(), join(',', sort('appel récent', 'appel à passer',
                             'lettre récente', 'lettre à imprimer',
                             'request_read')),
   'letters and calls done 100 days ago and the audit row of 400 days go;'
   . ' those of 10 days, those still to do and the row of 300 days stay');
is(psql_query("SELECT count(*) FROM portal.messages"
              . " WHERE subject IN ('lettre ancienne', 'appel ancien')"), 2,
   '... the messages of the letter and the call purged stay');

run_tests();

__DATA__

=== TEST 1: portal_housekeeping_interval 0 is refused
--- http_config
portal_housekeeping_interval 0;
--- config
location /api/ { portal_api citizen; }
--- must_die: portal_housekeeping_interval 0
--- no_error_log
unknown directive



=== TEST 2: portal_housekeeping_interval 1h is accepted
--- http_config
portal_housekeeping_interval 1h;
--- config
location /api/ { portal_api citizen; }
--- request
GET /api/health
--- response_body_json
{"status": "ok", "db": "ok"}
