"""sync.Pool: per-P private and shared caches, stealing, the victim cache.

What it models (src/sync/pool.go and poolqueue.go, go1.27.3; reference
go-runtime.md §7). A pool has, for each P, a ``private`` slot and a
``shared`` deque (Go's poolChain: the owner pushes and pops the head, other
Ps pop the tail), and a ``victim`` copy of both from the previous GC.

1. ``Put(x)`` on P ``p``: store in ``private[p]`` if empty, else push on the
   head of ``shared[p]``. Put never touches the victim.
2. ``Get()`` on P ``p``: ``private[p]``; the head of ``shared[p]``; the tail
   of every ``shared[(p+i+1) % P]`` for i in 0..P-1 (stealing; the loop ends
   with its own tail); then, unless the victim is marked empty, the victim's
   ``private[p]`` (only the same P index) and the tails of every victim
   ``shared[(p+i) % P]``; if all fail the victim is marked empty
   (``victimSize = 0``) and ``New()`` allocates through the ordinary
   allocator. An object found in the victim is returned directly.
3. ``poolCleanup``, at every GC's sweep termination (``clearpools`` in
   mgc.go ``gcStart``, inside the STW): the old victim is dropped, the
   primary becomes the victim, the primary is emptied. With
   ``runtime.pool_victim = false`` (Go before 1.13) everything is dropped.
   Dropped objects are garbage: this cycle does not mark them, its sweep
   frees them.
4. Pool contents are GC roots: after the cleanup every object in the victim
   is shaded, and the pool's own arrays are scanned as 8 bytes of root scan
   work per pooled pointer (Go scans the poolLocal arrays and poolChain rings
   as heap objects). While marking, Get and Put store to the pool's slots
   through the write barrier, which shades the object (a Put of an object
   nothing else marked, e.g. one taken from the pool during this cycle, is
   how the pool keeps it).

A pool belongs to one site (``workload.pools[].site``): a step of that site
is one use of the pool. A transient site Gets ``batch`` objects (drawn per
use) and Puts them all back in Get order before the step ends; a fifo or
exponential site Gets one object, holds it in the site's root table and Puts
the object it displaces, as a request handler holding a buffer while other
requests run. With the pool disabled (``enabled = false``) every Get is a
New() and every Put drops the object: the same program without the pool.

Simplifications: the lazily allocated poolLocal arrays and poolChain rings
are not heap objects here (a few hundred bytes per pool and P); Go's race
build's random drops are ignored; Get/Put never migrate between Ps inside a
step (Go pins the P for both).
"""

from __future__ import annotations

import numpy as np

from gcsim.engine._jit import kernel
from gcsim.engine.mark import shade_slot
from gcsim.engine.poolstate import (
    PC_CLEANUPS,
    PC_DROPPED,
    PC_DROPPED_MAX,
    PC_MAX_DEPTH,
    PC_PINNED,
    PC_VICTIM_EMPTIED,
    PCOST_GET_PRIVATE,
    PCOST_GET_SHARED,
    PCOST_GET_SLOW,
    PCOST_POP_TAIL,
    PCOST_PROBE,
    PCOST_PUT_PRIVATE,
    PCOST_PUT_SHARED,
    PP_SITE,
    PP_VICTIM,
    SRC_NEW,
    SRC_PRIVATE,
    SRC_SHARED,
    SRC_STOLEN,
    SRC_VICTIM,
)
from gcsim.engine.state import C_GLOBALS_WORK_LEFT

# --- the algorithm -----------------------------------------------------------------


@kernel
def _pop_tail(ring, head, tail, pl, q):
    if head[pl, q] == tail[pl, q]:
        return -1
    cap = ring.shape[2]
    x = ring[pl, q, tail[pl, q] % cap]
    ring[pl, q, tail[pl, q] % cap] = -1
    tail[pl, q] += 1
    return x


