# Time limit exceeded: list.pop(0) shifts every remaining element, so
# consuming n tokens this way takes O(n^2) time.
import sys

tokens = sys.stdin.read().split()
n = int(tokens.pop(0))
total = 0
while tokens:
    total += int(tokens.pop(0))
print(total)
