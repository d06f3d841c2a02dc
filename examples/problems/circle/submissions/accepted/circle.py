import math
import sys

tokens = sys.stdin.buffer.read().split()
n = int(tokens[0])
radii = sorted(set(int(token) for token in tokens[1 : 1 + n]))
rings = [outer * outer - inner * inner for inner, outer in zip(radii, radii[1:])]
best = max([radii[0] ** 2, *rings])
print(f"{math.pi * best:.6f}")
