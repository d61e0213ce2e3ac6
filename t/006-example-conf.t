# conf/portal.conf, the example a hosting team copies, passes nginx -t
# once its paths are this checkout's: what it shows is what works.

use strict;
use warnings;
use lib 't/lib';
use Test::Portal;
use Cwd qw(getcwd);

plan tests => 4;

my $top = getcwd();
my $root = servroot();
my $module = $ENV{PORTAL_MODULE} // "$top/build/ngx_http_portal_module.so";

my $conf = Test::Portal::read_file("$top/conf/portal.conf");
ok(length $conf, 'conf/portal.conf is there');

Test::Portal::write_file("$root/portal.key", join '', map { chr int rand 256 }
                         1 .. 64);

# this checkout's paths, a test port and a private database
$conf =~ s{modules/ngx_http_portal_module\.so}{$module}g;
$conf =~ s{/srv/portail-citoyen}{$top}g;
$conf =~ s{/etc/nginx/portal\.key}{$root/portal.key}g;
$conf =~ s{/var/spool/portail-citoyen/Maildir}{$root/mail}g;
$conf =~ s{listen\s+443 ssl;}{'listen 127.0.0.1:' . port() . ';'}ge;
my $db = conninfo();
$conf =~ s{"host=/run/postgresql dbname=portal user=portal"}{"$db"}g;
$conf = "pid $root/logs/example.pid;\nerror_log $root/logs/example.log;\n"
        . $conf;
$conf =~ s#^http \{#http {\n    access_log off;\n    client_body_temp_path $root/tmp;#m;

Test::Portal::write_file("$root/example.conf", $conf);

# an AddressSanitizer build of the module loads with its runtime only
my %env = map { split /=/, $_, 2 } Test::Portal::sanitizer_env();

my ($rc, $out, $err) = Test::Portal::run_cmd(
    [$ENV{PORTAL_NGINX} // '/usr/sbin/nginx', '-t', '-p', "$root/",
     '-c', "$root/example.conf", '-e', "$root/logs/example.log"],
    env => \%env);

is($rc, 0, 'nginx -t accepts the example') or diag $err;
like($err, qr/syntax is ok/, '... its syntax is ok');
like($err, qr/test is successful/, '... and its test is successful');
