package Test::Portal;

# Test::Nginx-style harness for the Portail Citoyen nginx module, on
# Debian's Test::Base.  Usage:
#
#     use lib 't/lib';
#     use Test::Portal;
#     plan tests => count_tests();
#     run_tests();
#     __DATA__
#     === TEST 1: health answers
#     --- config
#     location /api/ { portal_api citizen; }
#     --- request
#     GET /api/health
#     --- response_body_json
#     {"status": "ok", "db": "ok"}
#     --- no_error_log
#     [error]
#
# Each test file gets its own nginx prefix t/servroot/<name>/, its own port
# on 127.0.0.1, its own database cloned from portal_template (or its own
# PostgreSQL cluster with private_pg()).  nginx runs as the user "portal"
# when the tests run as root.  See the POD at the end for every section
# and every exported function.

use strict;
use warnings;

use Test::Base;                 # blocks(), plan(), ok(), is(), ...
use Test::More ();

use Cwd qw(abs_path);
use Errno qw(EAGAIN EINTR EWOULDBLOCK);
use Fcntl qw(:flock O_NONBLOCK F_GETFL F_SETFL);
use File::Basename qw(basename dirname);
use File::Path qw(make_path remove_tree);
use File::Spec;
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use POSIX qw(WNOHANG);
use Time::HiRes qw(time);

our @EXPORT = (
    # from Test::More / Test::Base, so that a .t file needs only this module
    qw(ok is isnt like unlike is_deeply cmp_ok pass fail plan diag note
       skip done_testing explain subtest BAIL_OUT blocks),

    # data-driven tests
    qw(run_tests count_tests add_block_preprocessor no_portal_module),

    # nginx
    qw(start_nginx stop_nginx reload_nginx nginx_pid worker_pids
       nginx_running servroot port error_log_offset error_log_since
       access_log_since check_error_log timeout_factor sanitizer),

    # HTTP clients
    qw(http_request http_start http_wait http_collect http_abort
       decode_json_body),

    # PostgreSQL
    qw(private_pg pg_stop pg_start pg_freeze pg_thaw psql_query pg_session
       portal_backends backends_waiting_on_lock health_waits_for_lock
       health_hangs health_restore test_db conninfo pg_host),

    # misc
    qw(wait_until write_file read_file),
);

{
    no warnings 'once';
    *done_testing = \&Test::More::done_testing;
    *note         = \&Test::More::note;
    *explain      = \&Test::More::explain;
    *subtest      = \&Test::More::subtest;
    *BAIL_OUT     = \&Test::More::BAIL_OUT;
}

sub import {
    my $class  = shift;
    my $caller = caller;

    no strict 'refs';
    for my $sym (@EXPORT) {
        *{"${caller}::$sym"} = \&{"${class}::$sym"};
    }
}


# ------------------------------------------------------------ the settings

my $Top      = abs_path(dirname(abs_path(__FILE__)) . '/../../..');
my $Name     = basename($0, '.t');
my $ServRoot = "$Top/t/servroot/$Name";
my $MainPid  = $$;

