#!/usr/bin/perl
# A TCP server on 127.0.0.1 that accepts connections and never says a word
# (a hung server, or a connection that died without a reset). Prints its
# port, then holds every connection until killed.
use strict;
use warnings;
use IO::Socket::INET;

my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 16,
			      ReuseAddr => 1) or die "silent.pl: listen: $!\n";
$| = 1;
print $l->sockport, "\n";
my @held;
while (my $c = $l->accept) {
	push @held, $c;
}
