"""Drawing a value from a distribution row (sizes of sites, frames and depths of goroutines).

A row of an int64 table with the ``state.W_SIZE_DIST`` .. ``W_CHOICE_N`` columns
describes one distribution; ``choice`` rows index a shared values/cdf pair.
"""

from __future__ import annotations

import numpy as np

from gcsim.engine._jit import hot_kernel
from gcsim.engine.rng import next_below, next_float
from gcsim.engine.state import (
    DIST_CHOICE,
    DIST_FIXED,
    DIST_LOGUNIFORM,
    W_CHOICE_N,
    W_CHOICE_OFF,
    W_SIZE_DIST,
    W_SIZE_MAX,
    W_SIZE_MIN,
)


@hot_kernel
def draw_size(rng, site_tab, choice_bytes, choice_cdf, site):
    """Draw one request size in bytes from the site's size distribution."""
    kind = site_tab[site, W_SIZE_DIST]
    lo = site_tab[site, W_SIZE_MIN]
    hi = site_tab[site, W_SIZE_MAX]
    if kind == DIST_FIXED or lo == hi:
        return lo
    if kind == DIST_CHOICE:
        u = next_float(rng)
        off = site_tab[site, W_CHOICE_OFF]
        last = off + site_tab[site, W_CHOICE_N] - 1
        i = off
        while i < last and u >= choice_cdf[i]:
            i += 1
        return choice_bytes[i]
    if kind == DIST_LOGUNIFORM:
        u = next_float(rng)
        v = int(np.exp(np.log(lo) + u * (np.log(hi + 1.0) - np.log(lo))))
        return min(max(v, lo), hi)
    return lo + next_below(rng, hi - lo + 1)
