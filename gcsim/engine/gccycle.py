"""One GC cycle, phase by phase, and the pacer commit that follows it.

The phase structure is Go's (src/runtime/mgc.go, reference §2.2):

1. ``gc_start``, world running: finish sweeping the previous cycle's spans
   (CPU charged to sweeping). Then sweep termination (STW 1): reset each P's
   assist credit and the background credit, ``startCycle`` (H_T, goal with
   the running-cycle floor, assist ratio), marking on (write barrier,
   allocate-black), grey each P's tiny block, queue the roots (globals as
   root-block work, the site root tables as gray objects).
2. Concurrent mark, driven by the loop (loop.py): each quantum, dedicated
   workers own their P, every other P gives ``fractional_goal`` of its time to
   a fractional worker (startCycle's split of the 25 % goal, pacer.bg_workers);
   mutators that allocate pay for it in assists (``gc_assist``: debit the slot
   size, work off debt at assistWorkPerByte, at least 64 KiB of work at a time,
   stealing background credit first, parking when no work is left); every
   pointer store shades through the hybrid barrier.
3. ``gc_mark_done`` at the first quantum boundary with no mark work left:
   what the drains left of the cycle's fixed mark CPU, on the P that
   finished the work, then
   ``gc_mark_termination`` (STW 2): ``endCycle`` (cons/mark from this
   cycle's assist share), ``resetLive`` (heapLive := bytes marked), marking off, sweepgen += 2 so
   every in-use span becomes unswept, mcaches flushed (their spans were
   cached before sweep began, so they go to the unswept lists and heapLive is
   not corrected; mcache.go ``releaseAll``), then ``commit``: next goal,
   trigger and sweep pacing.

With ``gcstoptheworld = 1`` (``run_gc_cycle_stw``) step 2 runs with the world
stopped: every P marks, the mark phase is part of the pause, and its wall time
is the work divided over GOMAXPROCS.

Pause lengths are the work done inside each pause: the wait for every P to
reach a safe point (the end of the step each is in), the cost table's fixed
part, and a per-P part for stopping and restarting each P. Spans the last
cycle left unswept are swept just before sweep termination by the P that
reached the boundary first, as gcStart's sweep loop does (and finishsweep_m
then finds none left). Simplifications: the ragged barrier of mark
completion is the quantum boundary (at most one quantum late); a parked
assist waits for mark termination rather than for background credit.
"""

from __future__ import annotations

import numpy as np

from gcsim.engine._jit import kernel
from gcsim.engine.gcsweeping import finish_sweep, pace_sweeper
from gcsim.engine.heap import flush_mcache
from gcsim.engine.mark import (
    drain_mark_work,
    mark_roots,
    mark_work_left,
    scan_work_done,
    shade_slot,
)
from gcsim.engine.pacer import (
    GC_OVER_ASSIST_WORK,
    assist_ratio,
    assist_ratio_go15,
    compute_trigger,
    cons_mark_update,
    cycle_start_goal_go15,
    heap_goal_effective,
    heap_goal_gogc,
    limiter_update,
    memory_limit_heap_goal,
    trigger_go15,
    trigger_ratio_update_go15,
)
from gcsim.engine.pool import pool_cleanup_and_roots
from gcsim.engine.rtmem import nonheap_bytes
from gcsim.engine.scavenge import free_unreleased_pages, pace_scavenger, retained_bytes
from gcsim.engine.stacks import stacks_mark_start, stacks_mark_termination
from gcsim.engine.state import (
    B_IDLE_MARK_CYCLES,
    B_LAST_HEAP_GOAL_BYTES,
    B_LAST_HEAP_INUSE_BYTES,
    B_LEFTOVER_SWEEP_CYCLES,
    B_STOP_WAIT_CYCLES,
    C_ALLOCS,
    C_ASSIST_PREEMPTS,
    C_BG_SCAN_CREDIT,
    C_CYC_ASSIST_CYCLES,
    C_CYC_BG_CYCLES,
    C_CYC_FORCED,
    C_CYC_HEAP_LIVE_START,
    C_CYC_IDLE_CYCLES,
    C_CYC_LIMITER_ON,
    C_CYC_MARK_START,
    C_CYC_START,
    C_CYC_STW1_CYCLES,
    C_CYC_TRIGGER,
    C_CYC_TRIGGERED,
    C_CYC_UNSWEPT,
    C_GC_CPU_CYCLES,
    C_GC_INITIATOR,
    C_GC_PENDING,
    C_GRAY_LEN,
    C_GRAY_OBJ_LEN,
    C_HEAP_ALLOC_BYTES,
    C_HEAP_GOAL_BYTES,
    C_HEAP_LIVE_BYTES,
    C_HEAP_MARKED_BYTES,
    C_HEAP_SCAN_BYTES,
    C_IDLE_CYCLES,
    C_LAST_HEAP_MARKED_BYTES,
    C_LAST_HEAP_SCAN_BYTES,
    C_LAST_STACK_SCAN_BYTES,
    C_LIMITER_FILL,
    C_LIMITER_MARK_WALL,
    C_LIMITER_MARKING,
    C_LIMITER_ON,
    C_LIMITER_SNAP_ASSIST,
    C_LIMITER_SNAP_IDLE,
    C_LIMITER_SNAP_SCAV,
    C_LIMITER_SNAP_STW,
    C_LIMITER_T,
    C_LIMITER_TICK,
    C_MARK_FIXED_LEFT_CYCLES,
    C_MARK_OBJECTS,
    C_MARK_POINTERS,
    C_MARK_SCAN_WORK,
    C_MARK_WORK_END_ASSIST,
    C_MARK_WORK_END_CYCLES,
    C_MARK_WORK_END_P,
    C_MAX_PAGES_MAPPED,
    C_MAX_STACK_SCAN_BYTES,
    C_N_CYCLE_RECORDS,
    C_N_SPAN_RECORDS,
    C_NOW_CYCLES,
    C_NUM_GC,
    C_PAGES_INUSE,
    C_PAGES_SWEPT,
    C_PHASE,
    C_QUANTUM_PARKED,
    C_REVISE_PENDING,
    C_SCAV_ASSIST_CYCLES,
    C_SCAV_LIMIT_HEAP_BYTES,
    C_STACK_PAGES,
    C_STACK_SCAN_DONE,
    C_STEP_ASSIST_PREEMPTED,
    C_STEP_PREEMPT_AT_CYCLES,
    C_STEP_START_CYCLES,
    C_SWEEP_DIST_MIN_TRIGGER,
    C_SWEEPGEN,
    C_TOTAL_ASSIST_CYCLES,
    C_TOTAL_STW_CPU_CYCLES,
    C_TRIGGER_BYTES,
    C_UNSWEPT_SPANS,
    F_ASSIST_BYTES_PER_WORK,
    F_ASSIST_WORK_PER_BYTE,
    F_CONS_MARK,
    F_CONS_MARK_HIST0,
    F_TRIGGER_RATIO,
    L_FULL_SWEPT,
    L_FULL_UNSWEPT,
    L_PARTIAL_SWEPT,
    L_PARTIAL_UNSWEPT,
    PACER_GO15,
    PACER_GO118,
    PHASE_MARK,
    PHASE_OFF,
    SPAN_INUSE,
)

