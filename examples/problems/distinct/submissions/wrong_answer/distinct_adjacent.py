# Wrong answer: counts changes between neighbours, which is only right when
# equal values are next to each other (the input is not sorted).
import sys

tokens = sys.stdin.read().split()
n = int(tokens[0])
values = tokens[1 : 1 + n]
print(1 + sum(1 for i in range(1, n) if values[i] != values[i - 1]))
