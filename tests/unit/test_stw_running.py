"""The stop-the-world pause's wait for a P that runs a goroutine (stw_stop_running_ns)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gcsim.calibrate import refit
from gcsim.config import config_from_dict
from gcsim.goruntime.costs import COSTS
from gcsim.run import simulate

RECORDS = (Path(__file__).resolve().parents[2] / "calibration"
           / "amd-epyc-go1.27.3.records.json")


def test_entry_is_the_calibrations_busy_minus_idle_pause() -> None:
    # Real Go's gctrace (the shipped records): mark termination at
    # GOMAXPROCS=2 with a goroutine spinning on the other P, median 87.5 us,
    # minus the same with that P idle, 2.5 us.
    cal = refit(json.loads(RECORDS.read_text()), {})
    assert cal.costs["stw_stop_running_ns"] == pytest.approx(85_000.0)
    assert COSTS["stw_stop_running_ns"].default_ns == pytest.approx(85_000.0)


def _first_pause_cycles(mutator_procs: int, wait_ns: float) -> int:
    r = simulate(config_from_dict({
        "run": {"seed": 3, "gomaxprocs": 2, "clock_hz": 3.0e9, "duration_s": 0.02},
        "costs": {"stw_stop_running_ns": wait_ns},
        "workload": {"compute_ns_per_alloc": 100.0, "mutator_procs": mutator_procs,
                     "sites": [{"name": "buf", "size": 256}]},
    }))
    assert len(r.cycles) > 0
    return int(r.cycles["sweep_term_pause_cycles"][0])


def test_first_pause_pays_the_wait_once_only_when_another_p_runs() -> None:
    # Everything before the first sweep termination is identical, so its
    # pause differs by exactly the entry (85 us = 255 000 cycles at 3 GHz)
    # when the other P runs a goroutine, and not at all when it is idle.
    busy = _first_pause_cycles(2, 85_000.0) - _first_pause_cycles(2, 0.0)
    idle = _first_pause_cycles(1, 85_000.0) - _first_pause_cycles(1, 0.0)
    assert busy == 255_000
    assert idle == 0