my $Nginx  = $ENV{PORTAL_NGINX} // '/usr/sbin/nginx';
my $Module = File::Spec->rel2abs($ENV{PORTAL_MODULE}
                                 // "$Top/build/ngx_http_portal_module.so");

my $Sanitize = $ENV{PORTAL_SANITIZE} // '';
die "PORTAL_SANITIZE must be asan, valgrind or empty, not '$Sanitize'\n"
    if $Sanitize !~ /\A(?:asan|valgrind|)\z/;

# Everything waits longer under a sanitizer.
my $Factor = $Sanitize eq 'valgrind' ? 10 : $Sanitize eq 'asan' ? 2 : 1;

my $AsRoot = $> == 0;
my ($PortalUid, $PortalGid);
if ($AsRoot) {
    ($PortalUid, $PortalGid) = (getpwnam 'portal')[2, 3];
    die "running as root but there is no user 'portal'\n"
        unless defined $PortalUid;
}

(my $DbName = lc "t_${Name}_$$") =~ s/[^a-z0-9_]+/_/g;

my $UseModule = 1;          # no_portal_module() turns it off
my $PrivatePg = 0;          # private_pg() turns it on
my $DbReady   = 0;
my $PgStopped = 0;

my $Port;                   # chosen on first use
my $RunningConf;            # text of the config nginx runs with
my $RunningWorkers = 1;
my $NginxPid;               # master pid
my $ValgrindChild;          # our child (runuser/valgrind) in valgrind mode

my $ServRootLock;           # held while this file runs
my @Preprocessors;
my $Blocks;                 # preprocessed blocks, once
my @Problems;               # found at the end (END block)

my $ErrorLog  = "$ServRoot/logs/error.log";
my $AccessLog = "$ServRoot/logs/access.log";

our $Block;                 # the block running, for --- init code

my $Json = JSON::PP->new->utf8->canonical->allow_nonref;

prepare_servroot();

$SIG{INT}  = sub { diag "interrupted"; exit 130 };
$SIG{TERM} = sub { diag "terminated"; exit 143 };


# ---------------------------------------------------------- small helpers

sub servroot       { $ServRoot }
sub timeout_factor { $Factor }
sub sanitizer      { $Sanitize }    # '', 'asan' or 'valgrind'

sub port {
    $Port //= pick_port();
    return $Port;
}

# A free port outside Linux's ephemeral range (32768-60999), so that
# outgoing connections of other tests do not take it meanwhile.
sub pick_port {
    for (1 .. 200) {
        my $p = 20000 + int rand 10000;
        my $s = IO::Socket::INET->new(
            LocalAddr => '127.0.0.1',
            LocalPort => $p,
            Proto     => 'tcp',
            ReuseAddr => 1,
            Listen    => 1,
        ) or next;
        close $s;
        return $p;
    }
    die "no free TCP port found on 127.0.0.1\n";
}

sub write_file {
    my ($path, $data, $mode) = @_;
    open my $fh, '>:raw', $path or die "cannot write $path: $!\n";
    print {$fh} $data;
    close $fh or die "cannot write $path: $!\n";
    chmod $mode, $path if defined $mode;
    chown $PortalUid, $PortalGid, $path if $AsRoot;
    return;
}

sub read_file {
    my ($path, $offset) = @_;
    open my $fh, '<:raw', $path or return '';
    seek $fh, $offset, 0 if $offset;
    local $/;
    my $data = <$fh>;
    return $data // '';
}

sub file_size { -s $_[0] // 0 }

sub snooze { select undef, undef, undef, $_[0] }

# Poll $cond every 20 ms until it returns true or $timeout seconds (scaled
# under sanitizers) have passed.  Returns the last value of $cond.
sub wait_until {
    my ($cond, $timeout, $what) = @_;
    my $deadline = time + ($timeout // 5) * $Factor;
    while (1) {
        my $v = $cond->();
        return $v if $v;
        if (time >= $deadline) {
            diag "timed out waiting for $what" if defined $what;
            return $v;
        }
        snooze(0.02);
    }
}

# Run a command, wait for it (with a deadline), return (exit status,
# stdout, stderr).  The child never runs our END blocks.
sub run_cmd {
    my ($cmd, %o) = @_;
    my $out = "$ServRoot/logs/.cmd.out.$$";
    my $err = "$ServRoot/logs/.cmd.err.$$";
    make_path("$ServRoot/logs");

    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out;
        open STDERR, '>', $err;
        local %ENV = (%ENV, %{ $o{env} || {} });
        { no warnings 'exec'; exec { $cmd->[0] } @$cmd; }
        print STDERR "exec $cmd->[0]: $!\n";
        POSIX::_exit(127);
    }

    my $deadline = time + ($o{timeout} // 60) * $Factor;
    my $rc;
    while (1) {
        my $w = waitpid $pid, WNOHANG;
        if ($w == $pid) { $rc = $?; last }
        if (time >= $deadline) {
            kill 'KILL', $pid;
            waitpid $pid, 0;
            $rc = -1;
            last;
        }
        snooze(0.01);
    }
    my ($o, $e) = (read_file($out), read_file($err));
    unlink $out, $err;
    return ($rc, $o, $e . ($rc == -1 ? "\n(killed after a timeout)\n" : ''));
}

sub as_portal {
    my @cmd = @_;
    return $AsRoot ? ('runuser', '-u', 'portal', '--', @cmd) : @cmd;
}

sub pid_alive {
    my ($pid) = @_;
    return 0 unless $pid;
    return 0 unless kill 0, $pid;
    # a zombie is not alive
    my $stat = read_file("/proc/$pid/stat");
    return 0 if $stat =~ /\)\s+Z\s/;
    return 1;
}

# pid => [ppid, cmdline] for every process.
sub process_table {
    my %t;
    opendir my $d, '/proc' or return {};
    for my $pid (grep { /\A\d+\z/ } readdir $d) {
        my $stat = read_file("/proc/$pid/stat");
        my $r = rindex $stat, ')';
        next if $r < 0;
        my (undef, $ppid) = split ' ', substr($stat, $r + 2);
        my $cmd = read_file("/proc/$pid/cmdline");
        $cmd =~ s/\0+/ /g;
        $cmd =~ s/\s+\z//;
        $t{$pid} = [$ppid, $cmd];
    }
    return \%t;
}


# -------------------------------------------------------------- servroot

sub prepare_servroot {
    # Two runs of one file (two people, or make test beside prove) would
    # share and wipe one servroot: the second waits for the first.  The
    # lock's descriptor is close-on-exec, so nginx does not inherit it.
    make_path("$Top/t/servroot");
    open $ServRootLock, '>>', "$Top/t/servroot/.$Name.lock"
        or die "cannot open the servroot lock: $!\n";
    unless (flock $ServRootLock, LOCK_EX | LOCK_NB) {
        diag "t/$Name.t runs elsewhere: waiting for it";
        wait_until(sub { flock $ServRootLock, LOCK_EX | LOCK_NB }, 600)
            or die "t/$Name.t still runs elsewhere after 10 minutes\n";
    }

    # A previous run that was killed may have left its nginx behind.
    my ($old) = read_file("$ServRoot/logs/nginx.pid") =~ /(\d+)/;
    if ($old && pid_alive($old)
        && read_file("/proc/$old/cmdline") =~ /nginx/)
    {
        kill 'TERM', $old;
        wait_until(sub { !pid_alive($old) }, 5);
        kill 'KILL', $old if pid_alive($old);
    }

    # Keep a private PostgreSQL cluster (pg/) from run to run: initdb is
    # the slow part.
    if (-d $ServRoot) {
        opendir my $d, $ServRoot or die "$ServRoot: $!\n";
        for my $e (grep { !/\A\.\.?\z/ && $_ ne 'pg' } readdir $d) {
            remove_tree("$ServRoot/$e");
        }
    }
    make_path(map { "$ServRoot/$_" } qw(conf logs html),
              map { "tmp/$_" } qw(client_body proxy fastcgi uwsgi scgi));

    # The secret for cookie MACs: 64 random bytes, readable by nginx only.
    open my $r, '<:raw', '/dev/urandom' or die "/dev/urandom: $!\n";
    read $r, my $secret, 64;
    close $r;
    write_file("$ServRoot/secret.key", $secret, 0600);

    chown_servroot();
}

sub chown_servroot {
    return unless $AsRoot;
    my @paths = ($ServRoot);
    for my $top (qw(conf logs html tmp)) {
        my @stack = ("$ServRoot/$top");
        while (my $p = shift @stack) {
            push @paths, $p;
            if (-d $p && opendir my $d, $p) {
                push @stack, map { "$p/$_" } grep { !/\A\.\.?\z/ } readdir $d;
            }
        }
    }
    chown $PortalUid, $PortalGid, grep { -e } @paths;
    chown $PortalUid, $PortalGid, "$ServRoot/secret.key";
}


# ------------------------------------------------------------ PostgreSQL

sub pg_dir {
    return "$ServRoot/pg" if $PrivatePg;
    return File::Spec->rel2abs($ENV{PORTAL_TEST_PG}) if $ENV{PORTAL_TEST_PG};
    return "$Top/t/servroot/pg";
}

sub pg_host  { pg_dir() . '/run' }
sub test_db  { $DbName }
sub conninfo { 'host=' . pg_host() . " dbname=$DbName user=portal" }

# Give this test file its own cluster under its servroot, so that it may
# stop, freeze and restart PostgreSQL.  Call before run_tests().
sub private_pg {
    die "private_pg() must come before the database is used\n" if $DbReady;
    $PrivatePg = 1;
    return;
}

sub ci_pg {
    my @args = @_;
    my ($rc, $out, $err) = run_cmd(["$Top/ci/pg", @args], timeout => 120);
    die "ci/pg @args failed:\n$out$err\n" if $rc != 0;
    return $out;
}

# psql as the superuser on database $db; dies on an SQL error.
sub psql_raw {
    my ($db, $sql) = @_;
    my ($rc, $out, $err) = run_cmd(
        ['psql', '-X', '-q', '-tA', '-F', "\x1f", '-v', 'ON_ERROR_STOP=1',
         '-h', pg_host(), '-U', 'postgres', '-d', $db, '-c', $sql],
        env => { PGOPTIONS => '-c client_min_messages=warning' },
        timeout => 60,
    );
    die "psql failed ($sql):\n$err\n" if $rc != 0;
    return $out;
}

sub ensure_db {
    return if $DbReady;
    my $dir = pg_dir();

    if ($PrivatePg) {
        ci_pg('start', $dir);
        drop_stale_dbs();
        ci_pg('migrate', $dir, $DbName);
    } else {
        # Files run in parallel (prove -j) share the cluster: one at a time
        # starts it, migrates the template and clones it.
        make_path("$Top/t/servroot");
        open my $lock, '>>', "$Top/t/servroot/.pg.lock"
            or die "cannot open the PostgreSQL lock: $!\n";
        flock $lock, LOCK_EX or die "flock: $!\n";
        unless ($ENV{PORTAL_TEST_PG}) {
            ci_pg('start', $dir);
            ci_pg('migrate', $dir, 'portal_template');
        }
        drop_stale_dbs();
        psql_raw('postgres',
                 qq{CREATE DATABASE "$DbName" TEMPLATE portal_template});
        close $lock;
    }
    $DbReady = 1;
    return;
}

# Databases of earlier runs of this file whose process is gone.
sub drop_stale_dbs {
    (my $prefix = lc "t_${Name}_") =~ s/[^a-z0-9_]+/_/g;
    my $out = psql_raw('postgres',
        "SELECT datname FROM pg_database WHERE datname LIKE '${prefix}%'");
    for my $db (split /\n/, $out) {
        next unless $db =~ /\A\Q$prefix\E(\d+)\z/;
        next if $1 == $$ || pid_alive($1);
        psql_raw('postgres', qq{DROP DATABASE IF EXISTS "$db" WITH (FORCE)});
    }
}

# Run SQL on the test database as the superuser.  List context: the rows,
# each an array ref of columns.  Scalar context: the first column of the
# first row (undef when there is none).
sub psql_query {
    my ($sql) = @_;
    ensure_db();
    my $out = psql_raw($DbName, $sql);
    my @rows = map { [split /\x1f/, $_, -1] } split /\n/, $out;
    return @rows if wantarray;
    return @rows ? $rows[0][0] : undef;
}

# The module's connections to the test database, as hashes with pid,
# state, wait_event_type, application_name, query_start (epoch) and query.
sub portal_backends {
    my @rows = psql_query(
        "SELECT pid, state, coalesce(wait_event_type, ''), application_name,"
      . " coalesce(extract(epoch FROM query_start)::text, ''),"
      . " regexp_replace(query, '\\s+', ' ', 'g')"
      . " FROM pg_stat_activity"
      . " WHERE datname = current_database() AND usename = 'portal'");
    return map {
        { pid => $_->[0], state => $_->[1], wait_event_type => $_->[2],
          application_name => $_->[3], query_start => $_->[4],
          query => $_->[5] }
    } @rows;
}

# Those of portal_backends() whose query waits for a lock.
sub backends_waiting_on_lock {
    my @w = grep { $_->{state} eq 'active' && $_->{wait_event_type} eq 'Lock' }
            portal_backends();
    return @w;
}

# Make portal.health() wait for advisory lock $key (shared, released at the
# end of its transaction): while a pg_session holds the lock, every health
# query stays in flight, without any sleep.
sub health_waits_for_lock {
    my ($key) = @_;
    $key //= 42;
    die "the lock key must be a number\n" unless $key =~ /\A\d+\z/;
    psql_query(<<"SQL");
CREATE OR REPLACE FUNCTION portal.health() RETURNS text
    LANGUAGE plpgsql VOLATILE
    AS \$\$ BEGIN
        PERFORM pg_advisory_xact_lock_shared($key);
        RETURN 'ok';
    END \$\$
SQL
}

# Make portal.health() sleep for an hour: its queries stay in flight until
# they are cancelled or the server goes away (their wait_event_type in
# pg_stat_activity is "Timeout").
sub health_hangs {
    psql_query(<<'SQL');
CREATE OR REPLACE FUNCTION portal.health() RETURNS text
    LANGUAGE sql VOLATILE
    AS $$ SELECT 'ok'::text FROM pg_sleep(3600) $$
SQL
}

# portal.health() as the schema defines it.
sub health_restore {
    psql_query(<<'SQL');
CREATE OR REPLACE FUNCTION portal.health() RETURNS text
    LANGUAGE sql STABLE AS $$ SELECT 'ok'::text $$
SQL
}

sub need_private_pg {
    die "$_[0]() needs private_pg(): the shared cluster is not ours\n"
        unless $PrivatePg;
    ensure_db();
}

sub pg_stop {
    need_private_pg('pg_stop');
    ci_pg('stop', pg_dir());
    $PgStopped = 1;
    return;
}

sub pg_start {
    need_private_pg('pg_start');
    ci_pg('start', pg_dir());
    $PgStopped = 0;
    return;
}

# The postmaster and all its children.
sub pg_pids {
    my $pm = read_file(pg_dir() . '/data/postmaster.pid');
    my ($pid) = $pm =~ /\A(\d+)/ or die "PostgreSQL is not running\n";
    my $t = process_table();
    return ($pid, grep { $t->{$_}[0] == $pid } keys %$t);
}

# Freeze the whole cluster (SIGSTOP): connections and queries hang, as
# with a server that stopped answering.  pg_thaw() resumes it.
sub pg_freeze {
    need_private_pg('pg_freeze');
    # The postmaster first, and only once it is stopped its children: a
    # backend it forks for a connection between a listing and the signals
    # would otherwise escape and go on answering (seen under load).
    my ($postmaster) = pg_pids();
    kill 'STOP', $postmaster;
    wait_until(sub { process_state($postmaster) eq 'T' }, 5,
               'the postmaster to stop')
        or die "the postmaster did not stop\n";
    my @pids = pg_pids();
    kill 'STOP', @pids;
    return scalar @pids;
}

# The state letter of a process (R, S, T...), '' when it is gone.
sub process_state {
    my ($pid) = @_;
    my $stat = read_file("/proc/$pid/stat");
    return $stat =~ /.*\)\s+(\S)/s ? $1 : '';
}

sub pg_thaw {
    need_private_pg('pg_thaw');
    kill 'CONT', pg_pids();
    return;
}

# A psql session under the test's control (e.g. to hold an advisory lock):
#   my $s = pg_session();
#   $s->query('SELECT pg_advisory_lock(42)');
#   ...
#   $s->close;
sub pg_session {
    ensure_db();
    return Test::Portal::Session->new(pg_host(), $DbName);
}


# ----------------------------------------------------------------- nginx

# Build nginx.conf from the parts of a block (or of start_nginx's options).
sub build_config {
    my (%o) = @_;
    my $main    = $o{main_config} // '';
    my $http    = $o{http_config} // '';
    my $server  = $o{config}      // '';
    my $workers = $o{workers}     // 1;
    my $module  = $UseModule && !$o{no_module};

    my @c = ("# generated by t/lib/Test/Portal.pm for t/$Name.t");
    if ($Sanitize eq 'valgrind') {
        push @c, 'daemon off;', 'master_process off;';
    } else {
        push @c, 'daemon on;', 'master_process on;';
    }
    push @c, "worker_processes $workers;",
             'error_log logs/error.log info;',
             'pid logs/nginx.pid;';
    if ($module) {
        push @c, "load_module $Module;";
        push @c, 'thread_pool portal threads=4;'
            unless $main =~ /^\s*thread_pool\s+portal\s/m;
        # as the shipped conf/ does: captchas on a pool of their own
        push @c, 'thread_pool portal_captcha threads=1 max_queue=64;'
            unless $main =~ /^\s*thread_pool\s+portal_captcha\s/m;
    }
    push @c, $main, '', 'events {', '    worker_connections 1024;', '}', '',
        'http {',
        '    access_log logs/access.log;',
        map({ "    ${_}_temp_path tmp/$_;" }
            qw(client_body proxy fastcgi uwsgi scgi));

    # Defaults for the portal, each left out when the block sets it itself
    # (so that a block may change one, or repeat it to test "is duplicate").
    if ($module && !$o{no_portal_defaults}) {
        my %default = (
            portal_db          => '"' . conninfo() . '"',
            # a wall-clock deadline: under valgrind the event loop waits
            # its turn behind the Argon2id threads, so it grows with them
            portal_db_timeout  => 3 * $Factor . 's',
            portal_secret_file => "$ServRoot/secret.key",
            portal_thread_pool => 'portal',
            portal_captcha_thread_pool => 'portal_captcha',
        );
        for my $d (sort keys %default) {
            next if $http =~ /^\s*\Q$d\E\s/m;
            push @c, "    $d $default{$d};";
        }
    }
    push @c, $http, '',
        '    server {',
        "        listen 127.0.0.1:" . port() . ';',
        '        server_name localhost;',
        $server,
        '    }',
        '}', '';
    return join "\n", @c;
}

sub substitute {
    my ($text) = @_;
    return $text unless defined $text && !ref $text;
    my %v = (
        TEST_NGINX_PORT     => port(),
        TEST_NGINX_SERVROOT => $ServRoot,
        TEST_PORTAL_DB      => conninfo(),
        TEST_PORTAL_PGHOST  => pg_host(),
        TEST_PORTAL_DBNAME  => $DbName,
    );
    $text =~ s{\$(TEST_(?:NGINX|PORTAL)_[A-Z0-9_]+)\b}{
        exists $v{$1} ? $v{$1} : exists $ENV{$1} ? $ENV{$1} : "\$$1"
    }ge;
    return $text;
}

sub sanitizer_env {
    return () unless $Sanitize eq 'asan';
    chomp(my $lib = `gcc -print-file-name=libasan.so`);
    die "cannot find libasan.so (gcc -print-file-name)\n" unless $lib =~ m{/};
    return ("LD_PRELOAD=$lib",
            "ASAN_OPTIONS=log_path=$ServRoot/logs/asan:detect_leaks=0"
          . ":abort_on_error=0");
}

# The command line for nginx with extra arguments, as portal, with the
# sanitizer's environment.
sub nginx_command {
    my (%o) = @_;
    my @cmd = ($Nginx, '-p', "$ServRoot/", '-c', "$ServRoot/conf/nginx.conf",
               '-e', $o{error_log} // $ErrorLog, @{ $o{args} || [] });
    if ($Sanitize eq 'valgrind' && !$o{plain}) {
        unshift @cmd, 'valgrind', '-q', '--error-exitcode=66',
            '--log-file=' . "$ServRoot/logs/valgrind.%p";
    }
    my @env = sanitizer_env();
    unshift @cmd, 'env', @env if @env;
    return as_portal(@cmd);
}

sub nginx_pid {
    return $NginxPid if pid_alive($NginxPid);
    return undef;
}

sub nginx_running { defined nginx_pid() }

# The master's worker processes that are not shutting down (in single
# process mode under valgrind, the process itself).
sub worker_pids {
    my $master = nginx_pid() or return ();
    return ($master) if $Sanitize eq 'valgrind';
    my $t = process_table();
    my @w = sort { $a <=> $b } grep {
        $t->{$_}[0] == $master
        && $t->{$_}[1] =~ /\Anginx: worker process\z/
    } keys %$t;
    return @w;
}

sub write_config {
    my ($conf) = @_;
    write_file("$ServRoot/conf/nginx.conf", $conf);
    chown_servroot();
}

# Start nginx with $conf; returns '' on success, else why it failed.
sub launch {
    my ($conf, $workers) = @_;
    write_config($conf);
    unlink "$ServRoot/logs/nginx.pid";

    if ($Sanitize eq 'valgrind') {
        my $pid = fork // die "fork: $!\n";
        if ($pid == 0) {
            open STDIN, '<', '/dev/null';
            open STDOUT, '>>', "$ServRoot/logs/stderr.log";
            open STDERR, '>>', "$ServRoot/logs/stderr.log";
            my @cmd = nginx_command();
            { no warnings 'exec'; exec { $cmd[0] } @cmd; }
            POSIX::_exit(127);
        }
        $ValgrindChild = $pid;
    } else {
        my ($rc, $out, $err) = run_cmd([nginx_command()], timeout => 30);
        if ($rc != 0) {
            return "nginx failed to start (status $rc):\n$out$err";
        }
    }

    # The daemon writes its pid file after forking.
    my $ok = wait_until(sub {
        return 1 if read_file("$ServRoot/logs/nginx.pid") =~ /\A(\d+)/
                    && pid_alive($1);
        return 0;
    }, 10);
    unless ($ok) {
        return "nginx did not write a live pid to logs/nginx.pid:\n"
            . tail_log(20);
    }
    ($NginxPid) = read_file("$ServRoot/logs/nginx.pid") =~ /(\d+)/;
    $RunningConf = $conf;
    $RunningWorkers = $workers;

    if ($Sanitize eq 'valgrind') {
        # Wait until it accepts connections: valgrind starts slowly.
        wait_until(sub {
            IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => port(),
                                  Timeout => 1) ? 1 : 0 }, 10)
            or return "nginx (valgrind) does not accept connections\n";
    } else {
        # Workers have run their init (the module's too) once they have
        # renamed themselves.
        wait_until(sub { worker_pids() == $workers }, 10)
            or return "nginx did not start $workers worker(s):\n"
                      . tail_log(20);
    }
    return '';
}

sub tail_log {
    my ($n) = @_;
    my @l = split /\n/, read_file($ErrorLog);
    splice @l, 0, @l - $n if @l > $n;
    return join '', map { "    $_\n" } @l;
}

# Stop nginx gracefully and wait for the master to exit.
sub stop_nginx {
    my $pid = nginx_pid();
    $RunningConf = undef;
    unless ($pid) {
        reap_valgrind_child();
        return 1;
    }
    kill 'QUIT', $pid;
    my $next_nudge = time + 0.5;
    my $gone = wait_until(sub {
        reap_valgrind_child();
        return 1 unless pid_alive($pid);
        # Under valgrind a signal may not interrupt epoll_wait(): a
        # connection wakes the process up so that it sees the signal.
        if ($Sanitize eq 'valgrind' && time >= $next_nudge) {
            IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => port(), Timeout => 1);
            $next_nudge = time + 0.5;
        }
        return 0;
    }, 10);
    unless ($gone) {
        push @Problems, "nginx (pid $pid) did not exit within 10 s of "
                      . "SIGQUIT; killed";
        kill 'TERM', $pid;
        wait_until(sub { reap_valgrind_child(); !pid_alive($pid) }, 3)
            or kill 'KILL', $pid;
        wait_until(sub { reap_valgrind_child(); !pid_alive($pid) }, 3);
    }
    $NginxPid = undef;
    return $gone;
}

