"""Idle Ps: idle-priority marking, the background sweeper, and how Go counts them (issue 4).

A Go program with fewer runnable goroutines than Ps leaves Ps idle; during
mark the scheduler runs idle-priority mark workers there (proc.go
findRunnable, gcMarkWorkerIdleMode), outside mark the background sweeper
gets them (bgsweep). Idle marking is the "g" of gctrace's CPU triple
d+e/f/g+h, it is left out of GCCPUFraction (mstats.go), and the CPU limiter
counts it as idle time (mgclimit.go).
"""

from __future__ import annotations

import numpy as np
import pytest

from gcsim.config import config_from_dict
from gcsim.metrics.summary import gc_cpu_cycles, memstats, summary
from gcsim.run import simulate


def workload(gomaxprocs: int, mutator_procs: int | str, duration_s: float = 0.15) -> dict:
    return {
        "run": {"seed": 5, "gomaxprocs": gomaxprocs, "duration_s": duration_s},
        "runtime": {"gogc": 100},
        "workload": {
            "compute_ns_per_alloc": 100.0,
            "mutator_procs": mutator_procs,
            "sites": [
                {
                    "name": "node",
                    "size": 64,
                    "pointer_words": 2,
                    "lifetime": {"kind": "fifo", "live_objects": 100_000},
                },
                {"name": "garbage", "size": 128, "weight": 2.0},
            ],
        },
    }


def steady_cycles(r) -> np.ndarray:  # noqa: ANN001
    cyc = r.cycles[3:]
    assert len(cyc) >= 4, f"only {len(r.cycles)} cycles"
    return cyc


@pytest.fixture(scope="module")
def one_of_two():
    return simulate(config_from_dict(workload(2, 1)))


def test_idle_p_marks_at_idle_priority(one_of_two) -> None:
    cyc = steady_cycles(one_of_two)
    wall = (cyc["mark_term_start_cycles"] - cyc["mark_start_cycles"]).astype(float)
    # P 1 has no goroutine: its fractional worker takes its 25 % share (startCycle's
    # per-P goal at GOMAXPROCS=2) whenever it looks for work, and an idle worker
    # the rest of the mark phase. P 0's goroutine gives its fractional worker a
    # turn only at a sysmon preemption (10 ms), so it adds almost nothing.
    assert np.all(cyc["idle_cycles"] > 0)
    p1_background = 0.25 * wall.sum()
    assert cyc["background_cycles"].sum() == pytest.approx(p1_background, rel=0.05)
    assert cyc["idle_cycles"].sum() / wall.sum() == pytest.approx(0.75, abs=0.03)


def test_idle_marking_is_outside_gc_cpu_fraction(one_of_two) -> None:
    r = one_of_two
    assert r.cycles["idle_cycles"].sum() > 0
    want = gc_cpu_cycles(r.cycles, 2).sum() / (2 * r.end_cycles)
    s = summary(r)
    assert s["gc_cpu_fraction"] == pytest.approx(want, rel=1e-12)
    assert memstats(r)["GCCPUFraction"] == pytest.approx(want, rel=1e-12)
    with_idle = (gc_cpu_cycles(r.cycles, 2).sum() + r.cycles["idle_cycles"].sum()) / (
        2 * r.end_cycles
    )
    assert s["gc_cpu_fraction"] < with_idle
    assert s["idle_mark_cpu_fraction"] > 0


def test_background_sweeper_uses_idle_ps(one_of_two) -> None:
    r = one_of_two
    assert r.bg_counter("B_BG_SWEEP_SPANS") > 0
    assert summary(r)["background"]["bg_sweep_cpu_s"] > 0
    # With an idle P sweeping in the background, every cycle starts with nothing
    # left to sweep.
    assert np.all(steady_cycles(r)["unswept_spans_at_start"] == 0)


def test_no_idle_work_when_every_p_has_a_goroutine() -> None:
    r = simulate(config_from_dict(workload(2, "all", duration_s=0.08)))
    cyc = r.cycles
    assert cyc["idle_cycles"].sum() == 0
    assert r.bg_counter("B_BG_SWEEP_SPANS") == 0
    assert r.bg_counter("B_IDLE_MARK_CYCLES") == 0


def test_idle_marking_shortens_the_mark_phase(one_of_two) -> None:
    busy = simulate(config_from_dict(workload(2, 2)))
    wall_idle = np.median(
        steady_cycles(one_of_two)["mark_term_start_cycles"]
        - steady_cycles(one_of_two)["mark_start_cycles"]
    )
    wall_busy = np.median(
        steady_cycles(busy)["mark_term_start_cycles"] - steady_cycles(busy)["mark_start_cycles"]
    )
    assert wall_idle < wall_busy


def test_sweep_termination_pause_is_its_work() -> None:
    """At GOMAXPROCS=1 no other P has to be waited for: the pause is the cost
    table's fixed part plus one P; with 2 Ps it also waits for the other P to
    finish its step (at most one mutator step)."""
    cfg = config_from_dict(workload(1, "all", duration_s=0.05))
    r = simulate(cfg)
    from gcsim.workload.compile import compile_costs

    k = compile_costs(cfg)
    fixed = int(k.stw_sweep_term + 1 * k.stw_per_p)
    assert np.all(r.cycles["sweep_term_pause_cycles"] == fixed)
    cfg2 = config_from_dict(workload(2, "all", duration_s=0.05))
    r2 = simulate(cfg2)
    k2 = compile_costs(cfg2)
    fixed2 = int(k2.stw_sweep_term + 2 * k2.stw_per_p)
    wait = r2.cycles["sweep_term_pause_cycles"] - fixed2
    assert np.all(wait >= 0)
    assert r2.bg_counter("B_STOP_WAIT_CYCLES") > 0
