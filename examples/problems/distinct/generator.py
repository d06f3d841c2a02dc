#!/usr/bin/env python3
"""Writes the secret tests of `distinct` into data/secret/.

Deterministic (fixed seed), so rerunning it reproduces the committed files.
Run from this folder: python3 generator.py
"""

import random
from pathlib import Path

MAX_VALUE = 10**9


def write_case(name, values):
    folder = Path("data/secret")
    text = f"{len(values)}\n{' '.join(map(str, values))}\n"
    (folder / f"{name}.in").write_text(text)
    (folder / f"{name}.ans").write_text(f"{len(set(values))}\n")


def main():
    rng = random.Random(20240602)
    write_case("01-single", [MAX_VALUE])
    write_case("02-all-equal", [7] * 1000)
    # Equal values far apart: counting changes between neighbours is wrong.
    write_case("03-interleaved", [1, 2, 3] * 300)
    write_case("04-all-distinct", rng.sample(range(1, MAX_VALUE + 1), 1000))
    # A quadratic scan needs about 10^10 comparisons here. n is below the
    # maximum so that the file stays under 2 MB. Each value is drawn from a
    # pool of 100000, so about 83000 of them are distinct.
    pool = rng.sample(range(1, MAX_VALUE + 1), 100_000)
    write_case("05-large", [rng.choice(pool) for _ in range(180_000)])


if __name__ == "__main__":
    main()
