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
    LIFE_EXPONENTIAL,
    LIFE_FIFO,
    LIFE_IMMORTAL,
    W_CHOICE_N,
    W_CHOICE_OFF,
    W_LIFE_KIND,
    W_ROOT_BASE,
    W_ROOT_LEN,
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


@hot_kernel
def draw_root_slot(rng, site_tab, site_cursor, site):
    """The site's root-table entry a new object replaces, or -1 (transient sites).

    fifo: the oldest entry, round robin. exponential: the next empty entry,
    then a uniformly random one once the table is full, so each object
    survives a geometric number of the site's allocations with mean n (the
    discrete exponential lifetime). immortal: the next entry, never reused.
    """
    kind = site_tab[site, W_LIFE_KIND]
    base = site_tab[site, W_ROOT_BASE]
    n = site_tab[site, W_ROOT_LEN]
    if kind == LIFE_FIFO:
        idx = base + site_cursor[site]
        site_cursor[site] = (site_cursor[site] + 1) % n
        return idx
    if kind == LIFE_EXPONENTIAL:
        if site_cursor[site] < n:
            idx = base + site_cursor[site]
            site_cursor[site] += 1
            return idx
        return base + next_below(rng, n)
    if kind == LIFE_IMMORTAL:
        idx = base + site_cursor[site]
        site_cursor[site] += 1
        return idx
    return -1
