"""The scavenger against closed forms from src/runtime/mgcscavenge.go (issue 3).

- gcPaceScavenger's goal: lastHeapInUse x heapGoal/lastHeapGoal x 1.10,
  rounded up to a 4 KiB physical page, none when retained is within a page.
- the background scavenger's pace: 1 % of GOMAXPROCS x wall time, spent in
  64 KiB quanta of ``scavenge_ns_per_page`` each page, highest pages first,
  stopping exactly at the goal.
- scavenging on heap growth: min(growth, overage).
- scavenging at span allocation over the memory limit: the whole excess of
  retained heap over GOMEMLIMIT less non-heap memory, none while the GC CPU
  limiter is on; the larger of that and the growth request.
"""

from __future__ import annotations

import numpy as np
import pytest

from gcsim.config import config_from_dict
from gcsim.engine import state as S
from gcsim.engine.scavenge import (
    note_growth,
    pace_scavenger,
    scavenge_background,
    scavenge_goal,
    scavenge_on_alloc,
)
from gcsim.run import simulate
from gcsim.workload.compile import compile_costs

MiB = 1 << 20
PAGE = 8192


def test_goal_is_last_heap_inuse_scaled_plus_ten_percent() -> None:
    # 40 MiB in use at mark termination, goal unchanged, 60 MiB retained -> 44 MiB.
    assert scavenge_goal(40 * MiB, 80 * MiB, 80 * MiB, 60 * MiB) == 44 * MiB
    # The goal doubled: retain twice as much (88 MiB): met at 60 MiB retained.
    assert scavenge_goal(40 * MiB, 160 * MiB, 80 * MiB, 60 * MiB) == S.NO_GOAL_BYTES
    # Rounded up to a physical page: 1_000_001 B -> 1_100_001 -> 1_101_824 (269 x 4 KiB).
    assert scavenge_goal(1_000_001, 1, 1, 10 * MiB) == 269 * 4096
    # Within one physical page of the goal counts as met; before the first GC: none.
    assert scavenge_goal(40 * MiB, 1, 1, 44 * MiB + 4095) == S.NO_GOAL_BYTES
    assert scavenge_goal(40 * MiB, 1, 0, 60 * MiB) == S.NO_GOAL_BYTES


def _free_heap(n_pages: int) -> S.State:
    """A state whose arena has ``n_pages`` mapped, free, unreleased pages."""
    st = S.new_state(
        gomaxprocs=2,
        n_sites=1,
        n_root_slots=1,
        max_edges=1,
        seed_state=np.ones(1, dtype=np.uint64),
        site_weight=np.ones(1),
        max_pages=2 * n_pages,
    )
    c = st.counters
    c[S.C_PAGES_MAPPED] = n_pages
    c[S.C_SCAV_SEARCH_PAGE] = n_pages
    return st


