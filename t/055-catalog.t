# The catalog of online procedures: GET catalog and GET procedures/{slug}
# from each worker's memory, with the catalog's version as ETag (304 when
# the client has it), refreshed by itself when PostgreSQL's catalog
# changes (portal_catalog_interval), with no request asking PostgreSQL.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Attack;

plan tests => 28;

ok(start_nginx(http_config => citizen_http_config(extra =>
                   "portal_catalog_interval 200ms;\n"),
               config => $API),
   'nginx starts');

my $c = citizen();
my $res = $c->call(GET => 'catalog');
is($res->{status}, 200, 'GET catalog: 200');
my $cat = $res->{json} // [];
ok(ref $cat eq 'ARRAY' && @$cat >= 5, '... at least 5 themes')
    or diag $res->{body};
my @procs = map { @{ $_->{procedures} // [] } } @$cat;
ok(@procs >= 10, '... and 10 procedures or more');
ok(!grep({ !defined $_->{slug} || !defined $_->{title}
           || !JSON::PP::is_bool($_->{requires_account})
           || !JSON::PP::is_bool($_->{requires_captcha}) } @procs),
   '... each with slug, title, requires_account and requires_captcha');
my $etag = $res->{headers}{etag} // '';
like($etag, qr/\A"c\d+"\z/, '... an ETag of the version');
like($res->{headers}{'cache-control'} // '', qr/no-cache/,
     '... Cache-Control: no-cache');

$res = $c->call(GET => 'catalog', undef,
                headers => ['If-None-Match' => $etag]);
is($res->{status}, 304, 'the same with If-None-Match: 304');
is($res->{body} // '', '', '... and no body');
$res = $c->call(GET => 'catalog', undef,
                headers => ['If-None-Match' => 'W/"c0", ' . $etag]);
is($res->{status}, 304, '... among others, weak or not: 304');

# one procedure: its form and its documents
$res = $c->call(GET => 'procedures/acte-naissance');
is($res->{status}, 200, 'GET procedures/acte-naissance: 200');
my $p = $res->{json} // {};
is($p->{slug}, 'acte-naissance', '... its slug');
ok(ref $p->{fields} eq 'ARRAY' && @{ $p->{fields} }, '... its fields');
ok(ref $p->{documents} eq 'ARRAY', '... its documents');
is(($p->{theme} // {})->{slug}, 'etat-civil', '... its theme');
is($res->{headers}{etag}, $etag, '... the same ETag');
my %types = map { $_->{type} => 1 }
            map { @{ ($c->call(GET => "procedures/$_->{slug}")->{json}
                       // {})->{fields} // [] } } @procs;
is(join(' ', sort keys %types),
   'checkbox date email member number select tel text textarea',
   'the forms use the nine types of field');

$res = $c->call(GET => 'procedures/pas-une-demarche');
is($res->{status}, 404, 'an unknown procedure: 404');
is(error_code($res), 'not_found', '... not_found');
$res = $c->call(GET => 'procedures/' . ('x' x 65));
is($res->{status}, 404, 'a slug too long for an id: 404');

# from memory: with the catalog's tables locked, answers come all the same
my $s = pg_session();
$s->query('BEGIN');
$s->query('LOCK TABLE portal.procedures, portal.themes, portal.catalog_meta'
          . ' IN ACCESS EXCLUSIVE MODE');
$res = $c->call(GET => 'catalog', undef, timeout => 5);
is($res->{status}, 200, 'the catalog\'s tables locked: GET catalog 200');
$res = $c->call(GET => 'procedures/acte-naissance', undef, timeout => 5);
is($res->{status}, 200, '... and GET procedures/{slug} 200');
ok(!grep({ $_->{wait_event_type} eq 'Lock' && $_->{query} =~ /catalog/ }
         grep { $_->{query} !~ /catalog_version/ } portal_backends()),
   '... no request of them waits on PostgreSQL');
$s->query('COMMIT');
$s->close;

# the catalog moves: the workers follow, by themselves
psql_query("UPDATE portal.procedures SET title = 'Demande d''acte de"
           . " naissance (nouveau)' WHERE slug = 'acte-naissance'");
my $v = psql_query("SELECT portal.catalog_version()");
ok(wait_until(sub {
       ($c->call(GET => 'catalog')->{headers}{etag} // '') eq "\"c$v\""
   }, 10, 'the new version'), 'after a change, a new ETag') ;
$res = $c->call(GET => 'procedures/acte-naissance', undef,
                headers => ['If-None-Match' => $etag]);
is($res->{status}, 200, '... the old one gets 200 again');
is(($res->{json} // {})->{title}, "Demande d'acte de naissance (nouveau)",
   '... with the new title');

psql_query("UPDATE portal.procedures SET active = false"
           . " WHERE slug = 'acte-naissance'");
ok(wait_until(sub {
       ($c->call(GET => 'procedures/acte-naissance')->{status} // 0) == 404
   }, 10, 'the withdrawn procedure to go'), 'a withdrawn procedure: 404');

check_error_log(0, 'no alert, crit or emerg');
