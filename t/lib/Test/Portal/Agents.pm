package Test::Portal::Agents;

# Helpers for the tests of the back-office in PostgreSQL (t/060 to t/064),
# on top of Test::Portal::Requests: the functions of sql/functions/1NN
# called as the module calls them, as the role it connects as; agents
# made as `make agent` makes them (portal.agent_upsert() as the owner);
# requests made and moved by the citizens' own functions.
#
#     my $admin = agent_sql('alice', 'admin');
#     my $inst = agent_sql('ines', 'instructeur', themes => ['etat-civil']);
#     my $req = submitted_request($account, 'signalement-voirie');
#     my $r = agent_call('agent_request_transition', $admin, $req,
#                        'en_traitement', undef, undef, undef, $URL);
#     decoded($r), refusal($r)

use strict;
use warnings;
use utf8;

use Test::Portal;
use Test::Portal::Requests;

use Encode ();
use JSON::PP ();
use Test::Portal::Citizen ();

our @EXPORT = qw(
    q1 decoded value agent_sql agent_call agent_json submitted_request
    anonymous_request $URL $AGENT_HASH $AGENT_PASSWORD %VOIRIE outcome_text
    $ADMIN_API agent_client agent_login account_document
);

# The agents' API as the tests configure it, and the password whose hash
# is $AGENT_HASH (the citizens' $PASSWORD of Test::Portal::Citizen).
our $ADMIN_API = 'location /admin/api/ { portal_api agent; }';
our $AGENT_PASSWORD = 'Un mot de passe assez long';

our $URL = 'https://mairie.example/';

# an Argon2id hash as the module would store it (of nothing the tests use)
our $AGENT_HASH = '$argon2id$v=19$m=65536,t=2,p=1$S9mAcdUCP0okLCdodKjMjw'
                  . '$Cf4uNSokvFc8WjZ5VUmBykDry1w5NtwA8RP/bSVW//8';

our %VOIRIE = (nature => 'chaussee', lieu => '12 rue des Lilas',
               description => 'Un trou profond au milieu de la chaussée.');

my $Json = JSON::PP->new->utf8->canonical->allow_nonref;

sub import {
    my $caller = caller;
    no strict 'refs';
    for my $sym (@EXPORT) {
        if ($sym =~ s/\A\$//) {
            *{"${caller}::$sym"} = \${"Test::Portal::Agents::$sym"};
        } elsif ($sym =~ s/\A%//) {
            *{"${caller}::$sym"} = \%{"Test::Portal::Agents::$sym"};
        } else {
            *{"${caller}::$sym"} = \&{"Test::Portal::Agents::$sym"};
        }
    }
}

# SQL as the superuser, UTF-8 both ways.  List context: the rows; scalar
# context: the first column of the first row.
sub q1 {
    my ($sql) = @_;
    my $b = Encode::encode('UTF-8', $sql);
    if (wantarray) {
        return map { [map { Encode::decode('UTF-8', $_) } @$_] }
               psql_query($b);
    }
    my $v = psql_query($b);
    return defined $v ? Encode::decode('UTF-8', $v) : undef;
}

# The JSON of an outcome of as_portal_sql() (undef for NULL or an error).
sub decoded {
    my ($r) = @_;
    return undef unless $r->{ok} && @{ $r->{rows} } && length $r->{rows}[0][0];
    return $Json->decode(Encode::encode('UTF-8', $r->{rows}[0][0]));
}

# A value that is not JSON (a uuid, a boolean).
sub value {
    my ($r) = @_;
    return undef unless $r->{ok} && @{ $r->{rows} } && length $r->{rows}[0][0];
    return $r->{rows}[0][0];
}

sub outcome_text {
    my ($r) = @_;
    return $r->{ok} ? "it went through: " . substr($r->{out}, 0, 300)
                    : "$r->{err}";
}

# A browser of the back-office: GET /admin/api/session for the agents'
# anti-CSRF cookie and token; then as Test::Portal::Citizen's client.
sub agent_client { Test::Portal::Citizen::client('/admin/api/') }

