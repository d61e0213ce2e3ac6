package Test::Portal::Requests;

# Helpers for the tests of requests in PostgreSQL (t/050), on top of
# Test::Portal: statements run through psql as the role nginx connects as
# ("portal"), each statement its own transaction, with the SQLSTATE, the
# constraint name and the detail of a refusal; several psql at once; JSON
# answers decoded.
#
#     use lib 't/lib';
#     use Test::Portal;
#     use Test::Portal::Requests;
#
#     my $r = as_portal_sql("SELECT portal.request_get('$acc', '$id')");
#     $r->{ok}, $r->{rows}, $r->{sqlstate}, $r->{constraint}, $r->{detail},
#     $r->{hint}
#     my $json = portal_json("SELECT portal.catalog_json()");
#     refusal($r)      # "P0001 request_state", or "" when it went through

use strict;
use warnings;
use utf8;

use Test::Portal;
use Test::More ();

use Encode ();
use File::Path qw(make_path);
use JSON::PP ();
use POSIX qw(WNOHANG);
use Time::HiRes qw(time);

our @EXPORT = qw(
    as_portal_sql as_portal_parallel portal_json refusal sql_quote
    json_literal
);

my $Json = JSON::PP->new->utf8->canonical->allow_nonref;
my $DbMade;

sub import {
    my $caller = caller;
    no strict 'refs';
    *{"${caller}::$_"} = \&{"Test::Portal::Requests::$_"} for @EXPORT;
}

# 'text' as an SQL literal
sub sql_quote {
    my ($s) = @_;
    return 'NULL' unless defined $s;
    $s =~ s/'/''/g;
    return "'$s'";
}

# Perl data as a jsonb literal
sub json_literal {
    my ($data) = @_;
    return 'NULL' unless defined $data;
    return sql_quote(Encode::decode('UTF-8', $Json->encode($data)))
           . '::jsonb';
}

sub psql_command {
    my (@sql) = @_;
    return ['psql', '-X', '-q', '-tA', '-F', "\x1f", '-v', 'ON_ERROR_STOP=1',
            '-v', 'VERBOSITY=verbose', '-h', pg_host(), '-U', 'portal',
            '-d', test_db(), map { ('-c', _bytes($_)) } @sql];
}

sub _bytes {
    my ($s) = @_;
    return utf8::is_utf8($s) ? Encode::encode('UTF-8', $s) : $s;
}

# What psql said: the rows (text, split on \x1f), and for an error its
# SQLSTATE, constraint name, message, detail and hint.
sub outcome {
    my ($rc, $out, $err) = @_;
    $out = Encode::decode('UTF-8', $out // '');
    $err = Encode::decode('UTF-8', $err // '');
    my %r = (ok => $rc == 0, out => $out, err => $err,
             rows => [map { [split /\x1f/, $_, -1] } split /\n/, $out]);
    if ($err =~ /ERROR:\s+([0-9A-Z]{5}):\s*(.*)/) {
        @r{qw(sqlstate message)} = ($1, $2);
    }
    $r{constraint} = $1 if $err =~ /^CONSTRAINT NAME:\s+(\S+)/m;
    $r{detail} = $1 if $err =~ /^DETAIL:\s+(.*)/m;
    $r{hint} = $1 if $err =~ /^HINT:\s+(.*)/m;
    return \%r;
}

# Statements as portal, each one its own transaction, stopping at the
# first error.
sub as_portal_sql {
    my (@sql) = @_;
    psql_query('SELECT 1') unless $DbMade++;    # the database exists
    return outcome(Test::Portal::run_cmd(
        psql_command(@sql),
        env => { PGOPTIONS => '-c client_min_messages=warning' },
        timeout => 120));
}

# Each statement in a psql of its own, all started before any is waited
# for; $o{started} is called once they all run.  Their outcomes, in order.
sub as_portal_parallel {
    my ($sql, %o) = @_;
    psql_query('SELECT 1') unless $DbMade++;
    my $dir = servroot() . '/logs';
    make_path($dir);
    my @kids;
    for my $i (0 .. $#$sql) {
        my ($out, $err) = ("$dir/par.$$.$i.out", "$dir/par.$$.$i.err");
        my $pid = fork // die "fork: $!\n";
        if ($pid == 0) {
            open STDIN, '<', '/dev/null';
            open STDOUT, '>', $out;
            open STDERR, '>', $err;
            $ENV{PGOPTIONS} = '-c client_min_messages=warning';
            my $cmd = psql_command($sql->[$i]);
            { no warnings 'exec'; exec { $cmd->[0] } @$cmd; }
            POSIX::_exit(127);
        }
        push @kids, [$pid, $out, $err];
    }
    $o{started}->() if $o{started};
    my @res;
    for my $k (@kids) {
        my ($pid, $out, $err) = @$k;
        my $deadline = time + 120 * timeout_factor();
        my $rc = -1;
        while (time < $deadline) {
            if (waitpid($pid, WNOHANG) == $pid) { $rc = $?; last }
            select undef, undef, undef, 0.01;
        }
        if ($rc == -1) { kill 'KILL', $pid; waitpid $pid, 0 }
        push @res, outcome($rc, read_file($out), read_file($err));
        unlink $out, $err;
    }
    return @res;
}

# The first column of the first row of a statement run as portal, JSON
# decoded (undef for NULL); dies with psql's words on an error.
sub portal_json {
    my ($sql) = @_;
    my $r = as_portal_sql($sql);
    die "as portal: $sql\n$r->{err}\n" unless $r->{ok};
    my $v = @{ $r->{rows} } ? $r->{rows}[0][0] : '';
    return undef if !defined $v || $v eq '';
    return $Json->decode(Encode::encode('UTF-8', $v));
}

# "P0001 request_state": the refusal of an outcome ("" when it went
# through, "42501 -" for an error without a constraint).
sub refusal {
    my ($r) = @_;
    return '' if $r->{ok};
    return ($r->{sqlstate} // '?????') . ' ' . ($r->{constraint} // '-');
}

1;
