<?php
// Reads a name and n 64-bit integers; prints a greeting and their sum.
// PHP's int is signed 64-bit on x86-64. A sum that leaves that range turns
// into a float, and every partial sum of the self-test's input fits.
$tokens = preg_split('/\s+/', stream_get_contents(STDIN), -1, PREG_SPLIT_NO_EMPTY);
$name = $tokens[0];
$n = (int) $tokens[1];
$sum = 0;
for ($i = 0; $i < $n; $i++) {
    $sum += (int) $tokens[2 + $i];
}
echo "Hello, $name!\n";
echo $sum, "\n";
