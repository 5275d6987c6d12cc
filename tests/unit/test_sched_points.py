"""When a P running a goroutine goes through schedule() (proc.go's sysmon/retake, mgc.go).

A fractional mark worker runs only at a P's schedule(), and at GOMAXPROCS=1
nothing reschedules the goroutine but sysmon's preemptions and the worker's
own turns, so where these fall sets how much of a mark the worker does and
how much the assists do (and with that the CPU limiter's GC time). Two facts
from Go's source, both seen in runtime/trace of the steady twin at
GOMAXPROCS=1, GOGC=25 (go1.27.3, 2026-11-27; 150 of the goroutine's 152 runs
ended in a sysmon preemption, none at a mark termination):

- retake preempts a P whose schedtick has not moved since the tick that
  first saw it, forcePreemptNS (10 ms) later. The preempted goroutine is
  rescheduled just after that tick, so the next tick sees a new schedtick
  and the preemption after it comes one more tick on: 20 ms between
  preemptions (the trace: median 20.3 ms, quartiles 20.2-20.5 ms), not 10.
- Mark termination restarts the world with startTheWorldWithSema. The
  goroutine whose assist found the work done ran it and carries on without
  a schedule(); a worker that ran it parks, so its P schedules.
"""

from __future__ import annotations

import numpy as np

from gcsim.engine import state as S
from gcsim.engine.gccycle import gc_mark_termination
from gcsim.engine.loop import _last_turn, _next_turn
from tests.unit.conftest import marking_state_one_p

MS = 1_000_000  # cycles at 1 GHz


def test_a_goroutine_only_sysmon_reschedules_is_preempted_every_20_ms() -> None:
    # Scheduled between ticks: seen at the next tick (110), preempted 10 ms on.
    assert _next_turn(103 * MS, 10 * MS) == 120 * MS
    # Rescheduled right after the preempting tick: seen at 130, preempted at 140.
    assert _next_turn(120 * MS, 10 * MS) == 140 * MS
    assert _last_turn(103 * MS, 179 * MS, 10 * MS) == 160 * MS  # 120, 140, 160
    assert _last_turn(103 * MS, 119 * MS, 10 * MS) == 103 * MS
    # The closed form is the chain of _next_turn, walked one preemption at a time.
    rng = np.random.default_rng(7)
    for sched, ahead, pc in zip(rng.integers(0, 10**9, 300), rng.integers(0, 10**8, 300),
                                rng.integers(1, 10**7, 300), strict=True):
        t, nxt = int(sched), _next_turn(int(sched), int(pc))
        while nxt <= sched + ahead:
            t, nxt = nxt, _next_turn(nxt, int(pc))
        assert _last_turn(int(sched), int(sched + ahead), int(pc)) == t


def _state_at_mark_end(end_by_assist: bool):
    st, wl, rp, costs = marking_state_one_p(50 * MS)
    c = st.counters
    c[S.C_CYC_MARK_START] = 40 * MS
    st.p_time[0] = 50 * MS
    st.p_sched_cycles[0] = 33 * MS  # the goroutine's last schedule, before the mark
    c[S.C_MARK_WORK_END_CYCLES] = 50 * MS
    c[S.C_MARK_WORK_END_P] = 1
    c[S.C_MARK_WORK_END_ASSIST] = 1 if end_by_assist else 0
    gc_mark_termination(st, wl, rp, costs, 0)
    assert c[S.C_PHASE] == S.PHASE_OFF and st.p_time[0] > 50 * MS
    return st


def test_the_assist_that_ends_the_mark_carries_on_without_a_schedule() -> None:
    st = _state_at_mark_end(end_by_assist=True)
    assert st.p_sched_cycles[0] == 33 * MS  # sysmon still preempts it at 50 ms + 10
    assert st.p_turn[0] == 0


def test_a_worker_that_ends_the_mark_parks_and_its_p_schedules() -> None:
    st = _state_at_mark_end(end_by_assist=False)
    assert st.p_sched_cycles[0] == st.p_time[0]  # after the pause
