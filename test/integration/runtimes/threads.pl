# Perl with ithreads in the sandbox: threads sharing a locked counter and a
# queue, fork with pipes, and sort. Output must equal the native run's.
use strict;
use warnings;
use threads;
use threads::shared;
use Thread::Queue;

my $count :shared = 0;
my @ts = map {
    threads->create(sub {
        my $k = shift;
        for (1 .. 1000) { lock($count); $count++; }
        return $k * $k;
    }, $_)
} 1 .. 6;
my $sq = 0;
$sq += $_->join for @ts;
print "threads: count $count squares $sq\n";

my $q = Thread::Queue->new;
my @workers = map {
    threads->create(sub {
        my $s = 0;
        while (defined(my $item = $q->dequeue)) { $s += $item; }
        return $s;
    })
} 1 .. 3;
$q->enqueue($_) for 1 .. 3000;
$q->end;
my $total = 0;
$total += $_->join for @workers;
print "queue: $total\n";

pipe(my $r, my $w) or die "pipe: $!";
my @pids;
for my $i (1 .. 4) {
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        close $r;
        print $w join(",", map { $_ * $i } 1 .. 5), "\n";
        close $w;
        exit $i;
    }
    push @pids, $pid;
}
close $w;
my @lines = sort <$r>;
my @codes = sort map { waitpid($_, 0); $? >> 8 } @pids;
print "fork: ", scalar(@lines), " lines, codes @codes\n", @lines;

open(my $sort, "-|", "printf 'pear\\napple\\nfig\\n' | sort") or die;
print "pipe open: ", join(" ", map { chomp; $_ } <$sort>), "\n";
close $sort;
my @nums = sort { $b <=> $a } map { ($_ * 7919) % 1009 } 1 .. 2000;
print "sort: @nums[0..4] ... $nums[-1]\n";
my %h = map { $_ => length } qw(banana kiwi cherry date);
print "sort keys: ", join(",", sort { $h{$a} <=> $h{$b} or $a cmp $b } keys %h), "\n";
