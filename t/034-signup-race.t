# Fifty homonyms sign up at the same time, on two workers: each gets 201
# and a login of its own (jean.dupont, jean.dupont2 ... jean.dupont50: the
# counter's row lock orders them), and each login is mailed once, to the
# right person, although both workers take mail from the one outbox (FOR
# UPDATE SKIP LOCKED).

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;

use Time::HiRes qw(time);

my $N = 50;

plan tests => 22;

maildir_setup();
my $log_format = "log_format race '\$pid \$request \$status';\n";
ok(start_nginx(workers => 2,
               http_config => citizen_http_config(extra => $log_format),
               config => "location /api/ { portal_api citizen;"
                       . " access_log logs/access.log;"
                       . " access_log logs/race.log race; }"),
   'nginx starts with 2 workers');
is(scalar(my @w = worker_pids()), 2, '... and 2 worker processes run');

my $off = error_log_offset();
my $c = citizen();
ok(length $c->token, 'an anti-CSRF cookie and token');

# a captcha for each: one use each
my @captchas = map { captcha_api($c) } 1 .. $N;
is(scalar(keys %{{ map { $_ => 1 } @captchas }}), $N, "$N captchas");

# all at once, each with its own address to tell the mails apart.  Fifty
# Argon2id hashes on a thread pool at nice 19 take minutes on a loaded
# machine: the client's timeout only tells a hang from slowness.
my $t0 = time;
my @h = map {
    $c->start(POST => 'accounts',
              signup_data(captcha_id => $captchas[$_ - 1],
                          email => "jd$_\@example.org"),
              timeout => 600)
} 1 .. $N;
my @res = http_collect(@h);
my $took = time - $t0;
note sprintf "%d sign-ups in %.1f s", $N, $took;

my @status = map { $_->{status} // 'none' } @res;
is(scalar(grep { $_ eq '201' } @status), $N, "$N x 201")
    or diag "statuses: @status\n" . join "\n",
            map { $_->{body} // $_->{error} // '' }
            grep { ($_->{status} // 0) != 201 } @res;

my %login_of;        # email => login the response gave
for my $i (1 .. $N) {
    my $j = decode_json_body($res[$i - 1]) // {};
    $login_of{"jd$i\@example.org"} = $j->{login} if defined $j->{login};
}
my @logins = sort values %login_of;
is(scalar(keys %{{ map { $_ => 1 } @logins }}), $N, "$N different logins");
is_deeply([sort @logins],
          [sort 'jean.dupont', map { "jean.dupont$_" } 2 .. $N],
          "jean.dupont, jean.dupont2 ... jean.dupont$N: no gap, no twin");

is(psql_query("SELECT count(*) FROM portal.accounts"
              . " WHERE login ~ '^jean\\.dupont[0-9]*\$'"),
   $N, "$N accounts stored");
is(psql_query("SELECT n FROM portal.login_counters WHERE base = 'jean.dupont'"),
   $N, "the counter of jean.dupont is at $N");
my @mism = psql_query("SELECT login, email FROM portal.accounts");
my %stored = map { $_->[1] => $_->[0] } @mism;
is_deeply(\%stored, \%login_of, 'each account is stored with the login its'
                                . ' response gave');

# the mails: awaited with a deadline, then no more may come
my @mails = wait_mails($N, undef, 120);
is(scalar @mails, $N, "$N files in mail/new");
ok(wait_until(sub {
       psql_query("SELECT count(*) FROM portal.outbox WHERE state = 'sent'")
           == $N }, 60),
   "the outbox has $N rows, all sent");
is(psql_query("SELECT count(*) FROM portal.outbox"), $N, "... and $N only");
# Each is taken once, or twice when a take's answer came after
# portal_db_timeout on a loaded machine (seen at a load of 30): its leases
# then run out and the rows are taken again, which is how the outbox
# recovers from a lost worker.  Never more, and never twice at once: the
# files below are one per mail.
is(psql_query("SELECT count(*) FROM portal.outbox"
              . " WHERE attempts NOT IN (1, 2)"), 0,
   '... each delivered at its first take, or its second after a lease'
   . ' ran out');
# a tick or two more: nothing is delivered twice
my $t_sent = time;
wait_until(sub { time - $t_sent > 0.3 }, 1);
@mails = mails();
is(scalar @mails, $N, "still $N files once everything is sent");

my (%mails_to, %login_mails, %message_ids, @bad);
for my $m (@mails) {
    my $to = $m->{headers}{to} // '';
    $mails_to{$to}++;
    my ($login) = $m->{body} =~ /Votre identifiant : (\S+)\n/;
    push @bad, "$to: no login in $m->{file}" unless defined $login;
    next unless defined $login;
    $login_mails{$login}++;
    push @bad, "$to got $login, its response said "
               . ($login_of{$to} // 'nothing')
        unless ($login_of{$to} // '') eq $login;
    $message_ids{ $m->{headers}{'message-id'} // '' }++;
}
is(scalar(grep { $mails_to{$_} == 1 } keys %mails_to), $N,
   'each person is mailed once');
is(scalar(grep { $login_mails{$_} == 1 } keys %login_mails), $N,
   'each login is in exactly one mail');
ok(!@bad, "each mail gives its person's login") or diag join "\n", @bad;
is(scalar(grep { length $_ } keys %message_ids), $N,
   'each mail has its own Message-ID');

# both workers took part
my %pids;
for (split /\n/, read_file(servroot() . '/logs/race.log')) {
    $pids{$1}++ if m{^(\d+) POST /api/accounts HTTP/1\.1 201$};
}
note 'sign-ups per worker: ' . join ', ', map { "$_: $pids{$_}" } sort keys %pids;
is(eval { my $n = 0; $n += $_ for values %pids; $n }, $N,
   'the access log has the 50 sign-ups');

my $log = error_log_since($off);
my @errors = grep { /\[(?:error|crit|alert|emerg)\]/ } split /\n/, $log;
ok(!@errors, 'no error in the error log') or diag join "\n", @errors[0 .. ($#errors > 9 ? 9 : $#errors)];
is(scalar(() = $log =~ /account "jean\.dupont\d*" created/g), $N,
   "each creation is logged (info): $N");
