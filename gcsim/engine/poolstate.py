"""sync.Pool state: the arrays of every pool, their counters and parameters.

Kept apart from ``engine/pool.py`` (the algorithm) so ``state.py`` can hold a
``Pools`` as one field of ``State`` without an import cycle. See pool.py's
module essay for what the arrays model.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# Where a Get found its object (also the order Get tries them).
SRC_PRIVATE = 0
SRC_SHARED = 1
SRC_STOLEN = 2
SRC_VICTIM = 3
SRC_NEW = 4

# Per-pool int64 counters (Pools.counters[pool, PC_*]).
PC_GETS = 0  # Get calls
PC_PUTS = 1  # Put calls (with the pool disabled: objects dropped instead)
PC_HIT_PRIVATE = 2  # Gets served by the P's private slot
PC_HIT_SHARED = 3  # ... by the head of the P's shared deque
PC_HIT_STOLEN = 4  # ... by the tail of another P's shared deque
PC_HIT_VICTIM = 5  # ... by the victim (private or shared)
PC_NEWS = 6  # Gets that called New(): heap allocations
PC_DROPPED = 7  # objects dropped by cleanups (then freed by that cycle's sweep)
PC_DROPPED_MAX = 8  # most objects one cleanup dropped
PC_CLEANUPS = 9  # poolCleanup calls (one per GC)
PC_SAVED_BYTES = 10  # slot bytes of objects Gets took from the pool (allocations avoided)
PC_ZEROED_BYTES = 11  # bytes cleared by zero_on_put
PC_CPU_CYCLES = 12  # cycles spent in Get/Put (New's allocation excluded)
PC_VICTIM_EMPTIED = 13  # Gets that found the victim empty and marked it so
PC_PINNED = 14  # 1 if the pool was used since the last cleanup (Go's allPools entry)
PC_MAX_DEPTH = 15  # largest length any shared deque reached
N_PC = 16

# Per-pool int64 parameters (Pools.params[pool, PP_*]).
PP_SITE = 0  # the site whose steps use the pool
PP_ENABLED = 1  # 0 = the program without the pool (Get = New, Put = drop)
PP_ZERO_ON_PUT = 2  # 1 = clear the object before Put
PP_VICTIM = 3  # 1 = victim cache (Go >= 1.13), 0 = drop everything at each GC
PP_LIFE = 4  # the site's lifetime kind (LIFE_*): how long a Get's object is held
PP_BATCH_OFF = 5  # first entry of the pool's batch distribution in batch_values/cdf
PP_BATCH_N = 6
N_PP = 7

# Cost entries in cycles (Pools.cost[PCOST_*]); goruntime/costs.py pool_* entries.
PCOST_GET_PRIVATE = 0  # Get served by the private slot (pin, load, unpin)
PCOST_GET_SHARED = 1  # Get whose private was empty and popHead succeeded
PCOST_GET_SLOW = 2  # Get that reached getSlow: pin, private, popHead miss, getSlow entry
PCOST_PROBE = 3  # per P whose shared tail (primary or victim) getSlow tried
PCOST_POP_TAIL = 4  # extra for a successful popTail (stolen or victim hit)
PCOST_PUT_PRIVATE = 5  # Put into an empty private slot
PCOST_PUT_SHARED = 6  # Put pushed on the shared head (ring growth amortised)
PCOST_ZERO_PER_BYTE = 7  # clearing the object on Put, per slot byte
N_PCOST = 8


class Pools(NamedTuple):
    """Every sync.Pool of the workload (n_pools >= 1 rows; a run without pools has
    one unused row so the types never change)."""

    priv: np.ndarray  # int64[n_pools, P]: the private slot, -1 = empty
    shared: np.ndarray  # int64[n_pools, P, cap]: shared deque ring, [tail, head) in use
    head: np.ndarray  # int64[n_pools, P]: push/pop end (monotone; index % cap)
    tail: np.ndarray  # int64[n_pools, P]: steal end
    vpriv: np.ndarray  # int64[n_pools, P]: victim private
    vshared: np.ndarray  # int64[n_pools, P, cap]: victim shared
    vhead: np.ndarray  # int64[n_pools, P]
    vtail: np.ndarray  # int64[n_pools, P]
    victim_size: np.ndarray  # int64[n_pools]: Go's victimSize: P, or 0 once found empty
    counters: np.ndarray  # int64[n_pools, N_PC], updated by Get/Put/cleanup
    params: np.ndarray  # int64[n_pools, N_PP], fixed
    batch_values: np.ndarray  # int64[n_batch]: objects one transient use Gets
    batch_cdf: np.ndarray  # float64[n_batch]: cumulative weights, 1 at each pool's last
    cost: np.ndarray  # float64[N_PCOST]: cycles
    held: np.ndarray  # int64[max_batch]: the objects one use holds (scratch)


def new_pools(
    n_pools: int,
    gomaxprocs: int,
    params: np.ndarray | None = None,
    batch_values: np.ndarray | None = None,
    batch_cdf: np.ndarray | None = None,
    cost: np.ndarray | None = None,
    cap: int = 64,
) -> Pools:
    """Empty pools (plain NumPy; the driver builds them from the compiled workload)."""
    n = max(n_pools, 1)
    P = gomaxprocs
    if params is None:
        params = np.zeros((n, N_PP), dtype=np.int64)
        params[:, PP_SITE] = -1
    bv = np.ones(1, dtype=np.int64) if batch_values is None else batch_values
    bc = np.ones(1, dtype=np.float64) if batch_cdf is None else batch_cdf
    return Pools(
        priv=np.full((n, P), -1, dtype=np.int64),
        shared=np.full((n, P, cap), -1, dtype=np.int64),
        head=np.zeros((n, P), dtype=np.int64),
        tail=np.zeros((n, P), dtype=np.int64),
        vpriv=np.full((n, P), -1, dtype=np.int64),
        vshared=np.full((n, P, cap), -1, dtype=np.int64),
        vhead=np.zeros((n, P), dtype=np.int64),
        vtail=np.zeros((n, P), dtype=np.int64),
        victim_size=np.zeros(n, dtype=np.int64),
        counters=np.zeros((n, N_PC), dtype=np.int64),
        params=np.ascontiguousarray(params, dtype=np.int64),
        batch_values=np.ascontiguousarray(bv, dtype=np.int64),
        batch_cdf=np.ascontiguousarray(bc, dtype=np.float64),
        cost=np.zeros(N_PCOST, dtype=np.float64) if cost is None else cost,
        held=np.full(max(int(bv.max()), 1), -1, dtype=np.int64),
    )


def _regrown(ring: np.ndarray, head: np.ndarray, tail: np.ndarray, cap: int) -> np.ndarray:
    out = np.full(ring.shape[:2] + (cap,), -1, dtype=np.int64)
    old = ring.shape[2]
    for k in range(ring.shape[0]):
        for p in range(ring.shape[1]):
            idx = np.arange(tail[k, p], head[k, p])
            out[k, p, idx % cap] = ring[k, p, idx % old]
    return out


def grow_pools(pools: Pools) -> Pools:
    """Double the shared rings (primary and victim), keeping each deque's order."""
    cap = 2 * pools.shared.shape[2]
    return pools._replace(
        shared=_regrown(pools.shared, pools.head, pools.tail, cap),
        vshared=_regrown(pools.vshared, pools.vhead, pools.vtail, cap),
    )


def pooled_slots(pools: Pools) -> np.ndarray:
    """Every object in any pool (primary and victim), for invariants and tests."""
    out = [pools.priv[pools.priv >= 0], pools.vpriv[pools.vpriv >= 0]]
    for ring, head, tail in (
        (pools.shared, pools.head, pools.tail),
        (pools.vshared, pools.vhead, pools.vtail),
    ):
        cap = ring.shape[2]
        for k in range(ring.shape[0]):
            for p in range(ring.shape[1]):
                idx = np.arange(tail[k, p], head[k, p]) % cap
                out.append(ring[k, p, idx])
    return np.concatenate(out).astype(np.int64)
