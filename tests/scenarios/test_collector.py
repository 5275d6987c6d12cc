"""The concurrent collector's CPU split, as Go's scheduler makes it.

Background workers are budgeted 25 % of GOMAXPROCS during mark (dedicated
workers plus a fractional one, src/runtime/mgcpacer.go startCycle). Dedicated
workers own their Ps. A fractional worker (GOMAXPROCS 1-3, 5-7, ...) runs on a
P with a goroutine only when that P goes through schedule(): at a world
restart or when sysmon preempts the goroutine (``runtime.preempt_ns``, 10 ms; a
goroutine nothing else reschedules is preempted every 20 ms, loop._next_turn).
``preempt_ns = 0`` gives the pacer's idealised schedule, the worker taking its
share of every quantum. Assists make up the difference when the mutator
allocates faster than background marking proceeds; when it does not, they
shrink to one over-assist per goroutine and cycle: gcResetMarkState zeroes
every goroutine's gcAssistBytes at mark start, so its first allocation of the
cycle assists gcOverAssistWork (64 KiB of scan work), less whatever background
credit there is to steal (mgcmark.go gcAssistAlloc).
"""

from __future__ import annotations

import numpy as np
import pytest

from gcsim.config import config_from_dict
from gcsim.run import simulate


def steady(gomaxprocs: int, compute_ns: float, gogc: int = 100, duration_s: float = 0.25,
           preempt_ns: float = 10e6) -> dict:
    return {
        "run": {"seed": 3, "gomaxprocs": gomaxprocs, "duration_s": duration_s},
        "runtime": {"gogc": gogc, "preempt_ns": preempt_ns},
        "workload": {
            "compute_ns_per_alloc": compute_ns,
            "sites": [
                {"name": "live", "size": 128, "pointer_words": 4, "weight": 1.0,
                 "lifetime": {"kind": "fifo", "live_objects": 40_000},
                 "refs": [{"to": "random", "site": "live"}]},
                {"name": "garbage", "size": {"dist": "uniform", "min_bytes": 16,
                                             "max_bytes": 1024}, "weight": 4.0},
            ],
        },
    }


def after_warmup(cycles: np.ndarray, skip: int = 3) -> np.ndarray:
    assert len(cycles) > skip + 3, f"only {len(cycles)} cycles"
    return cycles[skip:]


def shares(cyc: np.ndarray, gomaxprocs: int) -> tuple[float, float]:
    """Background and assist CPU as fractions of GOMAXPROCS x the mark phase."""
    mark_wall = (cyc["mark_term_start_cycles"] - cyc["mark_start_cycles"]).sum() * gomaxprocs
    return cyc["background_cycles"].sum() / mark_wall, cyc["assist_cycles"].sum() / mark_wall


# P = 1, 2: a fractional worker, given every quantum (preempt_ns = 0); P = 4, 8:
# dedicated workers only, so Go's scheduler turns change nothing.
@pytest.mark.parametrize(("gomaxprocs", "preempt_ns"), [(1, 0.0), (2, 0.0), (4, 10e6), (8, 10e6)])
def test_background_workers_take_25_percent_of_the_mark_phase(gomaxprocs: int,
                                                              preempt_ns: float) -> None:
    r = simulate(config_from_dict(steady(gomaxprocs, compute_ns=300.0, preempt_ns=preempt_ns)))
    background, _ = shares(after_warmup(r.cycles), gomaxprocs)
    assert background == pytest.approx(0.25, abs=0.01)


@pytest.mark.parametrize("gomaxprocs", [1, 2])
def test_fractional_worker_waits_for_a_scheduler_turn(gomaxprocs: int) -> None:
    """Marks of a few ms, shorter than sysmon's 10 ms preemption: the P running
    the goroutine that started the cycle never schedules during them, so its
    fractional worker hardly runs and assists do nearly all the marking, as in
    Go's gctrace for such programs (e.g. the steady twin at GOMAXPROCS=2:
    13-17 ms assist against 1-4.5 ms background per cycle)."""
    r = simulate(config_from_dict(steady(gomaxprocs, compute_ns=300.0)))
    background, assist = shares(after_warmup(r.cycles), gomaxprocs)
    assert background < 0.05
    assert assist > 0.3


