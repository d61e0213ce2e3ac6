package Test::Portal::Upload;

# Helpers for the tests of documents streamed into PostgreSQL (t/051,
# t/052), on top of Test::Portal and its citizen clients: multipart bodies
# of any size, uploads sent at once by a client that writes as fast as the
# server reads (no request waits behind another's body), an upload cut
# short, and the memory of nginx's workers.
#
#     use lib 't/lib';
#     use Test::Portal;
use Exporter qw(import);
#     use Test::Portal::Citizen;
#     use Test::Portal::Upload;
#
#     my $body = upload_body('identite', 'scan.pdf', $pdf);
#     my @res = parallel_uploads(map { [$client, 'me/documents', $body] }
#                                1 .. 16);
#     my $h = partial_upload($client, "requests/$id/documents", $body,
#                            1_000_000);     # sends the first 1 MB only
#     worker_memory()                        # { rss => KiB, peak => KiB }

use strict;
use warnings;

use Test::Portal;
use Test::More ();

use Errno qw(EAGAIN EINTR EWOULDBLOCK);
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);

our @EXPORT = qw(
    $BOUNDARY upload_body upload_type pdf_bytes parallel_uploads
    partial_upload worker_memory
);

our $BOUNDARY = 'PortalStreamBoundary4fQ2xZ';

sub upload_type { "multipart/form-data; boundary=$BOUNDARY" }

# The form of the citizens' page, "kind" then "file", as three pieces
# (head, the file, tail) so that a large file is never copied.
sub upload_body {
    my ($kind, $filename, $data, %o) = @_;
    my $type = $o{type}
        // ($data =~ /\A%PDF-/ ? 'application/pdf'
            : $data =~ /\A\x89PNG/ ? 'image/png' : 'image/jpeg');
    my $b = $BOUNDARY;
    my $head = '';
    $head .= "--$b\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n"
           . "$kind\r\n" if defined $kind;
    $head .= "--$b\r\nContent-Disposition: form-data; name=\"file\";"
           . " filename=\"$filename\"\r\nContent-Type: $type\r\n\r\n";
    return [$head, $data, "\r\n--$b--\r\n"];
}

# A PDF of exactly $n bytes whose content varies (no two chunks alike)
sub pdf_bytes {
    my ($n) = @_;
    my $head = "%PDF-1.7\n";
    my $tail = "\n%%EOF\n";
    my $fill = $n - length($head) - length($tail);
    die "pdf_bytes: $n is too small\n" if $fill < 0;
    my $line = '';
    my $body = '';
    my $i = 0;
    while (length $body < $fill) {
        $body .= sprintf "%% page %08d of a scanned document\n", $i++;
    }
    return $head . substr($body, 0, $fill) . $tail;
}

sub body_length {
    my ($body) = @_;
    my $n = 0;
    $n += length $_ for @$body;
    return $n;
}

# The request's head for a client's upload
sub request_head {
    my ($c, $path, $length, %o) = @_;
    my @h = (Host => 'localhost', Connection => 'close',
             'Content-Type' => $o{type} // upload_type(),
             'Content-Length' => $length,
             'X-CSRF-Token' => $c->token);
    my $cookie = $c->cookie_header;
    push @h, Cookie => $cookie if length $cookie;
    push @h, @{ $o{headers} || [] };
    my $req = "POST /api/$path HTTP/1.1\r\n";
    for (my $i = 0; $i < @h; $i += 2) {
        $req .= "$h[$i]: $h[$i + 1]\r\n";
    }
    return "$req\r\n";
}

sub connect_nb {
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => port(), Proto => 'tcp',
                                     Timeout => 5)
        or die "cannot connect to 127.0.0.1:" . port() . ": $@\n";
    my $flags = fcntl $sock, F_GETFL, 0;
    fcntl $sock, F_SETFL, $flags | O_NONBLOCK;
    return $sock;
}

