"""The main loop: GOMAXPROCS Ps advancing in lockstep quanta.

``run_quanta`` is the only kernel the driver calls for a run. Each quantum
(``run.quantum_ns``, 10 us by default):

1. At the boundary, with every P stopped: end the run if its duration or
   allocation budget is spent; hand control back if record buffers are
   full; run a GC cycle if a trigger fired during the last quantum (so the
   world stops at most one quantum after the trigger, as Go's STW waits for
   every P to reach a safe point); recompute the trigger when a memory limit
   is set (Go evaluates the memory-limit goal at every trigger test); write a
   timeline row when one is due.
2. Each P, in index order, runs its mutator until its clock passes the end of
   the quantum. One mutator step is: compute for ``compute_ns_per_alloc``,
   pick a site by weight, allocate its object (and the children its refs
   ask for), write its pointer slots, and publish it in the site's roots,
   which drops the reference it replaces. A P's clock may overshoot the
   boundary by part of a step; the overshoot carries into the next quantum.

Kernels report and the driver decides (STYLE.md §2): when an array is about
to run out of room the kernel returns ``ST_GROW_*`` *before* touching
anything, with ``C_IN_QUANTUM`` recording that a quantum is in progress, so
the driver grows the arrays and calls again and the run continues exactly as
if the arrays had been big enough from the start.
"""

from __future__ import annotations

import numpy as np

from gcsim.engine._jit import hot_kernel, kernel
from gcsim.engine.gccycle import commit_pacer, run_gc_cycle_stw
from gcsim.engine.heap import mallocgc
from gcsim.engine.mark import shade
from gcsim.engine.rng import next_below, next_float
from gcsim.engine.state import (
    C_ALLOC_SITE_OBJECTS,
    C_ALLOCS,
    C_GC_CPU_CYCLES,
    C_GC_PENDING,
    C_HEAP_ALLOC_BYTES,
    C_HEAP_GOAL_BYTES,
    C_HEAP_LIVE_BYTES,
    C_IN_QUANTUM,
    C_MUTATOR_CYCLES,
    C_N_CYCLE_RECORDS,
    C_N_SLOTS_USED,
    C_N_SPAN_RECORDS,
    C_N_TIMELINE_RECORDS,
    C_NEXT_SAMPLE_CYCLES,
    C_NOW_CYCLES,
    C_NUM_GC,
    C_PAGES_INUSE,
    C_PAGES_MAPPED,
    C_PAGES_RELEASED,
    C_PHASE,
    C_QUANTUM_END_CYCLES,
    C_TRIGGER_BYTES,
    DIST_CHOICE,
    DIST_FIXED,
    DIST_LOGUNIFORM,
    LIFE_EXPONENTIAL,
    LIFE_FIFO,
    LIFE_IMMORTAL,
    PHASE_MARK,
    REF_CHILD,
    REF_RANDOM,
    ST_DONE,
    ST_GROW_PAGES,
    ST_GROW_SLOTS,
    ST_GROW_SPANS,
    ST_OK,
    ST_RECORDS_FULL,
)

PAGE_BYTES_ = 8192
HEAP_GROW_PAGES_ = 512
MAX_OBJS_PER_SPAN_ = 1024


@hot_kernel
def draw_size(rng, wl, site):
    """Draw one request size in bytes from the site's size distribution."""
    kind = wl.site_size_dist[site]
    lo = wl.site_size_min[site]
    hi = wl.site_size_max[site]
    if kind == DIST_FIXED or lo == hi:
        return lo
    if kind == DIST_CHOICE:
        u = next_float(rng)
        off = wl.site_choice_off[site]
        n = wl.site_choice_n[site]
        for i in range(n - 1):
            if u < wl.choice_cdf[off + i]:
                return wl.choice_bytes[off + i]
        return wl.choice_bytes[off + n - 1]
    if kind == DIST_LOGUNIFORM:
        u = next_float(rng)
        v = int(np.exp(np.log(lo) + u * (np.log(hi + 1.0) - np.log(lo))))
        return min(max(v, lo), hi)
    return lo + next_below(rng, hi - lo + 1)


@hot_kernel
def pick_site(st):
    """A site drawn by weight among those still allocating, or -1 if none is."""
    cdf = st.site_cdf
    total = cdf[cdf.shape[0] - 1]
    if total <= 0.0:
        return -1
    u = next_float(st.rng) * total
    for k in range(cdf.shape[0]):
        if u < cdf[k]:
            return k
    return cdf.shape[0] - 1


