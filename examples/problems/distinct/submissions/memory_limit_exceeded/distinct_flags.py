# Memory limit exceeded: a list with one flag per possible value holds 10^9
# references, 8 GB, and filling it touches all of them.
import sys

tokens = sys.stdin.buffer.read().split()
n = int(tokens[0])
seen = [False] * (10**9 + 1)
distinct = 0
for token in tokens[1 : 1 + n]:
    value = int(token)
    if not seen[value]:
        seen[value] = True
        distinct += 1
print(distinct)
