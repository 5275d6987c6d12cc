"""Wall time of the canonical sweep: 10 GOGC x 10 pointer densities, 1 simulated s each.

The canonical sweep is ``experiments/gogc-x-pointer-density/base.toml`` over
GOGC = 25..800 (10 log-spaced integers) x pointer density 0..1 (10 values),
one repeat, ``run.duration_s = 1.0``: 100 runs on ``os.cpu_count()`` local
worker processes, no figures. It takes minutes, so it runs only with
``--benchmark-only``::

    pytest benchmarks/bench_sweep.py --benchmark-only

``GCSIM_BENCH_SWEEP_SIZE=N`` (N x N points) and
``GCSIM_BENCH_SWEEP_DURATION_S`` shrink it; ``extra_info`` then also holds
``extrapolated_canonical_s``, the wall time scaled to 100 points x 1 s by
simulated seconds (worker start-up included once, so it is an estimate).
``extra_info`` reports runs per wall second and simulated seconds per wall
second.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from gcsim.sweep import load_sweep, run_sweep

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = ROOT / "experiments" / "gogc-x-pointer-density"
CANONICAL_SIZE = 10
CANONICAL_DURATION_S = 1.0

pytestmark = pytest.mark.usefixtures("warm_engine")


def _sweep_file(folder: Path, size: int) -> Path:
    p = folder / "sweep.toml"
    p.write_text(
        f'base = "{EXPERIMENT / "base.toml"}"\nrepeats = 1\n[axes]\n'
        f'"runtime.gogc" = {{ start = 25, stop = 800, num = {size}, scale = "log" }}\n'
        f'"workload.sites[0].pointer_density" = {{ start = 0.0, stop = 1.0, num = {size} }}\n')
    return p


def test_canonical_sweep_wall_time(benchmark: Any, request: pytest.FixtureRequest) -> None:
    if not request.config.getoption("benchmark_only", False):
        pytest.skip("minutes long: run with --benchmark-only")
    size = int(os.environ.get("GCSIM_BENCH_SWEEP_SIZE", CANONICAL_SIZE))
    duration_s = float(os.environ.get("GCSIM_BENCH_SWEEP_DURATION_S", CANONICAL_DURATION_S))
    tmp = Path(tempfile.mkdtemp(prefix="gcsim-bench-sweep-"))
    try:
        sweep = load_sweep(_sweep_file(tmp, size), [f"run.duration_s={duration_s}"])
        jobs = os.cpu_count() or 1
        outs: list[Path] = []

        def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
            out = tmp / f"out{len(outs)}"
            outs.append(out)
            return (sweep, out), {"jobs": jobs, "plots": False, "progress": False}

        t0 = time.perf_counter()
        benchmark.pedantic(run_sweep, setup=setup, rounds=1, iterations=1)
        wall = time.perf_counter() - t0
        n_runs = sweep.n_points * sweep.repeats
        benchmark.extra_info.update({
            "points": n_runs, "duration_s": duration_s, "jobs": jobs,
            "runs_per_s": n_runs / wall, "simulated_s_per_s": n_runs * duration_s / wall,
        })
        canonical = CANONICAL_SIZE**2 * CANONICAL_DURATION_S
        if n_runs * duration_s != canonical:
            benchmark.extra_info["extrapolated_canonical_s"] = wall * canonical / (
                n_runs * duration_s)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
