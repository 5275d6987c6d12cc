"""One use of a sync.Pool by a mutator step: Get (or New), hold, Put.

The pool algorithm itself is in ``pool.py``; this module is the mutator's
side (see pool.py's essay for the use patterns), kept apart because New()
needs the allocator and assists (``gccycle``), which ``pool.py`` must not
import: ``gccycle`` calls the cleanup at sweep termination.

While marking, every Get and Put shades its object (the barrier on the
pool's slot stores) even with ``runtime.write_barrier = false``: that knob
demonstrates lost objects through the site graph, not through pools.
"""

from __future__ import annotations

from gcsim.engine._jit import hot_kernel, kernel
from gcsim.engine.draw import draw_root_slot
from gcsim.engine.gccycle import gc_assist
from gcsim.engine.heap import mallocgc
from gcsim.engine.mark import shade_slot
from gcsim.engine.pool import pool_get, pool_put
from gcsim.engine.poolstate import (
    PC_CPU_CYCLES,
    PC_GETS,
    PC_HIT_PRIVATE,
    PC_NEWS,
    PC_PUTS,
    PC_SAVED_BYTES,
    PC_ZEROED_BYTES,
    PCOST_ZERO_PER_BYTE,
    PP_BATCH_N,
    PP_BATCH_OFF,
    PP_ENABLED,
    PP_LIFE,
    PP_ZERO_ON_PUT,
    SRC_NEW,
)
from gcsim.engine.rng import next_float
from gcsim.engine.state import (
    C_ALLOCS,
    C_PHASE,
    LIFE_EXPONENTIAL,
    LIFE_FIFO,
    PHASE_MARK,
    ST_GROW_POOL,
    ST_OK,
    W_POOL,
    W_PTR_WORDS,
    W_SIZE_MIN,
)