def test_assists_appear_when_allocation_outpaces_marking() -> None:
    r = simulate(config_from_dict(steady(2, compute_ns=0.0, gogc=25)))
    cyc = after_warmup(r.cycles)
    assert np.all(cyc["assist_cycles"] > 0)
    assert cyc["assist_cycles"].sum() > 0.2 * cyc["background_cycles"].sum()


GC_OVER_ASSIST_WORK_BYTES = 64 << 10


def _assist_work_bytes(cyc: np.ndarray) -> np.ndarray:
    """Each cycle's assist scan work, estimated at the cycle's mean mark cost per byte."""
    mark = cyc["assist_cycles"] + cyc["background_cycles"] + cyc["idle_cycles"]
    work = cyc["heap_scan_work_bytes"] + cyc["stack_scan_bytes"] + cyc["globals_scan_bytes"]
    return cyc["assist_cycles"] * work / mark


def test_assists_shrink_to_one_over_assist_when_marking_keeps_up() -> None:
    # A dedicated worker (GOMAXPROCS=4) marks from the start of each cycle; the
    # four goroutines allocate every 20 us. Real Go (4 such goroutines, 2026-11-27)
    # assists in every cycle too, 0.3-0.45 ms against 3-11 ms of background.
    r = simulate(config_from_dict(steady(4, compute_ns=20_000.0, duration_s=2.0)))
    cyc = after_warmup(r.cycles)
    assert np.all(cyc["background_cycles"] > 0)
    bound = 4 * GC_OVER_ASSIST_WORK_BYTES
    assert np.all(_assist_work_bytes(cyc) <= 1.05 * bound)
    # ... where allocation that outpaces marking assists many times that.
    fast = after_warmup(simulate(config_from_dict(steady(2, compute_ns=0.0, gogc=25))).cycles)
    assert np.median(_assist_work_bytes(fast)) > 5 * 2 * GC_OVER_ASSIST_WORK_BYTES  # 12x


def test_mark_completion_waits_for_the_assist_that_did_the_last_work() -> None:
    """While the CPU limiter keeps assists off, a goroutine's debt grows; once they are
    back on, and the heap is past its goal, one assist can owe the whole mark and drain
    it in one go (revise's ratio against 1.1 x goal). Mark completion comes when that
    work ends, so at GOMAXPROCS=1 no cycle's mark CPU exceeds its mark wall time.
    (gcsim used to end the mark at the quantum boundary the assist started in: 25 ms
    of assist in a 1 ms mark.)"""
    r = simulate(config_from_dict({
        "run": {"max_allocs": 6_000_000, "duration_s": "off", "final_gc": False,
                "gomaxprocs": 1},
        "runtime": {"gogc": 25},
        # Marking dear enough that GC CPU passes 50 % and the limiter trips.
        "costs": {"mark_object_ns": 40.0},
        "workload": {"compute_ns_per_alloc": 25.0, "sites": [
            {"name": "node", "weight": 1.0, "size": 64, "pointer_words": 2,
             "lifetime": {"kind": "fifo", "live_objects": 400_000}},
            {"name": "garbage", "weight": 2.0, "size": 128, "pointer_words": 0}]},
    }))
    cy = r.cycles
    wall = cy["mark_term_start_cycles"] - cy["mark_start_cycles"]
    cpu = cy["assist_cycles"] + cy["background_cycles"] + cy["idle_cycles"]
    assert cy["limiter_on"].sum() > 0  # the scenario has what the test is about
    assert cy["assist_cycles"].max() > 10e-3 * r.config.run.clock_hz  # a 10 ms+ assist
    assert np.all(cpu <= wall)
