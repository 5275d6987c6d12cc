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
2. Each P, in index order, runs the GC worker it owes (dedicated, or
   fractional while under its share), the last P the background scavenger's
   paced share (scavenge.py), then its mutator, if the workload gives the P
   one (``workload.mutator_procs``), until its clock passes the end of
   the quantum; time left over (no goroutine, a parked assist, the run's
   end) goes to idle-priority marking, the background sweeper or idling
   (procs.py). One mutator step is: pick a site by weight, allocate its
   object (and the children its refs ask for), each allocation after
   ``compute_ns_per_alloc`` of compute, write its pointer slots, and publish
   it in the site's roots, which drops the reference it replaces. A P's
   clock may overshoot the boundary by part of a step; the overshoot carries
   into the next quantum.

Kernels report and the driver decides (STYLE.md §2): when an array is about
to run out of room the kernel returns ``ST_GROW_*`` *before* touching
anything, with ``C_IN_QUANTUM`` recording that a quantum is in progress, so
the driver grows the arrays and calls again and the run continues exactly as
if the arrays had been big enough from the start.
"""

from __future__ import annotations

import numpy as np

from gcsim.engine._jit import hot_kernel, kernel
from gcsim.engine.draw import draw_root_slot, draw_size
from gcsim.engine.gccycle import (
    commit_pacer,
    gc_assist,
    gc_mark_done,
    gc_start,
    mark_worker,
    revise_assist_ratio,
    run_gc_cycle_stw,
    update_limiter,
)
from gcsim.engine.heap import NEED_LARGE, large_alloc, refill, try_malloc
from gcsim.engine.mark import mark_work_left, shade
from gcsim.engine.poolstep import pool_room, pool_step
from gcsim.engine.procs import idle_p_quantum
from gcsim.engine.rng import next_below, next_float
from gcsim.engine.scavenge import scavenge_background
from gcsim.engine.stacks import goroutine_step, stack_value, stacks_room_status
from gcsim.engine.state import (
    B_BG_SWEEP_CYCLES,
    B_IDLE_MARK_CYCLES,
    B_IDLE_WORKERS,
    B_SCAV_LIMIT_GOAL_BYTES,
    C_ALLOCS,
    C_ASSIST_PARKED,
    C_COMPUTE_CYCLES,
    C_CYC_ASSIST_CYCLES,
    C_CYC_MARK_START,
    C_CYC_TRIGGERED,
    C_GC_CPU_CYCLES,
    C_GC_INITIATOR,
    C_GC_PENDING,
    C_HEAP_ALLOC_BYTES,
    C_HEAP_GOAL_BYTES,
    C_HEAP_LIVE_BYTES,
    C_IN_QUANTUM,
    C_LIMITER_T,
    C_MARK_WORK_END_ASSIST,
    C_MARK_WORK_END_CYCLES,
    C_MARK_WORK_END_P,
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
    C_QUANTUM_PARKED,
    C_RATE_STEP,
    C_REVISE_PENDING,
    C_SCAV_ASSIST_CYCLES,
    C_SCAV_GOAL_BYTES,
    C_STACK_PAGES,
    C_STEP_ASSIST_PREEMPTED,
    C_STEP_PREEMPT_AT_CYCLES,
    C_STEP_START_CYCLES,
    C_TRIGGER_BYTES,
    NO_GOAL_BYTES,
    PHASE_MARK,
    PHASE_OFF,
    REF_CHILD,
    REF_RANDOM,
    ST_DONE,
    ST_GROW_PAGES,
    ST_GROW_RATES,
    ST_GROW_SLOTS,
    ST_GROW_SPANS,
    ST_OK,
    ST_RECORDS_FULL,
    W_MAX_ALLOCS,
    W_POOL,
    W_PTR_WORDS,
    W_REF_N,
    W_REF_OFF,
    W_ROOT_BASE,
    W_ROOT_LEN,
)

PAGE_BYTES_ = 8192
TINY_SIZE_BYTES_ = 16
HEAP_GROW_PAGES_ = 512
FRACTIONAL_EXIT = 1.2  # pollFractionalWorkerExit: leave above 1.2 x the goal
MAX_OBJS_PER_SPAN_ = 1024


@hot_kernel
def pick_site(rng, site_cdf):
    """A site drawn by weight among those still allocating, or -1 if none is."""
    n = site_cdf.shape[0]
    total = site_cdf[n - 1]
    if total <= 0.0:
        return -1
    u = next_float(rng) * total
    k = 0
    while k < n - 1 and u >= site_cdf[k]:
        k += 1
    return k


@kernel
def retire_site(site_cdf, site_weight, site_tab, site_allocs):
    """Rebuild the weight table without the sites that reached max_allocs."""
    acc = 0.0
    for k in range(site_cdf.shape[0]):
        cap = site_tab[k, W_MAX_ALLOCS]
        if not (cap >= 0 and site_allocs[k] >= cap):
            acc += site_weight[k]
        site_cdf[k] = acc


@kernel
def apply_rate_step(st, wl, step):
    """Put rate_table row ``step`` in force: compute per allocation, site weights."""
    c = st.counters
    c[C_RATE_STEP] = step
    c[C_COMPUTE_CYCLES] = np.int64(wl.rate_table[step, 0])
    retire_site(st.site_cdf, wl.rate_table[step, 1:], wl.site_tab, st.site_allocs)


@hot_kernel
def write_pointer(slot_mark, slot_span, spans, slot_ptr_words, gray, c, costs, wb_enabled, old,
                  new, out_cost):
    """A heap pointer store: its cost, and while marking the hybrid barrier's shading
    of both the old and the new pointee (mbarrier.go; both are always recorded).
    ``wb_enabled`` False drops the barrier (runtime.write_barrier = false)."""
    out_cost[0] += costs.pointer_write
    if wb_enabled and c[C_PHASE] == PHASE_MARK:
        out_cost[0] += costs.write_barrier
        shade(slot_mark, slot_span, spans, slot_ptr_words, gray, c, costs, old, out_cost)
        shade(slot_mark, slot_span, spans, slot_ptr_words, gray, c, costs, new, out_cost)


@hot_kernel
def _room_status(c, spans, slot_span, page_span, rp):
    """ST_OK if one more mutator step cannot overflow any array, else what to grow."""
    k = rp.max_step_objects
    if c[C_N_SPAN_RECORDS] + k > spans.shape[0]:
        return ST_GROW_SPANS
    if c[C_N_SLOTS_USED] + k * MAX_OBJS_PER_SPAN_ > slot_span.shape[0]:
        return ST_GROW_SLOTS
    if c[C_PAGES_MAPPED] + k * (rp.max_request_pages + HEAP_GROW_PAGES_) > page_span.shape[0]:
        return ST_GROW_PAGES
    return ST_OK


@hot_kernel
def _runs_goroutine(p, P, dedicated, mutator_procs, marking):
    """Whether P ``p`` has one of the workload's ``mutator_procs`` goroutines to run.

    Outside mark they sit on Ps 0..mutator_procs-1. During mark the dedicated
    workers own Ps 0..dedicated-1 and Go's scheduler runs the goroutines on
    the other Ps first; only goroutines that find no such P wait for a
    dedicated P (which runs them once its worker has no work left).
    """
    if not marking:
        return p < mutator_procs
    if p >= dedicated:
        return p < dedicated + mutator_procs
    return p < mutator_procs - (P - dedicated)


@kernel
def run_p_quantum(heap, gc, wl, rp, tab, costs, pool, p, q_end, c, fstate, p_assist_bytes, spans,
                  mcache, slot_alloc,
                  slot_mark, slot_span, slot_ptr_words, slot_site, edges, tiny_slot,
                  tiny_offset, alloc_by_class, page_span, gray, roots, rng, site_cdf,
                  site_cursor, site_allocs, scratch, p_time, site_tab, site_weight,
                  site_density, site_writes, choice_bytes, choice_cdf, ref_kind, ref_site, stk):
    """Run P ``p``'s mutator until its clock passes ``q_end``; return a status.

    One step: pick a site, allocate its object and the children its refs
    ask for (depth first, one allocation point; each allocation after its
    compute), write their pointer slots, publish the object in the site's
    roots. The arrays come in one by
    one because this is the hot loop (see heap.py's note); the tuples are only
    handed on to the cold paths (refill, large objects). With goroutines
    (``stk``, stacks.py) a step first runs one goroutine's calls and returns,
    and a site's value that does not escape goes into that goroutine's frame.
    """
    out_cost = np.zeros(1)
    n_g = stk.g_used.shape[0]
    site_escape = stk.site_escape
    sk = stk.k
    g_dir = stk.g_dir
    g_depth = stk.g_depth
    g_target = stk.g_target
    g_used = stk.g_used
    g_size = stk.g_size
    g_frame = stk.g_frame
    g_group = stk.g_group
    grp_calls = stk.grp_calls
    grp = stk.grp
    n_edges = edges.shape[1]
    wb = rp.write_barrier != 0
    assists = rp.stw_mark == 0
    while p_time[p] < q_end and c[C_ALLOCS] < rp.max_allocs:
        status = _room_status(c, spans, slot_span, page_span, rp)
        if status == ST_OK:
            status = pool_room(pool, p)
        if status != ST_OK:
            return status
        site = pick_site(rng, site_cdf)
        if site < 0:
            break
        out_cost[0] = c[C_COMPUTE_CYCLES]
        g = -1
        if n_g > 0:
            g, status = goroutine_step(heap, c, stk, costs, rng, p, out_cost, sk, g_dir, g_depth,
                                       g_target, g_used, g_size, g_frame, g_group, grp_calls,
                                       grp)
            if status != ST_OK:
                return status
        assist0 = c[C_CYC_ASSIST_CYCLES]
        parked = False
        c[C_STEP_START_CYCLES] = p_time[p]
        c[C_STEP_ASSIST_PREEMPTED] = 0
        scratch[0] = site
        scratch[1] = -1
        scratch[2] = -1
        top = 1
        first = -1
        if site_tab[site, W_POOL] >= 0:
            # A sync.Pool user Gets (or News), holds and Puts its objects itself.
            parked = pool_step(pool, heap, gc, wl, rp, tab, costs, c, fstate, p_assist_bytes, p,
                               site, rng, roots, site_cursor, out_cost)
            top = 0
        while top > 0:
            top -= 1
            s = scratch[3 * top]
            parent = scratch[3 * top + 1]
            pj = scratch[3 * top + 2]
            if parent >= 0:
                # compute_ns_per_alloc is per allocation: a child costs its own
                # (the step's first object had it charged above).
                out_cost[0] += c[C_COMPUTE_CYCLES]
            size = draw_size(rng, site_tab, choice_bytes, choice_cdf, s)
            pw = site_tab[s, W_PTR_WORDS]
            if pw < 0:
                pw = int(site_density[s] * (size // 8))
            if parent < 0 and site_escape[s] < 1.0 and next_float(rng) >= site_escape[s]:
                # Escape analysis kept it on the stack: no heap object (config: no refs).
                status = stack_value(heap, c, stk, costs, p, g, size, out_cost)
                if status != ST_OK:
                    return status
                continue
            slot, need = try_malloc(spans, mcache, slot_alloc, slot_mark, slot_ptr_words,
                                    alloc_by_class, tiny_slot, tiny_offset, heap.scan_alloc, c,
                                    costs, p, size, pw, out_cost)
            while slot < 0:
                if need == NEED_LARGE:
                    slot = large_alloc(heap, c, tab, costs, p, size, pw, out_cost)
                else:
                    refill(heap, c, tab, costs, p, need, out_cost)
                    slot, need = try_malloc(spans, mcache, slot_alloc, slot_mark,
                                            slot_ptr_words, alloc_by_class, tiny_slot,
                                            tiny_offset, heap.scan_alloc, c, costs, p, size, pw,
                                            out_cost)
            slot_site[slot] = s
            c[C_ALLOCS] += 1
            if c[C_PHASE] == PHASE_MARK and assists:
                # Assist debit: the slot size (a tiny request: its own size).
                if pw == 0 and size < TINY_SIZE_BYTES_:
                    p_assist_bytes[p] -= size
                else:
                    p_assist_bytes[p] -= spans[slot_span[slot]]["elemsize"]
                if p_assist_bytes[p] < 0 and not parked:
                    parked = gc_assist(heap, gc, wl, rp, c, costs, fstate, p_assist_bytes, p,
                                       out_cost)
            if pw > 0:
                for j in range(n_edges):
                    edges[slot, j] = -1
            if parent >= 0:
                edges[parent, pj] = slot
                write_pointer(slot_mark, slot_span, spans, slot_ptr_words, gray, c, costs, wb,
                              -1, slot, out_cost)
            else:
                first = slot
            off = site_tab[s, W_REF_OFF]
            for j in range(site_tab[s, W_REF_N]):
                kind = ref_kind[off + j]
                if kind == REF_CHILD:
                    scratch[3 * top] = ref_site[off + j]
                    scratch[3 * top + 1] = slot
                    scratch[3 * top + 2] = j
                    top += 1
                elif kind == REF_RANDOM:
                    ts = ref_site[off + j]
                    target = roots[site_tab[ts, W_ROOT_BASE]
                                   + next_below(rng, site_tab[ts, W_ROOT_LEN])]
                    edges[slot, j] = target
                    if target >= 0:
                        write_pointer(slot_mark, slot_span, spans, slot_ptr_words, gray, c,
                                      costs, wb, -1, target, out_cost)
        # Publish the object in its site's roots; the reference it replaces is dropped.
        idx = draw_root_slot(rng, site_tab, site_cursor, site)
        if idx >= 0:
            write_pointer(slot_mark, slot_span, spans, slot_ptr_words, gray, c, costs, wb,
                          roots[idx], first, out_cost)
            roots[idx] = first
        # Mutator pointer writes: move a pointer between two live objects of the site.
        w = site_writes[site]
        if w > 0.0:
            base = site_tab[site, W_ROOT_BASE]
            n = site_tab[site, W_ROOT_LEN]
            n_writes = int(w)
            if next_float(rng) < w - n_writes:
                n_writes += 1
            for _ in range(n_writes):
                a = roots[base + next_below(rng, n)]
                b = roots[base + next_below(rng, n)]
                if a < 0 or b < 0:
                    continue
                j = next_below(rng, site_tab[site, W_REF_N])
                moved = edges[b, j]
                write_pointer(slot_mark, slot_span, spans, slot_ptr_words, gray, c, costs, wb,
                              edges[a, j], moved, out_cost)
                edges[a, j] = moved
                write_pointer(slot_mark, slot_span, spans, slot_ptr_words, gray, c, costs, wb,
                              moved, -1, out_cost)
                edges[b, j] = -1
        site_allocs[site] += 1
        cap = site_tab[site, W_MAX_ALLOCS]
        if cap >= 0 and site_allocs[site] >= cap:
            retire_site(site_cdf, site_weight, site_tab, site_allocs)
        cost = max(1, int(out_cost[0] + 0.5))
        p_time[p] += cost
        assisted = c[C_CYC_ASSIST_CYCLES] - assist0
        c[C_MUTATOR_CYCLES] += cost - assisted
        if assisted > 0 and p_time[p] > c[C_MARK_WORK_END_CYCLES]:
            # A clock past the boundary because of an assist is GC work, not a P
            # that mark termination waits for (gccycle._stop_the_world).
            c[C_MARK_WORK_END_CYCLES] = p_time[p]
            c[C_MARK_WORK_END_P] = p + 1
            c[C_MARK_WORK_END_ASSIST] = 1
        if parked:
            # Still in debt with no work to do: wait on the assist queue until
            # marking ends (at the next quantum boundary); the P is idle meanwhile.
            c[C_ASSIST_PARKED] += 1
            c[C_QUANTUM_PARKED] += 1
            break
    return ST_OK


@kernel
def _next_turn(sched_cycles, preempt_cycles):
    """When sysmon preempts a goroutine scheduled at ``sched_cycles`` (retake).

    sysmon notes a P's new schedtick at its first tick after the schedule and
    preempts once forcePreemptNS has passed since that tick; a busy program's
    sysmon sleeps the longest, 10 ms, between ticks, so ticks are modelled at
    multiples of ``preempt_cycles``. A schedule at a tick's time comes after
    that tick's check (the goroutine sysmon preempted is rescheduled just
    after it), so a goroutine nothing else reschedules is preempted every
    second tick: 20 ms apart, as runtime/trace shows for the steady twin at
    GOMAXPROCS=1 (median 20.3 ms between preemptions, go1.27.3).
    """
    first_tick = (sched_cycles // preempt_cycles + 1) * preempt_cycles
    return first_tick + preempt_cycles


@kernel
def _last_turn(sched_cycles, now, preempt_cycles):
    """The goroutine's last schedule() at or before ``now``: ``sched_cycles`` or the
    latest of the sysmon preemptions after it (``_next_turn``); ``preempt_cycles > 0``.

    After the first, each preemption falls on a tick, so the next comes two
    ticks on: a closed form, since the schedule may lie seconds back (a P
    whose goroutine's assists end every mark is rescheduled only by sysmon).
    """
    first = _next_turn(sched_cycles, preempt_cycles)
    if now < first:
        return sched_cycles
    period = 2 * preempt_cycles
    return first + (now - first) // period * period


@kernel
def _preempt_at(sched_cycles, now, preempt_cycles):
    """When sysmon next preempts the goroutine on a P that last went through
    schedule() at ``sched_cycles``: the first of its preemptions after ``now``;
    never with ``preempt_cycles = 0``."""
    if preempt_cycles <= 0:
        return np.iinfo(np.int64).max
    return _next_turn(_last_turn(sched_cycles, now, preempt_cycles), preempt_cycles)


@kernel
def _last_schedule(st, rp, now):
    """The latest time at or before ``now`` that some P went through schedule() while
    marking (where findRunnableGCWorker runs, and with it the limiter's periodic
    update).

    A P with no goroutine looks for work all the time, and with
    ``preempt_ns = 0`` the fractional worker takes every quantum: ``now``. A
    goroutine's P schedules at its sysmon preemptions (``_next_turn`` from its
    last schedule, which a fractional worker's turn moves); a dedicated
    worker's P when sysmon preempts the worker, on the same 10 ms ticks.
    """
    P = rp.gomaxprocs
    pc = rp.preempt_cycles
    if pc <= 0:
        return now
    best = -1
    for p in range(P):
        if p < rp.dedicated_workers:
            t = now // pc * pc
        elif not _runs_goroutine(p, P, rp.dedicated_workers, rp.mutator_procs, True):
            return now
        else:
            t = _last_turn(st.p_sched_cycles[p], now, pc)
        if t > best:
            best = t
    return best


@kernel
def _background_worker(st, wl, rp, costs, p, q_end):
    """P ``p``'s background mark worker for this quantum (findRunnableGCWorker).

    A dedicated worker owns its P while there is work. A fractional worker
    runs while the P's fractional time over the elapsed mark time is under
    the goal. On an idle P it is picked whenever the P looks for work, so it
    takes its share of each quantum. A P running a goroutine picks it only
    when the P goes through schedule(): at a world restart (the Ps stopped
    for gcStart, not the one that ran it) or when sysmon preempts the
    goroutine (``runtime.preempt_ns``, forcePreemptNS); then it runs until its
    share passes 1.2 x the goal (pollFractionalWorkerExit) or the work runs
    out, and the goroutine gets the P back. ``preempt_ns = 0`` lets it take
    its share of every quantum, the pacer's idealised schedule.
    """
    c = st.counters
    if not mark_work_left(c):
        return
    goal = rp.fractional_goal
    dedicated = p < rp.dedicated_workers
    if dedicated:
        budget = q_end - st.p_time[p]
    elif rp.preempt_cycles > 0 and _runs_goroutine(p, rp.gomaxprocs, rp.dedicated_workers,
                                                   rp.mutator_procs, True):
        now = st.p_time[p]
        elapsed = now - c[C_CYC_MARK_START]
        if st.p_frac_on[p] == 0:
            turn = st.p_turn[p] != 0
            # sysmon's preemptions since the last schedule (before mark, too):
            # the goroutine is rescheduled at each; only one inside the mark is a
            # turn the worker can take.
            last = _last_turn(st.p_sched_cycles[p], now, rp.preempt_cycles)
            if last != st.p_sched_cycles[p]:
                st.p_sched_cycles[p] = last
                if last >= c[C_CYC_MARK_START]:
                    turn = True
            if not turn:
                return
            st.p_turn[p] = 0
            st.p_sched_cycles[p] = now
            if goal <= 0.0 or st.p_frac_cycles[p] > goal * elapsed:
                return
            st.p_frac_on[p] = 1
        # Until self / elapsed > 1.2 goal, elapsed growing with self.
        exit_share = FRACTIONAL_EXIT * goal
        left = (exit_share * elapsed - st.p_frac_cycles[p]) / (1.0 - exit_share)
        budget = min(q_end - now, max(left, 1.0))
        used = mark_worker(st, wl, costs, p, budget, False)
        st.p_frac_cycles[p] += used
        if used < budget or budget >= left or not mark_work_left(c):
            st.p_frac_on[p] = 0
            st.p_sched_cycles[p] = st.p_time[p]  # the goroutine is scheduled again
        return
    else:
        # Go schedules the fractional worker while the P's fractional time over the
        # elapsed mark time is under the goal, so a quantum lost to a long assist
        # is made up later.
        elapsed = q_end - c[C_CYC_MARK_START]
        budget = goal * elapsed - st.p_frac_cycles[p]
        budget = min(budget, q_end - st.p_time[p])
    if budget > 0:
        used = mark_worker(st, wl, costs, p, budget, False)
        if not dedicated:
            st.p_frac_cycles[p] += used


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
    tl[row]["heap_sys_bytes"] = (c[C_PAGES_MAPPED] - c[C_STACK_PAGES]) * PAGE_BYTES_
    tl[row]["heap_released_bytes"] = c[C_PAGES_RELEASED] * PAGE_BYTES_
    tl[row]["phase"] = c[C_PHASE]
    tl[row]["num_gc"] = c[C_NUM_GC]
    tl[row]["allocs"] = c[C_ALLOCS]
    tl[row]["mutator_cycles"] = c[C_MUTATOR_CYCLES]
    tl[row]["gc_cpu_cycles"] = c[C_GC_CPU_CYCLES]
    tl[row]["scavenge_goal_bytes"] = c[C_SCAV_GOAL_BYTES]
    tl[row]["idle_mark_cycles"] = st.bg[B_IDLE_MARK_CYCLES]
    tl[row]["bg_sweep_cycles"] = st.bg[B_BG_SWEEP_CYCLES]
    tl[row]["scavenge_assist_cycles"] = c[C_SCAV_ASSIST_CYCLES]
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
        ``ST_OK``, ``ST_DONE``, ``ST_RECORDS_FULL``, ``ST_GROW_*`` or ``ST_STACK_OVERFLOW``.
    """
    c = st.counters
    heap = st.heap
    P = rp.gomaxprocs
    cyc_cap = st.rec.cycles.shape[0]
    tl_cap = st.rec.timeline.shape[0]
    while True:
        if c[C_IN_QUANTUM] == 0:
            now = c[C_NOW_CYCLES]
            if now >= rp.end_cycles or c[C_ALLOCS] >= rp.max_allocs:
                return ST_DONE
            if rp.rate_step_cycles > 0:
                step = now // rp.rate_step_cycles
                if step != c[C_RATE_STEP]:
                    if step >= wl.rate_table.shape[0]:
                        return ST_GROW_RATES
                    apply_rate_step(st, wl, step)
            if st.site_cdf[st.site_cdf.shape[0] - 1] <= 0.0:
                return ST_DONE
            if now >= until_cycles:
                return ST_OK
            if c[C_N_CYCLE_RECORDS] >= cyc_cap or c[C_N_TIMELINE_RECORDS] >= tl_cap:
                return ST_RECORDS_FULL
            sched = -1
            if c[C_PHASE] == PHASE_MARK and now - c[C_LIMITER_T] > rp.limiter_period_cycles:
                sched = _last_schedule(st, rp, now)
            update_limiter(st, rp, False, sched)
            if c[C_PHASE] == PHASE_MARK:
                if not mark_work_left(c):
                    # Mark completion is reached when the last work ends: an
                    # assist or worker slice that ran past this boundary (a
                    # debt past the goal can drain the whole mark in one
                    # assist) finishes first, and the other Ps run on meanwhile.
                    if c[C_MARK_WORK_END_CYCLES] <= now:
                        gc_mark_done(st, wl, rp, costs)
                        continue
                elif c[C_REVISE_PENDING] != 0:
                    revise_assist_ratio(c, st.fstate, rp)
            elif c[C_GC_PENDING] != 0:
                status = stacks_room_status(heap, c, st.stk)
                if status != ST_OK:
                    return status  # the cycle's stack shrinks need room
                if rp.stw_mark != 0:
                    run_gc_cycle_stw(st, wl, rp, costs, 0)
                else:
                    gc_start(st, wl, rp, costs, 0)
                continue
            if rp.memory_limit_bytes >= 0:
                # The memory-limit goal moves with the mapped memory: Go recomputes it
                # at every trigger test (GC off) and in every revise (marking).
                if c[C_PHASE] == PHASE_OFF:
                    commit_pacer(st, rp, False, 0)
                    if c[C_HEAP_LIVE_BYTES] >= c[C_TRIGGER_BYTES]:
                        c[C_GC_PENDING] = 1
                        continue
                else:
                    commit_pacer(st, rp, True, c[C_CYC_TRIGGERED])
            if now >= c[C_NEXT_SAMPLE_CYCLES]:
                sample_timeline(st)
                while c[C_NEXT_SAMPLE_CYCLES] <= now:
                    c[C_NEXT_SAMPLE_CYCLES] += rp.timeline_interval_cycles
            c[C_QUANTUM_END_CYCLES] = now + rp.quantum_cycles
            c[C_QUANTUM_PARKED] = 0
            c[C_IN_QUANTUM] = 1
            st.bg[B_IDLE_WORKERS] = 0
        q_end = c[C_QUANTUM_END_CYCLES]
        for p in range(P):
            if (c[C_PHASE] == PHASE_MARK and st.p_time[p] < q_end
                    and st.p_worker_quantum[p] != q_end):
                st.p_worker_quantum[p] = q_end
                _background_worker(st, wl, rp, costs, p, q_end)
            # The calls below are guarded so that a quantum with nothing for them
            # does not pay for passing the state tuples (~1 us a call).
            if p == P - 1 and (c[C_SCAV_GOAL_BYTES] != NO_GOAL_BYTES
                               or st.bg[B_SCAV_LIMIT_GOAL_BYTES] != NO_GOAL_BYTES):
                st.p_time[p] += scavenge_background(heap, c, st.bg, costs, P, q_end,
                                                    rp.quantum_cycles)
            if not _runs_goroutine(p, P, rp.dedicated_workers, rp.mutator_procs,
                                   c[C_PHASE] == PHASE_MARK):
                if st.p_time[p] < q_end:
                    idle_p_quantum(st, wl, rp, costs, p, q_end)
                continue
            if c[C_PHASE] == PHASE_MARK:
                c[C_STEP_PREEMPT_AT_CYCLES] = _preempt_at(st.p_sched_cycles[p], st.p_time[p],
                                                          rp.preempt_cycles)
            status = run_p_quantum(
                heap, st.gc, wl, rp, tab, costs, st.pool, p, q_end, c, st.fstate,
                st.p_assist_bytes,
                heap.spans, heap.mcache,
                heap.slot_alloc, heap.slot_mark, heap.slot_span, heap.slot_ptr_words,
                heap.slot_site, heap.edges, heap.tiny_slot, heap.tiny_offset,
                heap.alloc_by_class, heap.page_span, st.gc.gray, st.gc.roots, st.rng,
                st.site_cdf, st.site_cursor, st.site_allocs, st.scratch, st.p_time,
                wl.site_tab, wl.rate_table[c[C_RATE_STEP], 1:], wl.site_ptr_density,
                wl.site_writes, wl.choice_bytes, wl.choice_cdf, wl.ref_kind, wl.ref_site,
                st.stk)
            if status != ST_OK:
                return status
            if c[C_GC_PENDING] != 0 and c[C_GC_INITIATOR] == 0:
                c[C_GC_INITIATOR] = p + 1  # its allocation saw the trigger: it runs gcStart
            if st.p_time[p] < q_end:
                idle_p_quantum(st, wl, rp, costs, p, q_end)
        c[C_IN_QUANTUM] = 0
        c[C_NOW_CYCLES] = q_end
