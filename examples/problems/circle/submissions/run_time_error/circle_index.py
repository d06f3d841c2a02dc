# Run-time error: the loop reads radii[i + 1] for the last i too, which
# raises IndexError.
import math
import sys

tokens = sys.stdin.buffer.read().split()
n = int(tokens[0])
radii = sorted(int(token) for token in tokens[1 : 1 + n])
best = radii[0] ** 2
for i in range(n):
    best = max(best, radii[i + 1] ** 2 - radii[i] ** 2)
print(f"{math.pi * best:.6f}")
