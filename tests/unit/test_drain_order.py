"""Marking drains the object workbufs before Green Tea's span queue.

gcDrain and gcDrainN (src/runtime/mgcmark.go, go1.27.3) try tryGetObjFast,
then tryGetSpanFast, then the global lists in the same order: an object on
the workbufs (a large object's 128 KiB oblet, an object over 512 B) is
scanned before any span. A root table's oblets grey the nodes they point to,
which wait on their spans; so an assist early in a cycle pays for the
costly greying of the whole table before the cheap span scans. A runtime
trace of the steady twin (GOGC=100, P=1, 2026-11-27) shows it: 27 of a
cycle's 156 assists took 163-228 us each, one 128 KiB oblet of the ring at a
time, 4.3 of its 5.2 ms of assist.
"""

from __future__ import annotations

import numpy as np

from gcsim.engine import state as S
from gcsim.engine.mark import OBLET_WORDS, drain_mark_work
from tests.unit.conftest import step_until

LIVE = 200_000
RAW = {
    "run": {"gomaxprocs": 1, "max_allocs": 3_000_000, "duration_s": "off", "final_gc": False},
    "runtime": {"gogc": 100},
    "workload": {"sites": [
        {"name": "node", "size": 64, "pointer_words": 2,
         "lifetime": {"kind": "fifo", "live_objects": LIVE}},
        {"name": "garbage", "weight": 2.0, "size": 128}]},
}


def _both_queues_waiting():
    """The run stepped until a mark of the full live set has work on both queues."""
    st, wl, _, _, costs = step_until(RAW, lambda c: (
        c[S.C_NUM_GC] >= 3 and c[S.C_PHASE] == S.PHASE_MARK and c[S.C_GLOBALS_WORK_LEFT] == 0
        and c[S.C_GRAY_OBJ_LEN] >= 3 and c[S.C_GRAY_LEN] > 0))
    return st, wl, costs


def test_oblets_are_scanned_before_any_span() -> None:
    st, wl, costs = _both_queues_waiting()
    c = st.counters
    oblet_bytes = OBLET_WORDS * 8
    last_oblet_bytes = (LIVE % OBLET_WORDS) * 8
    steps = 0
    while c[S.C_GRAY_OBJ_LEN] > 0:
        spans_before, work_before = c[S.C_GRAY_LEN], c[S.C_MARK_SCAN_WORK]
        drain_mark_work(st.heap, st.gc, wl, c, costs, np.inf, 1, np.zeros(1))  # one entry
        # An oblet: its whole scan size, and the span queue only grows (its nodes).
        assert c[S.C_MARK_SCAN_WORK] - work_before in (oblet_bytes, last_oblet_bytes)
        assert c[S.C_GRAY_LEN] >= spans_before
        steps += 1
    assert steps >= 3 and c[S.C_GRAY_LEN] > 0
    # Then the spans: 64 B nodes, whole slots or up to their last pointer.
    work_before = c[S.C_MARK_SCAN_WORK]
    drain_mark_work(st.heap, st.gc, wl, c, costs, np.inf, 1, np.zeros(1))
    assert c[S.C_MARK_SCAN_WORK] - work_before in (16, 64)


def test_the_object_stack_survives_the_gray_array_growing() -> None:
    st, wl, costs = _both_queues_waiting()
    c = st.counters
    n = st.gc.gray.shape[0]
    top = int(c[S.C_GRAY_OBJ_LEN])
    before = st.gc.gray[n - top:].copy()
    bottom = st.gc.gray[: c[S.C_GRAY_LEN]].copy()
    grown = S.grow_state(st, S.ST_GROW_SLOTS)
    m = grown.gc.gray.shape[0]
    assert m == 2 * n
    assert np.array_equal(grown.gc.gray[m - top:], before)
    assert np.array_equal(grown.gc.gray[: c[S.C_GRAY_LEN]], bottom)