@kernel
def _pool_new(
    heap, gc, wl, rp, tab, costs, c, fstate, p_assist_bytes, p, site, assists, parked, out_cost
):
    """New(): allocate one object of the site through the ordinary allocator (mallocgc,
    assist debit as in loop.run_p_quantum). Returns (slot, parked)."""
    size = wl.site_tab[site, W_SIZE_MIN]
    pw = wl.site_tab[site, W_PTR_WORDS]
    if pw < 0:
        pw = int(wl.site_ptr_density[site] * (size // 8))
    slot = mallocgc(heap, c, tab, costs, p, size, pw, out_cost)
    heap.slot_site[slot] = site
    c[C_ALLOCS] += 1
    if pw > 0:
        heap.edges[slot, :] = -1
    if c[C_PHASE] == PHASE_MARK and assists:
        p_assist_bytes[p] -= heap.spans[heap.slot_span[slot]]["elemsize"]
        if p_assist_bytes[p] < 0 and not parked:
            parked = gc_assist(heap, gc, wl, rp, c, costs, fstate, p_assist_bytes, p, out_cost)
    return slot, parked


@kernel
def _get_one(
    pools,
    pl,
    heap,
    gc,
    wl,
    rp,
    tab,
    costs,
    c,
    fstate,
    p_assist_bytes,
    p,
    P,
    site,
    assists,
    parked,
    out_cost,
):
    pc = pools.counters
    pc[pl, PC_GETS] += 1
    src = SRC_NEW
    x = -1
    if pools.params[pl, PP_ENABLED] != 0:
        x, src, cyc = pool_get(pools, pl, p, P)
        out_cost[0] += cyc
        pc[pl, PC_CPU_CYCLES] += int(cyc + 0.5)
    if x >= 0:
        pc[pl, PC_HIT_PRIVATE + src] += 1
        pc[pl, PC_SAVED_BYTES] += heap.spans[heap.slot_span[x]]["elemsize"]
        if c[C_PHASE] == PHASE_MARK:
            # Clearing the pool's slot stores nil over x: the barrier shades x.
            out_cost[0] += costs.write_barrier
            shade_slot(heap, gc, c, costs, x, out_cost)
        return x, parked
    pc[pl, PC_NEWS] += 1
    return _pool_new(
        heap, gc, wl, rp, tab, costs, c, fstate, p_assist_bytes, p, site, assists, parked, out_cost
    )


@kernel
def _put_one(pools, pl, heap, gc, c, costs, p, x, out_cost):
    pc = pools.counters
    pc[pl, PC_PUTS] += 1
    if pools.params[pl, PP_ENABLED] == 0:
        return  # without the pool the object is simply dropped
    cyc = 0.0
    if pools.params[pl, PP_ZERO_ON_PUT] != 0:
        nbytes = heap.spans[heap.slot_span[x]]["elemsize"]
        cyc += nbytes * pools.cost[PCOST_ZERO_PER_BYTE]
        pc[pl, PC_ZEROED_BYTES] += nbytes
    cyc += pool_put(pools, pl, p, x)
    out_cost[0] += cyc
    pc[pl, PC_CPU_CYCLES] += int(cyc + 0.5)
    if c[C_PHASE] == PHASE_MARK:
        out_cost[0] += costs.write_barrier
        shade_slot(heap, gc, c, costs, x, out_cost)


@hot_kernel
def pool_room(pools, p):
    """ST_OK if one use of any pool cannot overflow P ``p``'s shared ring, else
    ST_GROW_POOL (checked before the step starts, like loop._room_status)."""
    need = pools.held.shape[0] + 1
    for pl in range(pools.head.shape[0]):
        if pools.head[pl, p] - pools.tail[pl, p] + need > pools.shared.shape[2]:
            return ST_GROW_POOL
    return ST_OK


@kernel
def pool_step(
    pools,
    heap,
    gc,
    wl,
    rp,
    tab,
    costs,
    c,
    fstate,
    p_assist_bytes,
    p,
    site,
    rng,
    roots,
    site_cursor,
    out_cost,
):
    """One use of the site's pool by P ``p``; returns ``parked`` (an assist must wait).

    Transient site: Get ``batch`` objects, then Put them back in Get order.
    Fifo / exponential site: Get one object, store it in the site's root table
    and Put the object it displaces. The step's other bookkeeping (compute
    cost, clocks, site counts) stays in the mutator loop.
    """
    site_tab = wl.site_tab
    pl = site_tab[site, W_POOL]
    P = rp.gomaxprocs
    assists = rp.stw_mark == 0
    parked = False
    kind = pools.params[pl, PP_LIFE]
    if kind == LIFE_FIFO or kind == LIFE_EXPONENTIAL:  # noqa: SIM109 (Numba)
        x, parked = _get_one(
            pools,
            pl,
            heap,
            gc,
            wl,
            rp,
            tab,
            costs,
            c,
            fstate,
            p_assist_bytes,
            p,
            P,
            site,
            assists,
            parked,
            out_cost,
        )
        idx = draw_root_slot(rng, site_tab, site_cursor, site)
        old = roots[idx]
        out_cost[0] += costs.pointer_write
        if c[C_PHASE] == PHASE_MARK and rp.write_barrier != 0:
            out_cost[0] += costs.write_barrier
            shade_slot(heap, gc, c, costs, old, out_cost)
            shade_slot(heap, gc, c, costs, x, out_cost)
        roots[idx] = x
        if old >= 0:
            _put_one(pools, pl, heap, gc, c, costs, p, old, out_cost)
        return parked
    # Transient: a batch of objects held for the step only.
    off = pools.params[pl, PP_BATCH_OFF]
    last = off + pools.params[pl, PP_BATCH_N] - 1
    j = off
    if last > off:
        u = next_float(rng)
        while j < last and u >= pools.batch_cdf[j]:
            j += 1
    k = pools.batch_values[j]
    for i in range(k):
        x, parked = _get_one(
            pools,
            pl,
            heap,
            gc,
            wl,
            rp,
            tab,
            costs,
            c,
            fstate,
            p_assist_bytes,
            p,
            P,
            site,
            assists,
            parked,
            out_cost,
        )
        pools.held[i] = x
    for i in range(k):
        _put_one(pools, pl, heap, gc, c, costs, p, pools.held[i], out_cost)
        pools.held[i] = -1
    return parked