sub reap_valgrind_child {
    return unless $ValgrindChild;
    my $pid = waitpid $ValgrindChild, WNOHANG;
    return if $pid == 0;
    push @Problems, "nginx under valgrind exited with status " . ($? >> 8)
        if $pid == $ValgrindChild && $? != 0;
    $ValgrindChild = undef;
}

# Start (or restart, when the config differs) nginx.  Options:
# main_config, http_config, config, workers, no_portal_defaults.
# Returns true on success; on failure, prints why and returns false.
sub start_nginx {
    my (%o) = @_;
    my $err = ensure_nginx(\%o);
    if ($err) {
        diag $err;
        return 0;
    }
    return 1;
}

sub ensure_nginx {
    my ($o) = @_;
    my %o = %$o;
    $o{$_} = substitute($o{$_}) for qw(main_config http_config config);
    ensure_db() if $UseModule && !$o{no_module};
    my $conf = build_config(%o);
    return '' if nginx_running() && defined $RunningConf
                 && $RunningConf eq $conf;
    stop_nginx() if nginx_running();
    return launch($conf, $o{workers} // 1);
}

# Reload (SIGHUP), with a new config when options are given, and wait
# until the new workers run and the old ones stopped accepting.  Returns
# true when they do, false (and says why) when nginx refused the config or
# did not start new workers.
sub reload_nginx {
    my (%o) = @_;
    my $pid = nginx_pid() or do { diag "reload_nginx: nginx is not running";
                                  return 0 };
    my $workers = $RunningWorkers;
    if (%o) {
        $o{$_} = substitute($o{$_}) for qw(main_config http_config config);
        my $conf = build_config(%o);
        write_config($conf);
        $RunningConf = $conf;
        $workers = $o{workers} // 1;
    }
    my %old = map { $_ => 1 } worker_pids();
    my $off = error_log_offset();
    kill 'HUP', $pid;

    my $refused;
    my $ok = wait_until(sub {
        if (error_log_since($off) =~ /^(.*\[emerg\].*)$/m) {
            $refused = $1;
            return 1;
        }
        # New workers are up, and old ones no longer accept connections
        # (they rename themselves "is shutting down" first) or are gone.
        my @now = worker_pids();
        my @new = grep { !$old{$_} } @now;
        return @new == $workers && @now == @new;
    }, 10);
    if ($refused) {
        diag "nginx refused the new config: $refused";
        return 0;
    }
    unless ($ok) {
        diag "nginx did not start $workers new worker(s) after SIGHUP";
        return 0;
    }
    $RunningWorkers = $workers;
    return 1;
}

sub error_log_offset { file_size($ErrorLog) }
sub error_log_since  { read_file($ErrorLog, $_[0] // 0) }
sub access_log_since { read_file($AccessLog, $_[0] // 0) }

sub bad_log_lines {
    my ($text) = @_;
    return grep { /\[(?:alert|emerg|crit)\]/ } split /\n/, $text;
}

# One test: no [alert], [crit] or [emerg] in the error log since $offset.
sub check_error_log {
    my ($offset, $name) = @_;
    my @bad = bad_log_lines(error_log_since($offset));
    ok(!@bad, $name // 'no alert, crit or emerg in the error log')
        or diag join '', map { "    $_\n" } @bad;
}


# ----------------------------------------------------------- HTTP client

# Send a request and return a handle; the response is read by http_wait
# or http_collect.  Options: headers => [name => value, ...] (or a hash),
# body, timeout (s, default 60: it tells a hang from slowness, and a call
# that hashes twice with Argon2id at nice 19 on a loaded machine takes
# more than 10), port, http => '1.0' | '1.1'.
sub http_start {
    my ($method, $path, %o) = @_;
    my $h = bless {
        method   => $method,
        path     => $path,
        buf      => '',
        start    => time,
        deadline => time + ($o{timeout} // 60) * $Factor,
    }, 'Test::Portal::HTTP';

    my $sock = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $o{port} // port(),
        Proto    => 'tcp',
        Timeout  => 5,
    );
    unless ($sock) {
        $h->{error} = "cannot connect to 127.0.0.1:" . ($o{port} // port())
                    . ": $@";
        $h->{done} = 1;
        return $h;
    }

    my @headers = ref $o{headers} eq 'HASH' ? %{ $o{headers} }
                : @{ $o{headers} || [] };
    my %have;
    for (my $i = 0; $i < @headers; $i += 2) { $have{ lc $headers[$i] } = 1 }
    unshift @headers, Host => 'localhost' unless $have{host};
    push @headers, Connection => 'close' unless $have{connection};
    my $body = $o{body};
    push @headers, 'Content-Length' => length $body
        if defined $body && !$have{'content-length'}
           && !$have{'transfer-encoding'};

    my $req = "$method $path HTTP/" . ($o{http} // '1.1') . "\r\n";
    for (my $i = 0; $i < @headers; $i += 2) {
        $req .= "$headers[$i]: $headers[$i + 1]\r\n";
    }
    $req .= "\r\n";
    $req .= $body if defined $body;

    while (length $req) {
        my $n = syswrite $sock, $req;
        unless (defined $n) {
            next if $! == EINTR;
            $h->{error} = "write: $!";
            $h->{done} = 1;
            return $h;
        }
        substr($req, 0, $n) = '';
    }
    my $flags = fcntl $sock, F_GETFL, 0;
    fcntl $sock, F_SETFL, $flags | O_NONBLOCK;
    $h->{sock} = $sock;
    return $h;
}

# Read what the handles' servers sent, until all (or, with any => 1, at
# least one) are complete or $o{timeout} seconds pass.  Returns the
# handles that are complete.
sub http_wait {
    my ($handles, %o) = @_;
    my $until = defined $o{timeout} ? time + $o{timeout} * $Factor : undef;

    my $passes = 0;
    while (1) {
        my $now = time;
        for my $h (grep { !$_->{done} && $now >= $_->{deadline} } @$handles) {
            $h->{error} = 'timeout: no complete response in time';
            $h->{timed_out} = 1;
            $h->finish;
        }
        my @open = grep { !$_->{done} } @$handles;
        my @done = grep { $_->{done} } @$handles;
        return @done if !@open || ($o{any} && @done);
        # at least one pass over the sockets, even with timeout => 0
        return @done if $passes++ && defined $until && $now >= $until;

        my $sel = IO::Select->new(map { $_->{sock} } @open);
        for my $ready ($sel->can_read(0.05)) {
            my ($h) = grep { $_->{sock} && $_->{sock} == $ready } @open;
            next unless $h;
            my $n = sysread $ready, my $chunk, 65536;
            if (!defined $n) {
                next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                $h->{error} = "read: $!";
                $h->finish;
            } elsif ($n == 0) {
                $h->finish;
            } else {
                $h->{buf} .= $chunk;
            }
        }
    }
}

# Wait for every handle (each until its own timeout) and return their
# responses, in order.
sub http_collect {
    my @handles = @_;
    http_wait(\@handles);
    return map { $_->response } @handles;
}

# Close the client side of a request in flight: the client goes away.
sub http_abort {
    my ($h) = @_;
    if ($h->{sock}) {
        close $h->{sock};
        delete $h->{sock};
    }
    $h->{error} //= 'aborted by the test';
    $h->{done} = 1;
    return;
}

# One request, waited for.  Returns the response: a hash with status,
# reason, headers (lower-case name => value, repeats joined by ", "),
# header_list ([name, value] ...), body, raw, elapsed (s), and error when
# there is no complete response.
sub http_request {
    my $h = http_start(@_);
    my ($res) = http_collect($h);
    return $res;
}

sub decode_json_body {
    my ($res) = @_;
    my $data = eval { $Json->decode($res->{body} // '') };
    return $data;
}


# ------------------------------------------------------ data-driven tests

sub no_portal_module {
    $UseModule = 0;
    return;
}

sub add_block_preprocessor {
    my ($code) = @_;
    die "add_block_preprocessor() must come before count_tests/run_tests\n"
        if $Blocks;
    push @Preprocessors, $code;
    return;
}

sub portal_blocks {
    return @$Blocks if $Blocks;
    my @b = blocks();
    for my $block (@b) {
        $_->($block) for @Preprocessors;
    }
    $Blocks = \@b;
    return @b;
}

# A section's value; undef when the block lacks it.
sub section {
    my ($block, $name) = @_;
    return undef unless exists $block->{$name};
    my @v = @{ $block->{$name} || [] };
    return @v > 1 ? [@v] : $v[0];
}

# Log patterns of a section: lines (substrings), or what an eval filter
# gave (a regex, a string, or an array of them).
sub log_patterns {
    my ($v) = @_;
    return () unless defined $v;
    my @p = ref $v eq 'ARRAY' ? @$v : ref $v ? ($v) : split /\n/, $v;
    return map { ref $_ ? $_ : substitute($_) }
           grep { ref $_ || /\S/ }
           map { ref $_ ? $_ : do { (my $s = $_) =~ s/^\s+|\s+$//g; $s } } @p;
}

sub match_pattern {
    my ($text, $p) = @_;
    return ref $p eq 'Regexp' ? $text =~ $p : index($text, $p) >= 0;
}

sub pattern_text { ref $_[0] ? "$_[0]" : $_[0] }

my %KnownSection = map { $_ => 1 } qw(
    main_config http_config config workers no_portal_defaults init timeout
    must_die request request_body more_headers error_code response_headers
    response_body response_body_like response_body_json error_log
    no_error_log ONLY SKIP LAST
);

# What one block asks for.
sub block_spec {
    my ($block) = @_;
    my %s;
    $s{name} = $block->name;

    # A misspelt section would silently test nothing.
    my ($order) = @{ $block->{_section_order} || [] };
    for my $sec (@{ $order || [] }) {
        die "$s{name}: unknown section --- $sec\n" unless $KnownSection{$sec};
    }
    for my $sec (qw(main_config http_config config)) {
        my $v = section($block, $sec);
        $s{$sec} = defined $v ? substitute($v) : '';
    }
    my $workers = section($block, 'workers');
    $s{workers} = defined $workers ? $workers + 0 : 1;
    $s{no_portal_defaults} = defined section($block, 'no_portal_defaults');
    $s{init}     = section($block, 'init');
    $s{timeout}  = section($block, 'timeout') // 10;
    $s{must_die} = section($block, 'must_die');
    $s{must_die} = substitute($s{must_die}) if defined $s{must_die};

    my $req = section($block, 'request');
    if (defined $req) {
        my ($line, $rest) = split /\n/, $req, 2;
        $line =~ s/^\s+|\s+$//g;
        my ($method, $uri, $proto) = split ' ', $line;
        $s{method} = $method;
        $s{uri}    = $uri // '/';
        ($s{http}  = $proto // 'HTTP/1.1') =~ s{\AHTTP/}{};
        if (defined $rest && length $rest) {
            chomp $rest;
            $s{body} = $rest;
        }
        my $rb = section($block, 'request_body');
        if (defined $rb) {
            chomp $rb unless ref $rb;
            $s{body} = $rb;
        }
        my @h;
        for my $l (split /\n/, section($block, 'more_headers') // '') {
            next unless $l =~ /\S/;
            my ($n, $v) = $l =~ /\A\s*([^:\s]+)\s*:\s*(.*?)\s*\z/
                or die "$s{name}: bad more_headers line: $l\n";
            push @h, $n, substitute($v);
        }
        $s{headers} = \@h;
    }

    my $code = section($block, 'error_code');
    $code =~ s/\s+//g if defined $code;
    $s{error_code} = $code;

    my @rh;
    for my $l (split /\n/, section($block, 'response_headers') // '') {
        next unless $l =~ /\S/;
        if ($l =~ /\A\s*!\s*(\S+)\s*\z/) {
            push @rh, [$1, undef];
        } elsif ($l =~ /\A\s*([^:\s]+)\s*:\s*(.*?)\s*\z/) {
            push @rh, [$1, $2];
        } else {
            die "$s{name}: bad response_headers line: $l\n";
        }
    }
    $s{response_headers} = \@rh;

    $s{response_body}      = section($block, 'response_body');
    $s{response_body_like} = section($block, 'response_body_like');
    $s{response_body_json} = section($block, 'response_body_json');
    $s{error_log}    = [log_patterns(section($block, 'error_log'))];
    $s{no_error_log} = [log_patterns(section($block, 'no_error_log'))];

    if (!defined $s{method} || defined $s{must_die}) {
        for my $sec (qw(error_code response_headers response_body
                        response_body_like response_body_json))
        {
            next unless defined section($block, $sec);
            die "$s{name}: --- $sec needs a --- request"
              . (defined $s{must_die} ? " and no --- must_die\n" : "\n");
        }
    }
    return \%s;
}

sub block_test_count {
    my ($s) = @_;
    my $n = @{ $s->{error_log} } + @{ $s->{no_error_log} };
    return $n + 2 if defined $s->{must_die};
    $n += 2;    # status (or "nginx started") and the log sanity check
    $n += @{ $s->{response_headers} };
    $n += grep { defined $s->{$_} }
          qw(response_body response_body_like response_body_json);
    return $n;
}

# How many tests run_tests() will run.
sub count_tests {
    my $n = 0;
    $n += block_test_count(block_spec($_)) for portal_blocks();
    return $n;
}

sub run_tests {
    Test::More->builder->plan(tests => count_tests())
        unless Test::More->builder->has_plan;
    for my $block (portal_blocks()) {
        run_block($block, block_spec($block));
    }
    return;
}

sub run_init {
    my ($s, $block) = @_;
    return unless defined $s->{init};
    local $Test::Portal::Block = $block;
    eval "package main; no strict 'vars'; $s->{init}; 1"
        or die "$s->{name}: --- init failed: $@";
}

sub run_block {
    my ($block, $s) = @_;
    my $name = $s->{name};
    my $log_off = error_log_offset();
    my $acc_off = file_size($AccessLog);

    run_init($s, $block);

    return run_must_die($block, $s) if defined $s->{must_die};

    my $err = ensure_nginx({ map { $_ => $s->{$_} }
        qw(main_config http_config config workers no_portal_defaults) });
    if ($err) {
        fail("$name - nginx started") for 1 .. block_test_count($s);
        diag $err;
        return;
    }

    my $res;
    if (defined $s->{method}) {
        $res = http_request($s->{method}, $s->{uri},
            headers => $s->{headers}, body => $s->{body},
            http => $s->{http}, timeout => $s->{timeout});
        check_response($s, $res);
    } else {
        pass("$name - nginx started");
    }

    check_logs($s, $log_off, $acc_off, $res);
    check_error_log($log_off,
                    "$name - no alert, crit or emerg in the error log");
}

sub check_response {
    my ($s, $res) = @_;
    my $name = $s->{name};
    my $want = $s->{error_code} // 200;

    if ($res->{error} && !defined $res->{status}) {
        fail("$name - status code is $want");
        diag "no response: $res->{error}";
    } else {
        is($res->{status}, $want, "$name - status code is $want")
            or diag "response body: $res->{body}";
    }

    for my $h (@{ $s->{response_headers} }) {
        my ($hn, $hv) = @$h;
        my $got = $res->{headers}{ lc $hn };
        if (defined $hv) {
            is($got, $hv, "$name - header $hn: $hv");
        } else {
            ok(!defined $got, "$name - header $hn absent")
                or diag "got $hn: $got";
        }
    }

    my $body = $res->{body} // '';
    is($body, $s->{response_body}, "$name - response body")
        if defined $s->{response_body};

    if (defined(my $re = $s->{response_body_like})) {
        unless (ref $re) {
            chomp $re;
            $re = qr/$re/s;
        }
        like($body, $re, "$name - response body like");
    }

    if (defined(my $exp = $s->{response_body_json})) {
        my $got = eval { $Json->decode($body) };
        my $err = $@;
        my $want_data = $exp;
        unless (ref $exp) {
            $want_data = eval { $Json->decode($exp) };
            die "$name: --- response_body_json is not JSON: $@" if $@;
        }
        if ($err) {
            fail("$name - response body is the expected JSON");
            diag "the body is not JSON ($err): $body";
        } else {
            my $diff = json_diff($got, $want_data, '');
            ok(!defined $diff, "$name - response body is the expected JSON")
                or diag "$diff\n    body: $body";
        }
    }
}

# Compare decoded JSON with what is expected; undef when equal, else
# where they differ.  In the expectation, an object {"~": "regex"} stands
# for any string matching the regex.
sub json_diff {
    my ($got, $want, $path) = @_;
    my $where = length $path ? $path : '(top)';
    if (ref $want eq 'HASH' && keys %$want == 1 && exists $want->{'~'}) {
        return "$where: expected a string matching /$want->{'~'}/, got "
             . $Json->encode($got)
            if ref $got || !defined $got || $got !~ /$want->{'~'}/;
        return undef;
    }
    if (ref $want eq 'HASH') {
        return "$where: expected an object, got " . $Json->encode($got)
            unless ref $got eq 'HASH';
        my %k = map { $_ => 1 } keys %$want, keys %$got;
        for my $k (sort keys %k) {
            return "$where: unexpected key \"$k\"" unless exists $want->{$k};
            return "$where: missing key \"$k\"" unless exists $got->{$k};
            my $d = json_diff($got->{$k}, $want->{$k}, "$path/$k");
            return $d if defined $d;
        }
        return undef;
    }
    if (ref $want eq 'ARRAY') {
        return "$where: expected an array, got " . $Json->encode($got)
            unless ref $got eq 'ARRAY';
        return "$where: expected " . @$want . " elements, got " . @$got
            unless @$got == @$want;
        for my $i (0 .. $#$want) {
            my $d = json_diff($got->[$i], $want->[$i], "$path/$i");
            return $d if defined $d;
        }
        return undef;
    }
    my $e = $Json->encode($want);
    my $g = $Json->encode($got);
    return $e eq $g ? undef : "$where: expected $e, got $g";
}

sub check_logs {
    my ($s, $log_off, $acc_off, $res) = @_;
    my $name = $s->{name};
    my $wait = $s->{timeout} < 5 ? $s->{timeout} : 5;

    # nginx logs the request at its log phase, after the handler's last
    # words: once the access log has it, the error log is complete.
    if (defined $s->{method} && @{ $s->{no_error_log} }) {
        my $line = qq{"$s->{method} $s->{uri} HTTP/$s->{http}"};
        wait_until(sub { index(read_file($AccessLog, $acc_off), $line) >= 0 },
                   $wait, "the access log line $line");
    }

    if (@{ $s->{error_log} }) {
        wait_until(sub {
            my $log = error_log_since($log_off);
            !grep { !match_pattern($log, $_) } @{ $s->{error_log} };
        }, $wait);
    }

    my $log = error_log_since($log_off);
    for my $p (@{ $s->{error_log} }) {
        ok(match_pattern($log, $p),
           "$name - error log has: " . pattern_text($p))
            or diag "error log of this block:\n" . indent($log);
    }
    for my $p (@{ $s->{no_error_log} }) {
        my @hits = grep { match_pattern($_, $p) } split /\n/, $log;
        ok(!@hits, "$name - error log has no: " . pattern_text($p))
            or diag indent(join "\n", @hits);
    }
}

sub indent {
    my ($text) = @_;
    $text = "(empty)\n" unless length $text;
    $text =~ s/^/    /mg;
    $text .= "\n" unless $text =~ /\n\z/;
    return $text;
}

# nginx must refuse the config (nginx -t), naming the file and the line;
# when --- must_die has a value, that line of the config must contain it.
sub run_must_die {
    my ($block, $s) = @_;
    my $name = $s->{name};

    stop_nginx() if nginx_running();
    ensure_db() if $UseModule;
    my $conf = build_config(%$s);
    write_config($conf);
    my $log = "$ServRoot/logs/must_die.log";
    my $off = file_size($log);
    my ($rc, $out, $err) = run_cmd(
        [nginx_command(error_log => $log, args => ['-t'], plain => 1)],
        timeout => 30);
    my $output = $out . $err . read_file($log, $off);

    ok($rc != 0 && $rc != -1, "$name - nginx -t fails")
        or diag "nginx -t said:\n" . indent($output);

    my $file = "$ServRoot/conf/nginx.conf";
    my @conf = split /\n/, $conf;
    my ($emerg) = grep { /\[emerg\]/ } split /\n/, $output;
    my ($line) = ($emerg // '') =~ / in \Q$file\E:(\d+)/;
    my $want = $s->{must_die};
    $want =~ s/^\s+|\s+$//g;
    my $what = length $want ? qq{ pointing at "$want"} : '';
    if (!defined $line) {
        fail("$name - the error names the file and line$what");
        diag "no [emerg] with \"in $file:<line>\" in:\n" . indent($output);
    } else {
        my $text = $conf[$line - 1] // '';
        ok(index($text, $want) >= 0,
           "$name - the error names the file and line$what")
            or diag "line $line is: $text\n" . indent($output);
    }

    for my $p (@{ $s->{error_log} }) {
        ok(match_pattern($output, $p),
           "$name - nginx -t says: " . pattern_text($p))
            or diag "nginx -t said:\n" . indent($output);
    }
    for my $p (@{ $s->{no_error_log} }) {
        ok(!match_pattern($output, $p),
           "$name - nginx -t does not say: " . pattern_text($p))
            or diag "nginx -t said:\n" . indent($output);
    }
}


# --------------------------------------------------------------- the end

sub final_checks {
    stop_nginx();

    my @bad = bad_log_lines(read_file($ErrorLog));
    push @Problems, "the error log has alert, crit or emerg lines:\n"
        . indent(join "\n", @bad) if @bad;

    for my $f (glob "$ServRoot/logs/asan.*") {
        push @Problems, "AddressSanitizer report $f:\n" . indent(read_file($f));
    }
    for my $f (glob "$ServRoot/logs/valgrind.*") {
        my $v = read_file($f);
        push @Problems, "valgrind report $f:\n" . indent($v)
            if $v =~ /\S/ && $v !~ /ERROR SUMMARY: 0 errors/;
    }

    if ($DbReady) {
        if ($PrivatePg) {
            eval { pg_thaw() };
            eval { ci_pg('start', pg_dir()) } if $PgStopped;
        }
        eval { psql_raw('postgres',
                        qq{DROP DATABASE IF EXISTS "$DbName" WITH (FORCE)}) };
        push @Problems, "could not drop database $DbName: $@" if $@;
        eval { ci_pg('stop', pg_dir()) } if $PrivatePg;
    }
}

END {
    if ($$ == $MainPid) {
        my $status = $?;
        eval { final_checks(); 1 } or push @Problems, "cleanup failed: $@";
        if (@Problems) {
            diag "$_" for @Problems;
            $status ||= 1;
        }
        $? = $status;
    }
}


# ------------------------------------------------- a response in progress

package Test::Portal::HTTP;

use Time::HiRes qw(time);

sub done { $_[0]{done} }

sub finish {
    my ($h) = @_;
    close $h->{sock} if $h->{sock};
    delete $h->{sock};
    $h->{elapsed} = time - $h->{start};
    $h->{done} = 1;
}

# The parsed response (a hash), once done.
sub response {
    my ($h) = @_;
    return undef unless $h->{done};
    return $h->{response} if $h->{response};
    my %r = (raw => $h->{buf}, elapsed => $h->{elapsed} // time - $h->{start},
             headers => {}, header_list => [], error => $h->{error});
    $h->{response} = \%r;

    my $sep = index $h->{buf}, "\r\n\r\n";
    if ($sep < 0) {
        $r{error} //= 'incomplete response header';
        return \%r;
    }
    my ($head, $body) = (substr($h->{buf}, 0, $sep),
                         substr($h->{buf}, $sep + 4));
    my ($status_line, @lines) = split /\r\n/, $head;
    @r{qw(protocol status reason)} =
        $status_line =~ m{\A(HTTP/\d\.\d)\s+(\d{3})\s*(.*)\z}
        or do { $r{error} //= "bad status line: $status_line"; return \%r };
    for my $l (@lines) {
        my ($n, $v) = $l =~ /\A([^:]+):\s*(.*?)\s*\z/ or next;
        push @{ $r{header_list} }, [$n, $v];
        my $k = lc $n;
        $r{headers}{$k} = exists $r{headers}{$k} ? "$r{headers}{$k}, $v" : $v;
    }

    # Is the response complete?  It is when the body has the length the
    # header announced, or ends with the last chunk, or when the server
    # closed the connection (rather than our timeout cutting it short).
    my $complete = !$h->{timed_out};
    if ($h->{method} eq 'HEAD' || $r{status} =~ /\A(?:1..|204|304)\z/) {
        $r{body} = '';
        $complete = 1;
    } elsif (($r{headers}{'transfer-encoding'} // '') =~ /chunked/i) {
        my $out = '';
        $complete = 0;
        while ($body =~ s/\A([0-9a-fA-F]+)[^\r\n]*\r\n//) {
            my $len = hex $1;
            if ($len == 0) {
                $complete = 1;
                last;
            }
            last if length $body < $len + 2;
            $out .= substr $body, 0, $len;
            substr($body, 0, $len + 2) = '';
        }
        $r{body} = $out;
        $r{error} //= 'truncated chunked body' unless $complete;
    } elsif (defined(my $cl = $r{headers}{'content-length'})) {
        $complete = length $body >= $cl;
        $r{error} //= "truncated body: " . length($body) . " of $cl bytes"
            unless $complete;
        $r{body} = substr $body, 0, $cl;
    } else {
        $r{body} = $body;
    }
    delete $r{error} if $complete && $h->{timed_out};
    record($h, \%r) if $ENV{PORTAL_RECORD} && !$r{error};
    return \%r;
}

# PORTAL_RECORD=FILE: every complete answer of an API location (/api/,
# /admin/api/) is appended to FILE as one JSON line, for the check of
# real responses against html/openapi.yaml (t/openapi/).  One write per
# line with O_APPEND: files run in parallel share the file.
sub record {
    my ($h, $r) = @_;
    my ($api, $route) = $h->{path} =~ m{\A/(api|admin/api)/([^?#]*)}
        or return;
    my $type = $r->{headers}{'content-type'} // '';
    my $body;
    if ($type =~ m{\Aapplication/json}i) {
        $body = eval { JSON::PP->new->utf8->decode($r->{body}) };
        return unless defined $body || $r->{body} eq '';
    }
    my %hdr;
    for my $n (qw(allow retry-after content-disposition location)) {
        $hdr{$n} = $r->{headers}{$n} if defined $r->{headers}{$n};
    }
    my $line = JSON::PP->new->utf8->canonical->encode({
        file => $0, api => $api eq 'api' ? 'citizen' : 'agent',
        method => $h->{method}, path => $route, status => 0 + $r->{status},
        content_type => $type, headers => \%hdr,
        (defined $body ? (body => $body) : ()),
    }) . "\n";
    if (open my $fh, '>>:raw', $ENV{PORTAL_RECORD}) {
        syswrite $fh, $line;
        close $fh;
    }
}


# ------------------------------------------------------ a psql session

package Test::Portal::Session;

use IPC::Open3 qw(open3);

sub new {
    my ($class, $host, $db) = @_;
    local $ENV{PGOPTIONS} = '-c client_min_messages=warning';
    my ($in, $out);
    my $pid = open3($in, $out, undef,
        'psql', '-X', '-q', '-tA', '-F', "\x1f", '-v', 'ON_ERROR_STOP=0',
        '-h', $host, '-U', 'postgres', '-d', $db);
    $in->autoflush(1);
    my $self = bless { pid => $pid, in => $in, out => $out, n => 0 }, $class;
    $self->{backend_pid} = $self->query('SELECT pg_backend_pid()');
    return $self;
}

# Run SQL and wait for its result; dies on an error.  List context: rows
# as array refs; scalar context: the first column of the first row.
sub query {
    my ($self, $sql) = @_;
    my @lines = $self->_run($sql);
    my @err = grep { /^(?:ERROR|FATAL|psql:)/ } @lines;
    die "SQL failed ($sql): @err\n" if @err;
    my @rows = map { [split /\x1f/, $_, -1] } @lines;
    return @rows if wantarray;
    return @rows ? $rows[0][0] : undef;
}

# Send SQL without waiting for its result (e.g. a statement that blocks);
# collect it later with ->result.
sub send {
    my ($self, $sql) = @_;
    my $mark = '__portal_end_' . ++$self->{n} . '__';
    $sql .= ';' unless $sql =~ /;\s*\z/;
    print { $self->{in} } "$sql\n\\echo $mark\n";
    push @{ $self->{pending} }, $mark;
    return;
}

sub result {
    my ($self) = @_;
    my $mark = shift @{ $self->{pending} } or die "nothing was sent\n";
    my @lines;
    my $fh = $self->{out};
    while (defined(my $l = <$fh>)) {
        chomp $l;
        return @lines if $l eq $mark;
        push @lines, $l;
    }
    die "psql session ended: @lines\n";
}

sub _run {
    my ($self, $sql) = @_;
    $self->send($sql);
    return $self->result;
}

sub backend_pid { $_[0]{backend_pid} }

sub close {
    my ($self) = @_;
    return unless $self->{pid};
    close $self->{in};
    waitpid $self->{pid}, 0;
    delete $self->{pid};
}

sub DESTROY { $_[0]->close }

1;

__END__

=head1 NAME

Test::Portal - Test::Nginx-style tests for ngx_http_portal_module

=head1 SECTIONS

=over

=item C<--- main_config>, C<--- http_config>, C<--- config>

Text for the main context, the http block and the server block.
C<$TEST_NGINX_PORT>, C<$TEST_NGINX_SERVROOT>, C<$TEST_PORTAL_DB> (the
conninfo), C<$TEST_PORTAL_PGHOST> and C<$TEST_PORTAL_DBNAME> are
substituted.  The harness adds C<load_module>, C<thread_pool portal> and
C<thread_pool portal_captcha>, and in http C<portal_db>,
C<portal_db_timeout 3s>, C<portal_secret_file>, C<portal_thread_pool
portal> and C<portal_captcha_thread_pool portal_captcha>; each default is
left out when the block's http_config has that directive, all of them with
C<--- no_portal_defaults>.

=item C<--- workers: N>

worker_processes (default 1).

=item C<--- init>

Perl run (in package main) before nginx is (re)started and the request
sent.

=item C<--- request>

C<METHOD URI [HTTP/1.x]>, the body on the next lines (without the last
newline).  C<--- request_body> gives the body instead, C<--- more_headers>
adds C<Name: value> lines.  C<--- timeout: S> bounds the wait (10 s).

=item C<--- error_code> (200 by default), C<--- response_headers>

C<Name: value> must be exact; C<! Name> must be absent.

=item C<--- response_body>, C<--- response_body_like>, C<--- response_body_json>

Exact; regex (C</s>, last newline removed); decoded JSON, where an object
C<{"~": "regex"}> stands for any string matching it.

=item C<--- error_log>, C<--- no_error_log>

One substring per line (or, with C<eval>, a regex or an array of them)
that must (not) appear in the error log lines written during the block.

=item C<--- must_die>

C<nginx -t> must fail; the [emerg] must name nginx.conf and a line, which
must contain the section's value when it has one.  C<--- error_log> then
matches nginx's output.

=back

Each block counts 2 tests (status or "started", and no alert/crit/emerg
in its log) plus one per header line, body check and log pattern; a
must_die block 2 plus one per log pattern.  C<count_tests()> adds them up.

=head1 FILE-LEVEL SETTINGS

C<no_portal_module()> leaves the module out (the harness's self-test);
C<private_pg()> gives the file its own PostgreSQL cluster in its servroot,
which C<pg_stop()>, C<pg_start()>, C<pg_freeze()> (SIGSTOP: the server
hangs) and C<pg_thaw()> control; C<add_block_preprocessor(sub { ... })>
edits every block (e.g. a default C<--- config>) before the count.
Call them before C<count_tests()> / C<run_tests()>.

=head1 FUNCTIONS FOR PLAIN-PERL TESTS

=over

=item C<start_nginx(%o)>, C<reload_nginx(%o)>, C<stop_nginx()>

C<%o>: main_config, http_config, config, workers, no_portal_defaults.
start_nginx restarts only when the config changed; reload_nginx sends
SIGHUP and waits until the new workers run and the old ones stopped
accepting (false when nginx refused the config).  stop_nginx sends SIGQUIT
and waits for the master to exit.  C<nginx_pid()>, C<worker_pids()>,
C<nginx_running()>.

=item C<http_request($method, $path, %o)>

Options headers (array or hash), body, timeout (60 s), http ('1.1'),
port.  Returns a hash: status, reason, headers (lower-case names), body,
elapsed, error (set when there is no complete response).

=item C<http_start(...)>, C<http_wait(\@h, any =E<gt> 1, timeout =E<gt> S)>, C<http_collect(@h)>, C<http_abort($h)>

Requests in flight at once: start them, wait for some or all (IO::Select
over raw sockets), close one to play a client that goes away.
C<$h-E<gt>done>, C<$h-E<gt>response>.  C<decode_json_body($res)>.

=item C<error_log_offset()>, C<error_log_since($off)>, C<access_log_since($off)>, C<check_error_log($off, $name)>

The last one is a test: no [alert], [crit] or [emerg] since $off.

=item C<psql_query($sql)>, C<pg_session()>, C<portal_backends()>

psql as the superuser on the file's database (rows, or the first value in
scalar context); a psql session under the test's control
(C<-E<gt>query>, C<-E<gt>send>/C<-E<gt>result>, C<-E<gt>close>), e.g. to
hold an advisory lock; the module's connections in pg_stat_activity.
C<health_waits_for_lock($key)> makes portal.health() wait for that lock,
C<health_hangs()> makes it sleep for an hour, C<health_restore()> puts it
back, C<backends_waiting_on_lock()> lists the
module's queries that wait.

=item C<wait_until(sub { ... }, $seconds, $what)>

Poll a condition (every 20 ms) until true or the deadline: no sleeps.

=item C<test_db()>, C<conninfo()>, C<pg_host()>, C<servroot()>, C<port()>, C<write_file($path, $data, $mode)>, C<read_file($path, $offset)>, C<timeout_factor()>, C<sanitizer()>

=back

=head1 ENVIRONMENT

C<PORTAL_NGINX> (/usr/sbin/nginx), C<PORTAL_MODULE>
(build/ngx_http_portal_module.so), C<PORTAL_TEST_PG> (the shared cluster
that C<make test> started; without it the harness starts
t/servroot/pg itself and leaves it running: C<ci/pg stop t/servroot/pg>),
C<PORTAL_SANITIZE=asan> (LD_PRELOAD libasan; any logs/asan.* fails the
file) or C<PORTAL_SANITIZE=valgrind> (one process, master_process off;
any valgrind report fails the file).  C<PORTAL_RECORD=FILE> appends every
complete answer of an C</api/> or C</admin/api/> location to FILE, one JSON
line each (method, path under the API, status, content type, a few
headers, the decoded JSON body), for t/openapi/.

At the end of a file the harness stops nginx, fails the file when the
whole error log has [alert], [crit] or [emerg] lines or a sanitizer
reported something, and drops the file's database.

=cut
