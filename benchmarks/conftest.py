"""Benchmark fixtures (STYLE.md §7): compile outside the timed region.

Benchmarks live in ``bench_*.py`` files, which ``testpaths = ["tests"]`` and the
default ``python_files`` keep out of a plain ``pytest``; run them with

    pytest benchmarks/ [--benchmark-autosave | --benchmark-compare]

and this conftest collects the ``bench_*.py`` modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gcsim.config import Config, config_from_dict

# A 2 ms run touching every allocation path: run once to compile (or load) the kernels.
WARM_RUN: dict[str, Any] = {
    "run": {"seed": 1, "gomaxprocs": 2, "duration_s": 0.002, "quantum_ns": 10_000},
    "runtime": {"gogc": 100},
    "workload": {
        "compute_ns_per_alloc": 150.0,
        "sites": [
            {
                "name": "buf",
                "weight": 3.0,
                "size": {"dist": "loguniform", "min_bytes": 1, "max_bytes": 40_000},
            },
            {
                "name": "node",
                "size": 64,
                "pointer_words": 2,
                "lifetime": {"kind": "fifo", "live_objects": 100},
                "refs": [{"to": "child", "site": "leaf"}, {"to": "random", "site": "node"}],
            },
            {"name": "leaf", "weight": 0.0, "size": 24, "pointer_words": 1},
        ],
    },
}


def warm_config() -> Config:
    return config_from_dict(WARM_RUN)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    if file_path.suffix == ".py" and file_path.name.startswith("bench_"):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


@pytest.fixture(scope="session")
def warm_run() -> dict[str, Any]:
    """The warm-up run's raw config (also what the compile benchmarks simulate)."""
    return WARM_RUN


@pytest.fixture(scope="session")
def warm_engine() -> Iterator[None]:
    """Compile (or load from the on-disk cache) every kernel a run calls, once."""
    from gcsim.run import simulate

    simulate(warm_config())
    yield