PAGE_BYTES_ = 8192
SWEEP_MIN_HEAP_DISTANCE_BYTES = 1 << 20


@kernel
def commit_pacer(st, rp, cycle_running, triggered_bytes):
    """Recompute the heap goal and trigger (gcControllerState.commit + trigger()).

    go1.18: the GOGC goal with stacks and globals, the memory-limit goal, the
    sweep-distance floor recorded in ``C_SWEEP_DIST_MIN_TRIGGER``, and the
    cons/mark runway. go1.5: the trigger ratio h_T and the goal
    H_m x (1 + GOGC/100), with the trigger kept >= heapLive + 1 MiB while
    sweeping is unfinished.
    """
    c = st.counters
    if rp.pacer == PACER_GO15:
        sweep_done = c[C_SWEEP_DIST_MIN_TRIGGER] == 0
        trigger, goal, ratio = trigger_go15(
            c[C_LAST_HEAP_MARKED_BYTES], c[C_HEAP_LIVE_BYTES], st.fstate[F_TRIGGER_RATIO],
            rp.gogc, sweep_done,
        )
        st.fstate[F_TRIGGER_RATIO] = ratio
        if cycle_running:
            goal = cycle_start_goal_go15(goal, triggered_bytes)
        c[C_HEAP_GOAL_BYTES] = goal
        c[C_TRIGGER_BYTES] = trigger
        return
    gogc_goal = heap_goal_gogc(
        c[C_LAST_HEAP_MARKED_BYTES], c[C_LAST_STACK_SCAN_BYTES], rp.globals_bytes, rp.gogc
    )
    mem_goal = np.int64(np.iinfo(np.int64).max)
    if rp.memory_limit_bytes >= 0:
        # The runtime's own memory (span structures, metadata, the profiler's
        # table) counts against the limit too (rtmem.py).
        nonheap = nonheap_bytes(c[C_N_SPAN_RECORDS], c[C_MAX_PAGES_MAPPED], rp.gomaxprocs)
        mapped_ready = retained_bytes(c) + nonheap
        c[C_SCAV_LIMIT_HEAP_BYTES] = rp.memory_limit_bytes - nonheap
        heap_free = free_unreleased_pages(c) * PAGE_BYTES_
        mem_goal = memory_limit_heap_goal(
            rp.memory_limit_bytes, mapped_ready, heap_free, c[C_HEAP_ALLOC_BYTES],
            c[C_LAST_HEAP_MARKED_BYTES],
        )
    goal, min_trigger = heap_goal_effective(
        gogc_goal, mem_goal, c[C_SWEEP_DIST_MIN_TRIGGER], cycle_running, triggered_bytes
    )
    trigger = compute_trigger(
        goal, min_trigger, c[C_LAST_HEAP_MARKED_BYTES], st.fstate[F_CONS_MARK],
        c[C_LAST_HEAP_SCAN_BYTES], c[C_LAST_STACK_SCAN_BYTES], rp.globals_bytes,
    )
    c[C_HEAP_GOAL_BYTES] = goal
    c[C_TRIGGER_BYTES] = trigger