def test_background_scavenger_paces_to_one_percent_and_stops_at_the_goal() -> None:
    cfg = config_from_dict({"workload": {"sites": [{"name": "a", "size": 8}]}})
    costs = compile_costs(cfg)
    P, quantum = 2, 30_000  # 10 us at 3 GHz
    st = _free_heap(1024)
    c = st.counters
    bg = st.bg
    bg[S.B_LAST_HEAP_INUSE_BYTES] = 2 * MiB
    bg[S.B_LAST_HEAP_GOAL_BYTES] = 4 * MiB
    pace_scavenger(c, bg, -1, 4 * MiB, 0)
    assert bg[S.B_SCAV_LIMIT_GOAL_BYTES] == S.NO_GOAL_BYTES
    goal = 2 * MiB + 2 * MiB // 10
    goal = -(-goal // 4096) * 4096
    assert c[S.C_SCAV_GOAL_BYTES] == goal
    chunk_cycles = 8 * costs.scavenge_page
    per_quantum = int(0.01 * P * quantum)
    spent = 0
    for k in range(1, 401):
        spent += scavenge_background(st.heap, c, bg, costs, P, k * quantum, quantum)
        if k == 200:
            # Closed form while the goal is far: every chunk the credit covers.
            chunks = (200 * per_quantum) // int(chunk_cycles + 0.5)
            assert bg[S.B_SCAV_BG_CHUNKS] == pytest.approx(chunks, abs=1)
            assert c[S.C_PAGES_RELEASED] == 8 * bg[S.B_SCAV_BG_CHUNKS]
    # Enough quanta to reach the goal: retained is exactly the goal (in 8 KiB pages).
    k = 401
    while (1024 - c[S.C_PAGES_RELEASED]) * PAGE > goal and k < 100_000:
        spent += scavenge_background(st.heap, c, bg, costs, P, k * quantum, quantum)
        k += 1
    retained = (1024 - c[S.C_PAGES_RELEASED]) * PAGE
    assert retained == -(-goal // PAGE) * PAGE
    # CPU: 1 % of GOMAXPROCS x wall time, within one chunk.
    assert spent <= 0.01 * P * quantum * k + chunk_cycles
    assert spent >= 0.01 * P * quantum * k - 2 * chunk_cycles
    # Highest pages went first; nothing more once the goal is met.
    released = np.flatnonzero(st.heap.page_released[:1024])
    assert released.min() == 1024 - len(released)
    before = c[S.C_PAGES_RELEASED]
    scavenge_background(st.heap, c, bg, costs, P, (k + 1) * quantum, quantum)
    assert c[S.C_PAGES_RELEASED] == before


def test_growth_past_the_goal_scavenges_min_of_growth_and_overage() -> None:
    cfg = config_from_dict({"workload": {"sites": [{"name": "a", "size": 8}]}})
    costs = compile_costs(cfg)
    st = _free_heap(512)
    c = st.counters
    c[S.C_SCAV_GOAL_BYTES] = 500 * PAGE
    note_growth(c, 512)  # retained 512 + 512 grown > 500: overage 524 pages > growth
    assert c[S.C_SCAV_PENDING_PAGES] == 512
    c[S.C_SCAV_PENDING_PAGES] = 0
    c[S.C_SCAV_GOAL_BYTES] = 1000 * PAGE
    note_growth(c, 512)  # overage 24 pages
    assert c[S.C_SCAV_PENDING_PAGES] == 24
    out = np.zeros(1)
    scavenge_on_alloc(st.heap, c, costs, out)
    assert c[S.C_PAGES_RELEASED] == 24
    assert c[S.C_SCAV_ASSIST_PAGES] == 24
    assert out[0] == pytest.approx(24 * costs.scavenge_page)
    c[S.C_SCAV_GOAL_BYTES] = S.NO_GOAL_BYTES
    note_growth(c, 512)
    assert c[S.C_SCAV_PENDING_PAGES] == 0


def test_span_allocation_over_the_limit_scavenges_the_excess() -> None:
    cfg = config_from_dict({"workload": {"sites": [{"name": "a", "size": 8}]}})
    costs = compile_costs(cfg)
    st = _free_heap(512)
    c = st.counters
    c[S.C_PAGES_INUSE] = 200  # 312 free pages, all retained
    out = np.zeros(1)
    # No limit: nothing.
    scavenge_on_alloc(st.heap, c, costs, out)
    assert c[S.C_PAGES_RELEASED] == 0
    # Retained 512 pages, limit 400 pages of heap: release 112, the highest free ones.
    c[S.C_SCAV_LIMIT_HEAP_BYTES] = 400 * PAGE
    scavenge_on_alloc(st.heap, c, costs, out)
    assert c[S.C_PAGES_RELEASED] == 112
    assert np.flatnonzero(st.heap.page_released[:512]).min() == 400
    assert out[0] == pytest.approx(112 * costs.scavenge_page)
    assert c[S.C_SCAV_ASSIST_CYCLES] == int(112 * costs.scavenge_page + 0.5)
    # A limit below the heap in use: every free page goes, and no more than those.
    c[S.C_SCAV_LIMIT_HEAP_BYTES] = 100 * PAGE
    scavenge_on_alloc(st.heap, c, costs, out)
    assert c[S.C_PAGES_RELEASED] == 312
    scavenge_on_alloc(st.heap, c, costs, out)
    assert c[S.C_PAGES_RELEASED] == 312
    # The GC CPU limiter on: no limit scavenging, but a growth request still runs.
    st = _free_heap(512)
    c = st.counters
    c[S.C_SCAV_LIMIT_HEAP_BYTES] = 100 * PAGE
    c[S.C_LIMITER_ON] = 1
    scavenge_on_alloc(st.heap, c, costs, out)
    assert c[S.C_PAGES_RELEASED] == 0
    c[S.C_SCAV_PENDING_PAGES] = 10
    scavenge_on_alloc(st.heap, c, costs, out)
    assert c[S.C_PAGES_RELEASED] == 10
    # Limiter off: the larger of the two requests (402 pages over the limit > 5 pending).
    c[S.C_LIMITER_ON] = 0
    c[S.C_SCAV_PENDING_PAGES] = 5
    scavenge_on_alloc(st.heap, c, costs, out)
    assert c[S.C_PAGES_RELEASED] == 412
    assert c[S.C_SCAV_ASSIST_PAGES] == 412


def test_heap_released_is_in_the_timeline_and_memstats() -> None:
    r = simulate(
        config_from_dict(
            {
                "run": {"seed": 2, "duration_s": 0.05},
                "workload": {
                    "sites": [
                        {
                            "name": "a",
                            "size": 512,
                            "lifetime": {"kind": "fifo", "live_objects": 5000},
                        }
                    ]
                },
            }
        )
    )
    tl = r.timeline
    assert np.all(tl["heap_released_bytes"] >= 0)
    assert np.all(tl["heap_released_bytes"] <= tl["heap_sys_bytes"] - tl["heap_inuse_bytes"])
    from gcsim.metrics.summary import memstats

    ms = memstats(r)
    assert ms["HeapReleased"] == tl["heap_released_bytes"][-1]
    assert ms["HeapReleased"] <= ms["HeapIdle"]


def test_scavenge_assists_are_in_the_timeline_and_summary() -> None:
    # GOGC=off under a 24 MiB limit with 30 MiB live: every span allocation
    # past the limit releases the free pages, and the timeline's running total
    # of that CPU ends at most one sample short of the summary's.
    from gcsim.metrics.summary import summary, timeline_table

    r = simulate(config_from_dict({
        "run": {"seed": 2, "duration_s": 0.2},
        "runtime": {"gogc": "off", "gomemlimit": "24MiB"},
        "workload": {"sites": [
            {"name": "live", "size": 1024, "lifetime": {"kind": "fifo", "live_objects": 30_000}},
            {"name": "garbage", "size": 8192, "weight": 2.0},
        ]},
    }))
    s = summary(r)["background"]
    assert s["scavenge_assist_released_bytes"] > 0 and s["scavenge_assist_cpu_s"] > 0
    col = timeline_table(r.timeline, r.config.run.clock_hz)["scavenge_assist_s"]
    assert np.all(np.diff(col) >= 0)
    assert 0 < col[-1] <= s["scavenge_assist_cpu_s"]
