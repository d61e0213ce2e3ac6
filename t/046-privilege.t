# Least privilege in PostgreSQL: the role "portal" that nginx connects as
# reaches the data only through the schema's functions.  It can neither
# read nor write any table of schema portal, nor create tables (in portal
# or public), nor drop or alter any; schema portal, its tables and its
# functions belong to the role portal_owner; every function portal may call
# is SECURITY DEFINER with a fixed search_path.  Everything portal tries
# here runs in a transaction that is rolled back.

use strict;
use warnings;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Attack;

my @tables = map { $_->[0] } psql_query(
    "SELECT c.relname FROM pg_class c"
  . " JOIN pg_namespace n ON n.oid = c.relnamespace"
  . " WHERE n.nspname = 'portal' AND c.relkind IN ('r', 'p', 'v', 'm')"
  . " ORDER BY c.relname");

plan tests => 12;

ok(@tables >= 8, 'schema portal has its tables') or diag "@tables";

# one column of each table, to write it
my %column = map { $_->[0] => $_->[1] } psql_query(
    "SELECT c.relname, (SELECT a.attname FROM pg_attribute a"
  . " WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
  . " AND a.attidentity = '' AND a.attgenerated = ''"
  . " ORDER BY a.attnum LIMIT 1)"
  . " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
  . " WHERE n.nspname = 'portal' AND c.relkind IN ('r', 'p')");

my ($ok, $out, $err) = psql_as('portal', 'SELECT portal.health()');
ok($ok && $out =~ /\Aok$/m, 'portal can SELECT portal.health()')
    or diag $err;

for my $what (
    ['SELECT', sub { "SELECT 1 FROM portal.$_[0] LIMIT 0" }],
    ['INSERT', sub { "INSERT INTO portal.$_[0] DEFAULT VALUES" }],
    ['UPDATE', sub { my $c = $column{$_[0]} // 'id';
                     "UPDATE portal.$_[0] SET $c = NULL WHERE false" }],
    ['DELETE', sub { "DELETE FROM portal.$_[0] WHERE false" }],
    ['DROP', sub { "DROP TABLE portal.$_[0] CASCADE" }],
    ['ALTER', sub { "ALTER TABLE portal.$_[0] ADD COLUMN intruder integer" }])
{
    my ($verb, $sql) = @$what;
    # views and materialized views are written, dropped and altered
    # otherwise: tables only, but for SELECT
    my @t = grep { $verb eq 'SELECT' || exists $column{$_} } @tables;
    my @r = psql_as_each('portal', map { $sql->($_) } @t);
    my @allowed = map { "$t[$_]: " . ($r[$_][0] ? 'done'
                                      : $r[$_][1] =~ s/\s+\z//r) }
                  grep { !permission_denied($r[$_][0], '', $r[$_][1]) }
                  0 .. $#t;
    ok(!@allowed, "portal cannot $verb any table of schema portal")
        or diag join "\n", @allowed;
}

for my $schema ('portal', 'public') {
    my @r = psql_as('portal', "CREATE TABLE $schema.intruder (x integer)");
    ok(permission_denied(@r), "portal cannot CREATE TABLE in schema $schema")
        or diag $r[0] ? 'it did' : $r[2];
}

my @owners = psql_query(<<'SQL');
SELECT 'schema portal', pg_get_userbyid(n.nspowner)
  FROM pg_namespace n WHERE n.nspname = 'portal'
UNION ALL
SELECT 'table ' || c.relname, pg_get_userbyid(c.relowner)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'portal' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
UNION ALL
SELECT 'function ' || p.oid::regprocedure::text, pg_get_userbyid(p.proowner)
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'portal'
SQL
my @wrong = grep { $_->[1] ne 'portal_owner' } @owners;
ok(@owners > @tables && !@wrong,
   'schema portal, its tables and its functions belong to portal_owner')
    or diag join "\n", map { "$_->[0]: $_->[1]" }
                       @wrong[0 .. ($#wrong > 14 ? 14 : $#wrong)];

my @callable = psql_query(<<'SQL');
SELECT p.oid::regprocedure::text, p.prosecdef,
       coalesce(array_to_string(p.proconfig, ' '), '')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'portal'
   AND has_function_privilege('portal', p.oid, 'EXECUTE')
SQL
my @loose = grep { $_->[1] ne 't' || $_->[2] !~ /(?:\A| )search_path=\S/ }
            @callable;
ok(@callable && !@loose,
   'every function portal may call is SECURITY DEFINER with a fixed'
   . ' search_path') or diag join "\n", map {
        "$_->[0]: " . ($_->[1] eq 't' ? '' : 'not SECURITY DEFINER; ')
        . (length $_->[2] ? $_->[2] : 'no search_path') }
    @loose[0 .. ($#loose > 14 ? 14 : $#loose)];
