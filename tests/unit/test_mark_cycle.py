"""A GC cycle's fixed costs: at GOMAXPROCS=1, pauses that are the cost table's
fixed parts and nothing else."""

from __future__ import annotations

from pathlib import Path

from gcsim.config import load_config
from gcsim.goruntime.costs import COSTS
from gcsim.run import simulate

REPO = Path(__file__).resolve().parents[2]


def test_pauses_at_one_p_are_the_fixed_parts() -> None:
    # bintree's mutator steps are whole trees (1 023 nodes, ~30 us each), so
    # mark work often ends in the middle of one. With one P the worker or
    # assist that finishes the mark stops the world itself: no P to wait for,
    # and each pause is the cost table's fixed part plus one P's.
    cfg = load_config(REPO / "validation" / "bintree" / "config.toml",
                      ["run.max_allocs=4000000"])
    r = simulate(cfg)
    assert len(r.cycles) >= 4
    per_p = COSTS["stw_per_p_ns"].default_ns
    sweep_term = int((COSTS["stw_sweep_term_ns"].default_ns + per_p) * 3)
    mark_term = int((COSTS["stw_mark_term_ns"].default_ns + per_p) * 3)
    assert set(r.cycles["sweep_term_pause_cycles"].tolist()) == {sweep_term}
    assert set(r.cycles["mark_term_pause_cycles"].tolist()) == {mark_term}
