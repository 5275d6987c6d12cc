"""One GC cycle, phase by phase, and the pacer commit that follows it.

The phase structure is Go's (src/runtime/mgc.go, reference §2.2):

1. gcStart, world running: finish sweeping the previous cycle's spans.
2. Sweep termination (STW 1): stop the world, start the cycle's pacing
   (``startCycle``), turn marking on (write barrier, allocate-black), grey
   each P's tiny block, queue the roots.
3. Mark: drain the gray queue. **This collector marks with the world
   stopped** (as ``GODEBUG=gcstoptheworld=1`` does): every P is a dedicated
   mark worker and the mark phase is part of the pause. Its CPU is reported
   as background (dedicated) time; its wall time is the work divided over
   GOMAXPROCS. The concurrent collector replaces this step.
4. Mark termination (STW 2): ``endCycle`` (cons/mark), ``resetLive`` (heapLive
   := bytes marked), marking off, sweepgen += 2 so every in-use span becomes
   unswept, mcaches flushed (their spans were cached before sweep began, so
   they go to the unswept lists and heapLive is not corrected; mcache.go
   ``releaseAll``), then ``commit``: the next goal, trigger and sweep pacing.

Pause lengths are the cost table's fixed parts plus a per-P part for
stopping and restarting each P.
"""

from __future__ import annotations

import numpy as np

from gcsim.engine._jit import kernel
from gcsim.engine.gcsweeping import finish_sweep, pace_sweeper
from gcsim.engine.heap import flush_mcache
from gcsim.engine.mark import drain_mark_work, mark_roots, shade_slot
from gcsim.engine.pacer import (
    compute_trigger,
    cons_mark_update,
    heap_goal_effective,
    heap_goal_gogc,
    memory_limit_heap_goal,
)
from gcsim.engine.state import (
    C_GC_CPU_CYCLES,
    C_GC_PENDING,
    C_GRAY_LEN,
    C_HEAP_ALLOC_BYTES,
    C_HEAP_GOAL_BYTES,
    C_HEAP_LIVE_BYTES,
    C_HEAP_MARKED_BYTES,
    C_HEAP_SCAN_BYTES,
    C_LAST_HEAP_SCAN_BYTES,
    C_LAST_STACK_SCAN_BYTES,
    C_MARK_OBJECTS,
    C_MARK_POINTERS,
    C_MARK_SCAN_WORK,
    C_N_CYCLE_RECORDS,
    C_N_SPAN_RECORDS,
    C_NOW_CYCLES,
    C_NUM_GC,
    C_PAGES_INUSE,
    C_PAGES_MAPPED,
    C_PAGES_RELEASED,
    C_PAGES_SWEPT,
    C_PHASE,
    C_SWEEP_DIST_MIN_TRIGGER,
    C_SWEEPGEN,
    C_TRIGGER_BYTES,
    C_UNSWEPT_SPANS,
    F_CONS_MARK,
    F_CONS_MARK_HIST0,
    L_FULL_SWEPT,
    L_FULL_UNSWEPT,
    L_PARTIAL_SWEPT,
    L_PARTIAL_UNSWEPT,
    PHASE_MARK,
    PHASE_OFF,
    SPAN_INUSE,
)

PAGE_BYTES_ = 8192
SWEEP_MIN_HEAP_DISTANCE_BYTES = 1 << 20


