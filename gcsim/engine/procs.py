"""What a P does with time its goroutines leave it (src/runtime/proc.go ``findRunnable``).

A P runs, in each quantum, first the GC worker the scheduler owes it (a
dedicated worker, or a fractional worker while the P's fractional time is
under its goal: loop.py), then its mutator, if the workload gives it one
(``workload.mutator_procs``). Whatever time is left, because the P has no
goroutine, or its goroutine parked on the assist queue, or the run's
allocation budget ran out, goes to ``idle_p_quantum``, in findRunnable's
order once the run queues are empty:

1. during mark, an **idle-priority mark worker** (gcMarkWorkerIdleMode) if
   there is mark work and fewer than ``max_idle_mark_workers`` (GOMAXPROCS -
   dedicated workers, gcControllerState.startCycle) idle workers run this
   quantum. It drains until the quantum ends or the work runs out (Go's idle
   worker stops when other work appears: gcDrainMarkWorkerIdle polls for
   it; a quantum is gcsim's scheduling grain). Its CPU is the "idle" part of
   gctrace's CPU triple; it flushes background credit like any worker; it is
   excluded from GCCPUFraction, and the CPU limiter counts it as idle time
   (mgclimit.go: limiterEventIdleMarkWork), while cons/mark counts it as
   scan CPU (endCycle's idleUtilization);
2. outside mark, the **background sweeper** (bgsweep): it sweeps one span
   at a time and yields only when no P is idle (goschedIfBusy), so on an
   idle P it sweeps until the quantum ends or no span is left. Go counts its
   time as user time; gcsim adds it to the run's sweep CPU;
3. otherwise the P is idle (``C_IDLE_CYCLES``, /cpu/classes/idle).

The background scavenger (gcsim.engine.scavenge) takes its paced 1 % share
on the last P, idle or not, before that P's mutator runs.
"""

from __future__ import annotations

import numpy as np

from gcsim.engine._jit import kernel
from gcsim.engine.gccycle import mark_worker
from gcsim.engine.gcsweeping import sweepone
from gcsim.engine.mark import mark_work_left
from gcsim.engine.state import (
    B_BG_SWEEP_CYCLES,
    B_BG_SWEEP_SPANS,
    B_IDLE_WORKERS,
    C_IDLE_CYCLES,
    C_PHASE,
    C_UNSWEPT_SPANS,
    PHASE_MARK,
)


@kernel
def idle_p_quantum(st, wl, rp, costs, p, q_end):
    """Spend P ``p``'s clock up to ``q_end`` on idle marking, background sweeping or idling."""
    c = st.counters
    bg = st.bg
    while st.p_time[p] < q_end:
        left = q_end - st.p_time[p]
        if c[C_PHASE] == PHASE_MARK:
            if mark_work_left(c) and bg[B_IDLE_WORKERS] < rp.max_idle_mark_workers:
                bg[B_IDLE_WORKERS] += 1
                mark_worker(st, wl, costs, p, left, True)
                continue
        elif c[C_UNSWEPT_SPANS] > 0:
            out_cost = np.zeros(1)
            n = 0
            while out_cost[0] < left and sweepone(st.heap, c, costs, out_cost) >= 0:
                n += 1
            if c[C_UNSWEPT_SPANS] <= 0:
                st.heap.sweep_pages_per_byte[0] = 0.0  # sweeping is done: no more pacing
            used = max(1, int(out_cost[0] + 0.5))
            st.p_time[p] += used
            bg[B_BG_SWEEP_CYCLES] += used
            bg[B_BG_SWEEP_SPANS] += n
            continue
        c[C_IDLE_CYCLES] += left
        st.p_time[p] = q_end
