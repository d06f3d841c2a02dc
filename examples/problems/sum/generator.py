#!/usr/bin/env python3
"""Writes the secret tests of `sum` into data/secret/.

Deterministic (fixed seed), so rerunning it reproduces the committed files.
Run from this folder: python3 generator.py
"""

import random
from pathlib import Path

LIMIT = 10**13


def write_case(name, values):
    folder = Path("data/secret")
    text = f"{len(values)}\n{' '.join(map(str, values))}\n"
    (folder / f"{name}.in").write_text(text)
    (folder / f"{name}.ans").write_text(f"{sum(values)}\n")


def main():
    rng = random.Random(20240601)
    # One value: the smallest input.
    write_case("01-single", [-LIMIT])
    # Sums above 2^31: 32-bit accumulators overflow.
    write_case("02-above-int32", [2_000_000_000, 2_000_000_000, 147_483_648])
    # Sums above 2^53, where a double cannot hold odd integers, so a
    # floating-point accumulator prints the wrong value.
    big = [LIMIT - 1] * 1000 + [1]
    write_case("03-above-double", big)
    # Mixed signs that cancel, the maximum magnitude.
    mixed = [rng.choice((-1, 1)) * rng.randint(0, LIMIT) for _ in range(1000)]
    write_case("04-mixed-signs", mixed)
    # The largest n, with values below 10^7 so that the file stays under
    # 2 MB.
    large = [rng.randint(-(10**7), 10**7) for _ in range(200_000)]
    write_case("05-max-n", large)


if __name__ == "__main__":
    main()