@kernel
def pool_get(pools, pl, p, P):
    """Take an object for P ``p`` in Go's order; return ``(slot, SRC_*, cost_cycles)``.

    ``slot`` is -1 (with ``SRC_NEW``) when the caller must call New(). Only
    the pool's arrays change; shading and counting are the caller's.
    """
    cost = pools.cost
    pools.counters[pl, PC_PINNED] = 1
    x = pools.priv[pl, p]
    if x >= 0:
        pools.priv[pl, p] = -1
        return x, SRC_PRIVATE, cost[PCOST_GET_PRIVATE]
    cap = pools.shared.shape[2]
    if pools.head[pl, p] > pools.tail[pl, p]:
        pools.head[pl, p] -= 1
        i = pools.head[pl, p] % cap
        x = pools.shared[pl, p, i]
        pools.shared[pl, p, i] = -1
        return x, SRC_SHARED, cost[PCOST_GET_SHARED]
    c = cost[PCOST_GET_SLOW]
    for i in range(P):
        q = (p + i + 1) % P
        c += cost[PCOST_PROBE]
        x = _pop_tail(pools.shared, pools.head, pools.tail, pl, q)
        if x >= 0:
            return x, SRC_STOLEN, c + cost[PCOST_POP_TAIL]
    size = pools.victim_size[pl]
    if p >= size:
        return -1, SRC_NEW, c
    x = pools.vpriv[pl, p]
    if x >= 0:
        pools.vpriv[pl, p] = -1
        return x, SRC_VICTIM, c
    for i in range(size):
        q = (p + i) % size
        c += cost[PCOST_PROBE]
        x = _pop_tail(pools.vshared, pools.vhead, pools.vtail, pl, q)
        if x >= 0:
            return x, SRC_VICTIM, c + cost[PCOST_POP_TAIL]
    pools.victim_size[pl] = 0
    pools.counters[pl, PC_VICTIM_EMPTIED] += 1
    return -1, SRC_NEW, c


@kernel
def pool_put(pools, pl, p, x):
    """Put ``x`` on P ``p``: the private slot if empty, else the shared head.
    Returns the cost in cycles (zeroing excluded). The caller has checked room."""
    pools.counters[pl, PC_PINNED] = 1
    if pools.priv[pl, p] < 0:
        pools.priv[pl, p] = x
        return pools.cost[PCOST_PUT_PRIVATE]
    cap = pools.shared.shape[2]
    pools.shared[pl, p, pools.head[pl, p] % cap] = x
    pools.head[pl, p] += 1
    depth = pools.head[pl, p] - pools.tail[pl, p]
    if depth > pools.counters[pl, PC_MAX_DEPTH]:
        pools.counters[pl, PC_MAX_DEPTH] = depth
    return pools.cost[PCOST_PUT_SHARED]


@kernel
def clear_pools(pools, P):
    """poolCleanup: drop the victim, the primary becomes the victim (or is dropped
    too without the victim cache). Returns the number of objects dropped."""
    total = 0
    for pl in range(pools.params.shape[0]):
        dropped = 0
        for p in range(P):
            if pools.vpriv[pl, p] >= 0:
                dropped += 1
            dropped += pools.vhead[pl, p] - pools.vtail[pl, p]
            pools.vshared[pl, p, :] = -1
        if pools.params[pl, PP_VICTIM] != 0:
            for p in range(P):
                pools.vpriv[pl, p] = pools.priv[pl, p]
                pools.vshared[pl, p, :] = pools.shared[pl, p, :]
                pools.vhead[pl, p] = pools.head[pl, p]
                pools.vtail[pl, p] = pools.tail[pl, p]
            # victimSize = localSize: P if the pool was pinned since the last
            # cleanup (its local array exists), else 0.
            pools.victim_size[pl] = P if pools.counters[pl, PC_PINNED] != 0 else 0
        else:
            for p in range(P):
                if pools.priv[pl, p] >= 0:
                    dropped += 1
                dropped += pools.head[pl, p] - pools.tail[pl, p]
                pools.vpriv[pl, p] = -1
                pools.vhead[pl, p] = 0
                pools.vtail[pl, p] = 0
            pools.victim_size[pl] = 0
        for p in range(P):
            pools.priv[pl, p] = -1
            pools.shared[pl, p, :] = -1
            pools.head[pl, p] = 0
            pools.tail[pl, p] = 0
        pools.counters[pl, PC_PINNED] = 0
        pools.counters[pl, PC_CLEANUPS] += 1
        pools.counters[pl, PC_DROPPED] += dropped
        if dropped > pools.counters[pl, PC_DROPPED_MAX]:
            pools.counters[pl, PC_DROPPED_MAX] = dropped
        total += dropped
    return total


@kernel
def pool_cleanup_and_roots(st, costs, P):
    """At sweep termination, after the other roots are queued: ``clear_pools``, then
    shade what the victim keeps and add the pool arrays' pointer words as root work."""
    pools = st.pool
    if pools.params[0, PP_SITE] < 0:
        return
    clear_pools(pools, P)
    out_cost = np.zeros(1)
    n = 0
    cap = pools.vshared.shape[2]
    for pl in range(pools.params.shape[0]):
        for p in range(P):
            x = pools.vpriv[pl, p]
            if x >= 0:
                shade_slot(st.heap, st.gc, st.counters, costs, x, out_cost)
                n += 1
            for i in range(pools.vtail[pl, p], pools.vhead[pl, p]):
                shade_slot(
                    st.heap, st.gc, st.counters, costs, pools.vshared[pl, p, i % cap], out_cost
                )
                n += 1
    st.counters[C_GLOBALS_WORK_LEFT] += 8 * n
