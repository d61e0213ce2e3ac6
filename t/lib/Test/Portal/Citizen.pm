package Test::Portal::Citizen;

# Helpers for the tests of citizen accounts (t/030 to t/034), on top of
# Test::Portal: a small client that keeps its cookies and its anti-CSRF
# token, sign-up bodies, captchas, the Maildir, and row counts.
#
#     use lib 't/lib';
#     use Test::Portal;
#     use Test::Portal::Citizen;
#
#     my $maildir = maildir_setup();
#     start_nginx(http_config => citizen_http_config(), config => $API);
#     my $c = citizen();                       # GET session: cookie, token
#     my $res = signup($c, first_name => 'Jean', last_name => 'Dupont');
#     $res = $c->login('jean.dupont', $PASSWORD);
#     $res = $c->call(GET => 'me');            # $res->{json}
#
# Strings are Perl character strings (the test files "use utf8"); bodies
# go out as UTF-8 JSON.

use strict;
use warnings;
use utf8;

use Test::Portal;
use Test::More ();

use Encode qw(decode);
use JSON::PP ();
use MIME::Base64 qw(decode_base64);
use Time::HiRes qw(time);

our @EXPORT = qw(
    $API $CAPTCHA_ANSWER $PASSWORD
    citizen citizen_http_config maildir_setup maildir
    captcha_api captcha_sql signup_data signup signup_ok validate
    account_sql %HASH
    mail_files read_mail mails wait_mails mail_subject
    row_counts json_text cookies_of set_cookie_lines
);

our $API = 'location /api/ { portal_api citizen; }';
our $CAPTCHA_ANSWER = 'KX7P4M';
our $PASSWORD = 'Un mot de passe assez long';

my $Json = JSON::PP->new->utf8->canonical->allow_nonref;

# Argon2id (libsodium crypto_pwhash_str, interactive limits, as the module
# hashes) of $PASSWORD and of security answers as the module folds them
# ("Médor" is "medor"), made once for these tests.
our %HASH = (
    $PASSWORD =>
        '$argon2id$v=19$m=65536,t=2,p=1$S9mAcdUCP0okLCdodKjMjw'
        . '$Cf4uNSokvFc8WjZ5VUmBykDry1w5NtwA8RP/bSVW//8',
    'medor' =>
        '$argon2id$v=19$m=65536,t=2,p=1$1MKaEVIEPujV8HjEbdfGXw'
        . '$8WF4HboKL8lY4puZGfzUdGhACdBGicwjlw3UZgt5ewQ',
    'le grand medor' =>
        '$argon2id$v=19$m=65536,t=2,p=1$fHhz8Wgl70bwdVCBdEJxeQ'
        . '$dgZfGCPapw+md9YTNb61+i9Xdw90OQ74qaNRAbBYFGE',
);

# Test::More prints names and diagnostics with accents.
for my $m (qw(output failure_output todo_output)) {
    binmode Test::More->builder->$m, ':encoding(UTF-8)';
}

sub import {
    my $caller = caller;
    no strict 'refs';
    for my $sym (@EXPORT) {
        if ($sym =~ s/\A\$//) {
            *{"${caller}::$sym"} = \${"Test::Portal::Citizen::$sym"};
        } elsif ($sym =~ s/\A%//) {
            *{"${caller}::$sym"} = \%{"Test::Portal::Citizen::$sym"};
        } else {
            *{"${caller}::$sym"} = \&{"Test::Portal::Citizen::$sym"};
        }
    }
}

sub json_text { $Json->encode($_[0]) }


# ------------------------------------------------------------ nginx config

# What every citizen test needs in http{}: the fixed captcha answer, mail
# into the servroot's Maildir at a quick pace, cookies over plain HTTP.
sub citizen_http_config {
    my (%o) = @_;
    my $c = "portal_captcha_test_answer $CAPTCHA_ANSWER;\n"
          . "portal_maildir \$TEST_NGINX_SERVROOT/mail;\n"
          . "portal_mail_interval 100ms;\n";
    $c .= "portal_cookie_secure off;\n" unless $o{secure};
    $c .= $o{extra} if defined $o{extra};
    return $c;
}


# ----------------------------------------------------------------- Maildir

