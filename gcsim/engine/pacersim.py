"""The pacer alone, in the fluid model of Go's own pacer test.

Go tests its GC pacer without a heap: ``TestGcPacer``
(``src/runtime/mgcpacer_test.go``) drives a bare ``gcControllerState``
through GC cycles in which allocation and scanning are continuous flows
(KiB per CPU-ms), revising the assist ratio every 500 us of simulated time.
:func:`run_fluid_pacer` is that harness, step for step, over gcsim's pacer
kernels (:mod:`gcsim.engine.pacer`, the same functions the engine calls). With
the same inputs it prints the numbers Go's test logs, to the byte for every
scenario without random streams (``tests/unit/test_pacer_scenarios.py``
checks them against the captured log), which is what makes it a check of
gcsim's pacer arithmetic, and not only of its behaviour.

The harness, per cycle (the runtime test's ``StartCycle``/``Revise``/
``EndCycle`` wrappers of ``export_test.go``):

1. The cycle starts at the trigger (never below the marked heap), with the
   stack and globals bytes of this cycle as scan work and the heap's
   scannable share of what was allocated since the last cycle added to
   ``heapScan``.
2. Next marked heap = (this cycle's marked heap - last cycle's black
   allocation) x growth rate: the heap's "true" live size.
3. Every 500 us: GC utilization = max(25 %, assist ratio x alloc rate /
   (assist ratio x alloc rate + scan rate)); scan that share of the CPU's
   scan rate (globals, then stacks, then heap), allocate the rest's share
   (black), revise. A partial last step is shortened in proportion.
4. End: the assist time and mark duration update cons/mark, the heap is
   reset to what was marked, and the goal and runway are committed.
"""

from __future__ import annotations

import numpy as np

from gcsim.engine._jit import kernel
from gcsim.engine.pacer import (
    GC_BACKGROUND_UTILIZATION,
    GO15_INITIAL_TRIGGER_RATIO,
    assist_ratio,
    assist_ratio_go15,
    compute_runway,
    cons_mark_update,
    cycle_start_goal_go15,
    heap_goal_effective,
    heap_goal_gogc,
    heap_minimum,
    memory_limit_heap_goal,
    sweep_dist_min_trigger,
    trigger_from_runway,
    trigger_go15,
    trigger_ratio_update_go15,
)

__all__ = ["FLUID_CYCLE_DTYPE", "INITIAL_HEAP_BYTES", "run_fluid_pacer"]

INITIAL_HEAP_BYTES = 256 << 10  # the test's initialHeapBytes: first cycle's marked heap
REVISE_PERIOD_NS = 500_000  # 500 us between revisions
RATE_CONV = 1024.0 * REVISE_PERIOD_NS / 1_000_000.0  # KiB/cpu-ms -> bytes per period per CPU
_NONE = -1  # `triggered` outside a cycle (Go: ^uint64(0))

FLUID_CYCLE_DTYPE = np.dtype(
    [
        ("cycle", np.int64),  # 1-based
        ("heap_live_bytes", np.int64),  # heapMarked at the cycle's start (the test's heapLive)
        ("heap_scannable_bytes", np.int64),
        ("trigger_bytes", np.int64),  # heapLive when the cycle started
        ("peak_bytes", np.int64),  # heapLive at the cycle's end
        ("goal_bytes", np.int64),  # effective goal at the cycle's end
        ("gc_utilization", np.float64),  # 0.25 + assist share of the CPU during mark
        ("cons_mark", np.float64),  # estimate after the cycle (gcsim extra)
        ("trigger_ratio", np.float64),  # go1.5 pacer: h_T for the next cycle (gcsim extra)
        ("assist_ratio", np.float64),  # assistWorkPerByte at the cycle's end (gcsim extra)
        ("mark_duration_ns", np.int64),  # wall time of the mark phase (gcsim extra)
    ]
)


@kernel
def _goal(gogc_goal, mem_limit, heap_marked, sweep_dist, triggered):
    mem_goal = memory_limit_heap_goal(mem_limit, 0, 0, 0, heap_marked)
    return heap_goal_effective(gogc_goal, mem_goal, sweep_dist, triggered != _NONE, triggered)