# An agent's client logged in over HTTP (its password: $AGENT_PASSWORD
# unless told); dies when the log-in fails.
sub agent_login {
    my ($login, $password) = @_;
    my $c = agent_client();
    my $res = $c->login($login, $password // $AGENT_PASSWORD);
    die "agent log-in of $login: $res->{status} $res->{body}\n"
        unless $res->{status} == 200;
    return $c;
}

# A complete document of the account, made by the citizen's own functions
# (kind justificatif_domicile, a PDF of 10 bytes unless told); its id.
sub account_document {
    my ($account, %o) = @_;
    my $name = sql_quote($o{filename} // 'facture.pdf');
    my $bytes = sql_quote($o{content} // '%PDF-1.4 x');
    my $id = value(as_portal_sql("SELECT portal.document_begin('$account',"
                                 . " 'justificatif_domicile', $name)"));
    as_portal_sql("SELECT portal.document_chunk('$account', '$id', 0,"
                  . " convert_to($bytes, 'UTF8'))");
    my $r = as_portal_sql("SELECT portal.document_finish('$account', '$id',"
                          . " 'application/pdf', sha256(convert_to($bytes,"
                          . " 'UTF8')), octet_length(convert_to($bytes,"
                          . " 'UTF8')))");
    die "document_finish: $r->{err}\n" unless $r->{ok};
    return $id;
}

# An agent as `make agent` makes it; its id.
sub agent_sql {
    my ($login, $role, %o) = @_;
    my $themes = $o{themes}
        ? 'ARRAY[' . join(', ', map { sql_quote($_) } @{ $o{themes} })
          . ']::text[]'
        : 'NULL';
    my $json = q1(sprintf('SELECT portal.agent_upsert(%s, %s, %s, %s, %s)',
                          sql_quote($login), sql_quote($role),
                          sql_quote($o{hash} // $AGENT_HASH),
                          sql_quote($o{name}), $themes));
    return $Json->decode(Encode::encode('UTF-8', $json))->{id};
}

# portal.$f(args...) as portal; arguments quoted as text (undef: NULL),
# or given as SQL when a scalar ref.
sub agent_call {
    my ($f, @args) = @_;
    return as_portal_sql("SELECT portal.$f("
                         . join(', ', map { ref $_ ? $$_ : sql_quote($_) }
                                @args) . ')');
}

# The same, its JSON decoded; dies on an error.
sub agent_json {
    my ($f, @args) = @_;
    my $r = agent_call($f, @args);
    die "portal.$f: $r->{err}\n" unless $r->{ok};
    return decoded($r);
}

# A request of the account, made and submitted by the citizen's own
# functions (en_attente); its id.  Options: data, contact.
sub submitted_request {
    my ($account, $procedure, %o) = @_;
    my $r = as_portal_sql(sprintf(
        'SELECT portal.request_create(%s, %s, NULL, %s, %s, NULL, NULL, %s)',
        sql_quote($account), sql_quote($procedure),
        json_literal($o{data} // \%VOIRIE), sql_quote($o{contact}),
        sql_quote($URL)));
    my $req = decoded($r) or die "request_create: $r->{err}\n";
    $r = as_portal_sql(sprintf(
        'SELECT portal.request_submit(%s, %s, NULL, NULL, %s)',
        sql_quote($account), sql_quote($req->{id}), sql_quote($URL)));
    die "request_submit: $r->{err}\n" unless $r->{ok};
    return $req->{id};
}

# A request made without an account (submitted at once); its id.
sub anonymous_request {
    my ($applicant, %o) = @_;
    my $r = as_portal_sql(sprintf(
        'SELECT portal.request_create_anonymous(%s, %s, %s, %s, NULL, NULL,'
        . ' NULL, %s)',
        sql_quote($o{procedure} // 'signalement-voirie'),
        json_literal($applicant), json_literal($o{data} // \%VOIRIE),
        sql_quote($o{contact}), sql_quote($URL)));
    my $req = decoded($r) or die "request_create_anonymous: $r->{err}\n";
    return $req->{id};
}

1;
