"""``gcsim pool``: the with/without comparison, its files, and summary.json's pool table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tomli_w

from gcsim.cli import main

pytestmark = pytest.mark.usefixtures("warm_engine")

CFG = {
    "run": {"seed": 3, "gomaxprocs": 2, "duration_s": 0.1},
    # Workers marking every quantum: with Go's 10 ms scheduler turns this run's
    # near-empty marks wait for sysmon with a one-goroutine debt paid by stolen
    # credit, and its handful of cycles count turns, not the pool's bytes.
    "runtime": {"preempt_ns": 0},
    "workload": {
        "compute_ns_per_alloc": 1000.0,
        "sites": [
            {
                "name": "buf",
                "weight": 1.0,
                "size": 16384,
                "lifetime": {"kind": "fifo", "live_objects": 4},
            },
            {"name": "tmp", "weight": 0.5, "size": 8192},
            {"name": "garbage", "weight": 4.0, "size": 1024},
        ],
        "pools": [
            {"name": "bufpool", "site": "buf"},
            {
                "name": "tmppool",
                "site": "tmp",
                "zero_on_put": True,
                "batch": {"values": [1, 8], "weights": [0.9, 0.1]},
            },
        ],
    },
}


def test_gcsim_pool_writes_both_runs_and_compares(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(tomli_w.dumps(CFG))
    out = tmp_path / "out"
    assert main(["pool", str(cfg), "--out", str(out), "--quiet"]) == 0
    for name in (
        "pool_comparison.json",
        "pool_heap.png",
        "pool_gc_count.png",
        "with_pool/summary.json",
        "without_pool/summary.json",
    ):
        assert (out / name).is_file(), name
    cmp = json.loads((out / "pool_comparison.json").read_text())
    f = cmp["figures"]
    # Without the pool every Get is a 16 KiB / 8 KiB allocation: more bytes, more cycles.
    assert f["alloc_bytes"]["with_pool"] < f["alloc_bytes"]["without_pool"]
    assert f["gc_count"]["with_pool"] < f["gc_count"]["without_pool"]
    with_s = json.loads((out / "with_pool/summary.json").read_text())
    without_s = json.loads((out / "without_pool/summary.json").read_text())
    for s in (with_s, without_s):
        for p in s["pool"]["pools"].values():
            assert p["gets"] == sum(p["hits"].values()) + p["new_calls"]
    t = with_s["pool"]["total"]
    assert 0.9 < with_s["pool_hit_rate"] <= 1.0
    assert t["alloc_bytes_saved"] > 0 and t["hits"]["private"] > 0
    assert with_s["pool"]["pools"]["tmppool"]["zeroed_bytes"] > 0
    # The 8-object bursts leave spares on the shared deque.
    assert with_s["pool"]["pools"]["tmppool"]["hits"]["shared"] > 0
    assert without_s["pool_hit_rate"] == 0.0
    assert without_s["pool"]["total"]["new_calls"] == without_s["pool"]["total"]["gets"]


def test_gcsim_pool_refuses_a_config_without_pools(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(tomli_w.dumps({"workload": {"sites": [{"name": "a", "size": 8}]}}))
    assert main(["pool", str(cfg), "--out", str(tmp_path / "o")]) == 2
    assert "workload.pools" in capsys.readouterr().err


def test_pool_runs_are_deterministic() -> None:
    from gcsim.config import config_from_dict
    from gcsim.run import simulate

    a, b = (simulate(config_from_dict(CFG)) for _ in range(2))
    assert (a.extra["pool_counters"] == b.extra["pool_counters"]).all()
    assert a.cycles.tobytes() == b.cycles.tobytes()
    assert a.counters.tobytes() == b.counters.tobytes()
