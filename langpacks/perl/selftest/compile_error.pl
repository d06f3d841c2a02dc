# Must fail `perl -c`: an assignment with no right-hand side.
my $x = ;
