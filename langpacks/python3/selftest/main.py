# Reads a name and n 64-bit integers; prints a greeting and their sum.
import sys

tokens = sys.stdin.read().split()
name, n = tokens[0], int(tokens[1])
values = [int(token) for token in tokens[2 : 2 + n]]
print(f"Hello, {name}!")
print(sum(values))