@kernel
def _revise(
    go15,
    gogc,
    memory_limit_bytes,
    gogc_goal,
    heap_marked,
    sweep_dist,
    triggered,
    heap_live,
    heap_scan,
    heap_work,
    other_work,
    goal15,
    last_heap_scan,
    last_stack_scan,
    globals_scan,
    max_stack_scan,
):
    """``revise``: assistWorkPerByte now, and the goal it was computed against.
    The go1.5 pacer keeps the cycle's goal ``goal15`` and counts heap work only."""
    if go15:
        awpb, _ = assist_ratio_go15(gogc, heap_live, heap_scan, heap_work, goal15)
        return awpb, goal15
    goal, _ = _goal(gogc_goal, memory_limit_bytes, heap_marked, sweep_dist, triggered)
    awpb, _ = assist_ratio(
        gogc,
        heap_live,
        heap_scan,
        heap_work + other_work,
        goal,
        triggered,
        last_heap_scan,
        last_stack_scan,
        globals_scan,
        max_stack_scan,
    )
    return awpb, goal


@kernel
def run_fluid_pacer(
    gogc,
    memory_limit_bytes,
    globals_bytes,
    n_cores,
    alloc_rate,
    scan_rate,
    growth_rate,
    scannable_frac,
    stack_bytes,
    go15,
):
    """Run Go's pacer-test harness over gcsim's pacer for ``len(alloc_rate)`` cycles.

    Parameters
    ----------
    gogc : int
        GOGC percent, < 0 for off.
    memory_limit_bytes : int
        GOMEMLIMIT, bytes (int64 max for none).
    globals_bytes : int
        Globals scanned each cycle, bytes.
    n_cores : int
        GOMAXPROCS.
    alloc_rate, scan_rate : float64[n]
        Per cycle, KiB per CPU-millisecond (already floored at the test's 1e-4).
    growth_rate : float64[n]
        Per cycle, factor on the live heap.
    scannable_frac : float64[n]
        Per cycle, 0..1.
    stack_bytes : int64[n]
        Per cycle, stack bytes to scan (multiples of 2 KiB).
    go15 : bool
        Run the pre-1.18 trigger-ratio pacer instead (no memory limit; the
        harness is the same, the controller is the one ``runtime.pacer =
        "go1.5"`` selects in the engine, primed as Go <= 1.17 primed it).

    Returns
    -------
    FLUID_CYCLE_DTYPE[n]
    """
    n = alloc_rate.shape[0]
    out = np.zeros(n, dtype=FLUID_CYCLE_DTYPE)
    last_cons = np.zeros(4)
    cons_mark = 0.0
    # init: commit(true) with nothing marked yet.
    heap_marked = 0
    heap_live = 0
    heap_scan = 0
    last_heap_scan = 0
    last_stack_scan = 0
    globals_scan = 0
    triggered = _NONE
    sweep_dist = sweep_dist_min_trigger(heap_live, True)
    gogc_goal = heap_goal_gogc(heap_marked, last_stack_scan, globals_scan, gogc)
    runway = compute_runway(cons_mark, last_heap_scan, last_stack_scan, globals_scan)
    ratio = GO15_INITIAL_TRIGGER_RATIO
    trigger15 = 0
    goal15 = 0
    if go15:
        if gogc >= 0:
            heap_marked = np.int64(heap_minimum(gogc) / (1.0 + ratio))
        trigger15, goal15, ratio = trigger_go15(heap_marked, heap_live, ratio, gogc, True)
    black_last = 0
    goal = 0
    for i in range(n):
        # StartCycle
        if go15:
            trigger = trigger15
        else:
            goal, min_trigger = _goal(
                gogc_goal, memory_limit_bytes, heap_marked, sweep_dist, triggered
            )
            # The stored runway: the test changes the globals between a commit and here.
            trigger = trigger_from_runway(goal, min_trigger, heap_marked, runway)
        if heap_marked > trigger:
            trigger = heap_marked
        max_stack_scan = stack_bytes[i]
        globals_scan = globals_bytes
        heap_live = trigger
        heap_scan += np.int64(float(trigger - heap_marked) * scannable_frac[i])
        heap_work = 0
        stack_work = 0
        globals_work = 0
        triggered = heap_live
        if go15:
            goal = cycle_start_goal_go15(goal15, heap_live)
        awpb, goal = _revise(
            go15,
            gogc,
            memory_limit_bytes,
            gogc_goal,
            heap_marked,
            sweep_dist,
            triggered,
            heap_live,
            heap_scan,
            0,
            0,
            goal,
            last_heap_scan,
            last_stack_scan,
            globals_scan,
            max_stack_scan,
        )

        if i == 0:
            next_marked = INITIAL_HEAP_BYTES
        else:
            next_marked = np.int64(float(heap_marked - black_last) * growth_rate[i])
        globals_left = globals_bytes
        stack_left = stack_bytes[i]
        heap_left = np.int64(float(next_marked) * scannable_frac[i])
        duration_ns = 0
        assist_ns = 0
        black = 0
        while heap_left + stack_left + globals_left > 0:
            util = awpb * alloc_rate[i] / (awpb * alloc_rate[i] + scan_rate[i])
            if util < GC_BACKGROUND_UTILIZATION:
                util = GC_BACKGROUND_UTILIZATION
            scanned = np.int64(scan_rate[i] * RATE_CONV * float(n_cores) * util)
            allocated = np.int64(alloc_rate[i] * RATE_CONV * float(n_cores) * (1.0 - util))
            # doWork: globals, then stacks, then heap.
            work = scanned
            d_glob = min(work, globals_left)
            globals_left -= d_glob
            work -= d_glob
            d_stack = min(work, stack_left)
            stack_left -= d_stack
            work -= d_stack
            d_heap = min(work, heap_left)
            heap_left -= d_heap
            elapsed = REVISE_PERIOD_NS
            actual_alloc = allocated
            actual_scanned = d_glob + d_stack + d_heap
            if actual_scanned < scanned:
                elapsed = np.int64(
                    float(actual_scanned)
                    * float(REVISE_PERIOD_NS)
                    / (scan_rate[i] * RATE_CONV * float(n_cores) * util)
                )
                actual_alloc = np.int64(
                    alloc_rate[i]
                    * RATE_CONV
                    * float(elapsed)
                    / float(REVISE_PERIOD_NS)
                    * float(n_cores)
                    * (1.0 - util)
                )
            # Revise
            heap_live += actual_alloc
            heap_scan += np.int64(float(actual_alloc) * scannable_frac[i])
            heap_work += d_heap
            stack_work += d_stack
            globals_work += d_glob
            awpb, goal = _revise(
                go15,
                gogc,
                memory_limit_bytes,
                gogc_goal,
                heap_marked,
                sweep_dist,
                triggered,
                heap_live,
                heap_scan,
                heap_work,
                stack_work + globals_work,
                goal,
                last_heap_scan,
                last_stack_scan,
                globals_scan,
                max_stack_scan,
            )
            assist_ns += np.int64(
                float(elapsed) * float(n_cores) * (util - GC_BACKGROUND_UTILIZATION)
            )
            duration_ns += elapsed
            black += actual_alloc

        r = out[i]
        r["cycle"] = i + 1
        r["heap_live_bytes"] = heap_marked
        r["heap_scannable_bytes"] = np.int64(float(heap_marked - black_last) * scannable_frac[i])
        r["trigger_bytes"] = triggered
        r["peak_bytes"] = heap_live
        r["goal_bytes"] = goal  # as the last revise saw it (nothing it reads has moved since)
        r["gc_utilization"] = (
            float(assist_ns) / (float(duration_ns) * float(n_cores)) + GC_BACKGROUND_UTILIZATION
        )
        r["assist_ratio"] = awpb
        r["mark_duration_ns"] = duration_ns

        # EndCycle: endCycle, resetLive, commit(false).
        cons_mark, _, _ = cons_mark_update(
            heap_live,
            triggered,
            heap_work + stack_work + globals_work,
            assist_ns,
            0,
            duration_ns,
            n_cores,
            cons_mark,
            last_cons,
        )
        r["cons_mark"] = cons_mark
        if go15:
            ratio = trigger_ratio_update_go15(
                ratio, goal, heap_marked, heap_live, assist_ns, duration_ns, n_cores, False
            )
        heap_marked = next_marked + black
        heap_live = heap_marked
        heap_scan = heap_work
        last_heap_scan = heap_work
        last_stack_scan = stack_work
        triggered = _NONE
        sweep_dist = sweep_dist_min_trigger(heap_live, False)
        gogc_goal = heap_goal_gogc(heap_marked, last_stack_scan, globals_scan, gogc)
        runway = compute_runway(cons_mark, last_heap_scan, last_stack_scan, globals_scan)
        if go15:
            trigger15, goal15, ratio = trigger_go15(heap_marked, heap_live, ratio, gogc, False)
            r["trigger_ratio"] = ratio
        black_last = black
    return out
