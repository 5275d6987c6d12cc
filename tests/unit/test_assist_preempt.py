"""An assist stops when sysmon preempts its goroutine (src/runtime/mgcmark.go, go1.27.3).

gcDrainN loops ``for !gp.preempt && !gcCPULimiter.limiting() && ...``; when the
goroutine is preempted with debt left, gcAssistAlloc calls Gosched and retries,
so the P's fractional worker can take the turn and the limiter, updated after
the assist, is checked again first. gcsim cuts the drain at the step's
preemption time (``C_STEP_PREEMPT_AT_CYCLES``, from loop._preempt_at), makes no
more assists in that step, and leaves the debt for the goroutine's next
allocation.
"""

from __future__ import annotations

import numpy as np
import pytest

from gcsim.config import config_from_dict
from gcsim.engine import state as S
from gcsim.engine.gccycle import gc_assist
from gcsim.engine.mark import mark_work_left
from gcsim.run import simulate
from tests.unit.conftest import step_until

CLOCK_HZ = 1.0e9  # 1 cycle = 1 ns
MS = 1_000_000
RAW = {
    "run": {"gomaxprocs": 1, "max_allocs": 2_000_000, "duration_s": "off", "clock_hz": CLOCK_HZ,
            "final_gc": False},
    "runtime": {"gogc": 100},
    "workload": {"sites": [
        {"name": "node", "size": 64, "pointer_words": 2,
         "lifetime": {"kind": "fifo", "live_objects": 200_000}},
        {"name": "garbage", "weight": 2.0, "size": 128}]},
}


def _marking_state():
    """The run stepped one quantum at a time into a mark of a full live set with
    heap work left (the third cycle; the first two come while the set fills)."""
    st, wl, rp, _, costs = step_until(RAW, lambda c: (
        c[S.C_NUM_GC] >= 2 and c[S.C_PHASE] == S.PHASE_MARK and mark_work_left(c)
        and c[S.C_GLOBALS_WORK_LEFT] == 0))
    return st, wl, rp, costs


def _assist(st, wl, rp, costs, preempt_in_cycles: int) -> tuple[bool, float]:
    c = st.counters
    c[S.C_LIMITER_ON] = 0
    c[S.C_BG_SCAN_CREDIT] = 0
    c[S.C_STEP_START_CYCLES] = c[S.C_NOW_CYCLES]
    c[S.C_STEP_PREEMPT_AT_CYCLES] = c[S.C_NOW_CYCLES] + preempt_in_cycles
    out = np.zeros(1)
    parked = gc_assist(st.heap, st.gc, wl, rp, c, costs, st.fstate, st.p_assist_bytes, 0, out)
    return parked, float(out[0])


def test_an_assist_stops_at_the_preemption_and_the_step_assists_no_more() -> None:
    st, wl, rp, costs = _marking_state()
    c = st.counters
    st.p_assist_bytes[0] = -(1 << 40)  # a debt no mark can pay
    preempts = c[S.C_ASSIST_PREEMPTS]
    # The whole mark (2 MB of scan work) takes ~1.9 ms of assist: preempted at 1 ms.
    parked, spent = _assist(st, wl, rp, costs, 1 * MS)
    assert not parked and mark_work_left(c)
    # Up to the preemption, overrun by at most one scan step: a 64 B node, or one
    # 128 KiB oblet of the 1.6 MB ring (16 Ki words at ~6 ns, ~100-200 us).
    assert 1 * MS <= spent < 1.25 * MS
    assert c[S.C_STEP_ASSIST_PREEMPTED] == 1 and c[S.C_ASSIST_PREEMPTS] == preempts + 1
    assert st.p_assist_bytes[0] < 0
    # Gosched: the rest of the step makes no assist, whatever the debt.
    out = np.zeros(1)
    assert not gc_assist(st.heap, st.gc, wl, rp, c, costs, st.fstate, st.p_assist_bytes, 0, out)
    assert out[0] == 0
    # The retry, with no preemption due: it drains all the work, still owes, parks.
    c[S.C_STEP_ASSIST_PREEMPTED] = 0
    parked, spent = _assist(st, wl, rp, costs, np.iinfo(np.int64).max // 2)
    assert parked and not mark_work_left(c) and spent > 0


def test_a_preemption_already_due_puts_the_assist_off() -> None:
    st, wl, rp, costs = _marking_state()
    c = st.counters
    st.p_assist_bytes[0] = -(1 << 20)
    work0 = c[S.C_MARK_SCAN_WORK]
    parked, spent = _assist(st, wl, rp, costs, 0)
    assert not parked and spent == 0 and c[S.C_MARK_SCAN_WORK] == work0
    assert c[S.C_STEP_ASSIST_PREEMPTED] == 1


@pytest.mark.parametrize("preempt_ns", [0.0, 1_000_000.0])
def test_runs_with_and_without_sysmon_preemption(preempt_ns: float) -> None:
    """runtime.preempt_ns = 0 (never preempted) cuts no assist; preemption every 1 ms
    does, in a run whose assists are long (GOGC=25). (At Go's 10 ms it happens too,
    more rarely: 234 times in the steady twin's 131 cycles at GOGC=25.)"""
    raw = {**RAW, "runtime": {"gogc": 25, "preempt_ns": preempt_ns}}
    r = simulate(config_from_dict(raw))
    n = r.counter("C_ASSIST_PREEMPTS")
    assert (n == 0) if preempt_ns == 0 else (n > 0)
