"""Engine throughput and compile time (STYLE.md §7).

Throughput benchmarks time ``simulate`` end to end (prepare + run + drain) on
fixed seeds, after the ``warm_engine`` fixture has compiled the kernels, and
report simulated allocations per wall second in ``extra_info["allocs_per_s"]``.
Compile benchmarks time a fresh interpreter running a 2 ms simulation, once
with ``GCSIM_NO_CACHE=1`` (cold: every kernel compiled) and once with the
on-disk cache (warm start); each is one round, the seconds in ``extra_info``.

    pytest benchmarks/ --benchmark-autosave
    pytest benchmarks/ --benchmark-compare --benchmark-compare-fail=mean:10%
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from gcsim.config import Config, config_from_dict, load_config
from gcsim.run import RunResult, simulate

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.usefixtures("warm_engine")


def _throughput(benchmark: Any, cfg: Config, rounds: int) -> RunResult:
    result: list[RunResult] = []

    def run() -> None:
        result.append(simulate(cfg))

    benchmark.pedantic(run, rounds=rounds, iterations=1, warmup_rounds=1)
    r = result[-1]
    allocs = r.counter("C_ALLOCS")
    mean_s = benchmark.stats.stats.mean
    benchmark.extra_info.update(
        allocs=allocs,
        gc_cycles=int(r.cycles.size),
        simulated_s=r.end_cycles / cfg.run.clock_hz,
        allocs_per_s=allocs / mean_s,
        simulated_s_per_wall_s=r.end_cycles / cfg.run.clock_hz / mean_s,
    )
    return r


def test_default_config_throughput(benchmark: Any) -> None:
    """configs/default.toml (request service, GOMAXPROCS=2), 0.2 s simulated."""
    cfg = load_config(ROOT / "configs" / "default.toml", ["run.duration_s=0.2", "run.seed=1"])
    r = _throughput(benchmark, cfg, rounds=5)
    assert r.counter("C_NUM_GC") > 0


def test_single_site_64b_transient_throughput(benchmark: Any) -> None:
    """One site of 64 B pointer-free transient objects, GOMAXPROCS=1, 0.2 s simulated:
    the allocation fast path and sweeping with nothing to mark."""
    cfg = config_from_dict(
        {
            "run": {"seed": 1, "gomaxprocs": 1, "duration_s": 0.2},
            "runtime": {"gogc": 100},
            "workload": {"compute_ns_per_alloc": 50.0, "sites": [{"name": "buf", "size": 64}]},
        }
    )
    r = _throughput(benchmark, cfg, rounds=5)
    assert r.counter("C_NUM_GC") > 0


def test_goroutine_stacks_throughput(benchmark: Any) -> None:
    """configs/escape.toml: 64 goroutines making calls every step (stacks.py), 0.2 s."""
    cfg = load_config(ROOT / "configs" / "escape.toml", ["run.duration_s=0.2", "run.seed=1"])
    r = _throughput(benchmark, cfg, rounds=5)
    assert r.extra["stacks"]["calls"] > 0  # type: ignore[index]


@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("density", [0.0, 0.25, 1.0])
def test_marking_throughput_by_pointer_density(benchmark: Any, density: float,
                                               packed: bool) -> None:
    """Allocation with marking on: a 16 MiB live set of 256 B objects at a pointer
    density (0, 0.25, 1) plus transient garbage, GOGC=100, GOMAXPROCS=2, 0.2 s,
    with Green Tea's packed span scan off (the default) or on (its per-span
    batch bookkeeping). ``extra_info`` also carries the share of simulated CPU
    spent marking."""
    refs = [{"to": "random", "site": "live"}] if density > 0 else []
    cfg = config_from_dict(
        {
            "run": {"seed": 1, "gomaxprocs": 2, "duration_s": 0.2},
            "runtime": {"packed_span_scan": packed},
            "workload": {
                "compute_ns_per_alloc": 300.0,
                "sites": [
                    {"name": "live", "size": 256, "pointer_density": density,
                     "lifetime": {"kind": "fifo", "live_objects": 65_536}, "refs": refs},
                    {"name": "garbage", "weight": 4.0,
                     "size": {"dist": "uniform", "min_bytes": 16, "max_bytes": 512}},
                ],
            },
        }
    )
    r = _throughput(benchmark, cfg, rounds=3)
    cyc = r.cycles
    mark_cpu = float((cyc["assist_cycles"] + cyc["background_cycles"]).sum())
    benchmark.extra_info.update(
        pointer_density=density,
        packed_span_scan=packed,
        mark_cpu_share=mark_cpu / (r.end_cycles * cfg.run.gomaxprocs),
        objects_marked=int(cyc["objects_marked"].sum()),
    )
    assert r.counter("C_NUM_GC") > 0


# --- compile time -------------------------------------------------------------------------------

_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from gcsim.config import config_from_dict
from gcsim.run import simulate
t1 = time.perf_counter()
simulate(config_from_dict(json.loads(sys.argv[1])))
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_run_s": t2 - t1}))
"""


def _fresh_process(raw: dict[str, Any], no_cache: bool) -> dict[str, float]:
    env = dict(os.environ)
    env.pop("GCSIM_NO_CACHE", None)
    env.pop("NUMBA_DISABLE_JIT", None)
    if no_cache:
        env["GCSIM_NO_CACHE"] = "1"
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(raw)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    info = json.loads(out.stdout.strip().splitlines()[-1])
    info["process_s"] = time.perf_counter() - t
    return info


def _compile_benchmark(benchmark: Any, raw: dict[str, Any], no_cache: bool) -> None:
    info: dict[str, float] = {}
    benchmark.pedantic(lambda: info.update(_fresh_process(raw, no_cache)), rounds=1, iterations=1)
    benchmark.extra_info.update({k: round(v, 3) for k, v in info.items()})


def test_compile_cold(benchmark: Any, warm_run: dict[str, Any]) -> None:
    """A fresh interpreter with GCSIM_NO_CACHE=1: import, compile every kernel, 2 ms run."""
    _compile_benchmark(benchmark, warm_run, no_cache=True)


def test_compile_cached(benchmark: Any, warm_run: dict[str, Any]) -> None:
    """A fresh interpreter loading kernels from the on-disk cache, then the same 2 ms run."""
    _compile_benchmark(benchmark, warm_run, no_cache=False)