@kernel
def update_limiter(st, rp, transition, last_schedule_cycles):
    """The GC CPU limiter's bucket (mgclimit.go), ticked at every quantum boundary.

    Each tick adds the wall time since the last one to the window's marking
    time if marking was on. The window is poured into the bucket when Go
    would update it: at a GC transition (``transition``: gcStart and mark
    termination, startGCTransition), once the Ps' assist time since the last
    update passes gcAssistTimeSlack (gcAssistAlloc1 updates after each
    assist; here at the boundary after it), and otherwise when a P goes
    through schedule() while marking more than 10 ms after the last update
    (findRunnableGCWorker checks gcCPULimiterUpdatePeriod; it runs only
    while marking, and only when a P looks for work: at P=1 that is the
    goroutine's sysmon preemption or its worker's turn ending).
    ``last_schedule_cycles`` is the latest such schedule() (loop.py's
    ``_last_schedule``; -1 when none is due). GC
    time is assists + STW pauses x GOMAXPROCS + 25 % of the CPU while
    marking; mutator time is the rest minus idle time. The bucket
    (GOMAXPROCS x 1 s) fills while GC time exceeds mutator time; when full
    the limiter is on and assists are skipped. With assists off nothing but
    the periodic update can turn it off again, which is what caps GC near
    50 % of CPU; the update after each assist is what turns it back on within
    microseconds of the assists that fill the bucket.
    """
    c = st.counters
    now = c[C_NOW_CYCLES]
    if c[C_LIMITER_MARKING] != 0:
        c[C_LIMITER_MARK_WALL] += now - c[C_LIMITER_TICK]
    c[C_LIMITER_TICK] = now
    c[C_LIMITER_MARKING] = 1 if c[C_PHASE] == PHASE_MARK else 0
    window = now - c[C_LIMITER_T]
    assisted = c[C_TOTAL_ASSIST_CYCLES] - c[C_LIMITER_SNAP_ASSIST]
    if not transition and assisted <= rp.limiter_assist_slack_cycles \
            and last_schedule_cycles - c[C_LIMITER_T] <= rp.limiter_period_cycles:
        return
    P = rp.gomaxprocs
    stw = c[C_TOTAL_STW_CPU_CYCLES] - c[C_LIMITER_SNAP_STW]
    gc_time = assisted + stw
    # Scavenge assists count as assist time (mgclimit.go limiterEventScavengeAssist).
    gc_time += c[C_SCAV_ASSIST_CYCLES] - c[C_LIMITER_SNAP_SCAV]
    gc_time += int(0.25 * c[C_LIMITER_MARK_WALL] * P)
    # Idle Ps and idle-priority mark workers are both idle time to the limiter.
    idle_now = c[C_IDLE_CYCLES] + st.bg[B_IDLE_MARK_CYCLES]
    total = window * P - (idle_now - c[C_LIMITER_SNAP_IDLE])
    fill, on = limiter_update(c[C_LIMITER_FILL], rp.limiter_capacity_cycles, gc_time,
                              total - gc_time)
    c[C_LIMITER_FILL] = fill
    c[C_LIMITER_ON] = 1 if on else 0
    c[C_LIMITER_T] = now
    c[C_LIMITER_MARK_WALL] = 0
    c[C_LIMITER_SNAP_ASSIST] = c[C_TOTAL_ASSIST_CYCLES]
    c[C_LIMITER_SNAP_STW] = c[C_TOTAL_STW_CPU_CYCLES]
    c[C_LIMITER_SNAP_SCAV] = c[C_SCAV_ASSIST_CYCLES]
    c[C_LIMITER_SNAP_IDLE] = idle_now
    if on and c[C_PHASE] == PHASE_MARK:
        c[C_CYC_LIMITER_ON] = 1


@kernel
def _rotate_lists_after_sweepgen(heap, c):
    """sweepgen += 2: every swept list becomes unswept (the span sets swap roles)."""
    n = 0
    for spc in range(heap.list_head.shape[0]):
        for a, b in ((L_PARTIAL_SWEPT, L_PARTIAL_UNSWEPT), (L_FULL_SWEPT, L_FULL_UNSWEPT)):
            ha = heap.list_head[spc, a]
            heap.list_head[spc, a] = heap.list_head[spc, b]
            heap.list_head[spc, b] = ha
            la = heap.list_len[spc, a]
            heap.list_len[spc, a] = heap.list_len[spc, b]
            heap.list_len[spc, b] = la
    spans = heap.spans
    for s in range(c[C_N_SPAN_RECORDS]):
        w = spans[s]["list"]
        if w == L_PARTIAL_SWEPT:
            spans[s]["list"] = L_PARTIAL_UNSWEPT
        elif w == L_PARTIAL_UNSWEPT:
            spans[s]["list"] = L_PARTIAL_SWEPT
        elif w == L_FULL_SWEPT:
            spans[s]["list"] = L_FULL_UNSWEPT
        elif w == L_FULL_UNSWEPT:
            spans[s]["list"] = L_FULL_SWEPT
        if spans[s]["state"] == SPAN_INUSE:
            n += 1
    return n


