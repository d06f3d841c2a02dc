# Reads a name and n 64-bit integers; prints a greeting and their sum.
# Debian's perl has 64-bit integers (use64bitint), so the sum stays an
# exact integer instead of becoming a double.
use strict;
use warnings;

binmode STDIN, ':encoding(UTF-8)';
binmode STDOUT, ':encoding(UTF-8)';

my @tokens = split ' ', do { local $/; <STDIN> };
my ($name, $n) = @tokens[0, 1];
my $sum = 0;
$sum += $tokens[2 + $_] for 0 .. $n - 1;
print "Hello, $name!\n$sum\n";
