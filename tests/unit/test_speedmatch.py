"""``gcsim validate --match-speed``'s arithmetic (gcsim/validate/speedmatch.py).

The matched run must land at the speed the factors ask for: scaling every
mark entry by k scales mark CPU per cycle by k, and scaling the mutator's
entries and compute by m scales its CPU per object by m, up to what the
pacing moves (a few per cent here).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from gcsim.config import config_from_dict
from gcsim.goruntime.costs import COSTS
from gcsim.metrics import summary as M
from gcsim.metrics.gctrace import parse_gctrace
from gcsim.run import simulate
from gcsim.validate import compare as C
from gcsim.validate import speedmatch as SM
from gcsim.validate.harness import mark_cpu_ms_per_cycle

RAW = {
    "run": {"max_allocs": 300_000, "duration_s": "off", "final_gc": False},
    "runtime": {"gogc": 100},
    "workload": {"compute_ns_per_alloc": 20.0, "sites": [
        {"name": "node", "size": 64, "pointer_words": 2,
         "lifetime": {"kind": "fifo", "live_objects": 20_000}},
        {"name": "garbage", "weight": 2.0, "size": 128}]},
}


def _factors(mark: float, mutator: float) -> SM.SpeedFactors:
    return SM.SpeedFactors(mark, mutator, [1.0], 1.0, [1.0], 1.0)


def _overrides_as_dict(overrides: list[str]) -> dict[str, float]:
    return {k: float(v) for k, v in (o.split("=", 1) for o in overrides)}


def test_overrides_scale_mark_and_mutator_entries_and_leave_the_pauses() -> None:
    cfg = config_from_dict(RAW)
    got = _overrides_as_dict(SM.matched_overrides(cfg, _factors(1.5, 1.25)))
    for name, entry in COSTS.items():
        key = f"costs.{name}"
        if name.startswith("stw_"):
            assert key not in got
        elif name.startswith("mark_"):
            assert got[key] == pytest.approx(1.5 * entry.default_ns)
        else:
            assert got[key] == pytest.approx(1.25 * entry.default_ns)
    assert got["workload.compute_ns_per_alloc"] == pytest.approx(25.0)


def test_go_mutator_cpu_is_process_cpu_less_gc_per_object() -> None:
    rep = {"cpu_ns": 3_000_000_000, "allocs": 10_000_000,
           "metrics": {C.GC_TOTAL_METRIC: 1.0}}
    assert SM.go_mutator_ns_per_alloc(rep) == pytest.approx(200.0)
    assert SM.go_mutator_ns_per_alloc({**rep, "cpu_ns": -1}) is None  # not measured
    assert SM.go_mutator_ns_per_alloc({**rep, "metrics": {}}) is None
    assert SM.go_mutator_ns_per_alloc({**rep, "allocs": 0}) is None
    # With goreport's start snapshot: the workload alone, startup CPU and GC left out.
    run = {**rep, "cpu_ns_at_start": 500_000_000,
           "metrics_at_start": {C.GC_TOTAL_METRIC: 0.25}}
    assert SM.go_mutator_ns_per_alloc(run) == pytest.approx((3e9 - 0.5e9 - 0.75e9) / 1e7)


def test_go_gc_cpu_fraction_is_over_the_workload_when_its_start_is_known() -> None:
    """(GC CPU less idle marking, as memstats.gc_cpu_fraction) over elapsed x GOMAXPROCS,
    both from goreport.Start on; GCCPUFraction (from process start) otherwise."""
    rep = {"elapsed_ns": 1_000_000_000, "gomaxprocs": 2,
           "memstats": {"GCCPUFraction": 0.2},
           "metrics": {C.GC_TOTAL_METRIC: 0.6, C.GC_IDLE_METRIC: 0.07},
           "metrics_at_start": {C.GC_TOTAL_METRIC: 0.1, C.GC_IDLE_METRIC: 0.02}}
    assert C.run_gc_cpu_fraction(rep) == pytest.approx((0.5 - 0.05) / 2)
    assert C.go_side([], rep).gc_cpu_fraction == pytest.approx(0.225)
    old = {**rep, "metrics_at_start": None}
    assert C.run_gc_cpu_fraction(old) is None
    assert C.go_side([], old).gc_cpu_fraction == 0.2


def _speeds(result) -> tuple[float, float]:  # noqa: ANN001 - RunResult
    hz, P = result.config.run.clock_hz, result.config.run.gomaxprocs
    lines = parse_gctrace("\n".join(M.gctrace_lines(result.cycles, hz, P)))
    mark = mark_cpu_ms_per_cycle(lines)
    assert mark is not None
    return mark, SM.sim_cpu_ns_per_alloc(result)[0]


def test_a_matched_run_marks_and_mutates_at_the_asked_speed() -> None:
    base = simulate(config_from_dict(RAW))
    mark0, mut0 = _speeds(base)
    go_lines = [parse_gctrace("\n".join(M.gctrace_lines(base.cycles, base.config.run.clock_hz,
                                                        1)))]
    # A "Go" run 1.6x slower at marking and 1.3x slower outside the GC.
    n = base.counter("C_ALLOCS")
    report = {"cpu_ns": int(1.3 * mut0 * n + 7e9), "allocs": n,
              "metrics": {C.GC_TOTAL_METRIC: 7.0}}
    slow = [[replace(ln, assist_cpu_ms=1.6 * ln.assist_cpu_ms,
                     background_cpu_ms=1.6 * ln.background_cpu_ms,
                     idle_cpu_ms=1.6 * ln.idle_cpu_ms) for ln in go_lines[0]]]
    f = SM.speed_factors(base, go_lines[0], slow, [report])
    assert f is not None
    assert f.mark == pytest.approx(1.6, rel=1e-6) and f.mutator == pytest.approx(1.3, rel=1e-6)
    raw = {**RAW, "costs": {}}
    for o in SM.matched_overrides(base.config, f):
        key, value = o.split("=", 1)
        section, name = key.split(".", 1)
        if section == "costs":
            raw["costs"][name] = float(value)
        else:
            raw["workload"] = {**raw["workload"], name: float(value)}
    mark1, mut1 = _speeds(simulate(config_from_dict(raw)))
    assert mark1 / mark0 == pytest.approx(1.6, rel=0.05)
    assert mut1 / mut0 == pytest.approx(1.3, rel=0.05)