@kernel
def commit_pacer(st, rp, cycle_running, triggered_bytes):
    """Recompute the heap goal and trigger (gcControllerState.commit + trigger()).

    Uses the GOGC goal with stacks and globals, the memory-limit goal, and
    the sweep-distance floor recorded in ``C_SWEEP_DIST_MIN_TRIGGER``.
    """
    c = st.counters
    gogc_goal = heap_goal_gogc(
        c[C_HEAP_MARKED_BYTES], c[C_LAST_STACK_SCAN_BYTES], rp.globals_bytes, rp.gogc
    )
    mem_goal = np.int64(np.iinfo(np.int64).max)
    if rp.memory_limit_bytes >= 0:
        mapped_ready = (c[C_PAGES_MAPPED] - c[C_PAGES_RELEASED]) * PAGE_BYTES_
        heap_free = (c[C_PAGES_MAPPED] - c[C_PAGES_INUSE] - c[C_PAGES_RELEASED]) * PAGE_BYTES_
        mem_goal = memory_limit_heap_goal(
            rp.memory_limit_bytes, mapped_ready, heap_free, c[C_HEAP_ALLOC_BYTES],
            c[C_HEAP_MARKED_BYTES],
        )
    goal, min_trigger = heap_goal_effective(
        gogc_goal, mem_goal, c[C_SWEEP_DIST_MIN_TRIGGER], cycle_running, triggered_bytes
    )
    trigger = compute_trigger(
        goal, min_trigger, c[C_HEAP_MARKED_BYTES], st.fstate[F_CONS_MARK],
        c[C_LAST_HEAP_SCAN_BYTES], c[C_LAST_STACK_SCAN_BYTES], rp.globals_bytes,
    )
    c[C_HEAP_GOAL_BYTES] = goal
    c[C_TRIGGER_BYTES] = trigger


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
def run_gc_cycle_stw(st, wl, rp, costs, forced):
    """Run one whole GC cycle starting at the current quantum boundary.

    Writes one row of ``st.rec.cycles`` and advances every P's clock to the
    end of mark termination. Returns the cycle's total pause, cycles.
    """
    heap = st.heap
    gc = st.gc
    c = st.counters
    P = rp.gomaxprocs
    out_cost = np.zeros(1)
    t0 = c[C_NOW_CYCLES]
    row = c[C_N_CYCLE_RECORDS]
    rec = st.rec.cycles
    heap_live_start = c[C_HEAP_LIVE_BYTES]
    trigger_used = c[C_TRIGGER_BYTES]

    # 1. Finish the previous cycle's sweep before stopping the world.
    unswept_at_start = c[C_UNSWEPT_SPANS]
    finish_sweep(heap, c, costs, out_cost)

    # 2. Sweep termination (STW 1).
    stw1 = int(costs.stw_sweep_term + P * costs.stw_per_p)
    c[C_PHASE] = PHASE_MARK
    c[C_HEAP_MARKED_BYTES] = 0
    c[C_MARK_SCAN_WORK] = 0
    c[C_MARK_OBJECTS] = 0
    c[C_MARK_POINTERS] = 0
    c[C_GRAY_LEN] = 0
    triggered = c[C_HEAP_LIVE_BYTES]
    for p in range(P):
        shade_slot(heap, gc, c, costs, heap.tiny_slot[p], out_cost)

    # 3. Mark with the world stopped: every P marks, perfectly parallel.
    out_cost[0] = 0.0
    mark_roots(heap, gc, wl, c, costs, rp.globals_bytes, out_cost)
    drain_mark_work(heap, gc, wl, c, costs, np.inf, out_cost)
    mark_work_cycles = int(out_cost[0])
    mark_wall = (mark_work_cycles + P - 1) // P

    # 4. Mark termination (STW 2).
    stw2 = int(costs.stw_mark_term + P * costs.stw_per_p)
    heap_live_end = c[C_HEAP_LIVE_BYTES]
    heap_marked = c[C_HEAP_MARKED_BYTES]
    goal_in_force = c[C_HEAP_GOAL_BYTES]
    scan_work = c[C_MARK_SCAN_WORK]
    cons_mark, _, _ = cons_mark_update(
        heap_live_end, triggered, scan_work + rp.globals_bytes, 0, 0, mark_wall, P,
        st.fstate[F_CONS_MARK], st.fstate[F_CONS_MARK_HIST0:F_CONS_MARK_HIST0 + 4],
    )
    st.fstate[F_CONS_MARK] = cons_mark
    c[C_HEAP_LIVE_BYTES] = heap_marked
    c[C_HEAP_SCAN_BYTES] = scan_work
    c[C_LAST_HEAP_SCAN_BYTES] = scan_work
    c[C_LAST_STACK_SCAN_BYTES] = 0
    c[C_PHASE] = PHASE_OFF
    c[C_SWEEPGEN] += 2
    c[C_PAGES_SWEPT] = 0
    c[C_UNSWEPT_SPANS] = _rotate_lists_after_sweepgen(heap, c)
    for p in range(P):
        flush_mcache(heap, c, p)
    c[C_NUM_GC] += 1
    c[C_SWEEP_DIST_MIN_TRIGGER] = c[C_HEAP_LIVE_BYTES] + SWEEP_MIN_HEAP_DISTANCE_BYTES
    commit_pacer(st, rp, False, 0)
    pace_sweeper(heap, c, c[C_PAGES_INUSE], c[C_TRIGGER_BYTES])
    c[C_GC_PENDING] = 0

    pause = stw1 + mark_wall + stw2
    t_end = t0 + pause
    for p in range(P):
        st.p_time[p] = t_end
    c[C_NOW_CYCLES] = t_end
    c[C_GC_CPU_CYCLES] += pause * P

    rec[row]["gc_number"] = c[C_NUM_GC]
    rec[row]["forced"] = forced
    rec[row]["start_cycles"] = t0
    rec[row]["mark_start_cycles"] = t0 + stw1
    rec[row]["mark_term_start_cycles"] = t0 + stw1 + mark_wall
    rec[row]["end_cycles"] = t_end
    rec[row]["sweep_term_pause_cycles"] = stw1
    rec[row]["mark_pause_cycles"] = mark_wall
    rec[row]["mark_term_pause_cycles"] = stw2
    rec[row]["assist_cycles"] = 0
    rec[row]["background_cycles"] = mark_work_cycles
    rec[row]["idle_cycles"] = 0
    rec[row]["heap_live_start_bytes"] = heap_live_start
    rec[row]["heap_live_end_bytes"] = heap_live_end
    rec[row]["heap_marked_bytes"] = heap_marked
    rec[row]["heap_goal_bytes"] = goal_in_force
    rec[row]["trigger_bytes"] = trigger_used
    rec[row]["next_goal_bytes"] = c[C_HEAP_GOAL_BYTES]
    rec[row]["next_trigger_bytes"] = c[C_TRIGGER_BYTES]
    rec[row]["heap_scan_work_bytes"] = scan_work
    rec[row]["stack_scan_bytes"] = 0
    rec[row]["globals_scan_bytes"] = rp.globals_bytes
    rec[row]["objects_marked"] = c[C_MARK_OBJECTS]
    rec[row]["pointers_followed"] = c[C_MARK_POINTERS]
    rec[row]["unswept_spans_at_start"] = unswept_at_start
    rec[row]["heap_alloc_end_bytes"] = c[C_HEAP_ALLOC_BYTES]
    rec[row]["heap_inuse_end_bytes"] = c[C_PAGES_INUSE] * PAGE_BYTES_
    rec[row]["cons_mark"] = st.fstate[F_CONS_MARK]
    c[C_N_CYCLE_RECORDS] = row + 1
    return pause


@kernel
def force_gc(st, wl, rp, costs):
    """runtime.GC(): a forced cycle, then sweep everything before returning.

    The calling goroutine does the sweeping, so the clock moves on by its cost.
    """
    run_gc_cycle_stw(st, wl, rp, costs, 1)
    out_cost = np.zeros(1)
    finish_sweep(st.heap, st.counters, costs, out_cost)
    dt = int(out_cost[0])
    st.counters[C_NOW_CYCLES] += dt
    for p in range(rp.gomaxprocs):
        st.p_time[p] += dt
