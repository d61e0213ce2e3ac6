package Test::Portal::Pdf;

# Helpers for the tests of the PDFs (t/053 a request's, t/069 a letter's),
# on top of Test::Portal: the PDF pool's directive, a PDF as a file and
# its text, and the thread pool filled so that the next PDF gets 503.
#
#     use lib 't/lib';
#     use Test::Portal;
use Exporter qw(import);
#     use Test::Portal::Pdf;
#
#     start_nginx(http_config => citizen_http_config(extra => $PDF_POOL));
#     my $text = pdf_text(pdf_file('typical', $res->{body}));
#     my @long = pdf_pool_fill("/slow/api/requests/$id.pdf", $cookie,
#                              $dbg, $dbg_off, 'request', $id);
#     is(busy_answer($res), '503 busy 2');
#     my @made = http_collect(@long);
#
# The pool filled: a location at debug level (the "slow" one, whose log
# is $dbg, read from $dbg_off) shows each PDF go to the thread pool.

use strict;
use warnings;
use utf8;

use Test::Portal;

use Encode ();

our @EXPORT = qw($PDF_POOL pdf_file pdf_text pdf_pool_fill busy_answer);

our $PDF_POOL = "portal_pdf_thread_pool portal_pdf;\n";

# the PDF written into the test's directory: its path
sub pdf_file {
    my ($name, $pdf) = @_;
    my $f = servroot() . "/$name.pdf";
    write_file($f, $pdf);
    return $f;
}

# pdftotext's text (of a part of page 1, in points, when told), no-break
# spaces as spaces
sub pdf_text {
    my ($f, @box) = @_;
    my $crop = @box ? "-f 1 -l 1 -r 72 -x $box[0] -y $box[1] -W $box[2]"
                      . " -H $box[3]" : '-layout';
    my $t = Encode::decode('UTF-8', scalar `pdftotext $crop '$f' - 2>&1`);
    $t =~ s/[\x{a0}\x{202f}]/ /g;
    return $t;
}

# Two long PDFs started, each awaited until the module logs that it went
# to the thread pool (one thread drawing, a queue of one full): their
# handles for http_collect().
sub pdf_pool_fill {
    my ($url, $cookie, $dbg, $dbg_off, $noun, $id) = @_;
    my @long;
    for my $n (1, 2) {
        push @long, http_start(GET => $url,
                               headers => [ Cookie => $cookie ]);
        wait_until(sub {
            my @posted = read_file($dbg, $dbg_off)
                         =~ /the PDF of $noun \Q$id\E goes to the thread/g;
            return @posted == $n;
        }, 10, "long $noun PDF $n to go to the thread pool");
    }
    return @long;
}

# "503 busy 2": the status, the error's code and Retry-After of an answer
sub busy_answer {
    my ($res) = @_;
    return join(' ', $res->{status}, ($res->{json} // {})->{error}{code} // '',
                $res->{headers}{'retry-after'} // 'no Retry-After');
}

1;
