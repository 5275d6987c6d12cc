"""Fragmentation per size class: HeapInuse - HeapAlloc (issue 3)."""

from __future__ import annotations

import numpy as np
import pytest

from gcsim.cli import main
from gcsim.config import config_from_dict
from gcsim.goruntime import sizeclasses as scl
from gcsim.metrics.fragmentation import class_occupancy, fragmentation_table
from gcsim.metrics.summary import memstats, summary
from gcsim.run import simulate
from gcsim.workload.compile import sizeclass_tables


def test_classes_sum_to_heap_inuse_and_heap_alloc() -> None:
    r = simulate(
        config_from_dict(
            {
                "run": {"seed": 4, "duration_s": 0.04, "gomaxprocs": 2},
                "workload": {
                    "compute_ns_per_alloc": 50.0,
                    "sites": [
                        {
                            "name": "mix",
                            "size": {"dist": "loguniform", "min_bytes": 8, "max_bytes": 40_000},
                            "lifetime": {"kind": "fifo", "live_objects": 2000},
                        },
                        {"name": "tiny", "size": 6, "weight": 3.0},
                    ],
                },
            }
        )
    )
    occ = class_occupancy(r.spans)
    ms = memstats(r)
    assert int(occ["inuse_bytes"].sum()) == ms["HeapInuse"]
    assert int(occ["alloc_bytes"].sum()) == ms["HeapAlloc"]
    fr = summary(r)["fragmentation"]
    assert fr["frag_bytes"] == ms["HeapInuse"] - ms["HeapAlloc"]
    assert sum(row["frag_bytes"] for row in fr["by_class"]) == fr["frag_bytes"]
    assert all(row["frag_bytes"] >= 0 for row in fr["by_class"])


def test_dense_class_wastes_only_span_tails() -> None:
    """N immortal 48 B noscan objects from one P fill spans in order: the class
    holds ceil(N / nelems) spans and wastes the rest of the last span plus
    every span's tail."""
    n = 10_000
    r = simulate(
        config_from_dict(
            {
                "run": {"seed": 1, "duration_s": "off", "max_allocs": n},
                "workload": {
                    "sites": [
                        {"name": "a", "size": 48, "max_allocs": n, "lifetime": {"kind": "immortal"}}
                    ]
                },
            }
        )
    )
    sc = scl.SIZE_TO_CLASS8[48 // 8]
    nelems = int(sizeclass_tables().spanclass_nelems[(sc << 1) | 1])
    spans = -(-n // nelems)
    t = fragmentation_table(class_occupancy(r.spans))
    row = int(np.flatnonzero(t["class"] == sc)[0])
    assert t["spans"][row] == spans
    assert t["alloc_bytes"][row] == n * 48
    assert t["frag_bytes"][row] == spans * scl.CLASS_TO_NPAGES[sc] * 8192 - n * 48


def test_cli_prints_the_table(tmp_path, capsys) -> None:  # noqa: ANN001
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[run]\nduration_s = 0.01\n[workload]\n[[workload.sites]]\nname = "a"\n'
        'size = 100\nlifetime = { kind = "fifo", live_objects = 1000 }\n'
    )
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out), "--no-plots", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["fragmentation", str(out), "--top", "3"]) == 0
    text = capsys.readouterr().out
    assert "frag KiB" in text and "total:" in text
    assert main(["fragmentation", str(tmp_path)]) == 2
    with pytest.raises(SystemExit):
        main(["fragmentation"])