sub maildir { servroot() . '/mail' }

# mail/{tmp,new,cur}, emptied, writable by the user nginx runs as.
sub maildir_setup {
    my $dir = maildir();
    my @uid = $> == 0 ? (getpwnam 'portal')[2, 3] : ();
    for my $d ($dir, map { "$dir/$_" } qw(tmp new cur)) {
        mkdir $d unless -d $d;
        chown @uid, $d if @uid;
    }
    for my $sub (qw(tmp new cur)) {
        unlink glob "$dir/$sub/*";
    }
    return $dir;
}

sub mail_files {
    my $dir = maildir() . '/new';
    opendir my $d, $dir or return ();
    my @f = sort map { "$dir/$_" } grep { !/\A\./ } readdir $d;
    return @f;
}

# A message file: {file, raw, head, body (characters), headers (lower-case
# name => value, unfolded), header_lines ([name, value] in order)}.
sub read_mail {
    my ($file) = @_;
    my $raw = read_file($file);
    my %m = (file => $file, raw => $raw, headers => {}, header_lines => []);
    my ($head, $body) = split /\r?\n\r?\n/, $raw, 2;
    $m{head} = $head // '';
    $m{body_bytes} = $body // '';
    $m{body} = eval { decode('UTF-8', $body // '', Encode::FB_CROAK) };
    $m{body_error} = $@ unless defined $m{body};
    $m{body} //= '';
    (my $unfolded = $m{head}) =~ s/\r?\n[ \t]+/ /g;
    for my $l (split /\r?\n/, $unfolded) {
        my ($n, $v) = $l =~ /\A([^:]+):[ \t]*(.*)\z/ or next;
        push @{ $m{header_lines} }, [$n, $v];
        $m{headers}{ lc $n } //= $v;
    }
    return \%m;
}

# The decoded Subject (RFC 2047 B or Q encoded-words).
sub mail_subject {
    my ($m) = @_;
    my $s = $m->{headers}{subject} // return undef;
    $s =~ s{=\?([^?]+)\?([bBqQ])\?([^?]*)\?=}{
        my ($cs, $enc, $text) = ($1, uc $2, $3);
        my $bytes;
        if ($enc eq 'B') {
            $bytes = decode_base64($text);
        } else {
            ($bytes = $text) =~ tr/_/ /;
            $bytes =~ s/=([0-9A-Fa-f]{2})/chr hex $1/ge;
        }
        decode($cs, $bytes);
    }ge;
    return $s;
}

# Parsed messages of mail/new, those for which $filter returns true.
sub mails {
    my ($filter) = @_;
    my @m = map { read_mail($_) } mail_files();
    return $filter ? grep { $filter->($_) } @m : @m;
}

# Wait (with a deadline, no fixed sleep) until at least $n messages pass
# $filter; returns them.
sub wait_mails {
    my ($n, $filter, $timeout) = @_;
    my @m;
    wait_until(sub { @m = mails($filter); @m >= $n }, $timeout // 5,
               "$n mail(s)");
    return @m;
}


# ----------------------------------------------------------------- cookies

sub set_cookie_lines {
    my ($res) = @_;
    return map { $_->[1] }
           grep { lc $_->[0] eq 'set-cookie' } @{ $res->{header_list} || [] };
}

# name => value of every Set-Cookie of a response
sub cookies_of {
    my ($res) = @_;
    my %c;
    for my $l (set_cookie_lines($res)) {
        my ($n, $v) = $l =~ /\A([^=;\s]+)=([^;]*)/ or next;
        $c{$n} = $v;
    }
    return \%c;
}


# ---------------------------------------------------------------- a client

# A browser of sorts: GET session for the anti-CSRF cookie and token.
sub citizen { client('/api/') }

# The same for the API at $prefix (/admin/api/ for agents).
sub client {
    my ($prefix) = @_;
    my $self = bless { jar => {}, token => '', prefix => $prefix },
                     'Test::Portal::Citizen::Client';
    my $res = $self->call(GET => 'session');
    $self->{token} = ($res->{json} // {})->{csrf_token} // '';
    Test::More::diag("GET ${prefix}session gave no token: "
                     . ($res->{status} // 'none') . ' ' . ($res->{body} // ''))
        unless length $self->{token};
    return $self;
}


# -------------------------------------------------------------- captchas

# POST captcha, as a page does: its id (the answer is $CAPTCHA_ANSWER when
# nginx runs with citizen_http_config()).
sub captcha_api {
    my ($c) = @_;
    my $res = $c->call(POST => 'captcha', undef, raw => '');
    my $id = ($res->{json} // {})->{captcha_id};
    Test::More::diag("POST captcha: $res->{status} $res->{body}")
        unless defined $id;
    return $id // '00000000-0000-4000-8000-000000000000';
}

# A captcha straight into the table.
sub captcha_sql {
    my ($answer) = @_;
    $answer //= $CAPTCHA_ANSWER;
    return scalar psql_query("INSERT INTO portal.captchas (answer)"
                      . " VALUES ('$answer') RETURNING id");
}


# --------------------------------------------------------------- sign-up

# A complete, valid POST accounts body; options override its parts:
# first_name, last_name, email, civility, birth_date, phone, line, postcode,
# city, password, password_confirm, question, answer, contact_mode,
# captcha_id, captcha_answer, members; holder => {...} replaces the holder.
sub signup_data {
    my (%o) = @_;
    my $first = $o{first_name} // 'Jean';
    my $last  = $o{last_name}  // 'Dupont';
    my $password = $o{password} // $PASSWORD;
    my $holder = $o{holder} // {
        civility   => $o{civility} // 'M',
        first_name => $first,
        last_name  => $last,
        birth_date => $o{birth_date} // '1980-04-12',
        email      => $o{email} // 'jean.dupont@example.org',
        (exists $o{phone} ? (phone => $o{phone}) : ()),
        address    => {
            line     => $o{line} // '1 place de la Mairie',
            postcode => $o{postcode} // '44000',
            city     => $o{city} // 'Nantes',
        },
    };
    my %d = (
        holder               => $holder,
        password             => $password,
        password_confirm     => $o{password_confirm} // $password,
        security_question_id => $o{question} // 1,
        security_answer      => $o{answer} // 'Médor',
        contact_mode         => $o{contact_mode} // 'email',
        captcha_id           => $o{captcha_id},
        captcha_answer       => $o{captcha_answer} // $CAPTCHA_ANSWER,
    );
    $d{members} = $o{members} if exists $o{members};
    return \%d;
}

# POST accounts with a fresh captcha (unless captcha_id is given).
sub signup {
    my ($c, %o) = @_;
    $o{captcha_id} //= captcha_api($c);
    return $c->call(POST => 'accounts', signup_data(%o));
}

# signup() that must work: the new login.
sub signup_ok {
    my ($c, %o) = @_;
    my $res = signup($c, %o);
    unless (($res->{status} // 0) == 201) {
        Test::More::diag("sign-up failed: " . ($res->{status} // 'none')
                         . " $res->{body}");
        return undef;
    }
    return $res->{json}{login};
}

# portal.validate_account() of a login: true when it was not yet validated.
sub validate {
    my ($login) = @_;
    return psql_query("SELECT portal.validate_account(id) FROM portal.accounts"
                      . " WHERE login = '$login'") eq 't';
}


# An account straight into the table (password $PASSWORD, answer "Médor"
# unless answer_hash says otherwise), as POST accounts would store it, for
# the tests of what comes after the sign-up.  Options: first_name,
# last_name, email, phone, contact_mode, question, answer_hash, validated.
# Returns its id.
sub account_sql {
    my ($login, %o) = @_;
    my ($first, $last) = map { ucfirst } split /\./, $login, 2;
    $first = $o{first_name} // $first;
    $last = $o{last_name} // $last;
    my $email = $o{email} // "$login\@example.org";
    my $phone = defined $o{phone} ? "'$o{phone}'" : 'NULL';
    my $contact = $o{contact_mode} // 'email';
    my $question = $o{question} // 1;
    my $answer = $o{answer_hash} // $HASH{medor};
    my $validated = $o{validated} ? 'true' : 'false';
    my $sql = <<"SQL";
INSERT INTO portal.accounts (login, civility, first_name, last_name,
    birth_date, email, phone, address_line, postcode, city, contact_mode,
    password_hash, question_id, answer_hash, validated)
VALUES ('$login', 'M', '$first', '$last', '1980-04-12', '$email', $phone,
    '1 place de la Mairie', '44000', 'Nantes', '$contact',
    '$HASH{$PASSWORD}', $question, '$answer', $validated)
RETURNING id
SQL
    utf8::encode($sql);
    return scalar psql_query($sql);
}


# ------------------------------------------------------------------- rows

# The number of rows of the tables a sign-up writes, in one round trip.
sub row_counts {
    my @t = qw(accounts members outbox login_counters);
    my ($row) = psql_query('SELECT '
        . join(', ', map { "(SELECT count(*) FROM portal.$_)" } @t));
    my %n;
    @n{@t} = @{ $row || [] };
    return \%n;
}


# ------------------------------------------------------------------------

package Test::Portal::Citizen::Client;

use Test::Portal;

# A request to /api/$path (the client's prefix: /admin/api/ for an agent's)
# with the client's cookies and anti-CSRF token.
# $data: Perl data sent as JSON (undef: no body).  Options: raw (a body
# sent as is), type (Content-Type), no_csrf, token (another one), cookie
# (a Cookie header instead of the jar's), headers (more), keep (do not
# update the jar from Set-Cookie).
sub call {
    my ($self, $method, $path, $data, %o) = @_;
    my $res = (http_collect($self->start($method, $path, $data, %o)))[0];
    $res->{json} = decode_json_body($res);
    $self->absorb($res) unless $o{keep};
    return $res;
}

# The same request, started only (for requests in flight at once): the
# handle for http_wait/http_collect.  The jar is not updated.
sub start {
    my ($self, $method, $path, $data, %o) = @_;
    my @h;
    my $cookie = exists $o{cookie} ? $o{cookie} : $self->cookie_header;
    push @h, Cookie => $cookie if defined $cookie && length $cookie;
    if ($method ne 'GET' && $method ne 'HEAD' && !$o{no_csrf}) {
        push @h, 'X-CSRF-Token' => $o{token} // $self->{token};
    }
    my $body = $o{raw};
    if (defined $data) {
        $body = Test::Portal::Citizen::json_text($data);
    }
    if (defined $body) {
        push @h, 'Content-Type' => $o{type} // 'application/json';
    }
    push @h, @{ $o{headers} || [] };
    my $prefix = $self->{prefix} // '/api/';
    return http_start($method, "$prefix$path", headers => \@h, body => $body,
                      (defined $o{timeout} ? (timeout => $o{timeout}) : ()));
}

# Keep the response's cookies (Max-Age=0 removes one), and its anti-CSRF
# token when it gives one (a log-in or a log-out renews it), as a page does.
sub absorb {
    my ($self, $res) = @_;
    my $token = ref $res->{json} eq 'HASH' ? $res->{json}{csrf_token} : undef;
    $self->{token} = $token if defined $token && !ref $token;
    for my $l (Test::Portal::Citizen::set_cookie_lines($res)) {
        my ($n, $v) = $l =~ /\A([^=;\s]+)=([^;]*)/ or next;
        if ($l =~ /;\s*Max-Age=0\b/i || $v eq '') {
            delete $self->{jar}{$n};
        } else {
            $self->{jar}{$n} = $v;
        }
    }
}

sub cookie_header {
    my ($self) = @_;
    return join '; ', map { "$_=$self->{jar}{$_}" } sort keys %{ $self->{jar} };
}

sub cookie { $_[0]{jar}{ $_[1] } }

sub set_cookie {
    my ($self, $name, $value) = @_;
    if (defined $value) { $self->{jar}{$name} = $value }
    else { delete $self->{jar}{$name} }
}

sub token { $_[0]{token} }

# Another browser tab with the same cookies, or another browser with a copy.
sub clone {
    my ($self) = @_;
    return bless { jar => { %{ $self->{jar} } }, token => $self->{token},
                   prefix => $self->{prefix} }, ref $self;
}

sub login {
    my ($self, $login, $password) = @_;
    return $self->call(POST => 'session',
                       { login => $login, password => $password });
}

1;
