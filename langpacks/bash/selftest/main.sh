#!/usr/bin/env bash
# Reads a name and n 64-bit integers; prints a greeting and their sum.
# Bash arithmetic is signed 64-bit, the same width as the test's integers.
read -r -d '' -a tokens
name=${tokens[0]}
n=${tokens[1]}
sum=0
for ((i = 0; i < n; i++)); do
    ((sum += tokens[2 + i]))
done
printf 'Hello, %s!\n%d\n' "$name" "$sum"
