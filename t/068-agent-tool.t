# `make agent`: tools/portal-agent hashes an agent's password at the
# module's cost (the module then logs the agent in with it) and calls
# portal.agent_upsert() as portal_owner; the password comes from the
# environment or the standard input, never a command line; a new
# password ends the agent's sessions; a short password or an unknown
# role changes nothing.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Encode ();
use FindBin ();
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Requests;
use Test::Portal::Agents;

my $TOOL = "$FindBin::Bin/../build/portal-agent";
plan skip_all => "build/portal-agent is not built (make $TOOL)"
    unless -x $TOOL;
plan tests => 14;

my $CONF = "$API $ADMIN_API";
my $DB = 'host=' . pg_host() . ' dbname=' . test_db() . ' user=postgres';

# the tool with the password in its environment (or on its standard
# input when stdin is given); its exit status and output
sub tool {
    my (%o) = @_;
    local $ENV{PORTAL_AGENT_DB} = $DB;
    local $ENV{PORTAL_AGENT_PASSWORD} = Encode::encode('UTF-8',
                                                       $o{env} // '');
    my $in = servroot() . '/agent-stdin';
    write_file($in, defined $o{stdin}
                    ? Encode::encode('UTF-8', "$o{stdin}\n") : '');
    my @args = map { "'" . Encode::encode('UTF-8', $_) . "'" } @{ $o{args} };
    my $out = `$TOOL @args < $in 2>&1`;
    return ($? >> 8, $out);
}

sub agent_row {
    return [q1("SELECT login, role, name, session_epoch FROM portal.agents"
               . " WHERE login = '$_[0]'")]->[0] // [];
}

ok(start_nginx(http_config => citizen_http_config(), config => $CONF),
   'nginx starts');

my ($rc, $out) = tool(env => 'Le mot de passe de Zoé', args => ['Zoe',
                      'instructeur', 'Zoé Zola', 'etat-civil']);
is($rc, 0, 'the password in the environment: made') or diag $out;
like($out, qr/"login" : "zoe"/, '... its JSON, the login in lower case');
is_deeply(agent_row('zoe'), ['zoe', 'instructeur', 'Zoé Zola', 1],
          '... its role and name');
is(scalar q1("SELECT string_agg(t.slug, ',') FROM portal.agent_themes x"
             . " JOIN portal.themes t ON t.id = x.theme_id JOIN"
             . " portal.agents a ON a.id = x.agent_id WHERE a.login = 'zoe'"),
   'etat-civil', '... its themes');

my $c = agent_client();
my $res = $c->login('zoe', 'Le mot de passe de Zoé');
is($res->{status}, 200, 'the module logs the agent in with that password')
    or diag $res->{body};
my $copy = $c->clone;

($rc, $out) = tool(stdin => 'Un autre mot de passe', args => ['zoe',
                   'admin', '', '-']);
is($rc, 0, 'the password on the standard input: updated') or diag $out;
is_deeply(agent_row('zoe'), ['zoe', 'admin', 'Zoé Zola', 2],
          '... admin, its name kept, its epoch moved on');
is($copy->call(GET => 'requests')->{status}, 401,
   '... the old password\'s session is over');
is(agent_client()->login('zoe', 'Un autre mot de passe')->{status}, 200,
   '... the new password opens one');

($rc, $out) = tool(env => 'court', args => ['zoe', 'admin']);
is($rc, 2, 'a password of 5 characters: refused');
($rc, $out) = tool(env => 'Un mot de passe assez long',
                   args => ['zoe', 'chef']);
is($rc, 1, 'an unknown role: refused');
like($out, qr/admin or instructeur/, '... saying why');
is_deeply(agent_row('zoe'), ['zoe', 'admin', 'Zoé Zola', 2],
          '... and neither changed anything');