@kernel
def revise_assist_ratio(c, fstate, rp):
    """Recompute assistWorkPerByte from the work left and the heap distance left (revise).

    Go revises at the start of mark, whenever heapLive moves during mark
    (gcController.update, at each mcache refill and large allocation) and when
    GOGC or the memory limit is set; between those the ratio an assist reads is
    the last one computed, however much work was done since.
    """
    c[C_REVISE_PENDING] = 0
    if rp.pacer == PACER_GO15:
        wpb, bpw = assist_ratio_go15(rp.gogc, c[C_HEAP_LIVE_BYTES], c[C_HEAP_SCAN_BYTES],
                                     c[C_MARK_SCAN_WORK], c[C_HEAP_GOAL_BYTES])
    else:
        wpb, bpw = assist_ratio(
            rp.gogc, c[C_HEAP_LIVE_BYTES], c[C_HEAP_SCAN_BYTES], scan_work_done(c),
            c[C_HEAP_GOAL_BYTES], c[C_CYC_TRIGGERED], c[C_LAST_HEAP_SCAN_BYTES],
            c[C_LAST_STACK_SCAN_BYTES], rp.globals_bytes, c[C_MAX_STACK_SCAN_BYTES],
        )
    fstate[F_ASSIST_WORK_PER_BYTE] = wpb
    fstate[F_ASSIST_BYTES_PER_WORK] = bpw


@kernel
def _stop_the_world(st, P, t_stw, gc_work_end, stopper):
    """stopTheWorldWithSema from ``t_stw``: return when the last P has stopped.

    A P stops at its next safe point, the end of the mutator step it is in
    (its clock past the quantum boundary); the pause runs from ``t_stw``
    until then plus the fixed work (reference §2.10: pauses are measured from
    "start stopping" to "world started"). A clock at or before
    ``gc_work_end`` is past the boundary because of mark work (a worker's
    last object, an assist's quota) that in Go would have ended before mark
    completion was reached: it is not waited for (its P restarts on its own
    clock), or that GC time would count twice, as work and as pause.
    P ``stopper`` (-1: none) is the one whose goroutine stops the world: it
    is not waited for at all (``gc_mark_termination`` moves what it ran
    after the boundary to after the pause).
    """
    t = t_stw
    for p in range(P):
        if p != stopper and st.p_time[p] > t and st.p_time[p] > gc_work_end:
            t = st.p_time[p]
    st.bg[B_STOP_WAIT_CYCLES] += t - t_stw
    return t


@kernel
def _stop_running_cost(rp, costs, forced, parked):
    """The pause's wait for Ps that run a goroutine to stop (``stw_stop_running``).

    Stopping a P that runs a goroutine takes a preemption and a thread
    wake-up, ~85 us on the calibration VM, where an idle P costs only
    ``stw_per_p``; the Ps stop in parallel, so it is paid once if a P other
    than the one stopping the world runs one of the workload's goroutines.
    ``parked`` goroutines wait on the assist queue (their Ps idle), which is
    why Go's mark termination at GOMAXPROCS=2 pauses either ~4 us or ~80 us.
    A forced GC's caller blocks and the other Ps have nothing left to run
    (``force_gc``): none to wait for.
    """
    if forced != 0 or min(rp.gomaxprocs, rp.mutator_procs) - parked < 2:
        return 0.0
    return costs.stw_stop_running


@kernel
def _start_the_world(st, P, t, exempt):
    """startTheWorld at ``t``: every P resumes then (clocks never move backwards).

    A P that was stopped goes through schedule() when it restarts, so it may
    pick a mark worker first (findRunnableGCWorker); P ``exempt`` (-1: none)
    is the one whose goroutine stopped the world, which just carries on.
    """
    for p in range(P):
        st.p_time[p] = max(st.p_time[p], t)
        if p != exempt:
            st.p_sched_cycles[p] = st.p_time[p]
            st.p_turn[p] = 1
        else:
            st.p_turn[p] = 0
    st.counters[C_NOW_CYCLES] = t


