"""sync.Pool kernels (engine/pool.py): Go's Get order, Put, poolCleanup.

Exact answers from src/sync/pool.go (go1.27.3) worked by hand, and random
operation sequences against the pure-Python twin in tests/reference_pool.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gcsim.engine import poolstate as PS
from gcsim.engine.pool import clear_pools, pool_get, pool_put
from tests.reference_pool import NEW, PRIVATE, SHARED, STOLEN, VICTIM, RefPool


def _pools(P: int, victim: bool = True, cap: int = 64) -> PS.Pools:
    params = np.zeros((1, PS.N_PP), dtype=np.int64)
    params[0, PS.PP_ENABLED] = 1
    params[0, PS.PP_VICTIM] = int(victim)
    return PS.new_pools(1, P, params, cap=cap)


def _get(pools: PS.Pools, p: int) -> tuple[int, int]:
    x, src, _ = pool_get(pools, 0, p, pools.priv.shape[1])
    return int(x), int(src)


def test_get_order_private_then_shared_head_then_steal_tails() -> None:
    pools = _pools(3)
    for x in (10, 11, 12):  # P0: private 10, shared [11, 12] (12 at the head)
        pool_put(pools, 0, 0, x)
    for x in (20, 21, 22):  # P1: private 20, shared [21, 22]
        pool_put(pools, 0, 1, x)
    pool_put(pools, 0, 2, 30)  # P2: private 30
    # On P0: own private, own head (LIFO), then P1's tail (FIFO); P1's private
    # and P2's private are never reachable from P0.
    got = [_get(pools, 0) for _ in range(5)]
    assert got == [
        (10, PS.SRC_PRIVATE),
        (12, PS.SRC_SHARED),
        (11, PS.SRC_SHARED),
        (21, PS.SRC_STOLEN),
        (22, PS.SRC_STOLEN),
    ]
    assert _get(pools, 0) == (-1, PS.SRC_NEW)
    assert pools.priv[0].tolist() == [-1, 20, 30]


def test_steal_starts_at_next_p_and_wraps() -> None:
    pools = _pools(3)
    pool_put(pools, 0, 0, 1)
    pool_put(pools, 0, 0, 2)  # P0 shared [2]
    pool_put(pools, 0, 1, 3)
    pool_put(pools, 0, 1, 4)  # P1 shared [4]
    # From P2: P0 is (2+0+1)%3, before P1.
    assert _get(pools, 2) == (2, PS.SRC_STOLEN)
    assert _get(pools, 2) == (4, PS.SRC_STOLEN)


def test_cleanup_moves_primary_to_victim_and_drops_old_victim() -> None:
    pools = _pools(2)
    for x in (1, 2, 3):
        pool_put(pools, 0, 0, x)
    assert clear_pools(pools, 2) == 0  # GC 1: nothing to drop yet
    assert pools.priv[0].tolist() == [-1, -1]
    assert pools.vpriv[0].tolist() == [1, -1]
    assert pools.victim_size[0] == 2
    pool_put(pools, 0, 1, 7)
    assert clear_pools(pools, 2) == 3  # GC 2: 1, 2, 3 dropped; 7 survives in the victim
    assert pools.counters[0, PS.PC_DROPPED] == 3
    assert pools.counters[0, PS.PC_DROPPED_MAX] == 3
    assert _get(pools, 1) == (7, PS.SRC_VICTIM)
    assert clear_pools(pools, 2) == 0


def test_victim_private_only_same_p_and_empty_victim_is_marked() -> None:
    pools = _pools(2)
    for x in (1, 2, 3):
        pool_put(pools, 0, 0, x)  # P0: private 1, shared [2, 3]
    clear_pools(pools, 2)
    # From P1: victim private of P1 is empty; victim shared tails from P1 then P0.
    assert _get(pools, 1) == (2, PS.SRC_VICTIM)
    assert _get(pools, 1) == (3, PS.SRC_VICTIM)
    # Object 1 sits in P0's victim private, out of P1's reach: the failed search
    # sets victimSize = 0, which hides it from P0 as well.
    assert _get(pools, 1) == (-1, PS.SRC_NEW)
    assert pools.victim_size[0] == 0
    assert _get(pools, 0) == (-1, PS.SRC_NEW)
    assert pools.vpriv[0, 0] == 1
    assert clear_pools(pools, 2) == 1  # dropped at the next GC


def test_no_victim_drops_everything_each_gc() -> None:
    pools = _pools(1, victim=False)
    for x in (1, 2):
        pool_put(pools, 0, 0, x)
    assert clear_pools(pools, 1) == 2
    assert _get(pools, 0) == (-1, PS.SRC_NEW)


def test_unused_pool_has_empty_victim_size() -> None:
    pools = _pools(2)
    pool_put(pools, 0, 0, 5)
    clear_pools(pools, 2)
    assert pools.victim_size[0] == 2
    clear_pools(pools, 2)  # not pinned since: victimSize = localSize = 0
    assert pools.victim_size[0] == 0


def test_grow_pools_keeps_deque_order() -> None:
    pools = _pools(1, cap=4)
    for x in range(4):  # private 0, shared [1, 2, 3]
        pool_put(pools, 0, 0, x)
    assert _get(pools, 0) == (0, PS.SRC_PRIVATE)
    assert _get(pools, 0) == (3, PS.SRC_SHARED)
    pool_put(pools, 0, 0, 9)  # private
    pool_put(pools, 0, 0, 10)  # shared head; ring wraps past its start
    pools = PS.grow_pools(pools)
    assert pools.shared.shape[2] == 8
    assert [_get(pools, 0)[0] for _ in range(5)] == [9, 10, 2, 1, -1]


_OPS = st.lists(st.tuples(st.sampled_from(["put", "get", "gc"]), st.integers(0, 3)), max_size=120)


@settings(max_examples=150, deadline=None)
@given(ops=_OPS, P=st.integers(1, 4), victim=st.booleans())
def test_matches_reference(ops: list[tuple[str, int]], P: int, victim: bool) -> None:
    pools = _pools(P, victim=victim, cap=256)
    ref = RefPool(P, victim)
    src_map = {
        PRIVATE: PS.SRC_PRIVATE,
        SHARED: PS.SRC_SHARED,
        STOLEN: PS.SRC_STOLEN,
        VICTIM: PS.SRC_VICTIM,
        NEW: PS.SRC_NEW,
    }
    nxt = 100
    for op, p in ops:
        p %= P
        if op == "put":
            pool_put(pools, 0, p, nxt)
            ref.put(p, nxt)
            nxt += 1
        elif op == "get":
            x, src = ref.get(p)
            assert _get(pools, p) == (-1 if x is None else x, src_map[src])
        else:
            assert clear_pools(pools, P) == len(ref.cleanup())
    from gcsim.engine.poolstate import pooled_slots

    assert sorted(pooled_slots(pools).tolist()) == sorted(ref.contents())


@pytest.mark.parametrize("P", [1, 2])
def test_put_n_gc_k_get_n(P: int) -> None:
    """The twin scenario (validation/pool_putget) on one P: N Puts, k GCs, N Gets."""
    n = 10
    for k, hits in ((0, n), (1, n), (2, 0)):
        pools = _pools(P)
        for x in range(n):
            pool_put(pools, 0, 0, x)
        for _ in range(k):
            clear_pools(pools, P)
        got = [_get(pools, 0)[0] for _ in range(n)]
        assert sum(g >= 0 for g in got) == hits
