"""Fixtures shared by the sweep, plot and report tests (one small real sweep), a
one-P engine state in the middle of a mark for the scheduler and limiter tests, and a
run stepped quantum by quantum to a chosen moment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def marking_state_one_p(now_cycles: int) -> tuple[Any, Any, Any, Any]:
    """(st, wl, rp, costs) of a one-P, 1 GHz run (1 cycle = 1 ns), its clock at
    ``now_cycles`` and its phase set to marking; nothing else of a cycle is set up."""
    from gcsim.config import config_from_dict
    from gcsim.engine import state as S
    from gcsim.run import prepare

    raw = {"run": {"gomaxprocs": 1, "max_allocs": 100, "duration_s": "off", "clock_hz": 1.0e9},
           "runtime": {"gogc": 100},
           "workload": {"sites": [{"name": "a", "size": 64}]}}
    st, wl, rp, _, costs = prepare(config_from_dict(raw))
    st.counters[S.C_PHASE] = S.PHASE_MARK
    st.counters[S.C_NOW_CYCLES] = now_cycles
    return st, wl, rp, costs

def step_until(raw: dict[str, Any], done: Any) -> tuple[Any, Any, Any, Any, Any]:
    """(st, wl, rp, tab, costs) of the run ``raw`` stepped one quantum at a time
    (growing its arrays as the driver does) until ``done(counters)`` holds."""
    from gcsim.config import config_from_dict
    from gcsim.engine import state as S
    from gcsim.engine.loop import run_quanta
    from gcsim.run import prepare

    st, wl, rp, tab, costs = prepare(config_from_dict(raw))
    while True:
        status = run_quanta(st, wl, rp, tab, costs, st.counters[S.C_NOW_CYCLES] + 1)
        if status in (S.ST_GROW_SLOTS, S.ST_GROW_SPANS, S.ST_GROW_PAGES):
            st = S.grow_state(st, status)
            continue
        assert status == S.ST_OK
        if done(st.counters):
            return st, wl, rp, tab, costs


# A 30 ms run whose first site's pointer density can be swept 0..1 (no refs).
SWEEP_BASE = """
[run]
seed = 7
gomaxprocs = 2
duration_s = 0.03
[workload]
compute_ns_per_alloc = 50.0
[[workload.sites]]
name = "node"
size = 64
pointer_density = 0.5
lifetime = { kind = "fifo", live_objects = 3000 }
[[workload.sites]]
name = "buf"
weight = 2.0
size = { dist = "uniform", min_bytes = 8, max_bytes = 2048 }
"""

# 2 x 2 points x 2 repeats = 8 runs.
SWEEP_FILE = """
base = "base.toml"
repeats = 2
description = "test sweep"
[axes]
"runtime.gogc" = [50, 200]
"workload.sites[0].pointer_density" = { start = 0.0, stop = 1.0, num = 2 }
"""


def write_sweep(folder: Path, sweep_text: str = SWEEP_FILE, base_text: str = SWEEP_BASE) -> Path:
    """Write base.toml and sweep.toml into ``folder``; return the sweep file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "base.toml").write_text(base_text)
    p = folder / "sweep.toml"
    p.write_text(sweep_text)
    return p


@pytest.fixture(scope="session")
def small_sweep(tmp_path_factory: pytest.TempPathFactory, warm_engine: None) -> Path:
    """The results folder of SWEEP_FILE, run on two local worker processes, with figures."""
    from gcsim.sweep import load_sweep, run_sweep

    d = tmp_path_factory.mktemp("sweep")
    sweep = load_sweep(write_sweep(d / "spec"))
    run_sweep(sweep, d / "out", jobs=2, plots=True, progress=False)
    return d / "out"