@kernel
def gc_start(st, wl, rp, costs, forced):
    """gcStart + sweep termination (STW 1), at the current quantum boundary.

    Before stopping the world the goroutine that saw the trigger sweeps every
    span the last cycle left unswept (gcStart's sweepone loop): gcsim runs it
    on the P that reached the boundary first and charges it there. The pause
    is the wait for the other Ps to stop plus the cost table's fixed and
    per-P parts and, when another P runs a goroutine, the wait for it to stop
    (``_stop_running_cost``; finishsweep_m has nothing left to sweep after
    that loop).
    """
    heap = st.heap
    gc = st.gc
    c = st.counters
    P = rp.gomaxprocs
    now = c[C_NOW_CYCLES]
    # startGCTransition(true): the window up to the pause is poured before GC is
    # on; the pause itself counts in full at the next update (finishGCTransition).
    update_limiter(st, rp, True, -1)
    out_cost = np.zeros(1)
    c[C_CYC_HEAP_LIVE_START] = c[C_HEAP_LIVE_BYTES]
    c[C_CYC_TRIGGER] = c[C_TRIGGER_BYTES]
    c[C_CYC_UNSWEPT] = c[C_UNSWEPT_SPANS]
    c[C_CYC_FORCED] = forced
    first = 0
    for p in range(1, P):
        if st.p_time[p] < st.p_time[first]:
            first = p
    t_stw = max(st.p_time[first], now)
    if finish_sweep(heap, c, costs, out_cost) > 0:
        swept = int(out_cost[0] + 0.5)
        t_stw += swept
        st.p_time[first] = t_stw
        st.bg[B_LEFTOVER_SWEEP_CYCLES] += swept
    heap.sweep_pages_per_byte[0] = 0.0
    out_cost[0] = 0.0
    t_stopped = _stop_the_world(st, P, t_stw, -1, -1)
    c[C_CYC_START] = t_stw

    stw1 = t_stopped - t_stw + int(costs.stw_sweep_term + P * costs.stw_per_p
                                   + _stop_running_cost(rp, costs, forced, 0))
    c[C_PHASE] = PHASE_MARK
    c[C_HEAP_MARKED_BYTES] = 0
    c[C_MARK_SCAN_WORK] = 0
    c[C_MARK_OBJECTS] = 0
    c[C_MARK_POINTERS] = 0
    c[C_GRAY_LEN] = 0
    c[C_GRAY_OBJ_LEN] = 0
    c[C_BG_SCAN_CREDIT] = 0
    c[C_CYC_ASSIST_CYCLES] = 0
    c[C_CYC_BG_CYCLES] = 0
    c[C_CYC_IDLE_CYCLES] = 0
    c[C_MARK_WORK_END_CYCLES] = 0
    c[C_MARK_WORK_END_P] = 0
    c[C_MARK_WORK_END_ASSIST] = 0
    for p in range(P):
        st.p_assist_bytes[p] = 0
        st.p_frac_cycles[p] = 0
        st.p_frac_on[p] = 0
    c[C_CYC_TRIGGERED] = c[C_HEAP_LIVE_BYTES]
    commit_pacer(st, rp, True, c[C_CYC_TRIGGERED])
    for p in range(P):
        shade_slot(heap, gc, c, costs, heap.tiny_slot[p], out_cost)
    mark_roots(heap, gc, c, costs, rp.globals_bytes, out_cost)
    pool_cleanup_and_roots(st, costs, P)  # clearpools, then the victim as roots
    stacks_mark_start(heap, c, st.stk)
    revise_assist_ratio(c, st.fstate, rp)
    c[C_GC_PENDING] = 0

    t = t_stw + stw1
    _start_the_world(st, P, t, c[C_GC_INITIATOR] - 1)
    c[C_GC_INITIATOR] = 0
    c[C_CYC_MARK_START] = t
    c[C_CYC_STW1_CYCLES] = stw1
    c[C_GC_CPU_CYCLES] += stw1 * P
    c[C_TOTAL_STW_CPU_CYCLES] += stw1 * P
    c[C_CYC_LIMITER_ON] = c[C_LIMITER_ON]


@kernel
def _fixed_mark_left(c):
    """Take what is left of the cycle's fixed mark CPU (mark.py), cycles."""
    left = c[C_MARK_FIXED_LEFT_CYCLES]
    c[C_MARK_FIXED_LEFT_CYCLES] = 0
    return left


@kernel
def gc_mark_done(st, wl, rp, costs):
    """gcMarkDone, then mark termination, once a concurrent mark has no work left.

    The drains paid the cycle's fixed mark CPU (``mark_cycle``) with their
    scan work; what the cycle's scan work fell short of the pacer's
    expectation left unpaid, the worker or assist that found the work done
    pays on its own P before it stops the world, as background mark time.
    What that P ran past the quantum boundary moves to after it, and the
    other Ps run on meanwhile.
    """
    c = st.counters
    fixed = _fixed_mark_left(c)
    if fixed > 0:
        now = c[C_NOW_CYCLES]
        p = max(c[C_MARK_WORK_END_P] - 1, 0)
        st.p_time[p] = max(st.p_time[p], now) + fixed
        c[C_MARK_WORK_END_P] = p + 1
        c[C_NOW_CYCLES] = now + fixed
        c[C_CYC_BG_CYCLES] += fixed
        c[C_GC_CPU_CYCLES] += fixed
    gc_mark_termination(st, wl, rp, costs, 0)


