"""The concurrent collector's CPU split, as Go's scheduler makes it.

Background workers take 25 % of GOMAXPROCS during mark (dedicated workers
plus a fractional one, src/runtime/mgcpacer.go startCycle); assists make up
the difference when the mutator allocates faster than marking proceeds and
are absent when it does not.
"""

from __future__ import annotations

import numpy as np
import pytest

from gcsim.config import config_from_dict
from gcsim.run import simulate


def steady(gomaxprocs: int, compute_ns: float, gogc: int = 100, duration_s: float = 0.25) -> dict:
    return {
        "run": {"seed": 3, "gomaxprocs": gomaxprocs, "duration_s": duration_s},
        "runtime": {"gogc": gogc},
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


@pytest.mark.parametrize("gomaxprocs", [1, 2, 4, 8])
def test_background_workers_take_25_percent_of_the_mark_phase(gomaxprocs: int) -> None:
    r = simulate(config_from_dict(steady(gomaxprocs, compute_ns=300.0)))
    cyc = after_warmup(r.cycles)
    mark_wall = cyc["mark_term_start_cycles"] - cyc["mark_start_cycles"]
    share = cyc["background_cycles"].sum() / (mark_wall.sum() * gomaxprocs)
    assert share == pytest.approx(0.25, abs=0.01)


def test_assists_appear_when_allocation_outpaces_marking() -> None:
    r = simulate(config_from_dict(steady(2, compute_ns=0.0, gogc=25)))
    cyc = after_warmup(r.cycles)
    assert np.all(cyc["assist_cycles"] > 0)
    assert cyc["assist_cycles"].sum() > 0.2 * cyc["background_cycles"].sum()


def test_assists_vanish_when_marking_keeps_up() -> None:
    r = simulate(config_from_dict(steady(2, compute_ns=20_000.0, duration_s=2.0)))
    cyc = after_warmup(r.cycles)
    assert cyc["assist_cycles"].sum() == 0
    assert np.all(cyc["background_cycles"] > 0)
