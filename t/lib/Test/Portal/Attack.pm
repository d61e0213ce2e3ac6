package Test::Portal::Attack;

# Helpers for the tests of attacks (t/040 to t/048), on top of Test::Portal
# and Test::Portal::Citizen: clients that come from an address of their
# own (X-Forwarded-For, trusted from 127.0.0.1 by realip), bursts of
# requests in flight at once, psql as the role nginx connects as, the
# files that uploads carry, and small statistics.
#
#     use lib 't/lib';
#     use Test::Portal;
#     use Test::Portal::Citizen;
#     use Test::Portal::Attack;
#
#     start_nginx(http_config => citizen_http_config(), config => attack_api());
#     my $c = client_from('10.40.0.1');        # a browser at 10.40.0.1
#     my @res = burst(map { [$c, POST => 'session', {...}] } 1 .. 40);
#     my ($ok, $out, $err) = psql_as('portal', 'SELECT 1');

use strict;
use warnings;
use utf8;

use Test::Portal;
# (Test::Portal::Citizen's import renames its @EXPORT's variables as it
# goes: only its first importer gets them.  Test files use it before this
# module, and its variables are named in full here.)
use Test::Portal::Citizen;
use Test::More ();

use Encode ();

our @EXPORT = qw(
    attack_api client_from burst error_code error_fields status_summary
    psql_as psql_as_each permission_denied body_text
    $PDF $PNG $JPEG pdf_of_size multipart upload_doc
    median random_key temp_password_of login_body
);