@kernel
def gc_mark_termination(st, wl, rp, costs, mark_pause_cycles):
    """Mark termination (STW 2) at the current quantum boundary; writes the cycle's row.

    ``mark_pause_cycles`` is the part of the mark phase run with the world
    stopped (gcstoptheworld=1), 0 for the concurrent collector.
    """
    heap = st.heap
    c = st.counters
    P = rp.gomaxprocs
    now = c[C_NOW_CYCLES]
    # startGCTransition(false): the marking window is poured with its 25 %; the
    # pause counts in full at the next update, not as marking.
    update_limiter(st, rp, True, -1)
    c[C_LIMITER_MARKING] = 0
    # The worker or assist that did the last mark work runs gcMarkDone and stops
    # the world itself, on its own P, when that work ends (mgcmark.go,
    # gcAssistAlloc and gcBgMarkWorker): its P is not waited for.
    stopper = c[C_MARK_WORK_END_P] - 1
    t_stopped = _stop_the_world(st, P, now, c[C_MARK_WORK_END_CYCLES], stopper)
    stw2 = t_stopped - now + int(costs.stw_mark_term + P * costs.stw_per_p
                                 + _stop_running_cost(rp, costs, c[C_CYC_FORCED],
                                                      c[C_QUANTUM_PARKED]))
    heap_live_end = c[C_HEAP_LIVE_BYTES]
    heap_marked = c[C_HEAP_MARKED_BYTES]
    goal_in_force = c[C_HEAP_GOAL_BYTES]
    scan_work = c[C_MARK_SCAN_WORK]
    mark_wall = now - c[C_CYC_MARK_START]
    cons_mark, _, _ = cons_mark_update(
        heap_live_end, c[C_CYC_TRIGGERED], scan_work_done(c), c[C_CYC_ASSIST_CYCLES],
        c[C_CYC_IDLE_CYCLES], mark_wall, P, st.fstate[F_CONS_MARK],
        st.fstate[F_CONS_MARK_HIST0:F_CONS_MARK_HIST0 + 4],
    )
    st.fstate[F_CONS_MARK] = cons_mark
    if rp.pacer == PACER_GO15:
        st.fstate[F_TRIGGER_RATIO] = trigger_ratio_update_go15(
            st.fstate[F_TRIGGER_RATIO], goal_in_force, c[C_LAST_HEAP_MARKED_BYTES],
            heap_live_end, c[C_CYC_ASSIST_CYCLES], mark_wall, P, c[C_CYC_FORCED] != 0,
        )
    c[C_HEAP_LIVE_BYTES] = heap_marked
    c[C_LAST_HEAP_MARKED_BYTES] = heap_marked
    c[C_HEAP_SCAN_BYTES] = scan_work
    c[C_LAST_HEAP_SCAN_BYTES] = scan_work
    c[C_LAST_STACK_SCAN_BYTES] = c[C_STACK_SCAN_DONE]
    c[C_PHASE] = PHASE_OFF
    stacks_mark_termination(heap, c, st.stk)
    c[C_SWEEPGEN] += 2
    c[C_PAGES_SWEPT] = 0
    c[C_UNSWEPT_SPANS] = _rotate_lists_after_sweepgen(heap, c)
    for p in range(P):
        flush_mcache(heap, c, p)
    c[C_NUM_GC] += 1
    # memstats.lastHeapInUse (gcMarkTermination) and lastHeapGoal (endCycle), before the
    # commit moves the goal: the scavenger's goal scales one by the other's change.
    st.bg[B_LAST_HEAP_INUSE_BYTES] = c[C_PAGES_INUSE] * PAGE_BYTES_
    st.bg[B_LAST_HEAP_GOAL_BYTES] = goal_in_force
    c[C_SWEEP_DIST_MIN_TRIGGER] = c[C_HEAP_LIVE_BYTES] + SWEEP_MIN_HEAP_DISTANCE_BYTES
    commit_pacer(st, rp, False, 0)
    pace_sweeper(heap, c, c[C_PAGES_INUSE], c[C_TRIGGER_BYTES])
    pace_scavenger(c, st.bg, rp.memory_limit_bytes, c[C_HEAP_GOAL_BYTES],
                   nonheap_bytes(c[C_N_SPAN_RECORDS], c[C_MAX_PAGES_MAPPED], rp.gomaxprocs))
    c[C_GC_PENDING] = 0

    t_end = now + stw2
    if stopper >= 0 and st.p_time[stopper] > now:
        # What the stopper's P ran past the boundary (the rest of its mutator
        # step, in Go after the world restarts) moves to after the pause.
        st.p_time[stopper] += stw2
    # A worker that ran mark termination parks and its P goes through schedule();
    # an assist's goroutine just carries on (no new schedtick for sysmon).
    _start_the_world(st, P, t_end, stopper if c[C_MARK_WORK_END_ASSIST] != 0 else -1)
    c[C_GC_CPU_CYCLES] += stw2 * P
    c[C_TOTAL_STW_CPU_CYCLES] += stw2 * P

    rec = st.rec.cycles
    row = c[C_N_CYCLE_RECORDS]
    rec[row]["gc_number"] = c[C_NUM_GC]
    rec[row]["forced"] = c[C_CYC_FORCED]
    rec[row]["start_cycles"] = c[C_CYC_START]
    rec[row]["mark_start_cycles"] = c[C_CYC_MARK_START]
    rec[row]["mark_term_start_cycles"] = now
    rec[row]["end_cycles"] = t_end
    rec[row]["sweep_term_pause_cycles"] = c[C_CYC_STW1_CYCLES]
    rec[row]["mark_pause_cycles"] = mark_pause_cycles
    rec[row]["mark_term_pause_cycles"] = stw2
    rec[row]["assist_cycles"] = c[C_CYC_ASSIST_CYCLES]
    rec[row]["background_cycles"] = c[C_CYC_BG_CYCLES]
    rec[row]["idle_cycles"] = c[C_CYC_IDLE_CYCLES]
    rec[row]["heap_live_start_bytes"] = c[C_CYC_HEAP_LIVE_START]
    rec[row]["heap_live_end_bytes"] = heap_live_end
    rec[row]["heap_marked_bytes"] = heap_marked
    rec[row]["heap_goal_bytes"] = goal_in_force
    rec[row]["trigger_bytes"] = c[C_CYC_TRIGGER]
    rec[row]["next_goal_bytes"] = c[C_HEAP_GOAL_BYTES]
    rec[row]["next_trigger_bytes"] = c[C_TRIGGER_BYTES]
    rec[row]["heap_scan_work_bytes"] = scan_work
    rec[row]["stack_scan_bytes"] = c[C_STACK_SCAN_DONE]
    rec[row]["globals_scan_bytes"] = rp.globals_bytes
    rec[row]["objects_marked"] = c[C_MARK_OBJECTS]
    rec[row]["pointers_followed"] = c[C_MARK_POINTERS]
    rec[row]["unswept_spans_at_start"] = c[C_CYC_UNSWEPT]
    rec[row]["heap_alloc_end_bytes"] = c[C_HEAP_ALLOC_BYTES]
    rec[row]["heap_inuse_end_bytes"] = c[C_PAGES_INUSE] * PAGE_BYTES_
    rec[row]["cons_mark"] = st.fstate[F_CONS_MARK] if rp.pacer == PACER_GO118 else 0.0
    rec[row]["trigger_ratio"] = st.fstate[F_TRIGGER_RATIO] if rp.pacer == PACER_GO15 else 0.0
    rec[row]["limiter_on"] = c[C_CYC_LIMITER_ON]
    rec[row]["stack_inuse_end_bytes"] = c[C_STACK_PAGES] * PAGE_BYTES_
    rec[row]["allocs_end_objects"] = c[C_ALLOCS]
    c[C_N_CYCLE_RECORDS] = row + 1


