"""Shared fixtures: warm the engine's kernels once per session.

Numba compiles each kernel on its first call (about 40 s cold, about 1 s from
the on-disk cache), so tests that drive the engine ask for ``warm_engine``
rather than paying that inside a hypothesis example or a timed region.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import Phase, settings

from gcsim.config import Config, config_from_dict

# ``pytest --hypothesis-profile=noshrink`` reports the first failing example
# as found, without minutes of shrinking (examples that run the engine are slow).
settings.register_profile("noshrink", phases=[Phase.explicit, Phase.reuse, Phase.generate])
# The suite is deterministic by default (same examples on every run and in CI);
# ``pytest --hypothesis-profile=explore`` draws new examples (add
# ``--hypothesis-seed=N`` to repeat a draw) and keeps failures in .hypothesis/.
settings.register_profile("deterministic", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile("deterministic")

TINY_RUN = {
    "run": {
        "seed": 1,
        "gomaxprocs": 2,
        "duration_s": 0.002,
        "quantum_ns": 10_000,
        "final_gc": True,
    },
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
                "weight": 1.0,
                "size": 64,
                "pointer_words": 2,
                "lifetime": {"kind": "fifo", "live_objects": 100},
                "refs": [{"to": "child", "site": "leaf"}, {"to": "random", "site": "node"}],
            },
            {"name": "leaf", "weight": 0.0, "size": 24, "pointer_words": 1},
        ],
    },
}


def tiny_config() -> Config:
    """A 2 ms run touching every allocation path (tiny, small, large, children), then
    runtime.GC()."""
    return config_from_dict(TINY_RUN)


@pytest.fixture(scope="session")
def warm_engine() -> Iterator[None]:
    """Compile (or load from cache) run_quanta, init_run, force_gc and finish_sweep once."""
    from gcsim.engine import state as S
    from gcsim.engine.gcsweeping import finish_sweep
    from gcsim.run import prepare, simulate

    simulate(tiny_config())
    st, _wl, _rp, _tab, costs = prepare(tiny_config())
    finish_sweep(st.heap, st.counters, costs, np.zeros(1))
    assert st.counters[S.C_UNSWEPT_SPANS] == 0
    yield