# An API location whose client address may be given by X-Forwarded-For
# (only from 127.0.0.1, the tests themselves): every phase of a test can
# play its own client, without the counters of the others.
sub attack_api {
    my ($extra) = @_;
    return "set_real_ip_from 127.0.0.1;\n"
         . "real_ip_header X-Forwarded-For;\n"
         . "location /api/ { portal_api citizen; " . ($extra // '') . " }";
}

our $PDF = "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
         . "2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
         . "trailer << /Root 1 0 R >>\n%%EOF\n";

# 1 x 1 white pixel
our $PNG = pack 'H*', '89504e470d0a1a0a0000000d49484452000000010000000108'
                    . '02000000907753de0000000c49444154789c63f8ffff3f0005'
                    . 'fe02fe0def46b80000000049454e44ae426082';

our $JPEG = "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01"
          . "\x00\x00" . ("\xa5" x 64) . "\xff\xd9";

my $Boundary = 'PortalAttackBoundary3kQ9zT';

sub import {
    my $caller = caller;
    no strict 'refs';
    for (@EXPORT) {
        my $sym = $_;       # a copy: @EXPORT stays as it is for the next
        if ($sym =~ s/\A\$//) {
            *{"${caller}::$sym"} = \${"Test::Portal::Attack::$sym"};
        } else {
            *{"${caller}::$sym"} = \&{"Test::Portal::Attack::$sym"};
        }
    }
}


# ------------------------------------------------------------- clients

# A client (as citizen() gives) whose requests say they come from $addr.
sub client_from {
    my ($addr) = @_;
    my $self = bless { jar => {}, token => '', addr => $addr },
                     'Test::Portal::Attack::Client';
    my $res = $self->call(GET => 'session');
    $self->{token} = ($res->{json} // {})->{csrf_token} // '';
    Test::More::diag("GET session gave no token: "
                     . ($res->{status} // 'none') . ' ' . ($res->{body} // ''))
        unless length $self->{token};
    return $self;
}

# Requests in flight at once: each [$client, METHOD, path, data, %o]; all
# are started before any is read.  Returns the responses in order, each
# with its decoded json.
sub burst {
    my @reqs = @_;
    my @h = map { my ($c, @a) = @$_; $c->start(@a) } @reqs;
    my @res = http_collect(@h);
    $_->{json} = decode_json_body($_) for @res;
    return @res;
}

sub error_code { ((($_[0] // {})->{json} // {})->{error} // {})->{code} // '' }

sub error_fields {
    return join ' ', sort keys %{ (((($_[0] // {})->{json} // {})->{error}
                                    // {})->{fields}) || {} };
}

# "429 {...}": a response for the diagnostics, its UTF-8 body as text
sub body_text {
    my ($res) = @_;
    my $status = $res->{status} // 'none';
    my $type = ($res->{headers} // {})->{'content-type'} // '';
    return "$status $type, " . length($res->{body}) . ' bytes'
        if defined $res->{body} && length $type && $type !~ /json|text/;
    my $b = $res->{body} // $res->{error} // '';
    my $t = eval { Encode::decode('UTF-8', $b, Encode::FB_CROAK) } // $b;
    $t = substr($t, 0, 400) . '...' if length $t > 400;
    return "$status $t";
}

# What a burst answered, for the diagnostics:
# "401 bad_credentials x 3, 429 captcha_required x 38".
sub status_summary {
    my (%n, @order);
    for my $r (@_) {
        my $s = $r->{status} // ('none: ' . ($r->{error} // '?'));
        my $code = error_code($r);
        $s .= " $code" if length $code;
        push @order, $s unless $n{$s}++;
    }
    return join ', ', map { "$_ x $n{$_}" } @order;
}

# The body of POST session, with a captcha when given.
sub login_body {
    my ($login, $password, $captcha_id, $captcha_answer) = @_;
    my %b = (login => $login, password => $password);
    if (defined $captcha_id) {
        $b{captcha_id} = $captcha_id;
        $b{captcha_answer} = $captcha_answer
                             // $Test::Portal::Citizen::CAPTCHA_ANSWER;
    }
    return \%b;
}


# ----------------------------------------------------------------- psql

# psql as $role (e.g. "portal") on the file's database: (ok, stdout,
# stderr).  Several statements run in one transaction that is rolled back,
# so that a statement which should have been refused changes nothing.
sub psql_as {
    my ($role, @sql) = @_;
    psql_query('SELECT 1');     # the database exists
    my @c = map { ('-c', $_) } 'BEGIN', @sql, 'ROLLBACK';
    my ($rc, $out, $err) = Test::Portal::run_cmd(
        ['psql', '-X', '-q', '-tA', '-F', "\x1f", '-v', 'ON_ERROR_STOP=1',
         '-h', pg_host(), '-U', $role, '-d', test_db(), @c],
        env => { PGOPTIONS => '-c client_min_messages=warning' },
        timeout => 60,
    );
    return ($rc == 0, $out, $err);
}

# Each statement as $role, in one session and one transaction rolled back
# at the end (a savepoint around each: one failing does not stop the
# next): a list of [ok, error text], one per statement.
sub psql_as_each {
    my ($role, @sql) = @_;
    psql_query('SELECT 1');     # the database exists
    my $script = "\\set ON_ERROR_STOP 0\n\\set ON_ERROR_ROLLBACK on\nBEGIN;\n";
    for my $i (0 .. $#sql) {
        (my $one = $sql[$i]) =~ s/;?\s*\z/;/;
        $script .= "\\warn \@\@$i\n$one\n";
    }
    $script .= "\\warn \@\@end\nROLLBACK;\n";
    my $file = servroot() . "/logs/psql_as.$$.sql";
    write_file($file, $script);
    my ($rc, $out, $err) = Test::Portal::run_cmd(
        ['psql', '-X', '-q', '-tA', '-h', pg_host(), '-U', $role,
         '-d', test_db(), '-f', $file],
        env => { PGOPTIONS => '-c client_min_messages=warning' },
        timeout => 60,
    );
    unlink $file;
    my %err;
    my $at;
    for my $l (split /\n/, $err) {
        if ($l =~ /\A\@\@(\d+|end)\z/) { $at = $1; next }
        $err{$at} .= "$l\n" if defined $at && $l =~ /\S/;
    }
    die "psql as $role did not run to its end:\n$err\n"
        unless $err =~ /^\@\@end$/m;
    return map { [!defined $err{$_}, $err{$_} // ''] } 0 .. $#sql;
}

# psql_as() failed for want of a privilege (and not for another reason)
sub permission_denied {
    my ($ok, $out, $err) = @_;
    return !$ok && $err =~ /permission denied|must be owner/;
}


# --------------------------------------------------------------- files

# A PDF of exactly $n bytes.
sub pdf_of_size {
    my ($n) = @_;
    my $head = "%PDF-1.4\n";
    my $tail = "\n%%EOF\n";
    my $fill = $n - length($head) - length($tail);
    die "pdf_of_size: $n is too small\n" if $fill < 0;
    return $head . substr('% scanned page ' x ($fill / 15 + 1), 0, $fill)
         . $tail;
}

# A multipart/form-data body ("kind", then "file") and its Content-Type.
sub multipart {
    my ($kind, $filename, $type, $data) = @_;
    my $b = $Boundary;
    my $body = "--$b\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n"
             . "$kind\r\n"
             . "--$b\r\nContent-Disposition: form-data; name=\"file\";"
             . " filename=\"$filename\"\r\nContent-Type: $type\r\n\r\n"
             . "$data\r\n--$b--\r\n";
    return ($body, "multipart/form-data; boundary=$b");
}

# POST me/documents by a logged-in client: the response, json decoded.
sub upload_doc {
    my ($c, $filename, $data, %o) = @_;
    my $type = $data =~ /\A%PDF-/ ? 'application/pdf'
             : $data =~ /\A\x89PNG/ ? 'image/png' : 'image/jpeg';
    my ($body, $ct) = multipart($o{kind} // 'identite', $filename,
                                $o{type} // $type, $data);
    return $c->call(POST => 'me/documents', undef, raw => $body, type => $ct,
                    (defined $o{timeout} ? (timeout => $o{timeout}) : ()));
}


# ---------------------------------------------------------------- misc

sub median {
    my @x = sort { $a <=> $b } @_;
    return undef unless @x;
    return @x % 2 ? $x[$#x / 2] : ($x[@x / 2 - 1] + $x[@x / 2]) / 2;
}

# 64 random bytes in $path, readable by nginx only (a portal_secret_file).
sub random_key {
    my ($path) = @_;
    open my $r, '<:raw', '/dev/urandom' or die "/dev/urandom: $!\n";
    read $r, my $key, 64;
    close $r;
    write_file($path, $key, 0600);
    return $path;
}

# The temporary password of the newest mail "Votre mot de passe temporaire"
# to $login@example.org (waited for: $n such mails at least).
sub temp_password_of {
    my ($login, $n) = @_;
    my @m = wait_mails($n // 1, sub {
        ($_[0]{headers}{to} // '') =~ /\Q$login\E\@example\.org/
        && (mail_subject($_[0]) // '') eq 'Votre mot de passe temporaire' });
    my ($newest) = sort { ($b->{headers}{'x-portal-outbox-id'} // 0)
                          <=> ($a->{headers}{'x-portal-outbox-id'} // 0) } @m;
    my ($temp) = ($newest // { body => '' })->{body}
                 =~ /Mot de passe temporaire : (\S+)/;
    return $temp;
}


# ------------------------------------------------------------------------

package Test::Portal::Attack::Client;

our @ISA = ('Test::Portal::Citizen::Client');

# the client's address in X-Forwarded-For, unless the request gives one
sub start {
    my ($self, $method, $path, $data, %o) = @_;
    my @h = @{ $o{headers} || [] };
    unshift @h, 'X-Forwarded-For' => $self->{addr}
        if defined $self->{addr} && !grep { lc $_ eq 'x-forwarded-for' } @h;
    return $self->SUPER::start($method, $path, $data, %o, headers => \@h);
}

sub clone {
    my ($self) = @_;
    return bless { jar => { %{ $self->{jar} } }, token => $self->{token},
                   addr => $self->{addr} }, ref $self;
}

sub addr { $_[0]{addr} }

1;