@kernel
def run_gc_cycle_stw(st, wl, rp, costs, forced):
    """A whole cycle with marking done while the world is stopped (gcstoptheworld=1).

    Every P marks, perfectly parallel: the mark phase's wall time is the work
    over GOMAXPROCS, and it is pause. Its CPU is reported as dedicated-worker
    time.
    """
    c = st.counters
    gc_start(st, wl, rp, costs, forced)
    out_cost = np.zeros(1)
    drain_mark_work(st.heap, st.gc, wl, c, costs, np.inf, np.iinfo(np.int64).max, out_cost)
    work = int(out_cost[0] + 0.5) + _fixed_mark_left(c)
    P = rp.gomaxprocs
    mark_wall = (work + P - 1) // P
    c[C_CYC_BG_CYCLES] = work
    c[C_NOW_CYCLES] += mark_wall
    c[C_GC_CPU_CYCLES] += mark_wall * P
    c[C_TOTAL_STW_CPU_CYCLES] += mark_wall * P
    gc_mark_termination(st, wl, rp, costs, mark_wall)


@kernel
def mark_worker(st, wl, costs, p, budget_cycles, idle):
    """A background worker's slice on P ``p``: drain up to ``budget_cycles``, advance
    the P's clock; return the cycles used.

    A slice can run past its budget by one object (an oblet: up to 128 KiB
    of scan work); ``C_MARK_WORK_END_CYCLES`` keeps the latest end, so that
    mark termination does not count that overrun as a wait for the P.
    Its scan work becomes background credit that assists can steal, whatever
    its mode (gcFlushBgCredit). ``idle`` marks an idle-priority worker
    (procs.py): its CPU is the cycle's idle time, outside GCCPUFraction.
    """
    c = st.counters
    out_cost = np.zeros(1)
    w0 = scan_work_done(c)
    drain_mark_work(st.heap, st.gc, wl, c, costs, budget_cycles, np.iinfo(np.int64).max,
                    out_cost)
    c[C_BG_SCAN_CREDIT] += scan_work_done(c) - w0
    used = int(out_cost[0] + 0.5)
    if idle:
        c[C_CYC_IDLE_CYCLES] += used
        st.bg[B_IDLE_MARK_CYCLES] += used
    else:
        c[C_CYC_BG_CYCLES] += used
        c[C_GC_CPU_CYCLES] += used
    st.p_time[p] += used
    if st.p_time[p] > c[C_MARK_WORK_END_CYCLES]:
        c[C_MARK_WORK_END_CYCLES] = st.p_time[p]
        c[C_MARK_WORK_END_P] = p + 1
        c[C_MARK_WORK_END_ASSIST] = 0
    return used


