# Wrong answer: 3.14 for pi is off by 5e-4 relative, far beyond the 1e-6
# tolerance.
import sys

tokens = sys.stdin.buffer.read().split()
n = int(tokens[0])
radii = sorted(set(int(token) for token in tokens[1 : 1 + n]))
best = radii[0] ** 2
for inner, outer in zip(radii, radii[1:]):
    best = max(best, outer * outer - inner * inner)
print(f"{3.14 * best:.6f}")
