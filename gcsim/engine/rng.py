"""A deterministic random stream inside kernels: xorshift64* over an explicit state.

Numba's ``np.random`` keeps per-thread state that ignores NumPy's seed, so
kernels never call it (STYLE.md §2). Instead the run carries ``rng_state``,
an ``uint64[1]`` array seeded by the driver from ``run.seed`` (splitmix64, so
nearby seeds give unrelated streams), and every draw advances it in place.
The same seed therefore gives the same run, byte for byte.

Reference: Vigna, "An experimental exploration of Marsaglia's xorshift
generators, scrambled" (2016), xorshift64* with multiplier 2685821657736338717.
"""

from __future__ import annotations

import numpy as np

from gcsim.engine._jit import hot_kernel

_MULT = np.uint64(2685821657736338717)
_TWO53 = 1.0 / 9007199254740992.0  # 2**-53


def seed_state(seed: int) -> np.ndarray:
    """Return a fresh ``uint64[1]`` state for ``seed`` (splitmix64 of the seed; never 0)."""
    z = (int(seed) + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    z ^= z >> 31
    return np.array([z or 0x2545F4914F6CDD1D], dtype=np.uint64)


@hot_kernel
def next_u64(state):
    """Advance ``state`` (uint64[1]) and return the next 64-bit output."""
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return x * _MULT


@hot_kernel
def next_float(state):
    """Uniform float64 in [0, 1) with 53 random bits."""
    return float(next_u64(state) >> np.uint64(11)) * _TWO53


@hot_kernel
def next_below(state, n):
    """Uniform int64 in [0, n) for n >= 1 (Lemire-free modulo; bias < n / 2**64)."""
    return np.int64(next_u64(state) % np.uint64(n))
