# Compile error: a Python 2 print statement is a syntax error in Python 3.
import sys

tokens = sys.stdin.read().split()
print sum(int(token) for token in tokens[1:])
