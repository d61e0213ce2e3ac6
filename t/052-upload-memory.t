# A worker's memory under a burst of documents: 16 uploads of 9 MiB at
# once (16 accounts), then the 16 documents downloaded at once.  Each is
# streamed a chunk at a time, so a worker holds about a chunk per upload
# and a batch of chunks per download; once the burst is over it is back
# near where it started, since nothing of the documents stays (libpq's
# buffers keep the size of one chunk, not of a batch of them).
#
# Memory is not time: what a worker holds for a given burst does not
# depend on the machine's speed or load, only on how many requests are in
# flight at once, which is the burst's size at most.  The bounds are the
# issue's (64 MiB at the peak, 32 MiB after), some five times what a
# worker takes here, so that a change in glibc or libpq does not fail them
# but holding documents whole again (9 MiB each, 16 at once) would.  Not
# under a sanitizer, whose own memory is what it would measure.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::Portal;
use Test::Portal::Citizen;
use Test::Portal::Upload;

use Digest::SHA qw(sha256_hex);

my $MiB = 1024 * 1024;

plan tests => 10;

# the peak (VmHWM) since now: the logins' Argon2id took 64 MiB a hash
# on the thread pool, which is not the burst's
sub reset_peaks {
    my $n = 0;
    for my $w (worker_pids()) {
        open my $fh, '>', "/proc/$w/clear_refs" or next;
        $n++ if print {$fh} "5";
        close $fh;
    }
    return $n;
}

sub mib { sprintf '%.1f MiB', $_[0] / 1024 }

my @logins = map { "rafale.citoyen$_" } 1 .. 16;
account_sql($_) for @logins;

ok(start_nginx(http_config => citizen_http_config(),
               config => "client_max_body_size 11m;\n"
                         . "location /api/ { portal_api citizen; }"),
   'nginx starts, one worker');

my @c = map { my $c = citizen(); $c->login($_, $PASSWORD); $c } @logins;
is(scalar(grep { length $_->cookie_header } @c), 16, '16 citizens log in');

my $PDF = pdf_bytes(9 * $MiB);
my $idle = worker_memory();
my $peaks = reset_peaks();

my @res = parallel_uploads([map {
    [$_, 'me/documents', upload_body('identite', 'scan.pdf', $PDF)]
} @c]);
my $up = worker_memory();

is(join(' ', map { $_->{status} // 'none' } @res), join(' ', (201) x 16),
   '16 uploads of 9 MiB at once: 201 each');
is(psql_query("SELECT count(*) FROM portal.documents"
              . " WHERE chunks = 36 AND state = 'complete'"), 16,
   '... each in 36 chunks');

my @ids = map { ($_->{json} // {})->{id} // '' } @res;
reset_peaks();
my @dl = http_collect(map {
    http_start(GET => "/api/me/documents/$ids[$_]",
               headers => [Cookie => $c[$_]->cookie_header], timeout => 120)
} 0 .. 15);
my $down = worker_memory();

is(scalar(grep { ($_->{status} // 0) == 200
                 && sha256_hex($_->{body} // '') eq sha256_hex($PDF) } @dl),
   16, '16 downloads at once: each the very bytes');

note 'worker: ' . mib($idle->{rss}) . ' before; uploads: peak '
     . mib($up->{peak}) . ', then ' . mib($up->{rss}) . '; downloads: peak '
     . mib($down->{peak}) . ', then ' . mib($down->{rss});

SKIP: {
    skip 'memory is the sanitizer\'s under ' . sanitizer(), 5 if sanitizer();
    skip 'no /proc/<pid>/clear_refs to measure the burst\'s peak', 5
        unless $peaks;

    ok($up->{peak} < 64 * 1024,
       'the uploads\' peak stays under 64 MiB: ' . mib($up->{peak}));
    ok($up->{rss} < 32 * 1024,
       '... and the worker is back under 32 MiB after them: '
       . mib($up->{rss}));
    ok($up->{rss} - $idle->{rss} < 8 * 1024,
       '... within 8 MiB of where it started ('
       . mib($up->{rss} - $idle->{rss}) . ')');
    ok($down->{peak} < 64 * 1024,
       'the downloads\' peak stays under 64 MiB: ' . mib($down->{peak}));
    ok($down->{rss} < 32 * 1024,
       '... and the worker is back under 32 MiB after them: '
       . mib($down->{rss}));
}
