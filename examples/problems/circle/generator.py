#!/usr/bin/env python3
"""Writes the secret tests of `circle` into data/secret/.

Deterministic (fixed seed), so rerunning it reproduces the committed files.
The answers are printed with 6 decimals, so rounding adds at most 5e-7,
within the 1e-6 tolerance. Run from this folder: python3 generator.py
"""

import math
import random
from pathlib import Path

MAX_RADIUS = 10**6


def widest(radii):
    distinct = sorted(set(radii))
    best = distinct[0] ** 2
    for inner, outer in zip(distinct, distinct[1:]):
        best = max(best, outer * outer - inner * inner)
    return math.pi * best


def write_case(name, radii):
    folder = Path("data/secret")
    text = f"{len(radii)}\n{' '.join(map(str, radii))}\n"
    (folder / f"{name}.in").write_text(text)
    (folder / f"{name}.ans").write_text(f"{widest(radii):.6f}\n")


def main():
    rng = random.Random(20240603)
    # The answer is the disc of radius 1, pi: two decimals are not enough.
    write_case("01-unit-disc", [1])
    # The disc is the widest part.
    write_case("02-disc-wins", [1000, 1001, 1002])
    # Squares above 2^31: 32-bit products overflow.
    write_case("03-large-radii", [MAX_RADIUS, 1, MAX_RADIUS - 1, 2])
    write_case("04-repeats", [5, 3, 5, 3, 9, 9, 1, 1] * 100)
    # A quadratic scan needs about 4 * 10^10 steps here.
    write_case("05-max-n", [rng.randint(1, MAX_RADIUS) for _ in range(200_000)])


if __name__ == "__main__":
    main()
