"""A GC cycle's fixed costs: the empty heap's mark CPU (mark_cycle_ns) and, at
GOMAXPROCS=1, pauses that are the cost table's fixed parts and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gcsim.calibrate import refit
from gcsim.config import config_from_dict, load_config
from gcsim.goruntime.costs import COSTS
from gcsim.run import simulate

REPO = Path(__file__).resolve().parents[2]
RECORDS = REPO / "calibration" / "amd-epyc-go1.27.3.records.json"


def test_entry_is_the_calibrations_empty_heap_mark() -> None:
    # Real Go's gctrace (the shipped records, stw 'churn' at GOMAXPROCS=1):
    # median mark CPU 0.120 ms a cycle over a one-object heap, minus the
    # binary's 165 226 B of globals at mark_root_word_ns (20 653 words x 1.44 ns)
    # and the runtime's own 192 heap objects of 30 pointer words (engine/rtmem.py)
    # at mark_object_ns + 30 mark_scan_word_ns (4.889 + 30 x 6.136 ns each).
    cal = refit(json.loads(RECORDS.read_text()), {})
    raw = cal.entries["mark_cycle_ns"]["raw"]
    assert raw["p1"]["mark_cpu_median_ns"] == pytest.approx(120_000.0)
    assert raw["globals_ns"] == pytest.approx(165_226 // 8 * 1.44, rel=1e-3)
    assert raw["runtime_heap_ns"] == pytest.approx(192 * (4.889 + 30 * 6.136), rel=1e-3)
    assert cal.costs["mark_cycle_ns"] == pytest.approx(
        120_000.0 - raw["globals_ns"] - raw["runtime_heap_ns"], rel=1e-3)
    assert COSTS["mark_cycle_ns"].default_ns == cal.costs["mark_cycle_ns"]


def _first_mark_cpu_cycles(mark_cycle_ns: float) -> int:
    r = simulate(config_from_dict({
        "run": {"seed": 5, "gomaxprocs": 1, "clock_hz": 3.0e9, "duration_s": 0.02},
        "runtime": {"preempt_ns": 0},
        "costs": {"mark_cycle_ns": mark_cycle_ns},
        "workload": {"compute_ns_per_alloc": 50.0, "globals_bytes": 160_000,
                     "sites": [{"name": "buf", "size": 512}]},
    }))
    assert len(r.cycles) > 0
    c = r.cycles[0]
    return int(c["assist_cycles"] + c["background_cycles"] + c["idle_cycles"])


def test_an_empty_heaps_mark_costs_the_fixed_part_and_its_globals() -> None:
    # Pointer-free garbage only: the first cycle marks nothing but the globals
    # (20 000 words x 1.44 ns = 28.8 us = 86 400 cycles at 3 GHz) and the
    # runtime's own objects (192 x (4.889 + 30 x 6.136) ns = 36.28 us), and pays
    # the fixed part (53.98 us = 161 940 cycles) on top; the runs are identical
    # up to that cycle.
    words_cycles = 160_000 // 8 * COSTS["mark_root_word_ns"].default_ns * 3
    runtime_cycles = 192 * (COSTS["mark_object_ns"].default_ns
                            + 30 * COSTS["mark_scan_word_ns"].default_ns) * 3
    none = _first_mark_cpu_cycles(0.0)
    fixed = _first_mark_cpu_cycles(53_980.0)
    # (each assist or worker slice rounds its cost to whole cycles)
    assert none == pytest.approx(words_cycles + runtime_cycles, abs=5)
    assert fixed - none == pytest.approx(161_940, abs=2)


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
