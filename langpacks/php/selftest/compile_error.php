<?php
// Must fail `php -l`: the statement has no semicolon.
echo "Hello"
echo "World";
