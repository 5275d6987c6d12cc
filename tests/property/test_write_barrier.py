"""The hybrid write barrier is what keeps concurrent marking safe.

A mutator that moves pointers between live objects while marking runs can
hide an object from the collector: it copies the only pointer to a white
object into an already-scanned (black) object and deletes the original. The
deletion half of Go's hybrid barrier shades the object when the original is
overwritten; the insertion half shades it when it is stored. With the
barrier, every object reachable at mark termination is marked (so nothing
reachable is ever freed); without it, the same schedules lose objects.

Checked at the exact moment of mark termination, before any span is swept:
reachable (from the root tables, through roots and pointer slots) must be a
subset of marked.
"""

from __future__ import annotations

import numpy as np
import pytest

from gcsim.config import config_from_dict
from gcsim.engine import state as S
from gcsim.engine.loop import run_quanta
from gcsim.run import prepare


def _config(seed: int, gomaxprocs: int, write_barrier: bool, gogc: int) -> dict:
    return {
        "run": {"seed": seed, "gomaxprocs": gomaxprocs, "duration_s": 0.05},
        "runtime": {"gogc": gogc, "write_barrier": write_barrier},
        "workload": {
            "compute_ns_per_alloc": 200.0,
            "globals_bytes": 0,
            "sites": [
                {
                    "name": "node",
                    "size": 48,
                    "pointer_words": 3,
                    "weight": 1.0,
                    "lifetime": {"kind": "fifo", "live_objects": 3000},
                    "refs": [
                        {"to": "random", "site": "node"},
                        {"to": "random", "site": "node"},
                        {"to": "child", "site": "leaf"},
                    ],
                    "pointer_writes_per_alloc": 6.0,
                },
                {"name": "leaf", "size": 32, "pointer_words": 1, "weight": 0.0},
                {
                    "name": "garbage",
                    "size": {"dist": "uniform", "min_bytes": 16, "max_bytes": 512},
                    "weight": 3.0,
                },
            ],
        },
    }


def reachable_slots(st: S.State, wl: S.Workload) -> np.ndarray:
    """Every slot reachable from the root tables, by a breadth-first walk in NumPy."""
    heap, gc = st.heap, st.gc
    seen = np.zeros(heap.slot_span.shape[0], dtype=bool)
    tables = gc.root_table_slot[gc.root_table_slot >= 0]
    seen[tables] = True
    seen[gc.runtime_slots[gc.runtime_slots >= 0]] = True  # rooted in the runtime's globals
    roots = gc.roots[gc.roots >= 0]
    frontier = np.unique(roots[~seen[roots]])
    while frontier.size:
        seen[frontier] = True
        kids = heap.edges[frontier].ravel()
        kids = kids[kids >= 0]
        frontier = np.unique(kids[~seen[kids]])
    return np.flatnonzero(seen)


def lost_objects_per_cycle(cfg_dict: dict) -> list[int]:
    """Run the workload one quantum at a time; at each mark termination count the
    reachable objects that are not marked (the sweep will free them) or were
    already freed."""
    cfg = config_from_dict(cfg_dict)
    st, wl, rp, tab, costs = prepare(cfg)
    lost: list[int] = []
    num_gc = 0
    while True:
        status = run_quanta(st, wl, rp, tab, costs, st.counters[S.C_NOW_CYCLES] + 1)
        if status in (S.ST_GROW_SLOTS, S.ST_GROW_SPANS, S.ST_GROW_PAGES):
            st = S.grow_state(st, status)
            continue
        if status == S.ST_RECORDS_FULL:
            st.counters[S.C_N_CYCLE_RECORDS] = 0
            st.counters[S.C_N_TIMELINE_RECORDS] = 0
            continue
        if st.counters[S.C_NUM_GC] != num_gc:
            num_gc = int(st.counters[S.C_NUM_GC])
            live = reachable_slots(st, wl)
            # Unmarked now (the sweep will free it) or freed already (by an earlier sweep).
            doomed = (st.heap.slot_mark[live] == 0) | (st.heap.slot_alloc[live] == 0)
            lost.append(int(np.count_nonzero(doomed)))
        if status == S.ST_DONE:
            return lost


@pytest.mark.parametrize("gomaxprocs", [1, 2])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_barrier_keeps_every_reachable_object_marked(seed: int, gomaxprocs: int) -> None:
    lost = lost_objects_per_cycle(_config(seed, gomaxprocs, True, 50))
    assert len(lost) >= 5, "the workload must run several concurrent cycles"
    assert sum(lost) == 0, f"reachable objects unmarked at mark termination: {lost}"


def test_without_the_barrier_the_same_schedules_lose_objects() -> None:
    lost = [
        sum(lost_objects_per_cycle(_config(seed, p, False, 50)))
        for seed in (1, 2, 3)
        for p in (1, 2)
    ]
    assert sum(lost) > 0, "pointer moves during mark should hide objects without the barrier"
    assert sum(1 for x in lost if x > 0) >= 3, lost