# Uploads in flight at once, each [$client, $path, $body (upload_body),
# %o]: every socket is written as the server reads it, and read as the
# server answers, in one loop.  Returns the responses in order (as
# http_request's, with json decoded).  $o{timeout}: seconds for all.
sub parallel_uploads {
    my ($uploads, %o) = @_;
    my @u;
    for my $up (@$uploads) {
        my ($c, $path, $body, %uo) = @$up;
        my $head = request_head($c, $path, body_length($body), %uo);
        push @u, { sock => connect_nb(), pieces => [$head, @$body],
                   piece => 0, offset => 0, buf => '', start => time };
    }

    my $deadline = time + ($o{timeout} // 120) * timeout_factor();
    while (time < $deadline) {
        my @open = grep { $_->{sock} } @u;
        last unless @open;
        my $w = IO::Select->new(map { $_->{sock} }
                                grep { $_->{piece} < @{ $_->{pieces} } }
                                @open);
        my $r = IO::Select->new(map { $_->{sock} } @open);
        my ($rd, $wr) = IO::Select->select($r, $w, undef, 0.05);
        for my $s (@{ $wr || [] }) {
            my ($x) = grep { $_->{sock} && $_->{sock} == $s } @open or next;
            write_some($x);
        }
        for my $s (@{ $rd || [] }) {
            my ($x) = grep { $_->{sock} && $_->{sock} == $s } @open or next;
            my $n = sysread $s, my $chunk, 65536;
            next if !defined $n && ($! == EAGAIN || $! == EWOULDBLOCK
                                    || $! == EINTR);
            if ($n) {
                $x->{buf} .= $chunk;
            } else {
                close $s;
                delete $x->{sock};
                $x->{elapsed} = time - $x->{start};
            }
        }
    }
    for my $x (grep { $_->{sock} } @u) {
        close $x->{sock};
        delete $x->{sock};
        $x->{error} = 'timeout';
    }
    return map { parse_response($_) } @u;
}

sub write_some {
    my ($x) = @_;
    while ($x->{piece} < @{ $x->{pieces} }) {
        my $p = \$x->{pieces}[$x->{piece}];
        my $left = length($$p) - $x->{offset};
        my $n = syswrite $x->{sock}, $$p, ($left > 65536 ? 65536 : $left),
                         $x->{offset};
        unless (defined $n) {
            return if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
            # the server answered before the end (413...): read that
            $x->{piece} = @{ $x->{pieces} };
            return;
        }
        $x->{offset} += $n;
        if ($x->{offset} == length $$p) {
            $x->{piece}++;
            $x->{offset} = 0;
        }
        return if $n < $left;
    }
}

sub parse_response {
    my ($x) = @_;
    my %res = (raw => $x->{buf}, elapsed => $x->{elapsed},
               error => $x->{error});
    my ($head, $body) = split /\r\n\r\n/, $x->{buf}, 2;
    return \%res unless defined $head
                        && $head =~ m{\AHTTP/1\.[01] (\d{3}) ?([^\r\n]*)};
    @res{qw(status reason)} = ($1, $2);
    for my $l (split /\r\n/, $head) {
        my ($n, $v) = $l =~ /\A([^:]+):\s*(.*)\z/ or next;
        push @{ $res{header_list} }, [$n, $v];
        $res{headers}{lc $n} = exists $res{headers}{lc $n}
                               ? "$res{headers}{lc $n}, $v" : $v;
    }
    $res{body} = $body // '';
    $res{json} = decode_json_body(\%res);
    return \%res;
}

# An upload whose first $bytes only are sent (headers announce it whole):
# a handle with sock, to close or to read (http_wait, http_abort).
sub partial_upload {
    my ($c, $path, $body, $bytes, %o) = @_;
    my $x = { sock => connect_nb(),
              pieces => [request_head($c, $path, body_length($body), %o),
                         @$body],
              piece => 0, offset => 0, buf => '', start => time };
    my $sent = -length $x->{pieces}[0];
    my $deadline = time + 60 * timeout_factor();
    # write the head and $bytes of the body, as fast as the server reads
    my $total = $bytes + length $x->{pieces}[0];
    my $left = $total;
    while ($left > 0 && time < $deadline) {
        my $w = IO::Select->new($x->{sock});
        next unless $w->can_write(0.05);
        my $p = \$x->{pieces}[$x->{piece}];
        my $n = length($$p) - $x->{offset};
        $n = $left if $n > $left;
        $n = 65536 if $n > 65536;
        my $k = syswrite $x->{sock}, $$p, $n, $x->{offset};
        unless (defined $k) {
            next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
            last;
        }
        $left -= $k;
        $x->{offset} += $k;
        if ($x->{offset} == length $$p) {
            $x->{piece}++;
            $x->{offset} = 0;
        }
    }
    return bless { sock => $x->{sock}, method => 'POST',
                   path => "/api/$path", buf => '', start => time,
                   deadline => time + 30 * timeout_factor(),
                   sent => $total - $left }, 'Test::Portal::HTTP';
}

# The resident size of nginx's workers now and their peak since they
# started, in KiB (the largest of the workers for each).
sub worker_memory {
    my %m = (rss => 0, peak => 0);
    for my $pid (worker_pids()) {
        open my $fh, '<', "/proc/$pid/status" or next;
        while (<$fh>) {
            $m{rss} = $1 if /^VmRSS:\s+(\d+)/ && $1 > $m{rss};
            $m{peak} = $1 if /^VmHWM:\s+(\d+)/ && $1 > $m{peak};
        }
    }
    return \%m;
}

1;
