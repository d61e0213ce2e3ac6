package Test::Portal::Smtp;

# A relay on loopback for the tests of portal_smtp (t/07x-smtp*.t):
# t/lib/smtp-sink (Debian's python3-aiosmtpd) started, stopped and told
# what to answer, and the messages it took, parsed as
# Test::Portal::Citizen::read_mail() parses a Maildir's.
#
#     my $port = smtp_start();            # listening once it returns
#     smtp_mode('rcpt 451');              # RCPT TO answered 451
#     my @m = wait_smtp(2, sub { $_[0]{to}[0] eq 'a@example.org' });
#     smtp_stop();                        # connections now refused

use strict;
use warnings;

use Test::Portal;
use Test::Portal::Citizen qw();
use Test::More ();

use IO::Socket::INET;

use File::Basename qw(dirname);
use JSON::PP ();
use POSIX qw(WNOHANG);

our @EXPORT = qw(smtp_start smtp_stop smtp_mode smtp_port smtp_dir
                 smtp_messages wait_smtp smtp_clear);

my $Sink = dirname(__FILE__) . '/../../smtp-sink';
my $Python = '/usr/bin/python3';   # Debian's, which has aiosmtpd
my ($Pid, $Port);

sub import {
    my $caller = caller;
    no strict 'refs';
    *{"${caller}::$_"} = \&{"Test::Portal::Smtp::$_"} for @EXPORT;
}

sub smtp_dir { servroot() . '/smtp' }

# A port of its own, the same across stops and starts.
sub smtp_port {
    return $Port if $Port;
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1)
        or die "no free port: $!\n";
    $Port = $s->sockport;
    close $s;
    return $Port;
}

sub smtp_start {
    my $dir = smtp_dir();
    mkdir $dir unless -d $dir;
    unlink "$dir/pid";
    my $port = smtp_port();     # chosen here, not in the child
    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$dir/sink.log";
        open STDERR, '>>', "$dir/sink.log";
        { no warnings 'exec'; exec $Python, $Sink, $port, $dir; }
        POSIX::_exit(127);
    }
    $Pid = $pid;
    my $ok = wait_until(sub {
        return 0 unless -s "$dir/pid";
        IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                              PeerPort => smtp_port(), Timeout => 1)
            ? 1 : 0;
    }, 30, 'the SMTP relay to listen');
    die "t/lib/smtp-sink did not start:\n" . read_file("$dir/sink.log")
        unless $ok;
    return smtp_port();
}

sub smtp_stop {
    return unless $Pid;
    kill 'TERM', $Pid;
    waitpid $Pid, 0;
    $Pid = undef;
}

sub smtp_mode {
    my ($mode) = @_;
    write_file(smtp_dir() . '/mode', "$mode\n");
}

sub smtp_clear {
    unlink glob smtp_dir() . '/msgs/*';
}

# Every message taken: read_mail()'s hash with from and to (the envelope).
sub smtp_messages {
    my ($filter) = @_;
    my $dir = smtp_dir() . '/msgs';
    opendir my $d, $dir or return ();
    my @m;
    for my $f (sort grep { /\.eml\z/ } readdir $d) {
        my $m = Test::Portal::Citizen::parse_mail(read_file("$dir/$f"),
                                                  file => "$dir/$f");
        (my $env = $f) =~ s/\.eml\z/.json/;
        my $e = JSON::PP->new->decode(read_file("$dir/$env"));
        $m->{from} = $e->{from};
        $m->{to} = $e->{to};
        push @m, $m;
    }
    return $filter ? grep { $filter->($_) } @m : @m;
}

sub wait_smtp {
    my ($n, $filter, $timeout) = @_;
    my @m;
    wait_until(sub { @m = smtp_messages($filter); @m >= $n },
               $timeout // 10, "$n mail(s) at the relay");
    return @m;
}

END { smtp_stop() }

1;