@kernel
def retire_site(st, wl, site):
    """Remove a site that reached max_allocs from the weight table."""
    acc = 0.0
    for k in range(st.site_cdf.shape[0]):
        w = wl.site_weight[k]
        if k == site or (wl.site_max_allocs[k] >= 0 and st.site_allocs[k] >= wl.site_max_allocs[k]):
            w = 0.0
        acc += w
        st.site_cdf[k] = acc


@hot_kernel
def alloc_site_object(st, wl, tab, costs, p, site, out_cost):
    """Allocate one object of ``site`` for P ``p``; its pointer slots start nil."""
    heap = st.heap
    size = draw_size(st.rng, wl, site)
    pw = wl.site_ptr_words[site]
    if pw < 0:
        pw = int(wl.site_ptr_density[site] * (size // 8))
    slot = mallocgc(heap, st.counters, tab, costs, p, size, pw, out_cost)
    heap.slot_site[slot] = site
    if pw > 0:
        for j in range(heap.edges.shape[1]):
            heap.edges[slot, j] = -1
    st.counters[C_ALLOCS] += 1
    st.counters[C_ALLOC_SITE_OBJECTS] += 1
    return slot


@hot_kernel
def _write_pointer(st, costs, old, new, out_cost):
    """A heap pointer store: its cost, and while marking the hybrid barrier's shading."""
    out_cost[0] += costs.pointer_write
    if st.counters[C_PHASE] == PHASE_MARK:
        out_cost[0] += costs.write_barrier
        shade(st.heap, st.gc, st.counters, costs, old, out_cost)
        shade(st.heap, st.gc, st.counters, costs, new, out_cost)


@hot_kernel
def mutator_step(st, wl, rp, tab, costs, p):
    """One unit of user work on P ``p``; returns its cycles, or -1 if no site allocates."""
    out_cost = np.zeros(1)
    site = pick_site(st)
    if site < 0:
        return -1
    out_cost[0] += rp.compute_cycles_per_alloc
    slot = alloc_site_object(st, wl, tab, costs, p, site, out_cost)
    heap = st.heap
    roots = st.gc.roots
    # Fill pointer slots, allocating children depth first (explicit stack).
    stack = st.scratch
    top = 0
    stack[0] = slot
    stack[1] = site
    top = 1
    while top > 0:
        top -= 1
        obj = stack[2 * top]
        s = stack[2 * top + 1]
        off = wl.site_ref_off[s]
        for j in range(wl.site_ref_n[s]):
            kind = wl.ref_kind[off + j]
            target = -1
            if kind == REF_CHILD:
                cs = wl.ref_site[off + j]
                target = alloc_site_object(st, wl, tab, costs, p, cs, out_cost)
                stack[2 * top] = target
                stack[2 * top + 1] = cs
                top += 1
            elif kind == REF_RANDOM:
                ts = wl.ref_site[off + j]
                n = wl.site_root_len[ts]
                target = roots[wl.site_root_base[ts] + next_below(st.rng, n)]
            if target >= 0:
                _write_pointer(st, costs, -1, target, out_cost)
            heap.edges[obj, j] = target
    # Publish the object in its site's roots; the reference it replaces is dropped.
    kind = wl.site_life_kind[site]
    base = wl.site_root_base[site]
    n = wl.site_root_len[site]
    idx = -1
    if kind == LIFE_FIFO:
        idx = base + st.site_cursor[site]
        st.site_cursor[site] = (st.site_cursor[site] + 1) % n
    elif kind == LIFE_EXPONENTIAL:
        # Replace a uniformly random live object once the table is full: each
        # object then survives a geometric number of the site's allocations
        # with mean n, the discrete exponential lifetime.
        if st.site_cursor[site] < n:
            idx = base + st.site_cursor[site]
            st.site_cursor[site] += 1
        else:
            idx = base + next_below(st.rng, n)
    elif kind == LIFE_IMMORTAL:
        idx = base + st.site_cursor[site]
        st.site_cursor[site] += 1
    if idx >= 0:
        _write_pointer(st, costs, roots[idx], slot, out_cost)
        roots[idx] = slot
    st.site_allocs[site] += 1
    if wl.site_max_allocs[site] >= 0 and st.site_allocs[site] >= wl.site_max_allocs[site]:
        retire_site(st, wl, site)
    return max(1, int(out_cost[0] + 0.5))


@hot_kernel
def _room_status(st, rp):
    """ST_OK if one more mutator step cannot overflow any array, else what to grow."""
    c = st.counters
    k = rp.max_step_objects
    heap = st.heap
    if c[C_N_SPAN_RECORDS] + k > heap.spans.shape[0]:
        return ST_GROW_SPANS
    if c[C_N_SLOTS_USED] + k * MAX_OBJS_PER_SPAN_ > heap.slot_span.shape[0]:
        return ST_GROW_SLOTS
    if c[C_PAGES_MAPPED] + k * (rp.max_request_pages + HEAP_GROW_PAGES_) > heap.page_span.shape[0]:
        return ST_GROW_PAGES
    return ST_OK


@kernel
def sample_timeline(st):
    """Append one timeline row with the counters as they are now."""
    c = st.counters
    row = c[C_N_TIMELINE_RECORDS]
    tl = st.rec.timeline
    tl[row]["t_cycles"] = c[C_NOW_CYCLES]
    tl[row]["heap_alloc_bytes"] = c[C_HEAP_ALLOC_BYTES]
    tl[row]["heap_inuse_bytes"] = c[C_PAGES_INUSE] * PAGE_BYTES_
    tl[row]["heap_live_bytes"] = c[C_HEAP_LIVE_BYTES]
    tl[row]["heap_goal_bytes"] = c[C_HEAP_GOAL_BYTES]
    tl[row]["trigger_bytes"] = c[C_TRIGGER_BYTES]
    tl[row]["heap_sys_bytes"] = c[C_PAGES_MAPPED] * PAGE_BYTES_
    tl[row]["heap_released_bytes"] = c[C_PAGES_RELEASED] * PAGE_BYTES_
    tl[row]["phase"] = c[C_PHASE]
    tl[row]["num_gc"] = c[C_NUM_GC]
    tl[row]["allocs"] = c[C_ALLOCS]
    tl[row]["mutator_cycles"] = c[C_MUTATOR_CYCLES]
    tl[row]["gc_cpu_cycles"] = c[C_GC_CPU_CYCLES]
    c[C_N_TIMELINE_RECORDS] = row + 1


@kernel
def run_quanta(st, wl, rp, tab, costs, until_cycles):
    """Advance the simulation until ``until_cycles``, the run's end, or a status.

    Parameters
    ----------
    st : State
    wl : Workload
    rp : RunParams
    tab : SizeClassTables
    costs : Costs
    until_cycles : int
        Return ``ST_OK`` at the first quantum boundary at or after this time.

    Returns
    -------
    int
        ``ST_OK``, ``ST_DONE``, ``ST_RECORDS_FULL`` or ``ST_GROW_*``.
    """
    c = st.counters
    P = rp.gomaxprocs
    cyc_cap = st.rec.cycles.shape[0]
    tl_cap = st.rec.timeline.shape[0]
    while True:
        if c[C_IN_QUANTUM] == 0:
            now = c[C_NOW_CYCLES]
            if now >= rp.end_cycles or c[C_ALLOCS] >= rp.max_allocs:
                return ST_DONE
            if st.site_cdf[st.site_cdf.shape[0] - 1] <= 0.0:
                return ST_DONE
            if now >= until_cycles:
                return ST_OK
            if c[C_N_CYCLE_RECORDS] >= cyc_cap or c[C_N_TIMELINE_RECORDS] >= tl_cap:
                return ST_RECORDS_FULL
            if c[C_GC_PENDING] != 0:
                pause = run_gc_cycle_stw(st, wl, rp, costs, 0)
                # The cycle may have crossed timeline samples: catch up once.
                if pause >= 0:
                    continue
            if rp.memory_limit_bytes >= 0:
                commit_pacer(st, rp, False, 0)
                if c[C_HEAP_LIVE_BYTES] >= c[C_TRIGGER_BYTES]:
                    c[C_GC_PENDING] = 1
                    continue
            if now >= c[C_NEXT_SAMPLE_CYCLES]:
                sample_timeline(st)
                while c[C_NEXT_SAMPLE_CYCLES] <= now:
                    c[C_NEXT_SAMPLE_CYCLES] += rp.timeline_interval_cycles
            c[C_QUANTUM_END_CYCLES] = now + rp.quantum_cycles
            c[C_IN_QUANTUM] = 1
        q_end = c[C_QUANTUM_END_CYCLES]
        for p in range(P):
            while st.p_time[p] < q_end and c[C_ALLOCS] < rp.max_allocs:
                status = _room_status(st, rp)
                if status != ST_OK:
                    return status
                cost = mutator_step(st, wl, rp, tab, costs, p)
                if cost < 0:
                    break
                st.p_time[p] += cost
                c[C_MUTATOR_CYCLES] += cost
        c[C_IN_QUANTUM] = 0
        c[C_NOW_CYCLES] = q_end
