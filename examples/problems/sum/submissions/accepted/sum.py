import sys

tokens = sys.stdin.buffer.read().split()
n = int(tokens[0])
print(sum(int(token) for token in tokens[1 : 1 + n]))
