"""Seeded draws: a generator per seed and natural key, so that a draw (a sample, a simulated
person's act) is the same however a run is split into parts and re-run. Pure."""

from __future__ import annotations

import hashlib
import random


def rng_for(seed: int, *key: object) -> random.Random:
    digest = hashlib.sha256(repr((seed, *key)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))
