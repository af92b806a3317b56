# Perl in the sandbox: regexes, hashes, files, backticks, fork and wait.
use strict; use warnings;
my %h = map { $_ => length $_ } qw(alpha beta gamma delta);
print join(",", map { "$_=$h{$_}" } sort keys %h), "\n";
open(my $fh, ">", "p.txt") or die; print $fh "x$_\n" for 1..50; close $fh;
open($fh, "<", "p.txt") or die; my @l = grep { /5/ } <$fh>; close $fh;
print scalar(@l), " lines with 5\n";
my $b = `echo backtick; echo two`; print "got: $b";
my $pid = fork(); if ($pid == 0) { exit 9 } waitpid($pid, 0); print "child exit ", $? >> 8, "\n";
(my $s = "Hello World") =~ s/(\w+)/\u\L$1/g; print "$s\n";
print "sorted: @{[sort { $a <=> $b } (10, 2, 33, 4)]}\n";
unlink "p.txt"; print -e "p.txt" ? "still there\n" : "removed\n";