@kernel
def gc_assist(heap, gc, wl, rp, c, costs, fstate, p_assist_bytes, p, out_cost):
    """gcAssistAlloc for P ``p``'s goroutine, whose credit went negative.

    The drain (gcDrainN) stops when sysmon preempts the goroutine
    (``C_STEP_PREEMPT_AT_CYCLES``, set by the caller's step): Go's assist then
    calls Gosched and retries, so the P's fractional worker can take that turn
    and the limiter, updated after the assist, can turn assists off before the
    retry. Here the rest of the step makes no assist (``C_STEP_ASSIST_PREEMPTED``),
    the worker sees the preemption at the next quantum, and the goroutine's next
    allocation retries with the debt it still has.

    Returns True if the goroutine must park (still in debt, no work left).
    """
    if c[C_LIMITER_ON] != 0:
        return False  # the CPU limiter turns assists off (gcAssistAlloc returns at once)
    if c[C_STEP_ASSIST_PREEMPTED] == p + 1:
        return False  # preempted in this step's assist: Gosched, the retry comes later
    if c[C_REVISE_PENDING] != 0:
        # The revise Go ran when heapLive last moved (gcController.update), applied
        # now, when its result is first read.
        revise_assist_ratio(c, fstate, rp)
    debt_bytes = -p_assist_bytes[p]
    wpb = fstate[F_ASSIST_WORK_PER_BYTE]
    bpw = fstate[F_ASSIST_BYTES_PER_WORK]
    work = int(wpb * debt_bytes)
    if work < GC_OVER_ASSIST_WORK:
        work = GC_OVER_ASSIST_WORK
        debt_bytes = int(bpw * work)
    # 1. Steal background credit: all the work if there is enough (the debt is then
    # paid exactly), else all there is (1 + its bytes, as Go rounds), then drain.
    credit = c[C_BG_SCAN_CREDIT]
    if credit > 0:
        if credit >= work:
            c[C_BG_SCAN_CREDIT] -= work
            p_assist_bytes[p] += debt_bytes
            return False
        c[C_BG_SCAN_CREDIT] = 0
        p_assist_bytes[p] += 1 + int(bpw * credit)
        work -= credit
    # 2. Do the rest of the work ourselves (gcDrainN), until sysmon preempts the goroutine.
    before = out_cost[0]
    budget = c[C_STEP_PREEMPT_AT_CYCLES] - (c[C_STEP_START_CYCLES] + before)
    if budget <= 0:  # preempted before the assist began
        c[C_STEP_ASSIST_PREEMPTED] = p + 1
        c[C_ASSIST_PREEMPTS] += 1
        return False
    w0 = scan_work_done(c)
    drain_mark_work(heap, gc, wl, c, costs, budget, work, out_cost)
    done = scan_work_done(c) - w0
    p_assist_bytes[p] += 1 + int(bpw * done)
    spent = int(out_cost[0] - before + 0.5)
    c[C_CYC_ASSIST_CYCLES] += spent
    c[C_TOTAL_ASSIST_CYCLES] += spent
    c[C_GC_CPU_CYCLES] += spent
    if p_assist_bytes[p] < 0 and out_cost[0] - before >= budget and mark_work_left(c):
        c[C_STEP_ASSIST_PREEMPTED] = p + 1
        c[C_ASSIST_PREEMPTS] += 1
        return False
    return p_assist_bytes[p] < 0 and not mark_work_left(c)


@kernel
def force_gc(st, wl, rp, costs):
    """runtime.GC() when no goroutine has work left: a forced cycle, then a full sweep.

    The caller blocks and every other P is idle, so marking runs concurrently
    on all Ps: the background workers' 25 % share plus idle-priority workers
    on the rest (their time is excluded from GCCPUFraction, as in Go). The
    calling goroutine sweeps everything before returning, so the clock moves
    on by that cost.
    """
    c = st.counters
    P = rp.gomaxprocs
    if c[C_PHASE] == PHASE_MARK:
        # runtime.GC() first waits for the running cycle to end, then runs its own.
        _finish_mark_blocking(st, wl, rp, costs)
    gc_start(st, wl, rp, costs, 1)
    _finish_mark_blocking(st, wl, rp, costs)
    out_cost = np.zeros(1)
    finish_sweep(st.heap, c, costs, out_cost)
    dt = int(out_cost[0])
    c[C_NOW_CYCLES] += dt
    for p in range(P):
        st.p_time[p] = max(st.p_time[p], c[C_NOW_CYCLES])


@kernel
def _finish_mark_blocking(st, wl, rp, costs):
    """Mark to the end with every P free to mark (no mutator has work), then terminate."""
    c = st.counters
    P = rp.gomaxprocs
    out_cost = np.zeros(1)
    drain_mark_work(st.heap, st.gc, wl, c, costs, np.inf, np.iinfo(np.int64).max, out_cost)
    work = int(out_cost[0] + 0.5) + _fixed_mark_left(c)
    mark_wall = (work + P - 1) // P
    background = min(work, int(0.25 * mark_wall * P))
    c[C_CYC_BG_CYCLES] += background
    c[C_CYC_IDLE_CYCLES] += work - background
    st.bg[B_IDLE_MARK_CYCLES] += work - background
    c[C_GC_CPU_CYCLES] += background
    c[C_NOW_CYCLES] += mark_wall
    gc_mark_termination(st, wl, rp, costs, 0)
