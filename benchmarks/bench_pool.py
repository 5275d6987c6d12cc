"""Engine throughput with a sync.Pool workload (configs/pool_handler.toml), with and
without the pool: simulated mutator steps per wall second (STYLE.md §7).

    pytest benchmarks/bench_pool.py --benchmark-only
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gcsim.config import load_config
from gcsim.run import simulate

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.usefixtures("warm_engine")


@pytest.mark.parametrize("enabled", [True, False], ids=["pool", "no_pool"])
def test_pool_handler_throughput(benchmark: Any, enabled: bool) -> None:
    cfg = load_config(
        ROOT / "configs" / "pool_handler.toml",
        ["run.duration_s=0.2", f"workload.pools[0].enabled={str(enabled).lower()}"],
    )
    out: list[Any] = []
    benchmark.pedantic(lambda: out.append(simulate(cfg)), rounds=3, iterations=1, warmup_rounds=1)
    r = out[-1]
    gets = int(r.extra["pool_counters"][0, 0])
    mean_s = benchmark.stats.stats.mean
    benchmark.extra_info.update(
        allocs=r.counter("C_ALLOCS"),
        pool_gets=gets,
        gets_per_s=gets / mean_s,
        simulated_s_per_wall_s=r.end_cycles / cfg.run.clock_hz / mean_s,
    )
    assert gets > 0
